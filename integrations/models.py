"""Integrators' webhook endpoints, one delivery per (event, endpoint), and every attempt of each."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from outbox.models import OutboxEvent


class WebhookEndpoint(models.Model):
    """A URL that receives signed events; an empty `event_types` receives every type."""

    url = models.URLField("URL", max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Types it receives; empty: all.")
    active = models.BooleanField(default=True, db_index=True)
    # Standard Webhooks secrets ("whsec_" + base64). Both sign while a rotation's previous secret is still valid,
    # so the integrator can switch at their pace. Never shown after creation or rotation, nor in the admin.
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Since when every attempt failed (cleared by a success): an endpoint failing too long is disabled.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.description or self.url


class Delivery(models.Model):
    """One event for one endpoint: pending until an attempt gets a 2xx, or until retries run out."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (retries exhausted)"

    # No index of their own: delivery_endpoint_idx starts with the endpoint, and the event's is declared below (a
    # foreign key's own index on a varchar also gets a `_like` index nothing uses). A delivery is written per event.
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(
        OutboxEvent, on_delete=models.CASCADE, related_name="deliveries", to_field="event_id", db_column="event_id",
        db_index=False,
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # When the next attempt is due; a worker that claims the delivery pushes it past its own timeouts, so a delivery
    # whose worker died is due again then (and sent again: receivers dedupe on webhook-id).
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop INTEGRATIONS_RETRY_HOURS after this: the fan-out, or the last resend.
    retrying_since = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [
            # The sender's claim: pending deliveries in due order.
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="delivery_due_idx"),
            models.Index(fields=["endpoint", "state", "-created_at"], name="delivery_endpoint_idx"),
            models.Index(fields=["event"], name="delivery_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: when, what came back and how long it took (the delivery log)."""

    RESPONSE_KEPT_BYTES = 2048

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(db_index=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    response_body = models.TextField(blank=True, help_text="The first 2 KB of the answer.")
    error = models.CharField(max_length=500, blank=True, help_text="Timeout, connection error or refused address.")

    class Meta:
        ordering = ["-attempted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"
