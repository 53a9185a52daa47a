"""Receiving a webhook: commit the raw body first, then wake a drain (the performance-tuned ingest path)."""

import hashlib
from enum import Enum

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.bulk import insert_row
from webhooks.models import WebhookEvent
from webhooks.services.process import finish_not_json, parse_body
from webhooks.services.wake import wake_drainer

KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256")
# The columns a new event's INSERT writes; the others take their database defaults (one parameter each fewer).
RECORDED_FIELDS = ("received_at", "body", "sha256", "headers", "created_at", "updated_at")


class ReceiveOutcome(Enum):
    ACCEPTED = "accepted"
    NOT_JSON = "not_json"


def webhook_event_receive(*, body: bytes, headers: dict[str, str]) -> tuple[WebhookEvent, ReceiveOutcome]:
    """Store a signed body (committed), then wake a drain; a body that is not JSON is marked failed."""
    event, created = webhook_event_record(body=body, headers=headers)
    # Parsed here only to answer 400 at once; the drain parses the stored bytes again.
    _payload, not_json = parse_body(body)
    if not_json:
        if created:
            finish_not_json(event, error=not_json)
        return event, ReceiveOutcome.NOT_JSON
    if created:
        wake_drainer()
    return event, ReceiveOutcome.ACCEPTED


def webhook_event_record(*, body: bytes, headers: dict[str, str]) -> tuple[WebhookEvent, bool]:
    """Commit the raw body before anything parses it; an identical redelivery only counts a delivery."""
    digest = hashlib.sha256(body).hexdigest()
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    event = WebhookEvent(received_at=timezone.now(), body=body, sha256=digest, headers=kept)
    try:
        if connection.in_atomic_block:
            with transaction.atomic():  # A savepoint: a duplicate leaves the caller's transaction usable.
                insert_row(event, fields=RECORDED_FIELDS)
        else:
            # The ingest's hot path: in autocommit the INSERT is its own transaction, one round trip, and a
            # duplicate's IntegrityError leaves the connection usable.
            insert_row(event, fields=RECORDED_FIELDS)
        return event, True
    except IntegrityError:
        WebhookEvent.objects.filter(sha256=digest).update(deliveries=F("deliveries") + 1)
        return WebhookEvent.objects.get(sha256=digest), False

