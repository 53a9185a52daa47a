"""The OpenAPI schema: its settings, and post-processing so every operation documents the errors it can answer."""

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx/5xx body. `extra.fields` names each offending field with why.",
    "properties": {
        "code": {"type": "string", "example": "invalid"},
        "message": {"type": "string", "example": "expiration_days: Ensure this value is less than or equal to 30."},
        "extra": {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "meta_code": {"type": "integer", "description": "Meta's error code, on 502."},
            },
        },
    },
    "required": ["code", "message", "extra"],
}

DESCRIPTIONS = {
    "400": "Invalid input: `extra.fields` names each offending field.",
    "401": "No or invalid credentials: send `Authorization: Token <key>`.",
    "403": "Authenticated, but without the model permission this operation needs.",
    "404": "No such object, or an invalid pagination cursor.",
    "409": "The request conflicts with the object's current state.",
    "429": "Throttled (API_USER_RATE, or API_META_CALLS_RATE for calls that reach Meta); `Retry-After` "
           "says how many seconds to wait.",
    "502": "Meta refused or failed the call; `extra.meta_code` is Meta's code.",
    "503": "The database is busy (write-locked) or unavailable: `code` is `database_unavailable`; `Retry-After` "
           "says how many seconds to wait.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
RETRY_AFTER_HEADER = {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}


def spectacular_settings(*, debug: bool) -> dict[str, Any]:
    """Return SPECTACULAR_SETTINGS: the schema's title and description, who may read it, its hooks."""
    return {
        "TITLE": "Groupdesk API",
        "DESCRIPTION": (
            "Run WhatsApp groups through Meta's Groups API: groups, participants, join requests, "
            "messages with their per-participant statuses, pins, inbound messages and webhook events. "
            "Authenticate with `Authorization: Token <key>`. Errors are "
            '`{"code", "message", "extra": {"fields": {<field>: [<why>]}}}`.'
        ),
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        # In production the schema and docs are for signed-in users (a token or the admin session) only.
        "SERVE_PERMISSIONS": [
            "rest_framework.permissions.AllowAny" if debug else "rest_framework.permissions.IsAuthenticated"
        ],
        "SCHEMA_PATH_PREFIX": r"/api/v1",
        # Swagger UI from the installed package (drf-spectacular-sidecar), never a CDN: /api/docs/ works offline.
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
        "COMPONENT_SPLIT_REQUEST": True,
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "config.schema.add_error_responses",
            "integrations.schema.add_event_components",
        ],
        "ENUM_NAME_OVERRIDES": {
            "GroupStateEnum": "groups.models.Group.State",
            "ParticipantStateEnum": "groups.models.Participant.State",
            "JoinRequestStateEnum": "groups.models.JoinRequest.State",
            "WebhookEventStateEnum": "webhooks.models.WebhookEvent.State",
            "PinStateEnum": "messaging.models.Pin.State",
            "WebhookDeliveryStateEnum": "integrations.models.Delivery.State",
        },
    }


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Document the shared error body on every operation, for every error status it may answer."""
    result.setdefault("components", {}).setdefault("schemas", {})["ErrorResponse"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "head", *WRITE_METHODS}:
                continue
            codes = ["400", "401", "403", "404", "429", "503"]  # Lists answer 404 for an invalid cursor too.
            if method in WRITE_METHODS:
                codes += ["409", "502"]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, {"description": DESCRIPTIONS[code]})
            for code in ("429", "503"):
                responses[code].setdefault("headers", {"Retry-After": RETRY_AFTER_HEADER})
            for code, response in responses.items():
                if code[0] in "45" and "content" not in response:
                    response["content"] = content
    return result
