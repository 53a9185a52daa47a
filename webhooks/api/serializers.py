"""Serializers of the webhook events API."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import FastOutputMixin
from webhooks.models import WebhookEvent
from webhooks.selectors import webhook_event_payload


class WebhookEventSerializer(FastOutputMixin, serializers.Serializer):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    fields = serializers.ListField(child=serializers.CharField())
    state = serializers.ChoiceField(choices=WebhookEvent.State.choices)
    error = serializers.CharField()
    attempts = serializers.IntegerField()
    deliveries = serializers.IntegerField()
    processed_at = serializers.DateTimeField(allow_null=True)
    item_counts = serializers.DictField(child=serializers.IntegerField())


class WebhookEventDetailSerializer(WebhookEventSerializer):
    item_failures = serializers.ListField(child=serializers.DictField())
    payload = serializers.SerializerMethodField()

    # No type: Meta's bodies are objects, but any JSON value is stored, and a body that is not JSON shows as text.
    @extend_schema_field({"description": "The body as JSON (an object from Meta, any JSON value otherwise), or its "
                                         "text when it is not JSON."})
    def get_payload(self, event: WebhookEvent):
        return webhook_event_payload(event)
