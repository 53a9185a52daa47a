"""Compose, queue and retry outbound messages (spec §4.15): validation, idempotency, the first enqueue."""

import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction

from core.audit import audit_record
from core.models import Source
from groups.models import Group
from groups.selectors import lock_groups
from messaging.content import content_validate, message_type_get
from messaging.exceptions import ContentInvalid, GroupNotSendable, IdempotencyKeyReused, MessageNotRetryable
from messaging.models import MessagingAuditAction, OutboundMessage
from messaging.selectors import lock_outbound_message, message_find_by_idempotency_key
from messaging.services.history import message_transition
from outbox import event_types
from outbox.services import event_record

MessageStatus = OutboundMessage.Status

# The column's size: a longer key would fail in the database (PostgreSQL) instead of naming the header.
IDEMPOTENCY_KEY_MAX_LENGTH = OutboundMessage._meta.get_field("idempotency_key").max_length


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


def _enqueue_send(message_id: int) -> None:
    from messaging.tasks import message_send_task

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
    _idempotency_key_validate(idempotency_key)
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


def _idempotency_key_validate(idempotency_key: str | None) -> None:
    if idempotency_key and len(idempotency_key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ContentInvalid(
            f"Must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} characters (got {len(idempotency_key)}).",
            field="Idempotency-Key",
        )


def _idempotent_replay(existing: OutboundMessage, fingerprint: str) -> OutboundMessage:
    if existing.request_fingerprint and existing.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used for a different message; use a new key.",
            field="Idempotency-Key",
            extra={"message_id": existing.pk},
        )
    return existing


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
        raise MessageNotRetryable(f"A {message.type} message is retried by its own service, not here.", field="type")
    with transaction.atomic():
        lock_groups().filter(pk=message.group_id).first()  # Lock order: Group → OutboundMessage.
        original = lock_outbound_message(pk=message.pk)
        if original.status != MessageStatus.FAILED:
            raise MessageNotRetryable(
                f"Only failed messages can be retried; this one is {original.get_status_display().lower()}.",
                field="status", extra={"status": original.status},
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
