"""Fan recorded outbox events out to the endpoints that subscribe to them, in the recording transaction."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from config.bulk import bulk_insert_rows
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


def deliveries_fan_out(events: Iterable[OutboxEvent], subscriptions: EndpointSubscriptions) -> list[Delivery]:
    """Create one pending delivery per (event, subscribed endpoint), due now, and wake a sender once committed."""
    now = timezone.now()
    # Positional, every field given (Django's fast path; keywords look up each default): a hot path.
    pending = Delivery.State.PENDING
    deliveries = [
        Delivery(None, endpoint_id, event.event_id, pending, 0, now, now, None, "", None, now, now)
        for event in events
        for endpoint_id in subscriptions.endpoints_for(event.type)
    ]
    bulk_insert_rows(deliveries)
    if deliveries:
        transaction.on_commit(deliveries_wake)
    return deliveries
