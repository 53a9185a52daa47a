"""REST views of pins (CONTRACT §5 "Pins"): list, pin, unpin; each write calls one service."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from config.api import FastOutputMixin, ModelPermissions
from config.throttling import META_CALLS_SCOPE
from core.models import Source
from groups.models import Group
from messaging.models import Pin
from messaging.selectors_pins import pin_list
from messaging.services.pins import EXPIRATION_DAYS_MESSAGE, pin_create, pin_unpin

ERRORS = {
    400: OpenApiResponse(description="Invalid input, or a group that is not active or is suspended: "
                         "`extra.fields` names the field. Nothing was sent to Meta."),
    409: OpenApiResponse(description="The message is already pinned, or the pin is not active."),
}


class StrictIntegerField(serializers.IntegerField):
    """An integer field that takes only JSON integers: DRF's own accepts "7" and 7.0, and bools are ints."""

    default_error_messages = {"invalid": EXPIRATION_DAYS_MESSAGE}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class PinOutputSerializer(FastOutputMixin, serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.IntegerField(source="group_id")
    message_id = serializers.CharField(help_text="The pinned message's wamid.")
    expiration_days = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Pin.State.choices)
    requested_at = serializers.DateTimeField()
    pinned_at = serializers.DateTimeField(allow_null=True, help_text="When Meta accepted the pin.")
    expires_at = serializers.DateTimeField(allow_null=True)
    unpinned_at = serializers.DateTimeField(allow_null=True, help_text="When it was unpinned, replaced or expired.")
    error = serializers.JSONField(allow_null=True, help_text="null or {code, title, message, details, href}")
    pin_message = serializers.IntegerField(source="pin_message_id", help_text="The outbound message of the pin.")
    unpin_message = serializers.IntegerField(
        source="unpin_message_id", allow_null=True, help_text="The outbound message of the unpin, once asked."
    )
    replaced_by = serializers.IntegerField(source="replaced_by_id", allow_null=True)


class PinStatusChangeOutputSerializer(FastOutputMixin, serializers.Serializer):
    """One change of a pin's state, or a step that kept it (an unpin asked): written by the pins services."""

    from_state = serializers.CharField(help_text="Empty for the pin's first state.")
    state = serializers.CharField(source="to_state")
    source = serializers.CharField()
    detail = serializers.JSONField()
    created_at = serializers.DateTimeField()


class PinDetailOutputSerializer(PinOutputSerializer):
    history = PinStatusChangeOutputSerializer(source="status_changes.all", many=True, help_text="Oldest first.")


class PinFilter(django_filters.FilterSet):
    class Meta:
        model = Pin
        fields = ["group", "state"]


class UnpinPermission(ModelPermissions):
    """Unpinning changes an existing pin: it needs `change_pin` (reads still need `view_pin`)."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class PinListCreateApi(GenericAPIView):
    """GET lists pins (filters `group`, `state`); POST pins a group message."""

    queryset = Pin.objects.all()
    serializer_class = PinOutputSerializer
    filterset_class = PinFilter
    throttle_scope = META_CALLS_SCOPE

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PinCreateInput"

        group = serializers.PrimaryKeyRelatedField(queryset=Group.objects.all())
        message_id = serializers.CharField(max_length=255, help_text="The wamid of a message in that group.")
        expiration_days = StrictIntegerField(
            min_value=Pin.MIN_EXPIRATION_DAYS, max_value=Pin.MAX_EXPIRATION_DAYS, help_text="Days, 1 to 30."
        )

    def get_queryset(self):
        return pin_list()

    @extend_schema(operation_id="pins_list", responses=PinOutputSerializer(many=True), summary="List pins")
    def get(self, request):
        pins = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(pins)
        return self.get_paginated_response(PinOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="pins_create",
        request=InputSerializer,
        responses={202: PinOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
        summary="Pin a group message; it becomes active when Meta accepts it",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pin = pin_create(**data.validated_data, created_by=request.user, source=Source.API)
        pin.refresh_from_db()  # The send may already have run (no broker): answer with what is known.
        return Response(PinOutputSerializer(pin).data, status=status.HTTP_202_ACCEPTED)


class PinDetailApi(GenericAPIView):
    queryset = Pin.objects.all()
    serializer_class = PinDetailOutputSerializer

    @extend_schema(operation_id="pins_retrieve", responses=PinDetailOutputSerializer,
                   summary="A pin, with the history of its states")
    def get(self, request, pk: int):
        pin = get_object_or_404(pin_list().prefetch_related("status_changes"), pk=pk)
        return Response(PinDetailOutputSerializer(pin).data)


class PinUnpinApi(GenericAPIView):
    queryset = Pin.objects.all()
    permission_classes = [UnpinPermission]
    throttle_scope = META_CALLS_SCOPE

    @extend_schema(
        operation_id="pins_unpin",
        request=None,
        responses={202: PinOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
        summary="Unpin an active pin; it becomes unpinned when Meta accepts the unpin",
    )
    def post(self, request, pk: int):
        pin = get_object_or_404(pin_list(), pk=pk)
        pin = pin_unpin(pin=pin, created_by=request.user, source=Source.API)
        pin.refresh_from_db()
        return Response(PinOutputSerializer(pin).data, status=status.HTTP_202_ACCEPTED)
