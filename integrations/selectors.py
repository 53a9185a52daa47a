"""Reads of the integrations app: endpoints, deliveries, and how each endpoint is doing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint=endpoint).select_related("event")


@dataclass(frozen=True)
class EndpointHealth:
    """How one endpoint did over a period: attempts that got a 2xx, of all its attempts."""

    endpoint: WebhookEndpoint
    succeeded: int
    attempts: int

    @property
    def success_rate(self) -> str:
        return f"{100 * self.succeeded / self.attempts:.0f}%" if self.attempts else "-"


def endpoints_health(*, since: datetime) -> list[EndpointHealth]:
    """Return every endpoint with its attempts since `since`, in one query (the dashboard counts its queries)."""
    def attempts_counted(**only) -> Coalesce:
        attempts = (DeliveryAttempt.objects.filter(delivery__endpoint=OuterRef("pk"), attempted_at__gte=since, **only)
                    .order_by().values("delivery__endpoint").annotate(n=Count("pk")).values("n"))
        return Coalesce(Subquery(attempts), 0)

    endpoints = endpoint_list().annotate(succeeded=attempts_counted(succeeded=True), attempts=attempts_counted())
    return [EndpointHealth(endpoint, endpoint.succeeded, endpoint.attempts) for endpoint in endpoints]


def endpoint_success_rates(*, since: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Return (succeeded, total) attempts per endpoint since `since` (default: the last 24 hours)."""
    since = since or timezone.now() - timedelta(hours=24)
    rows = (DeliveryAttempt.objects.filter(attempted_at__gte=since).values("delivery__endpoint_id")
            .annotate(ok=Count("pk", filter=Q(succeeded=True)), total=Count("pk")).order_by())
    return {row["delivery__endpoint_id"]: (row["ok"], row["total"]) for row in rows}
