"""Output shapes shared by the groups views (CONTRACT §5); inputs live on each view."""

from rest_framework import serializers

from config.api import FastOutputMixin
from core.api.serializers import ErrorSerializer
from groups.models import Group, GroupEvent, JoinRequest, Participant, PhoneNumber


class FlatListField(serializers.ListField):
    """A list whose item errors are reported under the list's own name (`participants`, not `participants.0`)."""

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {0: exc.detail}
            raise serializers.ValidationError(
                [f"Item {int(index) + 1}: {' '.join(str(m) for m in errors)}" for index, errors in detail.items()]
            ) from exc


class PhoneNumberOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = PhoneNumber
        fields = ["id", "phone_number_id", "display_phone_number", "waba_id", "label", "created_at"]


class GroupOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    phone_number = serializers.PrimaryKeyRelatedField(read_only=True)
    last_error = ErrorSerializer(allow_null=True, read_only=True)

    class Meta:
        model = Group
        fields = [
            "id", "phone_number", "group_id", "subject", "description", "join_approval_mode", "invite_link",
            "state", "suspended", "participant_count", "last_error", "created_at", "updated_at",
        ]


class ParticipantOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Participant
        fields = ["id", "wa_id", "user_id", "parent_user_id", "username", "name", "state", "joined_at", "left_at"]


class JoinRequestOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    created_at = serializers.SerializerMethodField(help_text="When the user asked (Meta's time when known).")

    class Meta:
        model = JoinRequest
        fields = ["id", "join_request_id", "wa_id", "user_id", "parent_user_id", "username", "state", "created_at"]

    def get_created_at(self, obj: JoinRequest) -> str:
        return serializers.DateTimeField().to_representation(obj.requested_at or obj.created_at)


class GroupEventOutputSerializer(FastOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = GroupEvent
        fields = ["id", "type", "occurred_at", "detail", "source"]


class InviteLinkOutputSerializer(serializers.Serializer):
    invite_link = serializers.URLField()


class FailedJoinRequestSerializer(serializers.Serializer):
    join_request_id = serializers.CharField()
    error = ErrorSerializer(allow_null=True)
