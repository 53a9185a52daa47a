"""The one writer of message history: every status change goes through `message_transition`."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from messaging.content import MESSAGE_TYPES
from messaging.models import MessageStatusChange, OutboundMessage

MessageStatus = OutboundMessage.Status

# Forward order of a message's life; `failed` stands outside it and ends the message.
RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.ACCEPTED: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.READ: 5,
}

TIMESTAMP_FIELD = {
    MessageStatus.ACCEPTED: "accepted_at",
    MessageStatus.FAILED: "failed_at",
}


def forward(current: str, candidate: str) -> str:
    """Return the status a message holds after `candidate`: only forward, and `failed` is final."""
    if current == MessageStatus.FAILED:
        return current
    if candidate == MessageStatus.FAILED:
        return candidate
    return candidate if RANK[candidate] > RANK[current] else current


def message_transition(
    message: OutboundMessage,
    *,
    to: str,
    event: str | None = None,
    source: str,
    error: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
    update_fields: list[str] | None = None,
) -> MessageStatusChange:
    """Move a locked message to `to` (our own steps; may repeat, e.g. a retry re-queues) and record it."""
    from_status = message.status
    message.status = to
    fields = ["status", "updated_at", *(update_fields or [])]
    if error is not None and to == MessageStatus.FAILED:
        message.error = error
        message.error_code = "" if error.get("code") is None else str(error["code"])
        fields += ["error", "error_code"]
    if (name := TIMESTAMP_FIELD.get(to)) and getattr(message, name) is None:
        setattr(message, name, timezone.now())
        fields.append(name)
    message.save(update_fields=list(dict.fromkeys(fields)))
    change = MessageStatusChange.objects.create(
        message=message,
        status=event or to,
        from_status=from_status,
        to_status=to,
        error=error,
        source=source,
        detail=detail or {},
    )
    _notify_type(message, change)
    return change


def message_event_record(message: OutboundMessage, **fields: Any) -> MessageStatusChange | None:
    """Write one Meta event to the history unless it is already there (unique per event key)."""
    try:
        with transaction.atomic():  # A savepoint: a duplicate leaves the outer transaction usable.
            change = MessageStatusChange.objects.create(message=message, **fields)
    except IntegrityError:
        return None
    return change


def _notify_type(message: OutboundMessage, change: MessageStatusChange) -> None:
    message_type = MESSAGE_TYPES.get(message.type)
    if message_type is not None and message_type.on_status_change is not None:
        message_type.on_status_change(message, change)
