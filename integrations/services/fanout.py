"""Fan recorded outbox events out to the endpoints that subscribe to them, in the recording transaction."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from config.bulk import bulk_insert_columns
from integrations.models import Delivery, WebhookEndpoint
from integrations.services.wake import deliveries_wake
from outbox.models import OutboxEvent


class EndpointSubscriptions:
    """The active endpoints and the types each receives, read once per recording call."""

    def __init__(self, endpoints: list[tuple[int, list[str]]]) -> None:
        self._endpoints = [(pk, frozenset(types)) for pk, types in endpoints]
        self._everything = any(not types for _pk, types in self._endpoints)
        self._types = frozenset().union(*(types for _pk, types in self._endpoints))

    def wants(self, type: str) -> bool:
        return self._everything or type in self._types

    def endpoints_for(self, type: str) -> list[int]:
        return [pk for pk, types in self._endpoints if not types or type in types]


def subscriptions_read() -> EndpointSubscriptions:
    """Return who receives what now (a few rows: integrators have a handful of endpoints)."""
    return EndpointSubscriptions(list(WebhookEndpoint.objects.filter(active=True).values_list("pk", "event_types")))


def deliveries_fan_out(events: Iterable[OutboxEvent], subscriptions: EndpointSubscriptions) -> int:
    """Create one pending delivery per (event, subscribed endpoint), due now, and wake a sender once committed.

    Returns how many. One statement for the batch, whose rows differ only in their endpoint and event: a hot path
    (a status batch fans out an event per status).
    """
    endpoint_ids, event_ids = [], []
    for event in events:
        for endpoint_id in subscriptions.endpoints_for(event.type):
            endpoint_ids.append(endpoint_id)
            event_ids.append(event.event_id)
    if not event_ids:
        return 0
    now = timezone.now()
    bulk_insert_columns(Delivery, columns={"endpoint": endpoint_ids, "event": event_ids}, same={
        "state": Delivery.State.PENDING.value, "attempt_count": 0, "next_attempt_at": now, "retrying_since": now,
        "last_status_code": None, "last_error": "", "delivered_at": None})
    transaction.on_commit(deliveries_wake)
    return len(event_ids)
