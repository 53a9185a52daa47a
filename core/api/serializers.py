"""REST shapes every app shares."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """An error kept on a group, operation or message: Meta's code and words, or one of Groupdesk's own codes."""

    code = serializers.JSONField(
        allow_null=True, help_text="Meta's error code (an integer), or ours, e.g. `outcome_unknown`; null if none."
    )
    title = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    details = serializers.CharField(allow_blank=True)
    href = serializers.CharField(required=False, allow_blank=True)
