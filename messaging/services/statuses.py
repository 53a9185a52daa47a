"""Apply Meta's status webhooks to messages and receipts, in any order and any number of times."""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from groups.models import Source
from messaging.events import MetaStatus, StatusEvent
from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage, UnmatchedStatus
from messaging.selectors import (
    lock_outbound_message,
    message_id_from_callback,
    participant_for_identity,
    unmatched_statuses_for,
    unmatched_wamids_now_known,
)
from messaging.services.history import _notify_type, forward, message_event_record, message_timeline_record

logger = logging.getLogger(__name__)

MessageStatus = OutboundMessage.Status

# Meta's statuses that move a message forward (a per-participant `delivered` moves it to delivered).
ADVANCES = {
    MetaStatus.SENT: MessageStatus.SENT,
    MetaStatus.DELIVERED: MessageStatus.DELIVERED,
    MetaStatus.READ: MessageStatus.READ,
}
PER_PARTICIPANT = {MetaStatus.DELIVERED, MetaStatus.READ}


def _earliest(current, candidate):
    return candidate if current is None or candidate < current else current


def _find_message(event: StatusEvent) -> OutboundMessage | None:
    """Return the locked message of a status: by wamid, else by our id in the callback data."""
    message = lock_outbound_message(wamid=event.wamid)
    if message is not None:
        return message
    message_id = message_id_from_callback(event.callback_data)
    if message_id is None:
        return None
    message = lock_outbound_message(pk=message_id)
    if message is not None and message.wamid is not None:
        # Set meanwhile by the send response: ours only if it is this very wamid.
        return message if message.wamid == event.wamid else None
    if message is not None:
        # The send call timed out (or has not returned yet): this status tells us Meta accepted it.
        message.wamid = event.wamid
        message.save(update_fields=["wamid", "updated_at"])
        if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
            from messaging.services.history import message_transition

            message_transition(
                message,
                to=MessageStatus.ACCEPTED,
                source=Source.WEBHOOK,
                detail={"resolved_by": "biz_opaque_callback_data", "wamid": event.wamid},
            )
    return message


def message_status_apply(
    *, event: StatusEvent, webhook_event_id: int | None = None, webhook_item: str = "", raw: dict | None = None
) -> MessageStatusChange | UnmatchedStatus | None:
    """Apply one status item; keep it for later if its wamid is unknown. Duplicates change nothing."""
    with transaction.atomic():
        message = _find_message(event)
        if message is None:
            return _unmatched_keep(event=event, webhook_event_id=webhook_event_id, webhook_item=webhook_item, raw=raw)
        return _apply_locked(message, event, webhook_event_id=webhook_event_id, webhook_item=webhook_item)


def _unmatched_keep(
    *, event: StatusEvent, webhook_event_id: int | None, webhook_item: str, raw: dict | None
) -> UnmatchedStatus | None:
    try:
        with transaction.atomic():
            unmatched = UnmatchedStatus.objects.create(
                wamid=event.wamid,
                status=event.status,
                participant_key=event.participant_key,
                item=raw if raw is not None else event.to_json(),
                event=event.to_json(),
                webhook_event_id=webhook_event_id,
                webhook_item=webhook_item[:100],
                timestamp=event.timestamp,
            )
    except IntegrityError:
        return None  # The same status for the same unknown wamid is already kept.
    logger.info("messaging: status for an unknown wamid kept", extra={"status": event.status})
    return unmatched


def _apply_locked(
    message: OutboundMessage, event: StatusEvent, *, webhook_event_id: int | None, webhook_item: str
) -> MessageStatusChange | None:
    """Apply a status to a message the caller holds locked."""
    status = MetaStatus(event.status) if event.status in MetaStatus._value2member_map_ else MetaStatus.UNKNOWN
    participant = None
    if event.participant_key:
        participant = participant_for_identity(
            group=message.group, wa_id=event.participant_wa_id, user_id=event.participant_user_id
        )
    # One person may be named by phone in one event and by BSUID in another: key by the phone we know.
    key = event.participant_key
    if participant is not None and participant.wa_id:
        key = f"wa:{participant.wa_id}"
    error = event.errors[0] if event.errors else None

    from_status = message.status
    candidate = from_status
    if status == MetaStatus.FAILED and not key:
        candidate = MessageStatus.FAILED  # Group-level failure ends the message, whatever arrived before.
    elif status in ADVANCES:
        candidate = ADVANCES[status]
    to_status = forward(from_status, candidate)

    change = message_event_record(
        message,
        status=event.status,
        from_status=from_status,
        to_status=to_status,
        participant_key=key,
        participant=participant,
        participant_wa_id=event.participant_wa_id or (participant.wa_id if participant else "") or "",
        participant_user_id=event.participant_user_id or (participant.user_id if participant else "") or "",
        timestamp=event.timestamp,
        error=error,
        pricing=event.pricing,
        source=Source.WEBHOOK,
        detail={"recipient_id": event.recipient_id} if event.recipient_id else {},
        webhook_event_id=webhook_event_id,
        webhook_item=webhook_item[:100],
        event_key=f"{event.status}|{key}",
    )
    if change is None:
        return None  # Already applied: a duplicate changes nothing.
    if status == MetaStatus.UNKNOWN:
        logger.warning("messaging: unknown status value kept in history", extra={"status": event.status[:32]})

    fields = {"status", "updated_at"}
    message.status = to_status
    if to_status == MessageStatus.FAILED and from_status != MessageStatus.FAILED:
        message.error = error or {"code": None, "title": "Failed", "message": "Meta reported the message failed.",
                                  "details": "", "href": ""}
        message.error_code = "" if message.error.get("code") is None else str(message.error["code"])
        message.failed_at = event.timestamp
        fields |= {"error", "error_code", "failed_at"}
    # Event times come from Meta and the earliest wins, so any arrival order gives the same times.
    if status == MetaStatus.SENT:
        message.sent_at = _earliest(message.sent_at, event.timestamp)
        fields.add("sent_at")
    if status in PER_PARTICIPANT:
        message.delivered_at = _earliest(message.delivered_at, event.timestamp)  # read implies delivered
        fields.add("delivered_at")
        if status == MetaStatus.READ:
            message.read_at = _earliest(message.read_at, event.timestamp)
            fields.add("read_at")
        if key:
            _receipt_apply(message, key=key, participant=participant, event=event, status=status)
            message.delivered_count = message.receipts.filter(delivered_at__isnull=False).count()
            message.read_count = message.receipts.filter(read_at__isnull=False).count()
            fields |= {"delivered_count", "read_count"}
    message.save(update_fields=sorted(fields))
    message_timeline_record(message, from_status=from_status, to_status=to_status, source=Source.WEBHOOK,
                            webhook_event_id=webhook_event_id, webhook_item=webhook_item)
    _notify_type(message, change)
    return change


def _receipt_apply(
    message: OutboundMessage, *, key: str, participant, event: StatusEvent, status: MetaStatus
) -> MessageReceipt:
    receipt, _ = MessageReceipt.objects.get_or_create(
        message=message,
        participant_key=key,
        defaults={
            "participant": participant,
            "participant_wa_id": event.participant_wa_id or (participant.wa_id if participant else "") or "",
            "participant_user_id": event.participant_user_id or (participant.user_id if participant else "") or "",
        },
    )
    receipt.delivered_at = _earliest(receipt.delivered_at, event.timestamp)
    if status == MetaStatus.READ:
        receipt.read_at = _earliest(receipt.read_at, event.timestamp)
    if participant is not None and receipt.participant_id is None:
        receipt.participant = participant
    if not receipt.participant_user_id and event.participant_user_id:
        receipt.participant_user_id = event.participant_user_id
    if not receipt.participant_wa_id and event.participant_wa_id:
        receipt.participant_wa_id = event.participant_wa_id
    receipt.save()
    return receipt


def message_apply_unmatched(*, message: OutboundMessage) -> int:
    """Apply the kept statuses of a locked message's wamid (they can beat the send response)."""
    applied = 0
    if not message.wamid:
        return applied
    for unmatched in unmatched_statuses_for(wamid=message.wamid).select_for_update():
        event = StatusEvent.from_json(unmatched.event)
        _apply_locked(message, event, webhook_event_id=unmatched.webhook_event_id, webhook_item=unmatched.webhook_item)
        unmatched.message = message
        unmatched.applied_at = timezone.now()
        unmatched.save(update_fields=["message", "applied_at", "updated_at"])
        applied += 1
    return applied


def unmatched_statuses_apply_known(*, limit: int = 500) -> int:
    """Apply kept statuses whose wamid a message now has (a safety net for webhook/send races)."""
    applied = 0
    # Bounded so one beat run stays short; the next run takes the rest.
    for wamid in unmatched_wamids_now_known(limit=limit):
        with transaction.atomic():
            message = lock_outbound_message(wamid=wamid)
            if message is not None:
                applied += message_apply_unmatched(message=message)
    return applied
