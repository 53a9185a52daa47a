"""REST detail views of the messaging app's list resources: each answers what its list shows for one row (issue 16 §2).

Same permissions as the list (the view's queryset names the model the list checks); a row of another message is 404.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.api.details import ListRowDetailApi
from messaging import selectors
from messaging.api.serializers import (
    InboundMessageOutputSerializer,
    MessageReceiptOutputSerializer,
    MessageStatusChangeOutputSerializer,
)
from messaging.models import InboundMessage, OutboundMessage


def _message(pk: int) -> OutboundMessage:
    return get_object_or_404(OutboundMessage.objects.all(), pk=pk)


class InboundMessageDetailApi(ListRowDetailApi):
    queryset = InboundMessage.objects.all()
    serializer_class = InboundMessageOutputSerializer


class MessageStatusDetailApi(ListRowDetailApi):
    queryset = OutboundMessage.objects.all()  # As the history's list: view_outboundmessage.
    serializer_class = MessageStatusChangeOutputSerializer
    row_kwarg = "status_change"

    def rows(self, *, pk: int) -> QuerySet:
        return selectors.message_status_change_list(message=_message(pk))


class MessageReceiptDetailApi(ListRowDetailApi):
    queryset = OutboundMessage.objects.all()  # As the receipts' list: view_outboundmessage.
    serializer_class = MessageReceiptOutputSerializer
    row_kwarg = "receipt"

    def rows(self, *, pk: int) -> QuerySet:
        return selectors.message_receipt_list(message=_message(pk))
