"""The one application error base and the one REST exception handler for every app.

Error bodies are `{"code": ..., "message": ..., "extra": {...}}`; validation errors
name each offending field in `extra.fields` and in the message.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)

# How long a client should wait before retrying a request the database could not take (locked or unreachable).
DATABASE_RETRY_AFTER_SECONDS = 5


class ApplicationError(Exception):
    """A domain error with a stable code, a message for people and an HTTP status."""

    code = "application_error"
    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, field: str | None = None, extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = dict(extra or {})

    def as_body(self) -> dict[str, Any]:
        extra = dict(self.extra)
        if self.field:
            extra["fields"] = {self.field: [self.message]}
        return {"code": self.code, "message": self.message, "extra": extra}


class NotYetApplicable(ApplicationError):
    """A webhook item names something not known here yet (e.g. a group before its create webhook).

    Meta promises no order, so the webhook pipeline keeps such an item's event pending and tries it
    again later instead of failing it; only after a long wait does it count as failed.
    """

    code = "not_yet_applicable"
    http_status = status.HTTP_409_CONFLICT


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Turn any error into the shared body; unknown errors stay 500s (DRF re-raises)."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_body(), status=exc.http_status)
    if isinstance(exc, OperationalError | InterfaceError):
        # Write-locked (SQLite's timeout), restarting or unreachable: a retry later may succeed, as the webhook
        # endpoint tells Meta with its 503 (writes that change state take an Idempotency-Key where it matters).
        logger.warning("request not served: database unavailable", extra={"error_type": type(exc).__name__})
        return Response(
            {"code": "database_unavailable", "message": "The database is busy or unavailable; try again shortly.",
             "extra": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        response.data = {
            "code": "invalid",
            "message": "; ".join(f"{name}: {' '.join(errors)}" for name, errors in fields.items()),
            "extra": {"fields": fields},
        }
    elif isinstance(exc, exceptions.APIException):
        response.data = {"code": _api_code(exc), "message": str(exc.detail), "extra": {}}
    return response


def _api_code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    return codes if isinstance(codes, str) else exc.default_code


def _django_validation_detail(exc: DjangoValidationError) -> Any:
    if hasattr(exc, "error_dict"):
        return {field: [m for e in errors for m in e.messages] for field, errors in exc.error_dict.items()}
    return {"non_field_errors": exc.messages}


def _field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail to `{"field.sub": ["why", ...]}`."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_field_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        flat = {}
        for index, item in enumerate(detail):
            if item:
                flat.update(_field_errors(item, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": [str(detail)]}


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer an unknown URL under /api/ in the API's error shape; elsewhere Django's own page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "No such resource.", "extra": {}}, status=404)
    return page_not_found(request, exception)


@csrf_exempt  # It changes nothing; without this, a session's POST without a CSRF token got Django's HTML 403.
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Answer a URL under /api/ that names no resource (routed in config/urls.py, so DEBUG does not matter)."""
    return not_found(request, Http404())
