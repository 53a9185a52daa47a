"""OpenAPI components of the events delivered to webhook endpoints (docs/events.md): the body, one example each."""

from typing import Any

from integrations.event_examples import event_example
from outbox import event_types

OBJECT_SCHEMAS = {
    "message": "Message", "inbound_message": "InboundMessage", "group": "GroupOutput",
    "participant": "ParticipantOutput", "join_request": "JoinRequestOutput", "pin": "PinOutput",
}


def add_event_components(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """Add `OutboundEvent` (the body POSTed to endpoints) and `OutboundEvent_<type>` with an example per type."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["OutboundEvent"] = {
        "type": "object",
        "description": (
            "The JSON body POSTed to a webhook endpoint, signed per Standard Webhooks: headers `webhook-id` (= `id`, "
            "the same on every retry and resend: dedupe on it), `webhook-timestamp` and `webhook-signature` (v1). "
            "`data` is the object as the REST API shows it when the event happened; `sequence` orders one "
            "object's events (deliveries may arrive out of order or twice)."
        ),
        "properties": {
            "id": {"type": "string", "example": "evt_5f0c7c1b2a8e4d6f9b3a1c2d4e5f6a7b"},
            "type": {"type": "string", "enum": list(event_types.ALL)},
            "timestamp": {"type": "string", "format": "date-time", "description": "When it happened."},
            "sequence": {"type": "integer", "minimum": 1, "description": "1, 2, 3... per object."},
            "object": {"type": "object", "properties": {"type": {"type": "string"}, "id": {"type": "integer"}},
                       "required": ["type", "id"]},
            "data": {"type": "object", "additionalProperties": True},
            "detail": {"type": "object", "additionalProperties": True,
                       "description": "What the event adds, e.g. `receipt` of message.receipt."},
        },
        "required": ["id", "type", "timestamp", "sequence", "object", "data", "detail"],
    }
    for type_ in event_types.ALL:
        example = event_example(type_)
        name = "OutboundEvent_" + type_.replace(".", "_")
        data_ref = OBJECT_SCHEMAS.get(example["object"]["type"])
        schemas[name] = {
            "allOf": [{"$ref": "#/components/schemas/OutboundEvent"}, {
                "type": "object",
                "properties": {"type": {"type": "string", "enum": [type_]},
                               **({"data": {"$ref": f"#/components/schemas/{data_ref}"}} if data_ref in schemas
                                  else {})},
            }],
            "description": event_types.DESCRIPTIONS[type_],
            "example": example,
        }
    return result
