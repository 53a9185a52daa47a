"""Draining pending events: claim a batch (a lease), process it, until none is left."""

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.services import wake
from webhooks.services.process import process_claimed

logger = logging.getLogger(__name__)

State = WebhookEvent.State

# Long enough for the largest body (1,000 items) on a slow database; a crashed worker's
# event is taken over by the sweep once the lease ends.
CLAIM_LEASE = timedelta(minutes=5)
# Events per claim: enough for the status items of a batch to share a few statements, small enough to commit often.
DRAIN_BATCH_SIZE = 500
DRAIN_MAX_SECONDS = 60.0  # Then the drain hands over to a fresh task: below CELERY_TASK_SOFT_TIME_LIMIT.
# A worker that dies while processing (killed for memory, or past Celery's hard time limit) leaves its events
# claimed: they are claimed again when the lease ends, or at once by the same task redelivered (acks_late). An event
# that kills every worker taking it would be claimed forever, so after this many claims in a row that did not
# finish it fails instead, with a reason, and waits in the failed list for a replay (which counts afresh).
MAX_UNFINISHED_ATTEMPTS = 5
# One claim that did not finish is most often its batch's bad luck (a database restart mid-batch): the batch is taken
# again whole. From the second in a row, each such event is taken alone, so the one that kills its worker counts its
# own deaths and the others of its batch, once they finish alone, count nothing (they stop at 3, below the limit).
ALONE_AFTER_UNFINISHED_ATTEMPTS = 2


def webhook_event_process(*, event_id: int, claimant: str = "") -> WebhookEvent | None:
    """Process one pending event now (as the drain would); None when another worker holds it or it is done.

    An event claimed MAX_UNFINISHED_ATTEMPTS times without finishing is failed instead (None too). A database
    outage propagates (the task retries; the sweep takes over otherwise).
    """
    events = claim(claimant=claimant, limit=1, ids=[event_id])
    return process_claimed(events)[0] if events else None


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
            events = claim(claimant=claimant, limit=batch_size)
            if not events:
                # Let the next webhook wake a drainer, then look once more: an event stored just before that
                # webhook saw our flag is committed by now, so it is either claimed here or wakes someone. A
                # process that saw the flag less than WAKE_FLAG_TRUST_SECONDS ago stores without looking: wait
                # that long, so its events are committed before the last look too.
                if wake.wake_flag_clear(slot):
                    time.sleep(wake.WAKE_FLAG_TRUST_SECONDS)
                events = claim(claimant=claimant, limit=batch_size)
                if not events:
                    return processed
            if len(events) == batch_size and slot + 1 < settings.WEBHOOK_DRAINS:
                wake.wake_drainer(slot + 1)
            with _collector_paused():
                processed += len(process_claimed(events))
            if time.monotonic() - started > max_seconds:
                wake.publish_drain(slot)
                return processed
    finally:
        wake.wake_flag_clear(slot)


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


def claim(*, claimant: str, limit: int, ids: list[int] | None = None) -> list[WebhookEvent]:
    """Take up to `limit` pending events, oldest first, for CLAIM_LEASE; skip those another worker holds.

    A claim past its lease is free (its worker died, or a deferred event's retry time came); the same
    claimant may take its own back (a task retried after a database outage). An event whose last claims did not
    finish is taken alone, and one that did not finish MAX_UNFINISHED_ATTEMPTS times is failed instead.
    """
    now = timezone.now()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    if claimant:
        free |= Q(claimed_by=claimant)
    with transaction.atomic():
        pending = WebhookEvent.objects.select_for_update(skip_locked=True).filter(state=State.PENDING).filter(free)
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        # What processing reads; the rest is written by finish_runs (or read on demand).
        events = list(pending.order_by("received_at", "pk").only(
            "pk", "body", "received_at", "attempts", "unfinished_attempts")[:limit])
        events = _give_up_unfinished(events, now=now)
        suspects = [event for event in events if event.unfinished_attempts >= ALONE_AFTER_UNFINISHED_ATTEMPTS]
        events = suspects[:1] or events
        if events:
            WebhookEvent.objects.filter(pk__any=[event.pk for event in events]).update(
                claimed_until=now + CLAIM_LEASE, claimed_by=claimant, attempts=F("attempts") + 1,
                unfinished_attempts=F("unfinished_attempts") + 1,
            )
    for event in events:
        event.attempts += 1
        event.unfinished_attempts += 1
    return events


def _give_up_unfinished(events: list[WebhookEvent], *, now: datetime) -> list[WebhookEvent]:
    """Fail the events claimed MAX_UNFINISHED_ATTEMPTS times without an outcome; return the others."""
    exhausted = [event.pk for event in events if event.unfinished_attempts >= MAX_UNFINISHED_ATTEMPTS]
    if not exhausted:
        return events
    logger.error("webhook events given up: their processing never finished", extra={
        "event_ids": exhausted, "attempts": MAX_UNFINISHED_ATTEMPTS})
    WebhookEvent.objects.filter(pk__in=exhausted).update(
        state=State.FAILED, claimed_until=None, claimed_by="", processed_at=now, updated_at=now, traceback="",
        error=f"Gave up after {MAX_UNFINISHED_ATTEMPTS} attempts that did not finish: the worker processing this "
        "event stopped each time (e.g. killed for memory or time). Replay it to try again.",
    )
    return [event for event in events if event.pk not in exhausted]
