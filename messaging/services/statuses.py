"""Apply Meta's status webhooks to messages and receipts, in any order and any number of times."""

import logging
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.bulk import bulk_insert_rows, bulk_update_rows
from core.models import Source
from groups.models import Group, Participant
from groups.selectors import lock_groups
from groups.services.common import normalize_wa_id
from groups.services.participants import participant_get_or_create
from messaging.events import MetaStatus, StatusEvent, participant_key
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage, UnmatchedStatus
from messaging.selectors import (
    lock_outbound_message,
    lock_outbound_messages,
    message_id_from_callback,
    unmatched_statuses_for,
    unmatched_wamids_now_known,
)
from messaging.services.history import _notify_type, forward, message_timeline_record
from messaging.services.status_events import status_events_add, status_events_start

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


@dataclass(frozen=True)
class StatusItem:
    """One parsed status item and where it came from."""

    event: StatusEvent
    webhook_event_id: int | None = None
    webhook_item: str = ""
    raw: dict | None = None


def message_status_apply(
    *, event: StatusEvent, webhook_event_id: int | None = None, webhook_item: str = "", raw: dict | None = None
) -> MessageStatusChange | UnmatchedStatus | None:
    """Apply one status item; keep it for later if its wamid is unknown. Duplicates change nothing."""
    item = StatusItem(event=event, webhook_event_id=webhook_event_id, webhook_item=webhook_item, raw=raw)
    return message_statuses_apply([item])[0]


def message_statuses_apply(items: list[StatusItem]) -> list[MessageStatusChange | UnmatchedStatus | None]:
    """Apply many status items as if one by one in this order (so, as in any order), with a few statements in all.

    The items of known wamids share one transaction (two when another transaction holds some of their groups): each
    group and message is locked once (in pk order), history, receipts and messages are read and written in bulk. An
    item whose wamid is not known (resolved by our callback data, or kept for later) runs alone in its own
    transaction. Returns, per item, the history row it wrote or improved, the kept unmatched status, or None for a
    duplicate.
    """
    results: list[MessageStatusChange | UnmatchedStatus | None] = [None] * len(items)
    wamids = {item.event.wamid for item in items}
    known = {wamid: (pk, group_id) for wamid, pk, group_id in
             OutboundMessage.objects.filter(wamid__any=wamids).values_list("wamid", "pk", "group_id")}
    batch = [_Known(index, *known[item.event.wamid]) for index, item in enumerate(items) if item.event.wamid in known]
    # First the groups no other transaction holds, then (waiting for them) the rest: two drains' batches often share a
    # group or two (the statuses of one message straddle them), and neither then waits for the other's whole batch.
    left = _apply_known(items, batch, results, skip_locked=True)
    _apply_known(items, left, results, skip_locked=False)
    for index, item in enumerate(items):
        if item.event.wamid not in known:
            results[index] = _apply_unknown_wamid(item)
    return results


class _Known(NamedTuple):
    """An item whose wamid names a message: its place in the batch, the message and the message's group."""

    index: int
    message_id: int
    group_id: int


def _apply_known(items: list[StatusItem], batch: list[_Known], results: list, *, skip_locked: bool) -> list[_Known]:
    """Apply, in one transaction, the items of `batch` whose groups it locks; return the others.

    Each group and message is locked once, in pk order, and history, receipts and messages are read and written in
    bulk. With `skip_locked`, groups another transaction holds are left (and their items returned); without it, the
    lock waits for every group.
    """
    if not batch:
        return []
    with transaction.atomic():
        groups = {entry.group_id for entry in batch}
        taken = set(lock_groups(skip_locked=skip_locked).filter(pk__any=groups).values_list("pk", flat=True))
        now = [entry for entry in batch if entry.group_id in taken]
        if now:
            # The group is read only on rare paths (a new participant, a timeline entry); the content never.
            locked = lock_outbound_messages().defer("content").filter(pk__any={entry.message_id for entry in now})
            messages = {message.pk: message for message in locked}
            work = [(entry.index, messages[entry.message_id], items[entry.index]) for entry in now]
            for index, change in _apply_locked(work).items():
                results[index] = change
    return [entry for entry in batch if entry.group_id not in taken]


def _apply_unknown_wamid(item: StatusItem) -> MessageStatusChange | UnmatchedStatus | None:
    """Apply a status whose wamid no message had a moment ago: by our callback data, else keep it for later."""
    with transaction.atomic():
        _lock_group_of(item.event)
        message = _find_message(item.event)
        if message is None:
            return _unmatched_keep(event=item.event, webhook_event_id=item.webhook_event_id,
                                   webhook_item=item.webhook_item, raw=item.raw)
        return _apply_locked([(0, message, item)])[0]


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


def _apply_locked(work: list[tuple[int, OutboundMessage, StatusItem]]) -> dict[int, MessageStatusChange | None]:
    """Apply status items to messages the caller holds locked (with their groups), in the order given.

    `work` is (index, message, item); the answer maps each index to the history row written or improved, or None.
    """
    participants = _participants_of(work)
    changes, receipts = _history_of(work, participants)
    results: dict[int, MessageStatusChange | None] = {}
    new_changes: list[MessageStatusChange] = []
    improved: dict[int, MessageStatusChange] = {}
    touched: dict[int, tuple[OutboundMessage, set[str], MessageStatusChange]] = {}
    dirty_receipts: dict[tuple[int, str], MessageReceipt] = {}
    events = status_events_start([message for _index, message, _item in work])
    for index, message, item in work:
        event = item.event
        participant = participants.get(index)
        # Keyed by the person (phone when known, else BSUID), not by how this item names them; re-keyed when a
        # later item links a phone and a BSUID (participant_rows_rekey).
        key = participant_key(wa_id=participant.wa_id, user_id=participant.user_id) if participant else ""
        status = MetaStatus._value2member_map_.get(event.status, MetaStatus.UNKNOWN)  # MetaStatus(...) costs 10x
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
            new_changes.append(change)
        else:
            # The same event (message, status, person) is recorded: the earliest item of it wins, whatever came first.
            this = _rank(timestamp=event.timestamp, wa_id=said["participant_wa_id"],
                         user_id=said["participant_user_id"])
            if this >= _change_rank(change):
                results[index] = None  # A duplicate (or a later copy) changes nothing.
                continue
            for name, value in said.items():
                setattr(change, name, value)
            if change.pk is not None:
                improved[change.pk] = change
        results[index] = change
        if status == MetaStatus.UNKNOWN:
            logger.warning("messaging: unknown status value kept in history", extra={"status": event.status[:32]})

        fields = touched.setdefault(message.pk, (message, set(), change))[1]
        touched[message.pk] = (message, fields, change)
        fields.add("status")
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
                of_message = receipts.setdefault(message.pk, {})
                receipt = of_message.get(key) or MessageReceipt(message_id=message.pk, participant_key=key)
                of_message[key] = receipt
                receipt_was = (receipt.delivered_at, receipt.read_at)
                _receipt_apply(receipt, participant=participant, event=event, status=status)
                dirty_receipts[(message.pk, key)] = receipt
                message.delivered_count = sum(1 for r in of_message.values() if r.delivered_at is not None)
                message.read_count = sum(1 for r in of_message.values() if r.read_at is not None)
                fields |= {"delivered_count", "read_count"}
        message_timeline_record(message, from_status=from_status, to_status=to_status, source=Source.WEBHOOK,
                                webhook_event_id=item.webhook_event_id, webhook_item=item.webhook_item)
        status_events_add(events, message, from_status=from_status, status=event.status, at=event.timestamp,
                          **({"receipt": receipt, "receipt_was": receipt_was} if status in PER_PARTICIPANT and key
                             else {}))

    now = timezone.now()
    bulk_insert_rows(new_changes)
    bulk_update_rows(list(improved.values()), fields=_SAID_FIELDS)
    for receipt in dirty_receipts.values():
        receipt.updated_at = now
    stored_receipts = [receipt for receipt in dirty_receipts.values() if receipt.pk is not None]
    bulk_insert_rows([receipt for receipt in dirty_receipts.values() if receipt.pk is None])
    bulk_update_rows(stored_receipts, fields=_RECEIPT_FIELDS)
    # Each message writes only the fields its items changed: a count the re-keying just wrote (a new link between a
    # phone and a BSUID, in _participants_of) must not be overwritten with the value read before it.
    alike: dict[tuple[str, ...], list[OutboundMessage]] = {}
    for message, fields, _change in touched.values():
        message.updated_at = now
        alike.setdefault(tuple(sorted(fields | {"updated_at"})), []).append(message)
    for fields, messages in alike.items():
        bulk_update_rows(messages, fields=fields)
    for message, _fields, change in touched.values():
        _notify_type(message, change)
    events.record()
    return results


_SAID_FIELDS = ["participant_wa_id", "participant_user_id", "timestamp", "error", "pricing", "detail",
                "webhook_event_id", "webhook_item"]
_RECEIPT_FIELDS = ["delivered_at", "read_at", "participant", "participant_wa_id", "participant_user_id", "updated_at"]


class _Person(NamedTuple):
    """A participant's identity, as a status batch needs it (read as tuples: most batches name hundreds)."""

    pk: int
    group_id: int
    wa_id: str | None
    user_id: str | None

    @classmethod
    def of(cls, participant: Participant) -> "_Person":
        return cls(participant.pk, participant.group_id, participant.wa_id, participant.user_id)


def _participants_of(work: list[tuple[int, OutboundMessage, StatusItem]]) -> dict[int, _Person]:
    """Return the participant each per-participant item names, creating, linking or merging rows as needed.

    Most items name someone already known by exactly this identity: found in one read per batch. The others go
    through participant_get_or_create (which may merge rows and re-key their history) before anything else is read,
    so every item then resolves to the rows as they end.
    """
    naming = [(index, message, item.event) for index, message, item in work if item.event.participant_key]
    if not naming:
        return {}
    people: dict[int, list[_Person]] = {}
    # Only the rows that share a phone or a BSUID with an item, and only their identity: _known_participant compares
    # nothing else, and most members of the batch's groups are named by no item.
    wa_ids = {normalize_wa_id(event.participant_wa_id) for _i, _m, event in naming} - {None, ""}
    user_ids = {event.participant_user_id for _i, _m, event in naming} - {None, ""}
    named = Participant.objects.filter(Q(wa_id__any=wa_ids) | Q(user_id__any=user_ids),
                                       group_id__any={message.group_id for _i, message, _e in naming})
    for person in map(_Person._make, named.values_list(*_Person._fields)):
        people.setdefault(person.group_id, []).append(person)
    for _index, message, event in naming:
        wa_id, user_id = normalize_wa_id(event.participant_wa_id), event.participant_user_id
        if _known_participant(people.get(message.group_id, []), wa_id=wa_id, user_id=user_id) is None:
            participant_get_or_create(group=message.group, wa_id=wa_id, user_id=user_id)
            rows = Participant.objects.filter(group_id=message.group_id).values_list(*_Person._fields)
            people[message.group_id] = list(map(_Person._make, rows))
    found = {}
    for index, message, event in naming:
        wa_id, user_id = normalize_wa_id(event.participant_wa_id), event.participant_user_id
        found[index] = _known_participant(people.get(message.group_id, []), wa_id=wa_id, user_id=user_id) or \
            _Person.of(participant_get_or_create(group=message.group, wa_id=wa_id, user_id=user_id)[0])
    return found


def _known_participant(people: list[_Person], *, wa_id: str | None, user_id: str | None) -> _Person | None:
    """Return whom participant_get_or_create would return with nothing to create, link or merge; else None."""
    by_phone = next((p for p in people if p.wa_id == wa_id), None) if wa_id else None
    by_bsuid = next((p for p in people if p.user_id == user_id), None) if user_id else None
    if by_phone is not None and by_bsuid is not None and by_phone.pk != by_bsuid.pk:
        if not (by_phone.user_id or by_bsuid.wa_id):
            return None  # Two rows of one person: merged by participant_get_or_create.
        found = by_phone
    else:
        found = by_phone or by_bsuid
    if found is None:
        return None
    if wa_id and not found.wa_id and not any(p.wa_id == wa_id for p in people):
        return None  # A phone to add to the person.
    if user_id and not found.user_id and not any(p.user_id == user_id for p in people):
        return None  # A BSUID to add.
    return found


def _history_of(
    work: list[tuple[int, OutboundMessage, StatusItem]], participants: dict[int, _Person]
) -> tuple[dict[tuple[int, str], MessageStatusChange], dict[int, dict[str, MessageReceipt]]]:
    """Read what is recorded of these items' events, and every receipt of their messages with a per-person status."""
    keys = set()
    with_receipts = set()
    for index, message, item in work:
        participant = participants.get(index)
        key = participant_key(wa_id=participant.wa_id, user_id=participant.user_id) if participant else ""
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


def _receipt_apply(
    receipt: MessageReceipt, *, participant: _Person, event: StatusEvent, status: MetaStatus
) -> None:
    receipt.delivered_at = _earliest(receipt.delivered_at, event.timestamp)
    if status == MetaStatus.READ:
        receipt.read_at = _earliest(receipt.read_at, event.timestamp)
    # The receipt is the person's: it names them as the participant row does (kept so by the re-keying).
    receipt.participant_id = participant.pk
    receipt.participant_wa_id = participant.wa_id or ""
    receipt.participant_user_id = participant.user_id or ""


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
    if not message.wamid or not unmatched_statuses_for(wamid=message.wamid).exists():
        return 0
    # Applying may create or link participants, which change under the group's lock; the caller holds the message,
    # and lock order is Group → OutboundMessage: take the group only if it is free, never wait for it (no
    # deadlock). If another worker holds it, the periodic unmatched_statuses_apply_known applies them, group first.
    free = Group.objects.select_for_update(skip_locked=True, of=("self",)).filter(pk=message.group_id)
    if not list(free.values_list("pk", flat=True)):
        return 0
    kept = list(unmatched_statuses_for(wamid=message.wamid).select_for_update())
    _apply_locked([
        (index, message, StatusItem(event=StatusEvent.from_json(unmatched.event),
                                    webhook_event_id=unmatched.webhook_event_id, webhook_item=unmatched.webhook_item))
        for index, unmatched in enumerate(kept)
    ])
    now = timezone.now()
    for unmatched in kept:
        unmatched.message, unmatched.applied_at, unmatched.updated_at = message, now, now
    UnmatchedStatus.objects.bulk_update(kept, fields=["message", "applied_at", "updated_at"])
    return len(kept)


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
