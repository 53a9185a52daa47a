"""Outbound events of a status batch: a message's new status and each participant's first delivery or read."""

from django.utils import timezone

from config.api import datetime_iso
from messaging.models import MessageReceipt, OutboundMessage
from outbox import event_types
from outbox.services import EventBatch

MessageStatus = OutboundMessage.Status

STATUS_EVENTS = {
    MessageStatus.SENT: event_types.MESSAGE_SENT,
    MessageStatus.DELIVERED: event_types.MESSAGE_DELIVERED,
    MessageStatus.READ: event_types.MESSAGE_READ,
    MessageStatus.FAILED: event_types.MESSAGE_FAILED,
}


def status_events_start(messages: list[OutboundMessage]) -> EventBatch:
    """Return the batch of a status transaction; when events are wanted, read the messages' content at once.

    The batch reads messages without their content (it never needs it); an event shows the whole message, and
    one read for all is cheaper than one per message.
    """
    events = EventBatch()
    if not any(events.wants(type_) for type_ in (*STATUS_EVENTS.values(), event_types.MESSAGE_RECEIPT)):
        return events
    deferred = {message.pk: message for message in messages if "content" in message.get_deferred_fields()}
    if deferred:
        for pk, content in OutboundMessage.objects.filter(pk__in=deferred).values_list("pk", "content"):
            deferred[pk].content = content
    return events


def receipt_times(receipt: MessageReceipt | None) -> tuple:
    """Return a receipt's (delivered_at, read_at), to tell afterwards whether a status changed it."""
    return (receipt.delivered_at, receipt.read_at) if receipt is not None else (None, None)


def status_events_add(
    events: EventBatch, message: OutboundMessage, *, from_status: str, status: str, at,
    receipt: MessageReceipt | None = None, receipt_was: tuple | None = None,
) -> None:
    """Add the events of one applied status item: the message's move, if any, then a participant's receipt."""
    if message.status != from_status and (type_ := STATUS_EVENTS.get(message.status)):
        events.add(type=type_, obj=message, occurred_at=at)
    receipt_changed = receipt is not None and (receipt.delivered_at, receipt.read_at) != receipt_was
    if receipt_changed and events.wants(event_types.MESSAGE_RECEIPT):  # Built only when wanted: a hot path.
        events.add(type=event_types.MESSAGE_RECEIPT, obj=message, occurred_at=at,
                   detail={"status": status, "receipt": _receipt(receipt)})


def _receipt(receipt: MessageReceipt) -> dict:
    # The default timezone, as the message's own renderer (one serializer for the process) shows its times: the
    # current one is looked up through asgiref's locals, most of a receipt event's cost, and is never changed here.
    output_timezone = timezone.get_default_timezone()
    return {
        "participant": receipt.participant_id,
        "participant_wa_id": receipt.participant_wa_id,
        "participant_user_id": receipt.participant_user_id,
        "delivered_at": datetime_iso(receipt.delivered_at, output_timezone) if receipt.delivered_at else None,
        "read_at": datetime_iso(receipt.read_at, output_timezone) if receipt.read_at else None,
    }
