"""Serializers of the messaging REST API: plain Serializers, shaped as CONTRACT §5 names the fields."""

from functools import cached_property

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import FastOutputMixin, datetime_iso
from core.api.serializers import ErrorSerializer
from messaging.content import CAPTION_MAX_LENGTH, COMPOSABLE_TYPES, TEXT_BODY_MAX_LENGTH
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage

# --- Meta's type objects, for the schema (the content registry validates them) -----------------


class TextContentSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=TEXT_BODY_MAX_LENGTH)
    preview_url = serializers.BooleanField(required=False, default=False)


class MediaContentSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, help_text="A media ID uploaded to Meta; or give `link`.")
    link = serializers.URLField(required=False, help_text="A public http(s) URL; or give `id`.")
    caption = serializers.CharField(
        required=False, max_length=CAPTION_MAX_LENGTH, help_text="Image, video and document only."
    )
    filename = serializers.CharField(required=False, help_text="Document only.")


class TemplateLanguageSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. `en_US`.")
    policy = serializers.CharField(required=False)


class TemplateContentSerializer(serializers.Serializer):
    name = serializers.CharField()
    language = TemplateLanguageSerializer()
    components = serializers.ListField(child=serializers.DictField(), required=False)


class PinContentSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["pin", "unpin"])
    message_id = serializers.CharField(help_text="The wamid of the pinned (or unpinned) message.")
    expiration_days = serializers.IntegerField(required=False, help_text="A pin only: 1 to 30.")


@extend_schema_field(TextContentSerializer)
class TextField(serializers.JSONField):
    pass


@extend_schema_field(MediaContentSerializer)
class MediaField(serializers.JSONField):
    pass


@extend_schema_field(TemplateContentSerializer)
class TemplateField(serializers.JSONField):
    pass


@extend_schema_field({"type": "string", "enum": list(COMPOSABLE_TYPES)})
class ComposableTypeField(serializers.CharField):
    """A CharField, so that another type reaches the content registry and is refused as "not supported in groups"."""


class MessageCreateInputSerializer(serializers.Serializer):
    """`{group, type, <type>: {...}}`; the content object is checked by the content registry."""

    class Meta:
        ref_name = "MessageCreateInput"

    group = serializers.IntegerField(help_text="Our id of an active, unsuspended group.")
    type = ComposableTypeField(help_text=f"One of: {', '.join(COMPOSABLE_TYPES)}; the content goes under this key.")
    text = TextField(required=False)
    image = MediaField(required=False)
    video = MediaField(required=False)
    audio = MediaField(required=False)
    document = MediaField(required=False)
    template = TemplateField(required=False)

    def validate(self, attrs: dict) -> dict:
        # One content object, under the type's key: another one would be dropped without a word.
        stray = [key for key in COMPOSABLE_TYPES if key in self.initial_data and key != attrs["type"]]
        if stray and attrs["type"] in COMPOSABLE_TYPES:
            raise serializers.ValidationError({
                key: [f"A `{attrs['type']}` message takes its content under `{attrs['type']}` only; "
                      f"leave out `{key}`, or send it as its own message."] for key in stray
            })
        return attrs


class MessageOutputSerializer(serializers.Serializer):
    """A message with its content under its type's key (only that key is present)."""

    class Meta:
        ref_name = "Message"

    id = serializers.IntegerField()
    group = serializers.IntegerField(source="group_id")
    wamid = serializers.CharField(allow_null=True, help_text="Null until Meta accepts the message.")
    type = serializers.ChoiceField(choices=OutboundMessage.Type.choices)
    text = TextContentSerializer(required=False)
    image = MediaContentSerializer(required=False)
    video = MediaContentSerializer(required=False)
    audio = MediaContentSerializer(required=False)
    document = MediaContentSerializer(required=False)
    template = TemplateContentSerializer(required=False)
    pin = PinContentSerializer(required=False, help_text="A pin or unpin action, made by `/pins/`.")
    status = serializers.ChoiceField(choices=OutboundMessage.Status.choices)
    error = ErrorSerializer(allow_null=True)
    recipient_count = serializers.IntegerField()
    delivered_count = serializers.IntegerField()
    read_count = serializers.IntegerField()
    retry_of = serializers.IntegerField(source="retry_of_id", allow_null=True)
    created_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    sent_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    failed_at = serializers.DateTimeField(allow_null=True)

    DATE_FIELDS = ("created_at", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at")

    def to_representation(self, message: OutboundMessage) -> dict:
        data = {
            "id": message.pk,
            "group": message.group_id,
            "wamid": message.wamid,
            "type": message.type,
            message.type: message.content,
            "status": message.status,
            "error": message.error,
            "recipient_count": message.recipient_count,
            "delivered_count": message.delivered_count,
            "read_count": message.read_count,
            "retry_of": message.retry_of_id,
        }
        output_timezone = self._output_timezone
        for name in self.DATE_FIELDS:
            value = getattr(message, name)
            data[name] = datetime_iso(value, output_timezone) if value else None
        return data

    @cached_property
    def _output_timezone(self):
        # Once per serializer (one request), not per value as DRF's DateTimeField does: the main per-row cost.
        return timezone.get_current_timezone()


class MessageStatusChangeOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    """One history row: a Meta status (per participant or group-level) or one of our steps."""

    participant = serializers.IntegerField(
        source="participant_id", allow_null=True, help_text="Our participant id, when we know the person."
    )
    received_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = MessageStatusChange
        ref_name = "MessageStatusChange"
        fields = [
            "id", "status", "participant", "participant_wa_id", "participant_user_id", "timestamp", "error",
            "received_at", "from_status", "to_status", "pricing", "source", "detail",
        ]
        read_only_fields = fields


class MessageReceiptOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    participant = serializers.IntegerField(source="participant_id", allow_null=True)
    participant_name = serializers.SerializerMethodField()

    class Meta:
        model = MessageReceipt
        ref_name = "MessageReceipt"
        fields = ["id", "participant", "participant_wa_id", "participant_user_id", "participant_name",
                  "delivered_at", "read_at"]
        read_only_fields = fields

    def get_participant_name(self, receipt: MessageReceipt) -> str:
        return receipt.participant.name if receipt.participant else ""


class InboundMessageOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    group = serializers.IntegerField(source="group_id", allow_null=True)

    class Meta:
        model = InboundMessage
        ref_name = "InboundMessage"
        fields = ["id", "group", "wamid", "from_wa_id", "from_user_id", "contact_name", "type", "text", "content",
                  "error", "timestamp"]
        read_only_fields = fields
