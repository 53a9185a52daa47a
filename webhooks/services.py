"""Webhook events: record first, then process each item once, replay and clean up."""

import gc
import hashlib
import json
import logging
import time
import traceback as tb
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.bulk import insert_row
from config.exceptions import ApplicationError, NotYetApplicable
from webhooks.envelope import EnvelopeItem, iter_items
from webhooks.models import WebhookEvent
from webhooks.registry import ItemHandler, batch_form, handled_fields, handler_for

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
# The columns a new event's INSERT writes; the others take their database defaults (one parameter each fewer).
RECORDED_FIELDS = ("received_at", "body", "sha256", "headers", "created_at", "updated_at")
# Stored bodies recognise identical redeliveries; Meta retries for 7 days, so keep at least twice that.
MIN_RETENTION_DAYS = 14
# Events per claim: enough for the status items of a batch to share a few statements, small enough to commit often.
DRAIN_BATCH_SIZE = 500
DRAIN_MAX_SECONDS = 60.0  # Then the drain hands over to a fresh task: below CELERY_TASK_SOFT_TIME_LIMIT.
# The flag (one per drain slot) says "a drainer is on its way": while set, nobody publishes another for the slot.
WAKE_FLAG = "webhooks:drain-wake"
WAKE_FLAG_SECONDS = 30  # A drainer that died without clearing it delays the next one this long at most.
# A process that saw the flag set trusts it this long without asking Redis again (a burst of webhooks asks once
# per process and period, not once per request). A drainer waits as long between clearing the flag and its last
# look, so an event stored by a process that skipped the check is still claimed (see webhook_events_drain).
WAKE_FLAG_TRUST_SECONDS = 0.05
_wake_flag_seen_at: dict[int, float] = {}  # slot -> time.monotonic() just before this process saw the flag set


class ReceiveOutcome(Enum):
    ACCEPTED = "accepted"
    NOT_JSON = "not_json"


class EventNotReplayable(ApplicationError):
    code = "not_replayable"
    http_status = 409


def webhook_event_receive(*, body: bytes, headers: dict[str, str]) -> tuple[WebhookEvent, ReceiveOutcome]:
    """Store a signed body (committed), then wake a drain; a body that is not JSON is marked failed."""
    event, created = webhook_event_record(body=body, headers=headers)
    # Parsed here only to answer 400 at once; the drain parses the stored bytes again.
    _payload, not_json = _parse(body)
    if not_json:
        if created:
            _finish_not_json(event, error=not_json)
        return event, ReceiveOutcome.NOT_JSON
    if created:
        _wake_drainer()
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


def webhook_event_process(*, event_id: int, claimant: str = "") -> WebhookEvent | None:
    """Process one pending event now (as the drain would); None when another worker holds it or it is done.

    A database outage propagates (the task retries; the sweep takes over otherwise).
    """
    events = _claim(claimant=claimant, limit=1, ids=[event_id])
    return _process_claimed(events)[0] if events else None


def webhook_events_drain(
    *, claimant: str = "", slot: int = 0, batch_size: int = DRAIN_BATCH_SIZE, max_seconds: float = DRAIN_MAX_SECONDS
) -> int:
    """Process pending events, oldest first, a batch at a time, until none is left; return how many were processed.

    Batching is what makes the worker fast: the status items of a whole batch are applied together (see
    `webhooks.registry`). Webhooks wake slot 0; a drain that finds a full batch (a backlog) wakes the next slot,
    up to WEBHOOK_DRAINS drains at once (claims keep them apart). A drain that runs past `max_seconds` hands the
    rest to a fresh task, so no task outlives Celery's time limit.
    """
    started = time.monotonic()
    processed = 0
    try:
        while True:
            events = _claim(claimant=claimant, limit=batch_size)
            if not events:
                # Let the next webhook wake a drainer, then look once more: an event stored just before that
                # webhook saw our flag is committed by now, so it is either claimed here or wakes someone. A
                # process that saw the flag less than WAKE_FLAG_TRUST_SECONDS ago stores without looking: wait
                # that long, so its events are committed before the last look too.
                if _wake_flag_clear(slot):
                    time.sleep(WAKE_FLAG_TRUST_SECONDS)
                events = _claim(claimant=claimant, limit=batch_size)
                if not events:
                    return processed
            if len(events) == batch_size and slot + 1 < settings.WEBHOOK_DRAINS:
                _wake_drainer(slot + 1)
            with _collector_paused():
                processed += len(_process_claimed(events))
            if time.monotonic() - started > max_seconds:
                _publish_drain(slot)
                return processed
    finally:
        _wake_flag_clear(slot)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a batch is applied, and resume it after (as it was).

    A batch keeps thousands of objects alive until it ends (the rows it read, the rows it writes), and each of the
    collector's passes, triggered every few hundred allocations, walks them all again: about a fifth of a drain's
    Python time. Reference counting still frees what the batch drops; the collector runs on once it is resumed.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _process_claimed(events: list[WebhookEvent]) -> list[WebhookEvent]:
    """Dispatch every item of claimed events to its handler and record each event's outcome.

    Items whose handler has a batch form (e.g. statuses) are applied together; every other item runs alone in its
    own transaction, so one bad item never drops the rest.
    """
    runs = [_EventRun(event) for event in events]
    batches: dict[ItemHandler, list[tuple[_EventRun, EnvelopeItem]]] = {}
    for run in runs:
        envelope, run.not_json = _parse(bytes(run.event.body))
        if run.not_json:
            continue
        for envelope_item in iter_items(envelope, event_id=run.event.pk):
            ctx = envelope_item.context
            if ctx.field:
                run.fields.add(ctx.field)
            if envelope_item.error:
                run.results.fail(ctx.path, ctx.field, ctx.kind, envelope_item.error, "")
                continue
            handler = handler_for(ctx.field, ctx.kind)
            if handler is None:
                # A new kind inside a field we handle is worth a warning: Meta added something we drop.
                level = logging.WARNING if ctx.field in handled_fields() else logging.INFO
                logger.log(level, "webhook item has no handler", extra={
                    "event_id": run.event.pk, "path": ctx.path, "field": ctx.field, "kind": ctx.kind[:64]})
                run.results.ignore(ctx.path, ctx.field, ctx.kind)
            elif batch_form(handler) is not None:
                batches.setdefault(handler, []).append((run, envelope_item))
            else:
                _apply_item(run, handler, envelope_item)
    for handler, entries in batches.items():
        _apply_batch(handler, entries)
    return _finish_runs(runs)


def _apply_item(run: "_EventRun", handler: ItemHandler, envelope_item: EnvelopeItem) -> None:
    """Apply one item in its own transaction and count its outcome."""
    ctx = envelope_item.context
    try:
        with transaction.atomic():
            handler(envelope_item.item, ctx)
    except (OperationalError, InterfaceError):
        raise  # The database went away: nothing is lost, the whole event runs again.
    except NotYetApplicable as exc:
        # Meta promises no order: what this item names may arrive later. Try the event again then.
        run.results.defer(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # One bad item must never drop the rest of its batch.
        run.item_failed(envelope_item, exc, tb.format_exc())
    else:
        run.results.process()


def _apply_batch(handler: ItemHandler, entries: list[tuple["_EventRun", EnvelopeItem]]) -> None:
    """Apply items of one kind together; if the batch cannot be applied, apply each alone so only bad items fail."""
    try:
        outcomes = batch_form(handler)([(entry.item, entry.context) for _run, entry in entries])
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.warning("webhook batch failed; applying its items one by one", extra={"items": len(entries)},
                       exc_info=True)
        for run, entry in entries:
            _apply_item(run, handler, entry)
        return
    for (run, entry), outcome in zip(entries, outcomes, strict=True):
        if outcome is None:
            run.results.process()
        else:
            run.item_failed(entry, outcome, "".join(tb.format_exception(outcome)))


def _finish_runs(runs: list["_EventRun"]) -> list[WebhookEvent]:
    """Record each event's outcome; events with the same outcome (the usual case) share one UPDATE."""
    alike: dict[str, tuple[dict[str, Any], list[WebhookEvent]]] = {}
    for run in runs:
        changes = run.outcome()
        alike.setdefault(json.dumps(changes, sort_keys=True, default=str), (changes, []))[1].append(run.event)
    now = timezone.now()
    for changes, events in alike.values():
        changes = {**changes, "claimed_by": "", "updated_at": now,
                   "processed_at": None if changes["claimed_until"] else now}
        WebhookEvent.objects.filter(pk__any=[event.pk for event in events]).update(**changes)
        for event in events:
            for name, value in changes.items():
                setattr(event, name, value)
            if event.state == State.FAILED:
                logger.warning("webhook event failed", extra={"event_id": event.pk, "error": event.error[:500]})
    return [run.event for run in runs]


def _deferred_retry_at(event: WebhookEvent) -> datetime | None:
    """Return when to try an event with deferred items again, or None once it has waited long enough."""
    now = timezone.now()
    if now - event.received_at > timedelta(hours=settings.WEBHOOK_DEFER_MAX_HOURS):
        return None
    attempts = event.attempts  # This run included: the claim counted it.
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
    _wake_drainer()
    event.refresh_from_db()
    return event


def webhook_events_reprocess(*, states: list[str], since: datetime | None = None) -> int:
    """Replay every event in `states` received since `since`; return how many were queued."""
    events = WebhookEvent.objects.filter(state__in=[s for s in states if s in REPLAYABLE_STATES])
    if since is not None:
        events = events.filter(received_at__gte=since)
    count = events.update(state=State.PENDING, claimed_until=None, claimed_by="")
    if count:
        _wake_drainer()
    return count


def webhook_events_sweep_pending(*, now: datetime | None = None) -> int:
    """Wake a drainer if pending events wait with nobody on them (e.g. the broker was down); return how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.WEBHOOK_PENDING_SWEEP_AFTER_SECONDS)
    # Never claimed and not fresh (the broker may have lost the wake-up), or claimed until a time now past
    # (a worker died mid-batch, or a deferred event's retry time came).
    due = WebhookEvent.objects.filter(state=State.PENDING).filter(
        Q(claimed_until__isnull=True, received_at__lt=cutoff) | Q(claimed_until__lt=now)
    ).count()
    if due:
        _publish_drain()  # Not through the flag: a drainer that died may have left it set.
    return due


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


def _parse(body: bytes) -> tuple[Any, str]:
    """Return the JSON in `body` and "", or None and why it is not JSON."""
    try:
        return json.loads(body), ""
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too.
        return None, f"The body is not JSON: {exc}"


def _claim(*, claimant: str, limit: int, ids: list[int] | None = None) -> list[WebhookEvent]:
    """Take up to `limit` pending events, oldest first, for CLAIM_LEASE; skip those another worker holds.

    A claim past its lease is free (its worker died, or a deferred event's retry time came); the same
    claimant may take its own back (a task retried after a database outage).
    """
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if claimant:
        free |= Q(claimed_by=claimant)
    with transaction.atomic():
        pending = WebhookEvent.objects.select_for_update(skip_locked=True).filter(state=State.PENDING).filter(free)
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        # What processing reads; the rest is written by _finish_runs (or read on demand).
        events = list(pending.order_by("received_at", "pk").only("pk", "body", "received_at", "attempts")[:limit])
        if events:
            WebhookEvent.objects.filter(pk__any=[event.pk for event in events]).update(
                claimed_until=now + CLAIM_LEASE, claimed_by=claimant, attempts=F("attempts") + 1
            )
    for event in events:
        event.attempts += 1
    return events


def _finish_not_json(event: WebhookEvent, *, error: str) -> WebhookEvent:
    """Mark an event failed whose body is not JSON: nothing in it can be processed."""
    run = _EventRun(event)
    run.not_json = error
    return _finish_runs([run])[0]


def _wake_drainer(slot: int = 0) -> None:
    """Make sure a drainer will look at the pending events: publish a drain task unless one is on its way."""
    if _wake_flag_shared():
        # Taken before asking: the drainer that clears the flag later waits WAKE_FLAG_TRUST_SECONDS from then.
        now = time.monotonic()
        seen_at = _wake_flag_seen_at.get(slot)
        if seen_at is not None and now - seen_at < WAKE_FLAG_TRUST_SECONDS:
            return
        woken = cache.add(f"{WAKE_FLAG}:{slot}", 1, timeout=WAKE_FLAG_SECONDS)
        _wake_flag_seen_at[slot] = now  # Set now, by us or by whoever woke the drainer on its way.
        if not woken:
            return
    elif slot:
        return  # Without a shared cache every webhook publishes its own drain already.
    _publish_drain(slot)


def _publish_drain(slot: int = 0) -> None:
    """Queue a drain; if the broker is down the events stay pending and the sweep wakes a drainer later."""
    from webhooks.tasks import webhook_events_drain_task

    try:
        # No publish retries: with the broker down the webhook must still answer at once.
        webhook_events_drain_task.apply_async(kwargs={"slot": slot}, retry=False)
    except Exception:  # Broker errors vary by transport; the stored events are safe either way.
        logger.exception("webhook drain not queued; the sweep will retry")


def _wake_flag_clear(slot: int) -> bool:
    """Clear the slot's flag; False when there is no shared flag."""
    if not _wake_flag_shared():
        return False
    try:
        cache.delete(f"{WAKE_FLAG}:{slot}")
    except Exception:  # The flag only saves publishes; a cache outage must not stop a drain.
        logger.warning("webhook wake flag not cleared", exc_info=True)
    return True


def _wake_flag_shared() -> bool:
    """The flag needs a cache every process shares (Redis); a per-process cache would silence other processes."""
    return not settings.CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))


class _EventRun:
    """One claimed event while its items are applied: their outcomes and the change fields seen."""

    def __init__(self, event: WebhookEvent) -> None:
        self.event = event
        self.results = _ItemResults()
        self.fields: set[str] = set()
        self.not_json = ""

    def item_failed(self, envelope_item: EnvelopeItem, exc: BaseException, traceback_text: str) -> None:
        ctx = envelope_item.context
        logger.warning(
            "webhook item failed",
            extra={"event_id": self.event.pk, "path": ctx.path, "field": ctx.field, "kind": ctx.kind},
            exc_info=None if isinstance(exc, ApplicationError | ValueError) else (type(exc), exc, exc.__traceback__),
        )
        self.results.fail(ctx.path, ctx.field, ctx.kind, f"{type(exc).__name__}: {exc}", traceback_text)

    def outcome(self) -> dict[str, Any]:
        """Return the event's new state, its summary and, for a deferred event, when to try again."""
        if self.not_json:
            return {"state": State.FAILED, "error": self.not_json, "traceback": "", "claimed_until": None,
                    "item_counts": {}, "item_failures": []}
        results = self.results
        retry_at = None
        if results.counts["deferred"] and not results.counts["failed"]:
            retry_at = _deferred_retry_at(self.event)
            if retry_at is None:
                results.give_up_deferred()
        return {
            "state": State.PENDING if retry_at else results.final_state(),
            "error": results.summary(),
            "traceback": results.first_traceback,
            # A pending event's claim doubles as "not before": a drain takes it again after retry_at.
            "claimed_until": retry_at,
            "item_counts": results.counts,
            "item_failures": results.failures,
            "fields": sorted(self.fields),
        }


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
