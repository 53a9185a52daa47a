"""Reads of webhook events."""

import json
from datetime import datetime
from typing import Any

from webhooks.models import SignatureRejection, WebhookEvent
from webhooks.text import storable


def webhook_event_payload(event: WebhookEvent) -> Any:
    """Return the event's body parsed as JSON, or its text when it is not JSON (or nested too deeply to show).

    JSON may spell a lone surrogate (`"\\ud800"`), which no page can encode as UTF-8: it is shown as U+FFFD.
    """
    body = bytes(event.body)
    try:
        payload = json.loads(body)
        # NUL stays escaped, a lone surrogate comes out raw; NaN and Infinity (not JSON, though Python reads
        # them) raise: such a body is shown as its text.
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace")
    shown = storable(text)
    return payload if shown == text else json.loads(shown)


def webhook_event_list():
    """Return events newest first, without their (possibly 3 MB) bodies."""
    return WebhookEvent.objects.defer("body", "traceback").order_by("-pk")


RECENT_EVENTS_SCANNED = 2000  # "Last event per field" looks this far back: bounded, whatever the table's size.


def webhook_last_event_per_field(*, fields: list[str]) -> dict[str, dict | None]:
    """Return, per change field, the newest of the last RECENT_EVENTS_SCANNED events carrying it (or None)."""
    recent = WebhookEvent.objects.order_by("-received_at", "-pk").values("pk", "received_at", "state", "fields")
    found: dict[str, dict | None] = {field: None for field in fields}
    for event in recent[:RECENT_EVENTS_SCANNED]:
        for field in event["fields"] or []:
            if found.get(field) is None:
                found[field] = {"pk": event["pk"], "received_at": event["received_at"], "state": event["state"]}
    return found


def webhook_failed_count(*, since: datetime) -> int:
    """Return how many events received since `since` failed (the (state, received_at) index)."""
    return WebhookEvent.objects.filter(state=WebhookEvent.State.FAILED, received_at__gte=since).count()


def signature_rejections(*, since: datetime) -> list[SignatureRejection]:
    """Return the per-hour signature rejection counters since `since`, oldest first."""
    return list(SignatureRejection.objects.filter(hour__gte=since).order_by("hour"))
