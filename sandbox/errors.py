"""Meta's error envelopes: the Graph `{"error": {...}}` body and the error objects inside webhooks."""

from __future__ import annotations

import random
import string

ERROR_HREF = "https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes"

# code -> (HTTP status, title). Statuses follow spec §9.3 and §9.5; titles follow graph/error.*.json.
CATALOGUE: dict[int, tuple[int, str]] = {
    2: (503, "Service temporarily unavailable"),
    100: (400, "Invalid parameter"),
    131000: (500, "Something went wrong"),
    131020: (400, "Bad Group"),
    131041: (400, "Group unknown"),
    131051: (400, "Unsupported message type"),
    131059: (400, "Invalid cursor"),
    131201: (206, "Request partially succeeded"),
    131202: (400, "Duplicate participant"),
    131203: (400, "Unable to add participant to group"),
    131204: (400, "Participant overlimit"),
    131207: (403, "Group suspended"),
    131208: (429, "Group Rate Limit Hit"),
    131209: (400, "Invalid Group Profile Picture Aspect Ratio"),
    131210: (400, "Image is Too Small to Process"),
    131211: (400, "Group create limit reached"),
    131212: (400, "Participant is not a part of the group."),
    131213: (400, "Group join request does not exist."),
    130429: (429, "Rate limit hit"),  # Spec says 400 "(some clients report 429)"; bursts use 429 as issue 7 asks.
}
SUBCODES = {130429: 2494055}  # As in graph/error.rate_limit_130429.json.

_TRACE_ALPHABET = string.ascii_letters + string.digits
_trace_random = random.Random()  # Trace ids need no reproducibility; keep them off the seeded generator.


def fbtrace_id() -> str:
    """Return a fresh id in the shape Meta logs for support."""
    return "".join(_trace_random.choices(_TRACE_ALPHABET, k=23))


def title_of(code: int) -> str:
    return CATALOGUE.get(code, (400, "Invalid parameter"))[1]


class GraphError(Exception):
    """A refusal answered with Meta's synchronous error envelope."""

    def __init__(self, code: int, details: str, *, http_status: int | None = None, message: str | None = None):
        super().__init__(details)
        self.code = code
        self.details = details
        self.http_status = http_status or CATALOGUE.get(code, (400, ""))[0]
        self.message = message or f"(#{code}) {title_of(code)}"

    def envelope(self) -> dict:
        """Return the body of spec §9.1, shaped like graph/error.*.json."""
        error: dict = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
            "fbtrace_id": fbtrace_id(),
        }
        if self.code in SUBCODES:
            error["error_subcode"] = SUBCODES[self.code]
        return {"error": error}


class AuthError(GraphError):
    """A missing or wrong token: graph/error.access_token_expired_190.json, HTTP 401."""

    def __init__(self, details: str):
        super().__init__(190, details, http_status=401, message=f"Error validating access token: {details}")

    def envelope(self) -> dict:
        return {"error": {"message": self.message, "type": "OAuthException", "code": 190,
                          "error_subcode": 463, "fbtrace_id": fbtrace_id()}}


def invalid(details: str) -> GraphError:
    """Return the generic parameter error (100) Meta gives for a malformed request."""
    return GraphError(100, details)


def webhook_error(code: int, details: str, *, title: str | None = None, message: str | None = None) -> dict:
    """Return an error object as group webhooks and join-request answers carry it (no href)."""
    title = title or title_of(code)
    return {"code": code, "message": message or title, "title": title, "error_data": {"details": details}}


def status_error(code: int, details: str) -> dict:
    """Return an error object as a `failed` status carries it (with href)."""
    title = title_of(code)
    return {"code": code, "title": title, "message": title, "error_data": {"details": details}, "href": ERROR_HREF}
