"""Apply Meta's status webhooks to messages and receipts, in any order and any number of times."""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from groups.models import Group, Participant, Source
from groups.selectors import lock_groups
from groups.services.participants import participant_get_or_create
from messaging.events import MetaStatus, StatusEvent, participant_key
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage, UnmatchedStatus
from messaging.selectors import (
    lock_outbound_message,
    message_id_from_callback,
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


def _lock_group_of(event: StatusEvent) -> None:
    """Lock the group of the message a status names, before the message (lock order Group → OutboundMessage).

    A per-participant status may create or link the participant, and participants of a group change only
    under its lock; a group-level one is serialised with them too, which costs little (8 members at most).
    """
    messages = OutboundMessage.objects.filter(wamid=event.wamid)
    group_id = messages.values_list("group_id", flat=True).first()
    if group_id is None and (message_id := message_id_from_callback(event.callback_data)) is not None:
        group_id = OutboundMessage.objects.filter(pk=message_id).values_list("group_id", flat=True).first()
    if group_id is not None:
        lock_groups().filter(pk=group_id).first()


def _rank(*, timestamp, wa_id: str, user_id: str) -> tuple:
    """Order two items of one event (same message, status and person): the earliest wins, then by what they name."""
    return (timestamp is None, timestamp or 0, wa_id or "", user_id or "")


def _change_rank(change: MessageStatusChange) -> tuple:
    return _rank(timestamp=change.timestamp, wa_id=change.participant_wa_id, user_id=change.participant_user_id)


def message_status_apply(
    *, event: StatusEvent, webhook_event_id: int | None = None, webhook_item: str = "", raw: dict | None = None
) -> MessageStatusChange | UnmatchedStatus | None:
    """Apply one status item; keep it for later if its wamid is unknown. Duplicates change nothing."""
    with transaction.atomic():
        _lock_group_of(event)
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
        # A status to someone proves they are in the group: the row exists from now on, so history and receipts
        # name the same person whether or not their join arrived first (the join still applies by its time).
        participant, _ = participant_get_or_create(
            group=message.group, wa_id=event.participant_wa_id, user_id=event.participant_user_id
        )
    # Keyed by the person (phone when known, else BSUID), not by how this item names them; re-keyed when a later
    # item links a phone and a BSUID (participant_rows_rekey).
    key = participant_key(wa_id=participant.wa_id, user_id=participant.user_id) if participant else ""
    error = event.errors[0] if event.errors else None

    from_status = message.status
    candidate = from_status
    if status == MetaStatus.FAILED and not key:
        candidate = MessageStatus.FAILED  # Group-level failure ends the message, whatever arrived before.
    elif status in ADVANCES:
        candidate = ADVANCES[status]
    to_status = forward(from_status, candidate)

    # What the item itself says (not what we know of the person now, which depends on arrival order).
    said = {
        "participant_wa_id": event.participant_wa_id or "",
        "participant_user_id": event.participant_user_id or "",
        "timestamp": event.timestamp,
        "error": error,
        "pricing": event.pricing,
        "detail": {"recipient_id": event.recipient_id} if event.recipient_id else {},
        "webhook_event_id": webhook_event_id,
        "webhook_item": webhook_item[:100],
    }
    event_key = f"{event.status}|{key}"
    change = message_event_record(
        message, status=event.status, from_status=from_status, to_status=to_status, participant_key=key,
        participant=participant, source=Source.WEBHOOK, event_key=event_key, **said,
    )
    if change is None:
        # The same event (message, status, person) is recorded: the earliest item of it wins, whatever came first.
        change = message.status_changes.filter(event_key=event_key).first()
        this = _rank(timestamp=event.timestamp, wa_id=said["participant_wa_id"], user_id=said["participant_user_id"])
        if change is None or this >= _change_rank(change):
            return None  # A duplicate (or a later copy) changes nothing.
        for name, value in said.items():
            setattr(change, name, value)
        change.save(update_fields=list(said))
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
    message: OutboundMessage, *, key: str, participant: Participant | None, event: StatusEvent, status: MetaStatus
) -> MessageReceipt:
    receipt, _ = MessageReceipt.objects.get_or_create(message=message, participant_key=key)
    receipt.delivered_at = _earliest(receipt.delivered_at, event.timestamp)
    if status == MetaStatus.READ:
        receipt.read_at = _earliest(receipt.read_at, event.timestamp)
    if participant is not None:
        # The receipt is the person's: it names them as the participant row does (kept so by the re-keying).
        receipt.participant = participant
        receipt.participant_wa_id = participant.wa_id or ""
        receipt.participant_user_id = participant.user_id or ""
    elif not receipt.participant_wa_id and not receipt.participant_user_id:
        receipt.participant_wa_id = event.participant_wa_id or ""
        receipt.participant_user_id = event.participant_user_id or ""
    receipt.save()
    return receipt


def participant_rows_rekey(*, participant: Participant, merged_ids: list[int] | tuple[int, ...] = ()) -> None:
    """Re-key a person's receipts and status history after their identity changed or rows were merged into them.

    Two rows of one event (or two receipts of one message) that named the person differently become one: the
    earliest item wins in history, receipts keep the earliest times, and the messages' counts follow.
    Runs inside the caller's transaction, which holds the group's lock.
    """
    ids = [participant.pk, *merged_ids]
    key = participant_key(wa_id=participant.wa_id, user_id=participant.user_id)
    if merged_ids:
        InboundMessage.objects.filter(participant_id__in=merged_ids).update(participant=participant)
    mine = Q(participant_id__in=ids) | Q(participant_key=key, message__group_id=participant.group_id)
    events: dict[tuple[int, str], list[MessageStatusChange]] = {}
    for change in MessageStatusChange.objects.filter(mine).exclude(participant_key="").order_by("pk"):
        events.setdefault((change.message_id, change.status), []).append(change)
    for (_message_id, status), changes in events.items():
        changes.sort(key=_change_rank)
        winner, losers = changes[0], changes[1:]
        MessageStatusChange.objects.filter(pk__in=[c.pk for c in losers]).delete()
        MessageStatusChange.objects.filter(pk=winner.pk).update(
            participant=participant, participant_key=key, event_key=f"{status}|{key}"
        )
    receipts: dict[int, list[MessageReceipt]] = {}
    for receipt in MessageReceipt.objects.filter(mine).order_by("pk"):
        receipts.setdefault(receipt.message_id, []).append(receipt)
    for message_id, rows in receipts.items():
        keep, others = rows[0], rows[1:]
        delivered = [r.delivered_at for r in rows if r.delivered_at is not None]
        read = [r.read_at for r in rows if r.read_at is not None]
        MessageReceipt.objects.filter(pk__in=[r.pk for r in others]).delete()
        MessageReceipt.objects.filter(pk=keep.pk).update(
            participant=participant, participant_key=key, participant_wa_id=participant.wa_id or "",
            participant_user_id=participant.user_id or "", delivered_at=min(delivered) if delivered else None,
            read_at=min(read) if read else None, updated_at=timezone.now(),
        )
        if others:
            counts = MessageReceipt.objects.filter(message_id=message_id)
            OutboundMessage.objects.filter(pk=message_id).update(
                delivered_count=counts.filter(delivered_at__isnull=False).count(),
                read_count=counts.filter(read_at__isnull=False).count(), updated_at=timezone.now(),
            )


def _on_participant_identity_changed(sender, *, participant: Participant, merged_ids: list[int], **kwargs) -> None:
    participant_rows_rekey(participant=participant, merged_ids=merged_ids)


def message_apply_unmatched(*, message: OutboundMessage) -> int:
    """Apply the kept statuses of a locked message's wamid (they can beat the send response)."""
    applied = 0
    if not message.wamid or not unmatched_statuses_for(wamid=message.wamid).exists():
        return applied
    # Applying may create or link participants, which change under the group's lock; the caller holds the message,
    # and lock order is Group → OutboundMessage: take the group only if it is free, never wait for it (no
    # deadlock). If another worker holds it, the periodic unmatched_statuses_apply_known applies them, group first.
    free = Group.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=message.group_id)
    if not list(free.values_list("pk", flat=True)):
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
            group_id = OutboundMessage.objects.filter(wamid=wamid).values_list("group_id", flat=True).first()
            lock_groups().filter(pk=group_id).first()  # Group → OutboundMessage.
            message = lock_outbound_message(wamid=wamid)
            if message is not None:
                applied += message_apply_unmatched(message=message)
    return applied
