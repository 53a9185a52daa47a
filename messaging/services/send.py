"""Send queued outbound messages to Meta and record the answer (STYLE §3): claim, pace, call, retry, sweep.

A temporary error, or a pace slot too far off, puts the message off: it stays `queued` with its
`next_attempt_at`, and `core.due.run_at` has it sent then (never inside the caller, README "Retries").
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.due import is_due, run_at
from core.models import Source
from groups.cloud_api import CloudAPIClient, CloudAPIError, RetryClass, get_cloud_api_client, retry_delay
from messaging.exceptions import GroupNotSendable
from messaging.models import OutboundMessage
from messaging.pacing import pace_phone_number, pace_wait
from messaging.selectors import (
    active_participant_count,
    lock_outbound_message,
    lock_outbound_messages,
    message_ids_outcome_unknown,
)
from messaging.services.compose import group_assert_sendable
from messaging.services.history import message_transition
from messaging.services.statuses import message_apply_unmatched

logger = logging.getLogger(__name__)

MessageStatus = OutboundMessage.Status

OUTCOME_UNKNOWN_ERROR = {
    "code": "outcome_unknown",
    "title": "Outcome unknown",
    "message": "Meta did not answer the send call and no status arrived for it.",
    "details": "The call timed out after reaching Meta; the message may or may not have been delivered. "
    "Check the group before retrying, or a retry may send it twice.",
    "href": "",
}


def _lock_for_send(message_id: int, *, message_type: str) -> OutboundMessage:
    """Lock a message the send pipeline has read: one query, or the selector's group-first lock for a pin."""
    if message_type == OutboundMessage.Type.PIN:
        return lock_outbound_message(pk=message_id)
    # The type never changes, so the selector's look-up of it (a second round trip) is not needed here.
    return lock_outbound_messages().select_related("group__phone_number").get(pk=message_id)


def message_send(*, message_id: int, client: CloudAPIClient | None = None) -> OutboundMessage:
    """Deliver one queued message; calling it twice never sends twice."""
    message = OutboundMessage.objects.select_related("group__phone_number").get(pk=message_id)
    if message.status != MessageStatus.QUEUED:
        return message
    if not is_due(message.next_attempt_at):
        return message  # Woken early (a duplicate task): its retry is published or swept when due.
    group = message.group
    try:
        group_assert_sendable(group=group)
    except GroupNotSendable as exc:
        return _fail_unsendable(message_id, exc)
    pace = pace_phone_number(
        phone_number_id=group.phone_number.phone_number_id,
        rate_per_second=group.phone_number.throughput_per_second,
    )
    if not pace.acquired:  # The number is busy: come back at its next slot.
        return _put_off(message, at=timezone.now() + timedelta(seconds=pace.wait))

    with transaction.atomic():
        message = _lock_for_send(message_id, message_type=message.type)
        if message.status != MessageStatus.QUEUED:
            return message  # Another worker claimed it first.
        message.attempt_count += 1
        message.sending_started_at = timezone.now()
        message.next_attempt_at = None
        message_transition(
            message,
            to=MessageStatus.SENDING,
            source=Source.TASK,
            detail={"attempt": message.attempt_count},
            update_fields=["attempt_count", "sending_started_at", "next_attempt_at"],
        )

    # Outside any transaction: a slow Meta must not hold row locks (STYLE §3). The wait for the slot
    # comes after the claim, so the claim's database work overlaps it and the call leaves on time.
    pace_wait(pace)
    client = client or get_cloud_api_client()
    try:
        wamid = client.send_message(
            phone_number_id=group.phone_number.phone_number_id,
            group_id=group.group_id,
            type=message.type,
            content=message.content,
            biz_opaque_callback_data=message.callback_data,
        )
    except CloudAPIError as exc:
        return _record_send_error(message_id, exc)
    return message_record_accepted(message_id=message_id, wamid=wamid, message_type=message.type)


def _put_off(message: OutboundMessage, *, at: datetime) -> OutboundMessage:
    """Leave a queued message for `at` (no history: nothing happened to it), unless a worker claimed it meanwhile."""
    from messaging.tasks import message_send_task

    with transaction.atomic():
        if OutboundMessage.objects.filter(pk=message.pk, status=MessageStatus.QUEUED).update(next_attempt_at=at):
            message.next_attempt_at = at
            run_at(message_send_task, pk=message.pk, at=at)
    return message


def _fail_unsendable(message_id: int, exc: GroupNotSendable) -> OutboundMessage:
    with transaction.atomic():
        message = lock_outbound_message(pk=message_id)
        if message.status == MessageStatus.QUEUED:
            error = {"code": "group_not_sendable", "title": "Group cannot receive messages",
                     "message": exc.message, "details": "", "href": ""}
            message_transition(message, to=MessageStatus.FAILED, source=Source.TASK, error=error)
    return message


def _record_send_error(message_id: int, exc: CloudAPIError) -> OutboundMessage:
    error = exc.as_error_dict()
    error.setdefault("href", "")
    with transaction.atomic():
        message = lock_outbound_message(pk=message_id)
        if message.status != MessageStatus.SENDING:
            return message  # A status webhook resolved it meanwhile.
        if exc.retry_class == RetryClass.OUTCOME_UNKNOWN:
            # Meta may have accepted it: never resend blindly. A status (callback data) or the
            # outcome-unknown sweep settles it.
            message_transition(
                message,
                to=MessageStatus.SENDING,
                event="outcome_unknown",
                source=Source.TASK,
                error=error,
                detail={"attempt": message.attempt_count, "fbtrace_id": exc.fbtrace_id},
            )
            return message
        delay = retry_delay(error=exc, attempt=message.attempt_count)
        if delay is not None:
            message.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            message_transition(
                message,
                to=MessageStatus.QUEUED,
                event="retry_scheduled",
                source=Source.TASK,
                error=error,
                detail={"attempt": message.attempt_count, "retry_in_seconds": round(delay, 3),
                        "fbtrace_id": exc.fbtrace_id},
                update_fields=["next_attempt_at"],
            )
            from messaging.tasks import message_send_task

            run_at(message_send_task, pk=message.pk, at=message.next_attempt_at)
            return message
        message_transition(
            message,
            to=MessageStatus.FAILED,
            source=Source.TASK,
            error=error,
            detail={"attempt": message.attempt_count, "fbtrace_id": exc.fbtrace_id},
        )
    return message


def message_record_accepted(*, message_id: int, wamid: str, message_type: str | None = None) -> OutboundMessage:
    """Record that Meta accepted a message with `wamid`, then apply statuses that arrived before."""
    with transaction.atomic():
        if message_type is None:
            message = lock_outbound_message(pk=message_id)
        else:
            message = _lock_for_send(message_id, message_type=message_type)
        fields = ["updated_at"]
        if message.wamid is None:
            message.wamid = wamid
            fields.append("wamid")
        elif message.wamid != wamid:
            logger.error("messaging: Meta returned a second wamid for one message", extra={"message_id": message_id})
        if not message.recipient_count:
            message.recipient_count = active_participant_count(group=message.group)
            fields.append("recipient_count")
        if message.status in (MessageStatus.QUEUED, MessageStatus.SENDING):
            message_transition(
                message, to=MessageStatus.ACCEPTED, source=Source.TASK, detail={"wamid": wamid}, update_fields=fields
            )
        else:
            # A status (found through our callback data) or the sweep got here first; keep what it decided.
            if message.accepted_at is None:
                message.accepted_at = timezone.now()
                fields.append("accepted_at")
            message.save(update_fields=fields)
        message_apply_unmatched(message=message)
    return message


def messages_fail_outcome_unknown(*, now=None, limit: int = 500) -> int:
    """Fail messages left `sending` longer than MESSAGE_OUTCOME_UNKNOWN_AFTER_MINUTES with `outcome_unknown`."""
    now = now or timezone.now()
    started_before = now - timedelta(minutes=settings.MESSAGE_OUTCOME_UNKNOWN_AFTER_MINUTES)
    failed = 0
    # Bounded per run so a beat tick stays short; the next tick takes the rest.
    for message_id in message_ids_outcome_unknown(started_before=started_before, limit=limit):
        with transaction.atomic():
            message = lock_outbound_message(pk=message_id)
            if message.status != MessageStatus.SENDING or message.sending_started_at >= started_before:
                continue  # Resolved or re-claimed since it was listed.
            message_transition(message, to=MessageStatus.FAILED, source=Source.TASK, error=dict(OUTCOME_UNKNOWN_ERROR))
            failed += 1
    return failed
