"""Compose, send, retry and sweep outbound messages (spec §4.15; STYLE §3 for the send pipeline)."""

import hashlib
import json
import logging
import os
import random
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_record
from core.models import Source
from groups.cloud_api import (
    CloudAPIClient,
    CloudAPIError,
    CloudAPIRateLimited,
    CloudAPIServerError,
    CloudAPIUnavailable,
    RetryClass,
    get_cloud_api_client,
)
from groups.models import Group
from groups.selectors import lock_groups
from messaging.content import content_validate, message_type_get
from messaging.exceptions import ContentInvalid, GroupNotSendable, IdempotencyKeyReused, MessageNotRetryable
from messaging.models import MessagingAuditAction, OutboundMessage
from messaging.pacing import pace_phone_number, pace_wait
from messaging.selectors import (
    active_participant_count,
    lock_outbound_message,
    lock_outbound_messages,
    message_find_by_idempotency_key,
    message_ids_outcome_unknown,
    message_ids_queued_stale,
)
from messaging.services.history import message_transition
from messaging.services.statuses import message_apply_unmatched
from outbox import event_types
from outbox.services import event_record

logger = logging.getLogger(__name__)

MessageStatus = OutboundMessage.Status

# Only what can succeed later unchanged (issue 5): throughput, pair rate and group-operation limits.
RETRYABLE_META_CODES = frozenset({130429, 131056, 131208})
PAIR_RATE_LIMIT = 131056
# The column's size: a longer key would fail in the database (PostgreSQL) instead of naming the header.
IDEMPOTENCY_KEY_MAX_LENGTH = OutboundMessage._meta.get_field("idempotency_key").max_length

OUTCOME_UNKNOWN_ERROR = {
    "code": "outcome_unknown",
    "title": "Outcome unknown",
    "message": "Meta did not answer the send call and no status arrived for it.",
    "details": "The call timed out after reaching Meta; the message may or may not have been delivered. "
    "Check the group before retrying, or a retry may send it twice.",
    "href": "",
}


_send_clients = threading.local()


def _send_client() -> CloudAPIClient:
    """Return this thread's client for the current settings, made once: its session keeps the connection open.

    A new client per send opened a new TCP (and, against Meta, TLS) connection for every message. The
    settings are part of the key, so a changed token or URL still takes effect at once; the pid keeps a
    forked worker from using its parent's sockets.
    """
    key = (os.getpid(), settings.WHATSAPP_API_BASE_URL, settings.WHATSAPP_API_VERSION,
           settings.WHATSAPP_ACCESS_TOKEN, settings.WHATSAPP_CONNECT_TIMEOUT, settings.WHATSAPP_READ_TIMEOUT)
    if getattr(_send_clients, "key", None) != key:
        _send_clients.client = get_cloud_api_client()
        _send_clients.key = key
    return _send_clients.client


def _lock_for_send(message_id: int, *, message_type: str) -> OutboundMessage:
    """Lock a message the send pipeline has read: one query, or the selector's group-first lock for a pin."""
    if message_type == OutboundMessage.Type.PIN:
        return lock_outbound_message(pk=message_id)
    # The type never changes, so the selector's look-up of it (a second round trip) is not needed here.
    return lock_outbound_messages().select_related("group__phone_number").get(pk=message_id)


def _fingerprint(*, group: Group, type: str, content: dict) -> str:
    canonical = json.dumps({"group": group.pk, "type": type, "content": content}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def group_assert_sendable(*, group: Group) -> None:
    """Check that Meta can deliver to the group now; raises GroupNotSendable naming `group`."""
    if group.state != Group.State.ACTIVE or not group.group_id:
        raise GroupNotSendable(
            f"The group is {group.get_state_display().lower()}; only an active group can receive messages.",
            field="group",
        )
    if group.suspended:
        raise GroupNotSendable("WhatsApp suspended this group; nothing can be sent to it.", field="group")


def _enqueue_send(message_id: int, *, countdown: float | None = None) -> None:
    from messaging.tasks import message_send_task

    if countdown:
        transaction.on_commit(lambda: message_send_task.apply_async(args=[message_id], countdown=countdown))
    else:
        transaction.on_commit(lambda: message_send_task.delay(message_id))


def message_create(
    *,
    group: Group,
    type: str,
    content: Any,
    created_by=None,
    source: str = Source.API,
    idempotency_key: str | None = None,
    retry_of: OutboundMessage | None = None,
    composing: bool = True,
) -> OutboundMessage:
    """Queue a message to a group and send it once committed.

    Raises MessageTypeNotSupported or ContentInvalid for bad content, GroupNotSendable if the group
    cannot receive it, IdempotencyKeyReused if the key named another message. A repeated key returns
    the first message and sends nothing.
    """
    if idempotency_key and len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ContentInvalid(
            f"Must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters (got {len(idempotency_key)}).",
            field="Idempotency-Key",
        )
    content = content_validate(type=type, content=content, composing=composing)
    fingerprint = _fingerprint(group=group, type=type, content=content)
    created_by = created_by if getattr(created_by, "is_authenticated", False) else None
    if idempotency_key:
        existing = message_find_by_idempotency_key(created_by=created_by, idempotency_key=idempotency_key)
        if existing is not None:
            return _idempotent_replay(existing, fingerprint)
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)  # Re-checked under the lock: it may have just been suspended.
        group_assert_sendable(group=group)
        try:
            with transaction.atomic():
                message = OutboundMessage.objects.create(
                    group=group,
                    type=type,
                    content=content,
                    created_by=created_by,
                    source=source,
                    idempotency_key=idempotency_key or None,
                    request_fingerprint=fingerprint,
                    retry_of=retry_of,
                )
        except IntegrityError:
            # Another request with the same key won the race: answer with its message.
            existing = message_find_by_idempotency_key(created_by=created_by, idempotency_key=idempotency_key)
            if existing is None:
                raise
            return _idempotent_replay(existing, fingerprint)
        message_transition(
            message,
            to=MessageStatus.QUEUED,
            source=source,
            detail={"retry_of": retry_of.pk} if retry_of else {},
        )
        event_record(type=event_types.MESSAGE_QUEUED, obj=message)
        if composing and retry_of is None:  # Pins and retries are audited by their own services.
            audit_record(actor=created_by, action=MessagingAuditAction.MESSAGE_SEND, target=message, source=source,
                         detail={"type": type})
        _enqueue_send(message.pk)
    return message


def _idempotent_replay(existing: OutboundMessage, fingerprint: str) -> OutboundMessage:
    if existing.request_fingerprint and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different message; use a new key.",
            field="Idempotency-Key",
            extra={"message_id": existing.pk},
        )
    return existing


def send_retry_delay(*, error: CloudAPIError, attempt: int) -> float | None:
    """Return seconds to wait before resending after `error` on attempt `attempt`, or None: fail now."""
    reached_nobody = isinstance(error, CloudAPIUnavailable)
    server_side = isinstance(error, CloudAPIServerError) or (error.http_status_from_meta or 0) >= 500
    bare_429 = isinstance(error, CloudAPIRateLimited) and error.meta_code is None
    if not (reached_nobody or server_side or bare_429 or error.meta_code in RETRYABLE_META_CODES):
        return None
    if error.meta_code == PAIR_RATE_LIMIT:
        delay = 4.0**attempt  # Meta's advice for the pair rate limit (spec §8): 4^n seconds.
    else:
        delay = settings.MESSAGE_SEND_RETRY_BASE_SECONDS * 2.0 ** (attempt - 1)
    delay = min(delay, settings.MESSAGE_SEND_RETRY_MAX_SECONDS)
    # Jitter spreads the retries of many workers hit by the same limit at once.
    return delay + random.uniform(0, delay / 2)


def message_send(*, message_id: int, client: CloudAPIClient | None = None) -> OutboundMessage:
    """Deliver one queued message; calling it twice never sends twice."""
    message = OutboundMessage.objects.select_related("group__phone_number").get(pk=message_id)
    if message.status != MessageStatus.QUEUED:
        return message
    now = timezone.now()
    if message.next_attempt_at and message.next_attempt_at > now + timedelta(seconds=1):
        _enqueue_send(message.pk, countdown=(message.next_attempt_at - now).total_seconds())
        return message  # Woken early (e.g. by the stale-queue sweep): the retry is not due yet.
    group = message.group
    try:
        group_assert_sendable(group=group)
    except GroupNotSendable as exc:
        return _fail_unsendable(message_id, exc)
    pace = pace_phone_number(
        phone_number_id=group.phone_number.phone_number_id,
        rate_per_second=group.phone_number.throughput_per_second,
    )
    if not pace.acquired:
        _enqueue_send(message.pk, countdown=pace.wait)  # The number is busy: come back at its next slot.
        return message

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
    client = client or _send_client()
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
        delay = send_retry_delay(error=exc, attempt=message.attempt_count)
        if delay is not None and message.attempt_count < settings.MESSAGE_SEND_MAX_ATTEMPTS:
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
            _enqueue_send(message.pk, countdown=delay)
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


def messages_requeue_stale(*, now=None, limit: int = 500) -> int:
    """Enqueue again queued messages whose send task should have run by now (a lost task or broker)."""
    now = now or timezone.now()
    due_before = now - timedelta(seconds=settings.MESSAGE_QUEUED_SWEEP_AFTER_SECONDS)
    message_ids = message_ids_queued_stale(due_before=due_before, limit=limit)
    from messaging.tasks import message_send_task

    for message_id in message_ids:
        message_send_task.delay(message_id)  # The claim is locked, so a duplicate task sends nothing twice.
    return len(message_ids)


def message_retry(
    *, message: OutboundMessage, created_by=None, source: str = Source.API
) -> tuple[OutboundMessage, bool]:
    """Queue a new message with the failed one's content and `retry_of`; return it and whether it is new.

    The failure stays in the message's history. A failure is retried once: asked again (a double click, two
    requests at once), this returns the retry already made, with False, and sends nothing more. A failed retry
    is retried in turn. Raises MessageNotRetryable unless the message failed, and what message_create raises.
    """
    message_type = message_type_get(message.type, composing=False)
    if not message_type.composable:
        raise MessageNotRetryable(f"A {message.type} message is retried by its own service, not here.")
    with transaction.atomic():
        lock_groups().filter(pk=message.group_id).first()  # Lock order: Group → OutboundMessage.
        original = lock_outbound_message(pk=message.pk)
        if original.status != MessageStatus.FAILED:
            raise MessageNotRetryable(
                f"Only failed messages can be retried; this one is {original.get_status_display().lower()}.",
                extra={"status": original.status},
            )
        earlier = original.retries.order_by("pk").first()
        if earlier is not None:
            return earlier, False
        retry = message_create(
            group=original.group,
            type=original.type,
            content=original.content,
            created_by=created_by,
            source=source,
            retry_of=original,
        )
        message_transition(
            original, to=MessageStatus.FAILED, event="retried", source=source, detail={"retry_id": retry.pk}
        )
        audit_record(actor=created_by, action=MessagingAuditAction.MESSAGE_RETRY, target=original, source=source,
                     detail={"retry_id": retry.pk})
    return retry, True
