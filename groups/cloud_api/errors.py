"""Typed errors of the Graph API client: one class per category, chosen by Meta's code (spec §8, §9).

Meta's codes appear only in `catalog.py`; this module holds the classes, the retry classes and the
functions that turn a failed response into the right exception or a description for staff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from config.exceptions import ApplicationError
from core.meta_errors import MetaError, RetryClass, read_int, read_text

if TYPE_CHECKING:
    import requests


class CloudAPIError(ApplicationError):
    """A Graph API call failed; carries Meta's code, trace id and what to do about it."""

    code = "meta_error"
    http_status = 502
    default_retry_class = RetryClass.FIX_REQUEST

    def __init__(
        self,
        message: str,
        *,
        meta_code: int | None = None,
        subcode: int | None = None,
        title: str = "",
        meta_message: str = "",
        details: str = "",
        href: str = "",
        fbtrace_id: str | None = None,
        http_status_from_meta: int | None = None,
        retry_class: RetryClass | None = None,
    ):
        self.meta_code = meta_code
        self.subcode = subcode
        self.title = title
        self.meta_message = meta_message
        self.details = details
        self.href = href
        self.fbtrace_id = fbtrace_id
        self.http_status_from_meta = http_status_from_meta
        self.retry_class = retry_class or self.default_retry_class
        super().__init__(
            message,
            extra={
                "meta_code": meta_code,
                "subcode": subcode,
                "title": title,
                "details": details,
                "fbtrace_id": fbtrace_id,
                "retry_class": self.retry_class.value,
            },
        )

    @property
    def retryable(self) -> bool:
        """Return True when retrying later, unchanged, may succeed."""
        return self.retry_class is RetryClass.BACK_OFF

    def as_meta_error(self) -> MetaError:
        """Return the error as the one value every app reads (`core.meta_errors.MetaError`)."""
        return MetaError(
            code=self.meta_code, title=self.title, message=self.meta_message or self.message, details=self.details,
            href=self.href, fbtrace_id=self.fbtrace_id, retry_class=self.retry_class,
        )

    def as_error_dict(self) -> dict[str, Any]:
        """Return the error as CONTRACT's `{code, title, message, details}` (plus `href` if any)."""
        return self.as_meta_error().as_dict()

    def _state(self) -> dict[str, Any]:
        return {
            "meta_code": self.meta_code,
            "subcode": self.subcode,
            "title": self.title,
            "meta_message": self.meta_message,
            "details": self.details,
            "href": self.href,
            "fbtrace_id": self.fbtrace_id,
            "http_status_from_meta": self.http_status_from_meta,
            "retry_class": self.retry_class,
        }

    def __reduce__(self):
        # Keyword-only attributes would be lost by Exception's default pickling (Celery pickles errors).
        return _rebuild, (type(self), self.message, self._state())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(meta_code={self.meta_code!r}, fbtrace_id={self.fbtrace_id!r})"


def _rebuild(cls: type[CloudAPIError], message: str, state: dict[str, Any]) -> CloudAPIError:
    return cls(message, **state)


# --- Transport and response-shape failures: nothing or no usable answer came back -------------


class CloudAPIUnavailable(CloudAPIError):
    """Meta could not be reached (connection refused, DNS, TLS, connect timeout): nothing was sent."""

    default_retry_class = RetryClass.BACK_OFF


class CloudAPIOutcomeUnknown(CloudAPIError):
    """The request may have reached Meta but no usable answer came back: never retry it blindly."""

    default_retry_class = RetryClass.OUTCOME_UNKNOWN


class CloudAPITimeout(CloudAPIOutcomeUnknown):
    """Meta did not answer in time after receiving the request (read timeout): it may have acted."""


class CloudAPIConnectionLost(CloudAPIOutcomeUnknown):
    """The connection broke after the request was sent: Meta may have acted."""


class CloudAPIServerError(CloudAPIError):
    """Meta (or a proxy before it) failed temporarily: a 5xx without an envelope, or a transient code."""

    default_retry_class = RetryClass.BACK_OFF


class CloudAPIBadResponse(CloudAPIOutcomeUnknown):
    """Meta answered 2xx with a body we cannot read: it probably acted, but we lack the result."""


# --- Categories of Meta error codes (the code → class table is in catalog.py) ------------------


class CloudAPIRateLimited(CloudAPIError):
    """A throughput, pair, group-operation or app rate limit was hit: back off and retry."""

    default_retry_class = RetryClass.BACK_OFF


class CloudAPIAuthError(CloudAPIError):
    """The access token is invalid or expired, or lacks a permission: an operator must fix it."""

    default_retry_class = RetryClass.REAUTHENTICATE


class AccountRestricted(CloudAPIError):
    """The business account or number may not do this now (policy, eligibility, limits, billing)."""


class InvalidRequest(CloudAPIError):
    """Meta refused a parameter of the request: fix the request, do not retry."""


class InvalidCursor(InvalidRequest):
    """A paging cursor expired or is corrupt: restart from the first page."""


class GroupNotFound(CloudAPIError):
    """The group does not exist, or the business is no longer in it."""


class GroupSuspended(CloudAPIError):
    """WhatsApp suspended the group for a policy violation: no management or sends until cleared."""


class BadGroup(CloudAPIError):
    """The group has no member but the business, so nothing can be sent to it yet."""


class InvalidGroupPicture(InvalidRequest):
    """The group picture is not square or is too small."""


class ParticipantError(CloudAPIError):
    """A participant in the request is duplicated, absent, over the limit or cannot be added."""


class JoinRequestNotFound(CloudAPIError):
    """The join request does not exist: already handled, revoked or never made."""


class MessageNotDeliverable(CloudAPIError):
    """Meta refused this message's content or recipient (type, media, window, user choice)."""


class TemplateError(MessageNotDeliverable):
    """The message template is missing, paused or does not match its parameters."""


# --- Descriptions for staff ---------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorDescription:
    """One catalog entry in plain words: what a Meta code means and what staff should do."""

    code: int | None
    title: str
    meaning: str
    action: str
    retry_class: RetryClass
    codes: str = ""  # How the entry is shown, e.g. "200-299" for a range; else str(code).
    error_class: str = ""  # Name of the exception raised for it.


def describe_error(code: int | str | None) -> ErrorDescription:
    """Return the plain-language description of a Meta error code, known or not."""
    from groups.cloud_api.catalog import entry_for  # catalog imports the classes above.

    number = read_int(code)
    entry = entry_for(number)
    if entry is None:
        return ErrorDescription(
            code=number,
            title="Unknown Meta error",
            meaning="Meta returned an error code Groupdesk does not know.",
            action="Read the details and Meta's error-code page; quote the fbtrace_id to Meta support.",
            retry_class=RetryClass.FIX_REQUEST,
            codes="" if number is None else str(number),
            error_class=CloudAPIError.__name__,
        )
    return entry.describe(number)


def error_catalog() -> list[ErrorDescription]:
    """Return every known Meta error code (one entry per row of the table), in code order."""
    from groups.cloud_api.catalog import ERROR_TABLE

    return sorted((entry.describe() for entry in ERROR_TABLE), key=lambda d: (d.code is None, d.code or 0))


def error_from_response(response: requests.Response) -> CloudAPIError:
    """Return the exception for a failed HTTP response, chosen by Meta's error code."""
    from groups.cloud_api.catalog import entry_for

    status = response.status_code
    envelope = _error_envelope(response)
    if envelope is None:
        return _error_without_envelope(status)

    meta_code = read_int(envelope.get("code"))
    error_data = envelope.get("error_data") if isinstance(envelope.get("error_data"), dict) else {}
    meta_message = read_text(envelope.get("message"))
    details = read_text(error_data.get("details")) or read_text(envelope.get("error_user_msg"))
    entry = entry_for(meta_code)
    if entry is not None:
        error_class, retry_class, default_title = entry.error_class, entry.retry_class, entry.title
    else:
        error_class = CloudAPIServerError if status >= 500 else CloudAPIError
        transient = status >= 500 or envelope.get("is_transient") in (True, "true")
        retry_class = RetryClass.BACK_OFF if transient else RetryClass.FIX_REQUEST
        default_title = ""
    title = read_text(envelope.get("error_user_title")) or default_title or meta_message
    return error_class(
        _summary(meta_code, title, details or meta_message),
        meta_code=meta_code,
        subcode=read_int(envelope.get("error_subcode")),
        title=title,
        meta_message=meta_message,
        details=details,
        href=read_text(envelope.get("href")),
        fbtrace_id=read_text(envelope.get("fbtrace_id")) or None,
        http_status_from_meta=status,
        retry_class=retry_class,
    )


def _error_without_envelope(status: int) -> CloudAPIError:
    if status >= 500:
        return CloudAPIServerError(
            f"Meta answered HTTP {status} without an error body; it is probably a temporary failure.",
            title="Meta server error",
            http_status_from_meta=status,
        )
    if status == 429:
        return CloudAPIRateLimited(
            "Meta answered HTTP 429 (too many requests) without an error body.",
            title="Rate limited",
            http_status_from_meta=status,
        )
    if 300 <= status < 400:
        # Redirects are never followed: the bearer token must only go to the configured host.
        return CloudAPIError(
            f"Meta answered with a redirect (HTTP {status}); check WHATSAPP_API_BASE_URL.",
            title="Unexpected redirect",
            http_status_from_meta=status,
        )
    return CloudAPIError(
        f"Meta answered HTTP {status} without an error body.",
        title="Unexpected response",
        http_status_from_meta=status,
    )


def _error_envelope(response: requests.Response) -> dict | None:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def _summary(meta_code: int | None, title: str, details: str) -> str:
    head = f"Meta error {meta_code}" if meta_code is not None else "Meta error"
    if title:
        head = f"{head} ({title})"
    return f"{head}: {details}" if details else head
