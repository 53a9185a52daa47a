"""Webhook events: record first, then process each item once, replay and clean up."""

import hashlib
import json
import logging
import traceback as tb
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.exceptions import ApplicationError, NotYetApplicable
from webhooks.envelope import iter_items
from webhooks.models import WebhookEvent
from webhooks.registry import handled_fields, handler_for

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# Long enough for the largest body (1,000 items) on a slow database; a crashed worker's
# event is taken over by the sweep once the lease ends.
CLAIM_LEASE = timedelta(minutes=5)
# A deferred event is tried again after 30 s, then twice as long each time, at most an hour apart.
DEFER_FIRST_DELAY = timedelta(seconds=30)
DEFER_MAX_DELAY = timedelta(hours=1)
# Enough to show what went wrong in a 1,000-item body without storing 1,000 entries.
MAX_ITEM_FAILURES_KEPT = 100
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Hub-Signature-256")
REPLAYABLE_STATES = (State.FAILED, State.IGNORED, State.PENDING)
# Stored bodies recognise identical redeliveries; Meta retries for 7 days, so keep at least twice that.
MIN_RETENTION_DAYS = 14


class ReceiveOutcome(Enum):
    ACCEPTED = "accepted"
    NOT_JSON = "not_json"


class EventNotReplayable(ApplicationError):
    code = "not_replayable"
    http_status = 409


def webhook_event_receive(*, body: bytes, headers: dict[str, str]) -> tuple[WebhookEvent, ReceiveOutcome]:
    """Store a signed body (committed), then queue its processing; a body that is not JSON is marked failed."""
    event, created = webhook_event_record(body=body, headers=headers)
    # Parsed here only to answer 400 at once; the task parses the stored bytes again.
    not_json = _json_error(body)
    if not_json:
        if created:
            _finish(event, state=State.FAILED, error=not_json)
        return event, ReceiveOutcome.NOT_JSON
    if created:
        _enqueue(event.pk)
    return event, ReceiveOutcome.ACCEPTED


def webhook_event_record(*, body: bytes, headers: dict[str, str]) -> tuple[WebhookEvent, bool]:
    """Commit the raw body before anything parses it; an identical redelivery only counts a delivery."""
    digest = hashlib.sha256(body).hexdigest()
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                received_at=timezone.now(), body=body, sha256=digest, headers=kept
            )
        return event, True
    except IntegrityError:
        WebhookEvent.objects.filter(sha256=digest).update(deliveries=F("deliveries") + 1)
        return WebhookEvent.objects.get(sha256=digest), False


def webhook_event_process(*, event_id: int, claimant: str = "") -> WebhookEvent | None:
    """Dispatch every item of a pending event to its handler, each in its own transaction.

    Returns None when another worker holds the event or it is no longer pending. A
    database outage propagates (the task retries; the sweep takes over otherwise).
    """
    if not _claim(event_id, claimant):
        return None
    event = WebhookEvent.objects.get(pk=event_id)
    body = bytes(event.body)
    if not_json := _json_error(body):
        return _finish(event, state=State.FAILED, error=not_json)
    payload = json.loads(body)

    results = _ItemResults()
    fields: set[str] = set()
    for envelope_item in iter_items(payload, event_id=event.pk):
        ctx = envelope_item.context
        if ctx.field:
            fields.add(ctx.field)
        if envelope_item.error:
            results.fail(ctx.path, ctx.field, ctx.kind, envelope_item.error, "")
            continue
        handler = handler_for(ctx.field, ctx.kind)
        if handler is None:
            # A new kind inside a field we handle is worth a warning: Meta added something we drop.
            level = logging.WARNING if ctx.field in handled_fields() else logging.INFO
            logger.log(level, "webhook item has no handler", extra={"event_id": event.pk, "path": ctx.path,
                                                                      "field": ctx.field, "kind": ctx.kind[:64]})
            results.ignore(ctx.path, ctx.field, ctx.kind)
            continue
        try:
            with transaction.atomic():
                handler(envelope_item.item, ctx)
        except (OperationalError, InterfaceError):
            raise  # The database went away: nothing is lost, the whole event runs again.
        except NotYetApplicable as exc:
            # Meta promises no order: what this item names may arrive later. Try the event again then.
            results.defer(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # One bad item must never drop the rest of its batch.
            logger.warning(
                "webhook item failed",
                extra={"event_id": event.pk, "path": ctx.path, "field": ctx.field, "kind": ctx.kind},
                exc_info=not isinstance(exc, ApplicationError | ValueError),
            )
            results.fail(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}", tb.format_exc())
        else:
            results.process()
    retry_at = None
    if results.counts["deferred"] and not results.counts["failed"]:
        retry_at = _deferred_retry_at(event)
        if retry_at is None:
            results.give_up_deferred()
    return _finish(
        event,
        state=State.PENDING if retry_at else results.final_state(),
        fields=sorted(fields),
        error=results.summary(),
        traceback_text=results.first_traceback,
        item_counts=results.counts,
        item_failures=results.failures,
        retry_at=retry_at,
    )


def _deferred_retry_at(event: WebhookEvent) -> datetime | None:
    """Return when to try an event with deferred items again, or None once it has waited long enough."""
    now = timezone.now()
    if now - event.received_at > timedelta(hours=settings.WEBHOOK_DEFER_MAX_HOURS):
        return None
    attempts = WebhookEvent.objects.values_list("attempts", flat=True).get(pk=event.pk)
    # 30 s, 1 min, 2 min ... at most an hour apart: soon for the usual race, cheap for a long wait.
    return now + min(DEFER_FIRST_DELAY * 2 ** max(attempts - 1, 0), DEFER_MAX_DELAY)


def webhook_event_reprocess(*, event: WebhookEvent) -> WebhookEvent:
    """Run a failed, ignored or stuck event again; its handlers make repeated effects no-ops.

    Raises EventNotReplayable if the event was processed.
    """
    updated = WebhookEvent.objects.filter(pk=event.pk, state__in=REPLAYABLE_STATES).update(
        state=State.PENDING, claimed_until=None, claimed_by=""
    )
    if not updated:
        raise EventNotReplayable(f"Event {event.pk} was processed; only failed, ignored or pending events replay.")
    _enqueue(event.pk)
    event.refresh_from_db()
    return event


def webhook_events_reprocess(*, states: list[str], since: datetime | None = None) -> int:
    """Replay every event in `states` received since `since`; return how many were queued."""
    events = WebhookEvent.objects.filter(state__in=states).order_by("pk")
    if since is not None:
        events = events.filter(received_at__gte=since)
    count = 0
    for event in events.only("pk", "state").iterator():
        try:
            webhook_event_reprocess(event=event)
            count += 1
        except EventNotReplayable:
            continue  # Processed meanwhile by another worker.
    return count


def webhook_events_sweep_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue pending events nobody is processing (e.g. the broker was down); return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_PENDING_SWEEP_AFTER_SECONDS)
    # Bounded so one sweep cannot flood the queue; the next sweep (a minute later) takes the rest.
    # Never claimed and not fresh (the broker may have lost it), or claimed until a time now past
    # (a worker died mid-event, or a deferred event's retry time came).
    ids = list(
        WebhookEvent.objects.filter(state=State.PENDING)
        .filter(Q(claimed_until__isnull=True, received_at__lt=cutoff) | Q(claimed_until__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for event_id in ids:
        _enqueue(event_id)
    return len(ids)


def webhook_events_delete_old(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Delete processed and ignored events older than the retention; never pending or failed ones."""
    days = settings.WEBHOOK_EVENT_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = WebhookEvent.objects.filter(state__in=(State.PROCESSED, State.IGNORED), received_at__lt=cutoff)
    deleted = 0
    # Batches keep each delete short, so webhook inserts are never blocked for long.
    while ids := list(old.order_by("pk").values_list("pk", flat=True)[:1000]):
        deleted += WebhookEvent.objects.filter(pk__in=ids).delete()[0]
    return deleted


def _json_error(body: bytes) -> str:
    """Return why `body` is not JSON, or "" when it is."""
    try:
        json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too.
        return f"The body is not JSON: {exc}"
    return ""


def _claim(event_id: int, claimant: str) -> bool:
    """Take the event for CLAIM_LEASE unless someone else holds it; the same claimant may take it back."""
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if claimant:
        free |= Q(claimed_by=claimant)
    return bool(
        WebhookEvent.objects.filter(pk=event_id, state=State.PENDING)
        .filter(free)
        .update(claimed_until=now + CLAIM_LEASE, claimed_by=claimant, attempts=F("attempts") + 1)
    )


def _finish(
    event: WebhookEvent,
    *,
    state: str,
    error: str = "",
    fields: list[str] | None = None,
    traceback_text: str = "",
    item_counts: dict[str, int] | None = None,
    item_failures: list[dict[str, Any]] | None = None,
    retry_at: datetime | None = None,
) -> WebhookEvent:
    changes = {
        "state": state,
        "error": error,
        "traceback": traceback_text,
        # A pending event's claim doubles as "not before": the sweep takes it again after retry_at.
        "claimed_until": retry_at,
        "claimed_by": "",
        "processed_at": None if retry_at else timezone.now(),
        "item_counts": item_counts or {},
        "item_failures": item_failures or [],
    }
    if fields is not None:
        changes["fields"] = fields
    for name, value in changes.items():
        setattr(event, name, value)
    event.save(update_fields=[*changes, "updated_at"])
    if state == State.FAILED:
        logger.warning("webhook event failed", extra={"event_id": event.pk, "error": error[:500]})
    return event


def _enqueue(event_id: int) -> None:
    """Queue processing; if the broker is down the event stays pending and the sweep picks it up."""
    from webhooks.tasks import webhook_event_process_task

    try:
        # No publish retries: with the broker down the webhook must still answer at once.
        webhook_event_process_task.apply_async((event_id,), retry=False)
    except Exception:  # Broker errors vary by transport; the stored event is safe either way.
        logger.exception("webhook event not queued; the sweep will retry", extra={"event_id": event_id})


@dataclass
class _ItemResults:
    counts: dict[str, int] = field(
        default_factory=lambda: {"processed": 0, "ignored": 0, "failed": 0, "deferred": 0}
    )
    failures: list[dict[str, str]] = field(default_factory=list)
    first_traceback: str = ""

    def process(self) -> None:
        self.counts["processed"] += 1

    def ignore(self, path: str, field_name: str, kind: str) -> None:
        self.counts["ignored"] += 1
        self._keep(path, field_name, kind, State.IGNORED, "no handler for this item")

    def defer(self, path: str, field_name: str, kind: str, error: str) -> None:
        self.counts["deferred"] += 1
        self._keep(path, field_name, kind, "deferred", error)

    def give_up_deferred(self) -> None:
        """Count deferred items as failed: they waited WEBHOOK_DEFER_MAX_HOURS in vain."""
        self.counts["failed"] += self.counts.pop("deferred")
        self.counts["deferred"] = 0
        for failure in self.failures:
            if failure["state"] == "deferred":
                failure["state"] = State.FAILED
                failure["error"] += " (still not applicable after waiting; replay once it is)"

    def fail(self, path: str, field_name: str, kind: str, error: str, traceback_text: str) -> None:
        self.counts["failed"] += 1
        self.first_traceback = self.first_traceback or traceback_text
        self._keep(path, field_name, kind, State.FAILED, error)

    def _keep(self, path: str, field_name: str, kind: str, state: str, error: str) -> None:
        if len(self.failures) < MAX_ITEM_FAILURES_KEPT:
            self.failures.append({"path": path, "field": field_name, "kind": kind, "state": state, "error": error})

    def final_state(self) -> str:
        if self.counts["failed"]:
            return State.FAILED
        if self.counts["ignored"] and not self.counts["processed"]:
            return State.IGNORED
        return State.PROCESSED

    def summary(self) -> str:
        total = sum(self.counts.values())
        for state, verb in ((State.FAILED, "failed"), ("deferred", "wait for something not known yet")):
            listed = [f for f in self.failures if f["state"] == state]
            if listed:
                details = "; ".join(f"{f['path']}: {f['error']}" for f in listed[:10])
                return f"{len(listed)} of {total} items {verb}: {details}"
        return ""
