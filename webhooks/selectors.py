"""Reads of webhook events."""

import json
from typing import Any

from webhooks.models import WebhookEvent


def webhook_event_payload(event: WebhookEvent) -> Any:
    """Return the event's body parsed as JSON, or its text when it is not JSON."""
    body = bytes(event.body)
    try:
        return json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")


def webhook_event_list():
    """Return events newest first, without their (possibly 3 MB) bodies."""
    return WebhookEvent.objects.defer("body", "traceback").order_by("-pk")
