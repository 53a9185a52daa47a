"""REST views of the messaging app: one view per operation, each calling one service (CONTRACT §5)."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from config.api import CursorPagination
from config.filters import IdFilter, UTCIsoDateTimeFilter
from config.throttling import META_CALLS_SCOPE
from core.models import Source
from groups.models import Group
from messaging import selectors, services
from messaging.api.serializers import (
    InboundMessageOutputSerializer,
    MessageCreateInputSerializer,
    MessageOutputSerializer,
    MessageReceiptOutputSerializer,
    MessageStatusChangeOutputSerializer,
)
from messaging.exceptions import GroupNotSendable
from messaging.models import InboundMessage, OutboundMessage

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `extra.fields` names each offending field."),
    409: OpenApiResponse(description="The request conflicts with the message's state or an earlier request."),
}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Repeat a POST with the same key to get the first message back; nothing new is sent. "
                "Reusing a key for a different message is refused with 409.",
)


class ChronologicalPagination(CursorPagination):
    """A history reads oldest first."""

    ordering = "pk"


class MessageFilter(django_filters.FilterSet):
    group = IdFilter(field_name="group_id", help_text="Our id of the group.")
    status = django_filters.ChoiceFilter(choices=OutboundMessage.Status.choices)
    error_code = django_filters.CharFilter(help_text="Meta's code, e.g. 131020, or `outcome_unknown`.")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = OutboundMessage
        fields = ["group", "status", "error_code", "created_after", "created_before"]


class InboundMessageFilter(django_filters.FilterSet):
    group = IdFilter(field_name="group_id", help_text="Our id of the group.")

    class Meta:
        model = InboundMessage
        fields = ["group"]


def _message(pk: int) -> OutboundMessage:
    return get_object_or_404(OutboundMessage.objects.select_related("group"), pk=pk)


# The columns MessageOutputSerializer reads: a 500-row page skips loading (and parsing) the others.
MESSAGE_LIST_COLUMNS = (
    "id", "group_id", "wamid", "type", "content", "status", "error", "recipient_count", "delivered_count",
    "read_count", "retry_of_id", "created_at", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at",
)

INBOUND_LIST_COLUMNS = (
    "id", "group_id", "wamid", "from_wa_id", "from_user_id", "contact_name", "type", "text", "content", "error",
    "timestamp",
)


class MessageListCreateApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()
    serializer_class = MessageOutputSerializer
    throttle_scope = META_CALLS_SCOPE
    filterset_class = MessageFilter

    @extend_schema(operation_id="messages_list", responses=MessageOutputSerializer(many=True))
    def get(self, request):
        messages = self.filter_queryset(self.get_queryset()).only(*MESSAGE_LIST_COLUMNS)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="messages_create",
        request=MessageCreateInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={202: MessageOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
        description="Queue a message to a group: 202 with `status: queued`. Types allowed in groups: text, "
                    "image, video, audio, document, template; any other type, a group that is not active, "
                    "or a suspended group gives 400 naming the field, and nothing is sent.",
    )
    def post(self, request):
        data = MessageCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        group = Group.objects.filter(pk=values["group"]).first()
        if group is None:
            raise GroupNotSendable(f"No group with id {values['group']}.", field="group")
        message = services.message_create(
            group=group,
            type=values["type"],
            content=request.data.get(values["type"]),  # The raw object: the content registry checks it.
            created_by=request.user,
            source=Source.API,
            idempotency_key=request.headers.get("Idempotency-Key") or None,
        )
        return Response(MessageOutputSerializer(message).data, status=status.HTTP_202_ACCEPTED)


class MessageDetailApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()
    serializer_class = MessageOutputSerializer

    @extend_schema(operation_id="messages_retrieve", responses=MessageOutputSerializer)
    def get(self, request, pk: int):
        return Response(MessageOutputSerializer(_message(pk)).data)


class MessageStatusListApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()  # Permissions: viewing a message's history needs view_outboundmessage.
    serializer_class = MessageStatusChangeOutputSerializer
    pagination_class = ChronologicalPagination

    @extend_schema(operation_id="messages_statuses_list", responses=MessageStatusChangeOutputSerializer(many=True))
    def get(self, request, pk: int):
        # The output names the participant by id only: no join, no Participant per row.
        changes = selectors.message_status_change_list(message=_message(pk)).select_related(None)
        page = self.paginate_queryset(changes)
        return self.get_paginated_response(MessageStatusChangeOutputSerializer(page, many=True).data)


class MessageReceiptListApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()
    serializer_class = MessageReceiptOutputSerializer
    pagination_class = ChronologicalPagination

    @extend_schema(operation_id="messages_receipts_list", responses=MessageReceiptOutputSerializer(many=True))
    def get(self, request, pk: int):
        page = self.paginate_queryset(selectors.message_receipt_list(message=_message(pk)).order_by("pk"))
        return self.get_paginated_response(MessageReceiptOutputSerializer(page, many=True).data)


class MessageRetryApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()  # POST needs add_outboundmessage: a retry is a new message.
    serializer_class = MessageOutputSerializer
    throttle_scope = META_CALLS_SCOPE

    @extend_schema(
        operation_id="messages_retry",
        request=None,
        responses={202: MessageOutputSerializer, 400: ERRORS[400], 409: ERRORS[409]},
        description="Only for a failed message: 202 with a new queued message whose `retry_of` is this id. "
                    "The failure stays in this message's history. A failure is retried once: asked again, this "
                    "answers 202 with the retry already made and sends nothing more.",
    )
    def post(self, request, pk: int):
        retry, _created = services.message_retry(message=_message(pk), created_by=request.user, source=Source.API)
        return Response(MessageOutputSerializer(retry).data, status=status.HTTP_202_ACCEPTED)


class InboundMessageListApi(GenericAPIView):
    queryset = InboundMessage.objects.all()
    serializer_class = InboundMessageOutputSerializer
    filterset_class = InboundMessageFilter

    @extend_schema(operation_id="inbound_messages_list", responses=InboundMessageOutputSerializer(many=True))
    def get(self, request):
        inbound = self.filter_queryset(self.get_queryset()).only(*INBOUND_LIST_COLUMNS)
        page = self.paginate_queryset(inbound)
        return self.get_paginated_response(InboundMessageOutputSerializer(page, many=True).data)
