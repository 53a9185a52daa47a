"""Reads of the integrations app: endpoints, deliveries, and how each endpoint is doing."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint


def endpoint_list() -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.all()


def delivery_list(*, endpoint: WebhookEndpoint) -> QuerySet[Delivery]:
    return Delivery.objects.filter(endpoint=endpoint).select_related("event")


def endpoint_success_rates(*, since: datetime | None = None) -> dict[int, tuple[int, int]]:
    """Return (succeeded, total) attempts per endpoint since `since` (default: the last 24 hours)."""
    since = since or timezone.now() - timedelta(hours=24)
    rows = (DeliveryAttempt.objects.filter(attempted_at__gte=since).values("delivery__endpoint_id")
            .annotate(ok=Count("pk", filter=Q(succeeded=True)), total=Count("pk")).order_by())
    return {row["delivery__endpoint_id"]: (row["ok"], row["total"]) for row in rows}
