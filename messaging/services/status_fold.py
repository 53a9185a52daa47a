"""Fold a batch of status items into messages, history and receipts the caller holds locked, then write in bulk.

Three steps per item: decide the message's next status, record the event in history (the earliest item of one
event wins), fold per-participant receipts and counts. What changes is gathered in one write plan and written
with a few bulk statements for the whole batch (the status path's hot loop: no per-item queries).
"""

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone

from config.bulk import bulk_insert_rows, bulk_update_rows
from core.models import Source
from messaging.events import MetaStatus, StatusEvent
from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage
from messaging.services.history import _notify_type, forward, message_timeline_record
from messaging.services.status_events import receipt_times, status_events_add, status_events_start
from messaging.services.status_people import Person, change_rank, participants_of

if TYPE_CHECKING:
    from messaging.services.statuses import StatusItem

logger = logging.getLogger(__name__)

MessageStatus = OutboundMessage.Status
Work = list[tuple[int, OutboundMessage, "StatusItem"]]

# Meta's statuses that move a message forward (a per-participant `delivered` moves it to delivered).
ADVANCES = {
    MetaStatus.SENT: MessageStatus.SENT,
    MetaStatus.DELIVERED: MessageStatus.DELIVERED,
    MetaStatus.READ: MessageStatus.READ,
}
PER_PARTICIPANT = {MetaStatus.DELIVERED, MetaStatus.READ}
_SAID_FIELDS = ["participant_wa_id", "participant_user_id", "timestamp", "error", "pricing", "detail",
                "webhook_event_id", "webhook_item"]
_RECEIPT_FIELDS = ["delivered_at", "read_at", "participant", "participant_wa_id", "participant_user_id", "updated_at"]


def _earliest(current, candidate):
    return candidate if current is None or candidate < current else current


@dataclass
class _WritePlan:
    """What a batch writes, gathered while its items are folded, then written in a few bulk statements."""

    new_changes: list[MessageStatusChange] = field(default_factory=list)
    improved: dict[int, MessageStatusChange] = field(default_factory=dict)
    # Per message: the message, the fields its items changed, the last history row written for it.
    touched: dict[int, tuple[OutboundMessage, set[str], MessageStatusChange]] = field(default_factory=dict)
    receipts: dict[tuple[int, str], MessageReceipt] = field(default_factory=dict)

    def touch(self, message: OutboundMessage, change: MessageStatusChange) -> set[str]:
        """Return the set of the message's changed fields (to add to), with `change` as its latest row."""
        fields = self.touched[message.pk][1] if message.pk in self.touched else set()
        self.touched[message.pk] = (message, fields, change)
        return fields

    def write(self) -> None:
        now = timezone.now()
        bulk_insert_rows(self.new_changes)
        bulk_update_rows(list(self.improved.values()), fields=_SAID_FIELDS)
        for receipt in self.receipts.values():
            receipt.updated_at = now
        bulk_insert_rows([receipt for receipt in self.receipts.values() if receipt.pk is None])
        bulk_update_rows([receipt for receipt in self.receipts.values() if receipt.pk is not None],
                         fields=_RECEIPT_FIELDS)
        # Each message writes only the fields its items changed: a count the re-keying just wrote (a new link
        # between a phone and a BSUID, in participants_of) must not be overwritten with the value read before it.
        alike: dict[tuple[str, ...], list[OutboundMessage]] = {}
        for message, fields, _change in self.touched.values():
            message.updated_at = now
            alike.setdefault(tuple(sorted(fields | {"updated_at"})), []).append(message)
        for fields, messages in alike.items():
            bulk_update_rows(messages, fields=fields)
        for message, _fields, change in self.touched.values():
            _notify_type(message, change)


def statuses_apply_locked(work: Work) -> dict[int, MessageStatusChange | None]:
    """Apply status items to messages the caller holds locked (with their groups), in the order given.

    `work` is (index, message, item); the answer maps each index to the history row written or improved, or None.
    """
    participants = participants_of([(index, message, item.event) for index, message, item in work
                                    if item.event.participant_key])
    changes, receipts = _history_of(work, participants)
    results: dict[int, MessageStatusChange | None] = {}
    plan = _WritePlan()
    events = status_events_start([message for _index, message, _item in work])
    for index, message, item in work:
        event = item.event
        participant = participants.get(index)
        # Keyed by the person (phone when known, else BSUID), not by how this item names them; re-keyed when a
        # later item links a phone and a BSUID (participant_rows_rekey).
        key = participant.key if participant else ""
        status = MetaStatus._value2member_map_.get(event.status, MetaStatus.UNKNOWN)  # MetaStatus(...) costs 10x
        from_status = message.status
        to_status = _next_status(from_status, status=status, key=key)
        change = _history_record(changes, plan, message, item, key=key, participant=participant,
                                 from_status=from_status, to_status=to_status)
        results[index] = change
        if change is None:
            continue  # A duplicate (or a later copy) changes nothing.
        if status == MetaStatus.UNKNOWN:
            logger.warning("messaging: unknown status value kept in history", extra={"status": event.status[:32]})
        fields = plan.touch(message, change)
        _message_fold(message, fields, event=event, status=status, from_status=from_status, to_status=to_status)
        receipt = receipt_was = None
        if status in PER_PARTICIPANT and key:
            receipt_was = receipt_times(receipts.get(message.pk, {}).get(key))
            _receipt_fold(receipts, plan, message, fields, key=key, participant=participant, event=event,
                          status=status)
            receipt = receipts[message.pk][key]
        message_timeline_record(message, from_status=from_status, to_status=to_status, source=Source.WEBHOOK,
                                webhook_event_id=item.webhook_event_id, webhook_item=item.webhook_item)
        status_events_add(events, message, from_status=from_status, status=event.status, at=event.timestamp,
                          receipt=receipt, receipt_was=receipt_was)
    plan.write()
    events.record()
    return results


def _next_status(from_status: str, *, status: MetaStatus, key: str) -> str:
    """Return the message's status after a status item (it only moves forward; a group-level failure ends it)."""
    candidate = from_status
    if status == MetaStatus.FAILED and not key:
        candidate = MessageStatus.FAILED  # Group-level failure ends the message, whatever arrived before.
    elif status in ADVANCES:
        candidate = ADVANCES[status]
    return forward(from_status, candidate)


def _history_record(
    changes: dict[tuple[int, str], MessageStatusChange], plan: _WritePlan, message: OutboundMessage,
    item: "StatusItem", *, key: str, participant: Person | None, from_status: str, to_status: str,
) -> MessageStatusChange | None:
    """Record the item's event in history: a new row, or the stored row improved by an earlier item; None if not."""
    event = item.event
    # What the item itself says (not what we know of the person now, which depends on arrival order).
    said = {
        "participant_wa_id": event.participant_wa_id or "",
        "participant_user_id": event.participant_user_id or "",
        "timestamp": event.timestamp,
        "error": event.errors[0] if event.errors else None,
        "pricing": event.pricing,
        "detail": {"recipient_id": event.recipient_id} if event.recipient_id else {},
        "webhook_event_id": item.webhook_event_id,
        "webhook_item": item.webhook_item[:100],
    }
    event_key = f"{event.status}|{key}"
    change = changes.get((message.pk, event_key))
    if change is None:
        # Keys rather than objects: assigning related objects costs more than the rest of the row.
        change = MessageStatusChange(
            message_id=message.pk, status=event.status, from_status=from_status, to_status=to_status,
            participant_key=key, participant_id=participant.pk if participant else None, source=Source.WEBHOOK,
            event_key=event_key, **said,
        )
        changes[(message.pk, event_key)] = change
        plan.new_changes.append(change)
        return change
    # The same event (message, status, person) is recorded: the earliest item of it wins, whatever came first.
    this = change_rank(timestamp=event.timestamp, wa_id=said["participant_wa_id"],
                       user_id=said["participant_user_id"])
    stored = change_rank(timestamp=change.timestamp, wa_id=change.participant_wa_id,
                         user_id=change.participant_user_id)
    if this >= stored:
        return None
    for name, value in said.items():
        setattr(change, name, value)
    if change.pk is not None:
        plan.improved[change.pk] = change
    return change


def _message_fold(message: OutboundMessage, fields: set[str], *, event: StatusEvent, status: MetaStatus,
                  from_status: str, to_status: str) -> None:
    """Move the message's status, error and times (event times come from Meta; the earliest wins)."""
    fields.add("status")
    message.status = to_status
    if to_status == MessageStatus.FAILED and from_status != MessageStatus.FAILED:
        message.error = (event.errors[0] if event.errors else None) or {
            "code": None, "title": "Failed", "message": "Meta reported the message failed.", "details": "",
            "href": ""}
        message.error_code = "" if message.error.get("code") is None else str(message.error["code"])
        message.failed_at = event.timestamp
        fields |= {"error", "error_code", "failed_at"}
    if status == MetaStatus.SENT:
        message.sent_at = _earliest(message.sent_at, event.timestamp)
        fields.add("sent_at")
    if status in PER_PARTICIPANT:
        message.delivered_at = _earliest(message.delivered_at, event.timestamp)  # read implies delivered
        fields.add("delivered_at")
        if status == MetaStatus.READ:
            message.read_at = _earliest(message.read_at, event.timestamp)
            fields.add("read_at")


def _receipt_fold(
    receipts: dict[int, dict[str, MessageReceipt]], plan: _WritePlan, message: OutboundMessage, fields: set[str],
    *, key: str, participant: Person, event: StatusEvent, status: MetaStatus,
) -> None:
    """Fold a per-participant status into the person's receipt of the message, and recount the message."""
    of_message = receipts.setdefault(message.pk, {})
    receipt = of_message.get(key) or MessageReceipt(message_id=message.pk, participant_key=key)
    of_message[key] = receipt
    receipt.delivered_at = _earliest(receipt.delivered_at, event.timestamp)
    if status == MetaStatus.READ:
        receipt.read_at = _earliest(receipt.read_at, event.timestamp)
    # The receipt is the person's: it names them as the participant row does (kept so by the re-keying).
    receipt.participant_id = participant.pk
    receipt.participant_wa_id = participant.wa_id or ""
    receipt.participant_user_id = participant.user_id or ""
    plan.receipts[(message.pk, key)] = receipt
    message.delivered_count = sum(1 for r in of_message.values() if r.delivered_at is not None)
    message.read_count = sum(1 for r in of_message.values() if r.read_at is not None)
    fields |= {"delivered_count", "read_count"}


def _history_of(
    work: Work, participants: dict[int, Person]
) -> tuple[dict[tuple[int, str], MessageStatusChange], dict[int, dict[str, MessageReceipt]]]:
    """Read what is recorded of these items' events, and every receipt of their messages with a per-person status."""
    keys = set()
    with_receipts = set()
    for index, message, item in work:
        participant = participants.get(index)
        key = participant.key if participant else ""
        keys.add(f"{item.event.status}|{key}")
        if key and item.event.status in PER_PARTICIPANT:
            with_receipts.add(message.pk)
    message_ids = {message.pk for _i, message, _item in work}
    # What ranking two items of one event needs; an improved row is written from what the item said.
    recorded = MessageStatusChange.objects.filter(message_id__any=message_ids, event_key__any=keys).only(
        "pk", "message_id", "event_key", "status", "source", "timestamp", "participant_wa_id", "participant_user_id")
    changes = {(change.message_id, change.event_key): change for change in recorded}
    receipts: dict[int, dict[str, MessageReceipt]] = {}
    # What counting and writing a receipt needs (its own times are written, never read).
    stored = MessageReceipt.objects.filter(message_id__any=with_receipts).only(
        "pk", "message_id", "participant_key", "delivered_at", "read_at", "participant_id", "participant_wa_id",
        "participant_user_id")
    for receipt in stored:
        receipts.setdefault(receipt.message_id, {})[receipt.participant_key] = receipt
    return changes, receipts
