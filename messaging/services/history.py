"""The one writer of message history: every status change goes through `message_transition`."""

from typing import Any

from django.utils import timezone

from core.meta_errors import MetaError
from groups.models import GroupEvent
from groups.services.common import WebhookOrigin, group_event_record
from messaging.content import MESSAGE_TYPES
from messaging.models import MessageStatusChange, MessagingTimelineType, OutboundMessage
from outbox import event_types
from outbox.services import event_record

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
        message.error_code = MetaError.from_value(error).code_text
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
    message_timeline_record(message, from_status=from_status, to_status=to, source=source)
    if to == MessageStatus.FAILED and from_status != MessageStatus.FAILED:
        event_record(type=event_types.MESSAGE_FAILED, obj=message)
    _notify_type(message, change)
    return change


# Statuses at which Meta has the message: the first one reached is its "sent" entry in the group's timeline.
_WITH_META = {MessageStatus.ACCEPTED, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ}


def message_timeline_record(
    message: OutboundMessage,
    *,
    from_status: str,
    to_status: str,
    source: str,
    webhook_event_id: int | None = None,
    webhook_item: str = "",
) -> GroupEvent | None:
    """Put a message's sending or failure on its group's timeline, once per message whatever repeats."""
    if message.type == OutboundMessage.Type.PIN:
        return None  # Pin actions appear as pinned/unpinned, from the pins service.
    if to_status == MessageStatus.FAILED and from_status != MessageStatus.FAILED:
        effect, type_, at, actor = "message_failed", MessagingTimelineType.MESSAGE_FAILED, message.failed_at, None
    elif to_status in _WITH_META and from_status in (MessageStatus.QUEUED, MessageStatus.SENDING):
        # The staff user who composed it is behind the sending.
        effect, type_ = "message_sent", MessagingTimelineType.MESSAGE_SENT
        at, actor = message.accepted_at, message.created_by
    else:
        return None
    error = message.error or {}
    detail = {"message": message.pk, "type": message.type, "wamid": message.wamid}
    if type_ == MessagingTimelineType.MESSAGE_FAILED:
        detail["error"] = {"code": error.get("code"), "title": error.get("title", "")}
    # Keyed by the message: a redelivered webhook or a second worker never writes the entry twice.
    origin = WebhookOrigin(event_id=webhook_event_id, item=webhook_item, key=f"outbound_message:{message.pk}")
    return group_event_record(
        group=message.group, type=type_, source=source, detail=detail, occurred_at=at or timezone.now(),
        actor=actor, origin=origin, effect=effect,
    )


def _notify_type(message: OutboundMessage, change: MessageStatusChange) -> None:
    message_type = MESSAGE_TYPES.get(message.type)
    if message_type is not None and message_type.on_status_change is not None:
        message_type.on_status_change(message, change)
