"""Draining pending events: claim a batch (a lease), process it, until none is left."""

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from webhooks.models import WebhookEvent
from webhooks.services import wake
from webhooks.services.process import process_claimed

State = WebhookEvent.State

# Long enough for the largest body (1,000 items) on a slow database; a crashed worker's
# event is taken over by the sweep once the lease ends.
CLAIM_LEASE = timedelta(minutes=5)
# Events per claim: enough for the status items of a batch to share a few statements, small enough to commit often.
DRAIN_BATCH_SIZE = 500
DRAIN_MAX_SECONDS = 60.0  # Then the drain hands over to a fresh task: below CELERY_TASK_SOFT_TIME_LIMIT.


def webhook_event_process(*, event_id: int, claimant: str = "") -> WebhookEvent | None:
    """Process one pending event now (as the drain would); None when another worker holds it or it is done.

    A database outage propagates (the task retries; the sweep takes over otherwise).
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
        # What processing reads; the rest is written by finish_runs (or read on demand).
        events = list(pending.order_by("received_at", "pk").only("pk", "body", "received_at", "attempts")[:limit])
        if events:
            WebhookEvent.objects.filter(pk__any=[event.pk for event in events]).update(
                claimed_until=now + CLAIM_LEASE, claimed_by=claimant, attempts=F("attempts") + 1
            )
    for event in events:
        event.attempts += 1
    return events
