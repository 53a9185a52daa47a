"""Manage webhook endpoints: create (the secret shown once), change, rotate the secret, ping, resend."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from integrations.exceptions import EndpointInactive, EventTypeUnknown, NothingToResend
from integrations.http import url_check
from integrations.models import Delivery, WebhookEndpoint
from integrations.services.wake import deliveries_wake
from integrations.signing import secret_new
from outbox import event_types
from outbox.models import OutboxEvent
from outbox.registry import renderer_for

# How long the previous secret still signs after a rotation: time for the integrator to deploy the new one.
ROTATION_OVERLAP = timedelta(hours=24)


def event_types_clean(types: list[str]) -> list[str]:
    """Return a filter's types, each once and in the documented order; raises EventTypeUnknown naming the field."""
    unknown = [t for t in types if t not in event_types.SUBSCRIBABLE]
    if unknown:
        raise EventTypeUnknown(f"Unknown event types: {', '.join(map(str, unknown))} (see docs/events.md).",
                               field="event_types")
    return [t for t in event_types.SUBSCRIBABLE if t in set(types)]


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its signing secret in clear: returned only by create and rotate, never stored elsewhere."""

    endpoint: WebhookEndpoint
    secret: str


def endpoint_create(*, url: str, description: str = "", event_types: list[str] | None = None,
                    active: bool = True, created_by=None) -> EndpointWithSecret:
    """Create an endpoint with a new secret. Raises EndpointUrlRefused or EventTypeUnknown naming the field."""
    url_check(url, unresolved_ok=True)
    endpoint = WebhookEndpoint.objects.create(
        url=url, description=description, event_types=event_types_clean(event_types or []), active=active,
        secret=secret_new(), created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    return EndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)


def endpoint_update(*, endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change url, description, event_types or active; re-activating clears the disabled notice."""
    if "url" in changes:
        url_check(changes["url"], unresolved_ok=True)
    if "event_types" in changes:
        changes["event_types"] = event_types_clean(changes["event_types"] or [])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    fields = [*changes, "updated_at"]
    if changes.get("active"):
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.failing_since = None, "", None
        fields += ["disabled_at", "disabled_reason", "failing_since"]
    endpoint.save(update_fields=list(dict.fromkeys(fields)))
    return endpoint


def endpoint_secret_rotate(*, endpoint: WebhookEndpoint, now: datetime | None = None) -> EndpointWithSecret:
    """Give the endpoint a new secret; the previous one keeps signing too for ROTATION_OVERLAP."""
    now = now or timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret, endpoint.secret = endpoint.secret, secret_new()
        endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
        endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return EndpointWithSecret(endpoint=endpoint, secret=endpoint.secret)


def endpoint_ping(*, endpoint: WebhookEndpoint) -> Delivery:
    """Queue a `ping` event to this endpoint only (whatever its filter); return its delivery.

    Raises EndpointInactive for an endpoint that is not active: nothing is sent to it, so its ping would wait.
    """
    if not endpoint.active:
        raise EndpointInactive("The endpoint is not active: enable it to ping it.", field="active")
    renderer = renderer_for(endpoint)
    now = timezone.now()
    with transaction.atomic():
        last = OutboxEvent.objects.filter(object_type=renderer.object_type, object_id=endpoint.pk).order_by(
            "-sequence").values_list("sequence", flat=True).first()
        event = OutboxEvent.objects.create(
            type=event_types.PING, occurred_at=now, object_type=renderer.object_type, object_id=endpoint.pk,
            sequence=(last or 0) + 1, data=renderer.render(endpoint),
        )
        delivery = Delivery.objects.create(event=event, endpoint=endpoint, next_attempt_at=now, retrying_since=now)
        transaction.on_commit(deliveries_wake)
    return delivery


def delivery_resend(*, delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send a delivery again now (same event, same webhook-id), with a fresh retry period."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.state, delivery.next_attempt_at, delivery.retrying_since = Delivery.State.PENDING, now, now
        delivery.save(update_fields=["state", "next_attempt_at", "retrying_since", "updated_at"])
        transaction.on_commit(deliveries_wake)
    return delivery


def deliveries_resend_failed(*, endpoint: WebhookEndpoint, since: datetime, now: datetime | None = None) -> int:
    """Send again every delivery of the endpoint that gave up, of events since `since`; return how many.

    Raises NothingToResend when there is none.
    """
    now = now or timezone.now()
    with transaction.atomic():
        failed = Delivery.objects.filter(endpoint=endpoint, state=Delivery.State.FAILED, event__occurred_at__gte=since)
        count = failed.update(state=Delivery.State.PENDING, next_attempt_at=now, retrying_since=now, updated_at=now)
        if not count:
            raise NothingToResend(f"No failed delivery of events since {since.isoformat()}.", field="since")
        transaction.on_commit(deliveries_wake)
    return count


