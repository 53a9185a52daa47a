"""Apply Meta's status webhooks to messages and receipts, in any order and any number of times."""

import logging
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import Source
from groups.models import Group
from groups.selectors import lock_groups
from messaging.events import StatusEvent
from messaging.models import MessageStatusChange, OutboundMessage, UnmatchedStatus
from messaging.selectors import (
    lock_outbound_message,
    lock_outbound_messages,
    message_id_from_callback,
    unmatched_statuses_for,
    unmatched_wamids_now_known,
)
from messaging.services.status_fold import statuses_apply_locked
from messaging.services.status_people import participant_rows_rekey

logger = logging.getLogger(__name__)

MessageStatus = OutboundMessage.Status

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
            for index, change in statuses_apply_locked(work).items():
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
        return statuses_apply_locked([(0, message, item)])[0]


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
    statuses_apply_locked([
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


__all__ = ["StatusItem", "message_apply_unmatched", "message_status_apply", "message_statuses_apply",
           "participant_rows_rekey", "unmatched_statuses_apply_known"]
