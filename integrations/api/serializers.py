"""Serializers of the webhook endpoints API: plain Serializers (STYLE §6)."""

from rest_framework import serializers

from groups.api.serializers import FlatListField
from integrations.models import Delivery
from outbox import event_types


class EndpointInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookEndpointInput"

    url = serializers.URLField(max_length=2000, help_text="https:// only; no loopback, private or link-local host.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    event_types = FlatListField(
        child=serializers.ChoiceField(choices=event_types.SUBSCRIBABLE), required=False,
        help_text="The types it receives (docs/events.md); empty or absent: every type.",
    )
    active = serializers.BooleanField(required=False)


class EndpointOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookEndpoint"

    id = serializers.IntegerField()
    url = serializers.URLField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text="Empty: every type.")
    active = serializers.BooleanField()
    failing_since = serializers.DateTimeField(allow_null=True, help_text="Every attempt failed since then.")
    disabled_at = serializers.DateTimeField(allow_null=True, help_text="Disabled for failing too long.")
    disabled_reason = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="During a rotation, the previous secret also signs until then.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointOutputSerializer):
    class Meta:
        ref_name = "WebhookEndpointWithSecret"

    secret = serializers.CharField(help_text="The signing secret (whsec_...): shown only in this answer.")


class DeliveryOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookDelivery"

    id = serializers.IntegerField()
    event_id = serializers.CharField(help_text="The event's id, sent as `webhook-id`.")
    event_type = serializers.CharField(source="event.type")
    state = serializers.ChoiceField(choices=Delivery.State.choices)
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AttemptOutputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookDeliveryAttempt"

    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True, help_text="Null: no answer (see `error`).")
    succeeded = serializers.BooleanField()
    latency_ms = serializers.IntegerField()
    response_body = serializers.CharField(help_text="The first 2 KB of the answer.")
    error = serializers.CharField()


class DeliveryDetailSerializer(DeliveryOutputSerializer):
    class Meta:
        ref_name = "WebhookDeliveryDetail"

    event = serializers.SerializerMethodField(help_text="The body delivered (see the `OutboundEvent` schema).")
    attempts = AttemptOutputSerializer(many=True, source="attempts.all")

    def get_event(self, delivery: Delivery) -> dict:
        return delivery.event.body()


class ResendFailedInputSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookResendFailedInput"

    since = serializers.DateTimeField(help_text="Resend failed deliveries of events that happened since then.")


class ResendCountSerializer(serializers.Serializer):
    class Meta:
        ref_name = "WebhookResendCount"

    resent = serializers.IntegerField()
