"""Replaying, sweeping and deleting stored webhook events."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from config.exceptions import ApplicationError
from webhooks.models import WebhookEvent
from webhooks.services.wake import publish_drain, wake_drainer

State = WebhookEvent.State

REPLAYABLE_STATES = (State.FAILED, State.IGNORED, State.PENDING)
# Stored bodies recognise identical redeliveries; Meta retries for 7 days, so keep at least twice that.
MIN_RETENTION_DAYS = 14


class EventNotReplayable(ApplicationError):
    code = "not_replayable"
    http_status = 409


def webhook_event_reprocess(*, event: WebhookEvent) -> WebhookEvent:
    """Run a failed, ignored or stuck event again; its handlers make repeated effects no-ops.

    Raises EventNotReplayable if the event was processed.
    """
    updated = WebhookEvent.objects.filter(pk=event.pk, state__in=REPLAYABLE_STATES).update(
        state=State.PENDING, claimed_until=None, claimed_by="", unfinished_attempts=0
    )
    if not updated:
        raise EventNotReplayable(f"Event {event.pk} was processed; only failed, ignored or pending events replay.")
    wake_drainer()
    event.refresh_from_db()
    return event


def webhook_events_reprocess(*, states: list[str], since: datetime | None = None) -> int:
    """Replay every event in `states` received since `since`; return how many were queued."""
    events = WebhookEvent.objects.filter(state__in=[s for s in states if s in REPLAYABLE_STATES])
    if since is not None:
        events = events.filter(received_at__gte=since)
    count = events.update(state=State.PENDING, claimed_until=None, claimed_by="", unfinished_attempts=0)
    if count:
        wake_drainer()
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
        publish_drain()  # Not through the flag: a drainer that died may have left it set.
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
