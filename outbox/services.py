"""Record events in the outbox, in the caller's transaction: one call per change, or a batch for bulk paths."""

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Max, Q
from django.utils import timezone

from config.bulk import bulk_insert_rows
from outbox.models import OutboxEvent, new_event_id
from outbox.registry import Subscriptions, renderer_for, subscribers


class EventBatch:
    """The events of one transaction, recorded together: a few statements whatever their number.

    An event no subscriber wants is neither rendered nor written: with no endpoint subscribed, recording costs one
    read of the (small) endpoints table per batch. Who subscribes is read when the batch starts, inside the
    transaction of the change, so an endpoint created before the change commits receives it.
    """

    def __init__(self) -> None:
        self._subscribers = [(subscriber, subscriber.subscriptions()) for subscriber in subscribers()]
        self._events: list[OutboxEvent] = []
        self._now = timezone.now()  # The transaction's time, for events without one of their own (once: a hot path).

    def wants(self, type: str) -> bool:
        """Return True when some subscriber receives events of `type` (callers may skip building a detail)."""
        return any(subscriptions.wants(type) for _subscriber, subscriptions in self._subscribers)

    def add(self, *, type: str, obj: models.Model, occurred_at: datetime | None = None,
            detail: dict[str, Any] | None = None) -> None:
        """Add one event about `obj`, shown as it is now (a snapshot: later changes do not alter it)."""
        if not self.wants(type):
            return
        renderer = renderer_for(obj)
        # Positional, every field given: Django's fast path (keyword arguments look up each field's default, which
        # was most of an event's Python cost in a status batch).
        self._events.append(OutboxEvent(
            None, new_event_id(), type, occurred_at or self._now, renderer.object_type, obj.pk, 0,
            renderer.render(obj), detail or {}, self._now,
        ))

    def record(self) -> list[OutboxEvent]:
        """Write the added events (numbered per object, in the order added) and fan them out; return them.

        On PostgreSQL their primary keys are not read back (one COPY): name an event by its `event_id`.
        """
        events, self._events = self._events, []
        if not events:
            return []
        _number(events)
        bulk_insert_rows(events)
        for subscriber, subscriptions in self._subscribers:
            subscriber.fan_out([e for e in events if subscriptions.wants(e.type)], subscriptions)
        return events


def _number(events: list[OutboxEvent]) -> None:
    """Give each event the next sequence number of its object.

    The callers hold the object's row locked (or the group's, for participants and join requests), so no other
    transaction numbers the same object meanwhile; the unique constraint would refuse it if one did.
    """
    keys = {(event.object_type, event.object_id) for event in events}
    query = Q()
    for object_type in {object_type for object_type, _id in keys}:
        query |= Q(object_type=object_type, object_id__any=[i for t, i in keys if t == object_type])
    rows = OutboxEvent.objects.filter(query).order_by().values("object_type", "object_id")
    last = {(row["object_type"], row["object_id"]): row["last"] for row in rows.annotate(last=Max("sequence"))}
    for event in events:
        key = (event.object_type, event.object_id)
        last[key] = event.sequence = (last.get(key) or 0) + 1


def event_record(*, type: str, obj: models.Model, occurred_at: datetime | None = None,
                 detail: dict[str, Any] | None = None) -> OutboxEvent | None:
    """Record one event about `obj` in the caller's transaction; return it, or None when no subscriber wants it."""
    batch = EventBatch()
    batch.add(type=type, obj=obj, occurred_at=occurred_at, detail=detail)
    recorded = batch.record()
    return recorded[0] if recorded else None


__all__ = ["EventBatch", "Subscriptions", "event_record"]
