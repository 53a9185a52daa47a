"""REST shapes every app shares."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    """A stored Meta error (or one of ours), as `core.meta_errors.MetaError.as_dict()` writes it."""

    code = serializers.JSONField(
        allow_null=True, help_text="Meta's error code (an integer), or ours, e.g. `outcome_unknown`; null if none."
    )
    title = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    details = serializers.CharField(allow_blank=True)
    href = serializers.CharField(required=False, allow_blank=True)
