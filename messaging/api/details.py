"""REST detail views of the messaging app's list resources: each answers what its list shows for one row (issue 16 §2).

Same permissions as the list (the view's queryset names the model the list checks); a row of another message is 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from messaging import selectors
from messaging.api.serializers import (
    InboundMessageOutputSerializer,
    MessageReceiptOutputSerializer,
    MessageStatusChangeOutputSerializer,
)
from messaging.models import InboundMessage, OutboundMessage


def _message(pk: int) -> OutboundMessage:
    return get_object_or_404(OutboundMessage.objects.all(), pk=pk)


class InboundMessageDetailApi(GenericAPIView):
    queryset = InboundMessage.objects.all()
    serializer_class = InboundMessageOutputSerializer

    @extend_schema(operation_id="inbound_messages_retrieve", responses=InboundMessageOutputSerializer)
    def get(self, request, pk: int):
        found = get_object_or_404(InboundMessage, pk=pk)
        return Response(InboundMessageOutputSerializer(found).data)


class MessageStatusDetailApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()  # As the history's list: view_outboundmessage.
    serializer_class = MessageStatusChangeOutputSerializer

    @extend_schema(operation_id="messages_statuses_retrieve", responses=MessageStatusChangeOutputSerializer)
    def get(self, request, pk: int, status_change: int):
        found = get_object_or_404(selectors.message_status_change_list(message=_message(pk)), pk=status_change)
        return Response(MessageStatusChangeOutputSerializer(found).data)


class MessageReceiptDetailApi(GenericAPIView):
    queryset = OutboundMessage.objects.all()  # As the receipts' list: view_outboundmessage.
    serializer_class = MessageReceiptOutputSerializer

    @extend_schema(operation_id="messages_receipts_retrieve", responses=MessageReceiptOutputSerializer)
    def get(self, request, pk: int, receipt: int):
        found = get_object_or_404(selectors.message_receipt_list(message=_message(pk)), pk=receipt)
        return Response(MessageReceiptOutputSerializer(found).data)
