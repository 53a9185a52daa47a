"""Pin and unpin group messages (spec §4.16), and keep the record of what is pinned: Meta cannot list pins.

A pin or unpin action is an outbound message of type `pin` sent by the ordinary send pipeline. Its
status changes reach `pin_message_outcome` through the `pin` type's hook in the content registry,
inside the transaction that changed the message, so a pin follows its action message exactly.
"""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.models import Source
from groups.models import Group
from groups.selectors import lock_groups
from groups.services.common import WebhookOrigin, group_event_record
from messaging.content import MessageType, register_message_type
from messaging.exceptions import ContentInvalid, PinAlreadyActive, PinExpirationInvalid, PinNotActive, PinTargetInvalid
from messaging.models import MessagingAuditAction, MessagingTimelineType, OutboundMessage, Pin, PinStatusChange
from messaging.selectors_pins import (
    PINNABLE_STATUSES,
    lock_pins,
    pin_find_current,
    pin_ids_due_for_expiry,
    pin_target_inbound,
    pin_target_outbound,
)
from messaging.services.compose import group_assert_sendable, message_create
from outbox import event_types
from outbox.services import event_record

logger = logging.getLogger(__name__)

PinState = Pin.State
MessageStatus = OutboundMessage.Status

# Each expired pin is locked in its own short transaction; 500 keeps one beat tick to a few seconds
# even on SQLite, and with at most 3 active pins per group a backlog this large is already unusual.
PIN_EXPIRY_BATCH = 500

EXPIRATION_DAYS_MESSAGE = (
    f"Must be a JSON integer from {Pin.MIN_EXPIRATION_DAYS} to {Pin.MAX_EXPIRATION_DAYS} (days)."
)


def expiration_days_validate(value: Any, *, field: str = "expiration_days") -> int:
    """Return `value` if it is an integer from 1 to 30 (not a bool, float or string); raises PinExpirationInvalid."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PinExpirationInvalid(EXPIRATION_DAYS_MESSAGE, field=field)
    if not Pin.MIN_EXPIRATION_DAYS <= value <= Pin.MAX_EXPIRATION_DAYS:
        raise PinExpirationInvalid(EXPIRATION_DAYS_MESSAGE, field=field)
    return value


def validate_pin_content(raw: Any) -> dict:
    """Return Meta's `pin` object: `{"type": "pin", "message_id", "expiration_days"}` or an unpin without days."""
    if not isinstance(raw, dict):
        raise ContentInvalid("A pin message needs a `pin` object.", field="pin")
    action = raw.get("type")
    if action not in ("pin", "unpin"):
        raise ContentInvalid("Must be `pin` or `unpin`.", field="pin.type")
    unknown = set(raw) - {"type", "message_id", "expiration_days"}
    if unknown:
        raise ContentInvalid(f"Unknown key `{sorted(unknown)[0]}` for a pin message.", field="pin")
    message_id = raw.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise ContentInvalid("Give the wamid of the message to pin.", field="pin.message_id")
    if action == "unpin":
        if "expiration_days" in raw:
            raise ContentInvalid("An unpin takes no `expiration_days`.", field="pin.expiration_days")
        return {"type": "unpin", "message_id": message_id}
    days = expiration_days_validate(raw.get("expiration_days"), field="pin.expiration_days")
    return {"type": "pin", "message_id": message_id, "expiration_days": days}


def pin_transition(
    pin: Pin,
    *,
    to: str,
    source: str,
    detail: dict[str, Any] | None = None,
    update_fields: list[str] | None = None,
    created: bool = False,
) -> PinStatusChange:
    """Move a locked pin to `to` (or keep it there, for steps such as an unpin request) and record it."""
    from_state = "" if created else pin.state
    pin.state = to
    pin.save(update_fields=list(dict.fromkeys(["state", "updated_at", *(update_fields or [])])))
    change = PinStatusChange.objects.create(
        pin=pin, from_state=from_state, to_state=to, source=source, detail=detail or {}
    )
    _pin_timeline_record(pin, from_state=from_state, source=source)
    if to != from_state and (type_ := _PIN_EVENTS.get(to)):
        event_record(type=type_, obj=pin)
    return change


# A pin's ends as integrators see them (a pending pin is announced by its message's message.queued).
_PIN_EVENTS = {
    PinState.ACTIVE: event_types.PIN_ACTIVE,
    PinState.EXPIRED: event_types.PIN_EXPIRED,
    PinState.UNPINNED: event_types.PIN_UNPINNED,
    PinState.REPLACED: event_types.PIN_REPLACED,
    PinState.FAILED: event_types.PIN_FAILED,
}


def _pin_timeline_record(pin: Pin, *, from_state: str, source: str) -> None:
    """Put a pin's start and end on its group's timeline, with the staff user who asked for it."""
    Type = MessagingTimelineType
    if pin.state == PinState.ACTIVE and from_state == PinState.PENDING:
        type_, at, actor, once = Type.PINNED, pin.pinned_at, pin.created_by, True
    elif pin.state == PinState.UNPINNED and from_state == PinState.ACTIVE:
        actor = pin.unpin_message.created_by if pin.unpin_message_id else None
        type_, at, once = Type.UNPINNED, pin.unpinned_at, False
    elif pin.state == PinState.EXPIRED:
        type_, at, actor, once = Type.PIN_EXPIRED, pin.unpinned_at, None, True
    elif pin.state == PinState.REPLACED and from_state == PinState.ACTIVE:
        type_, at, actor, once = Type.PIN_REPLACED, pin.unpinned_at, None, False
    else:
        return
    detail = {"pin": pin.pk, "message_id": pin.message_id, "expiration_days": pin.expiration_days}
    if pin.replaced_by_id:
        detail["replaced_by"] = pin.replaced_by_id
    # Pinning and expiry happen once per pin; an unpin or replacement can be undone (failed unpin, failed pin).
    origin = WebhookOrigin(event_id=None, item="", key=f"pin:{pin.pk}") if once else None
    group_event_record(group=pin.group, type=type_, source=source, detail=detail, occurred_at=at or timezone.now(),
                       actor=actor, origin=origin)


def pin_create(
    *,
    group: Group,
    message_id: str,
    expiration_days: Any,
    created_by=None,
    source: str = Source.API,
) -> Pin:
    """Queue a pin of the group message `message_id` for `expiration_days` days; it is sent once committed.

    Raises PinExpirationInvalid (`expiration_days`), PinTargetInvalid (`message_id`), GroupNotSendable
    (`group`) or PinAlreadyActive, always before anything is sent.
    """
    expiration_days = expiration_days_validate(expiration_days)
    if not isinstance(message_id, str) or not message_id.strip():
        raise PinTargetInvalid("Give the wamid of a message in this group.", field="message_id")
    with transaction.atomic():
        # The group lock serialises pins of one group, so two requests cannot pin one message twice.
        group = lock_groups().get(pk=group.pk)
        group_assert_sendable(group=group)
        target_message = pin_target_outbound(group=group, message_id=message_id)
        target_inbound = None if target_message else pin_target_inbound(group=group, message_id=message_id)
        if target_message is None and target_inbound is None:
            raise PinTargetInvalid(
                "This is not the wamid of a message in this group: pin a message Meta accepted for this group "
                "(not a pin action) or one a participant wrote in it.",
                field="message_id",
            )
        existing = pin_find_current(group=group, message_id=message_id)
        if existing is not None:
            raise PinAlreadyActive(
                f"This message is already {existing.get_state_display().lower()} as pin #{existing.pk}; "
                "unpin it first.",
                field="message_id",
                extra={"pin_id": existing.pk},
            )
        message = message_create(
            group=group,
            type=OutboundMessage.Type.PIN,
            content={"type": "pin", "message_id": message_id, "expiration_days": expiration_days},
            created_by=created_by,
            source=source,
            composing=False,
        )
        pin = Pin.objects.create(
            group=group,
            message_id=message_id,
            target_message=target_message,
            target_inbound=target_inbound,
            expiration_days=expiration_days,
            pin_message=message,
            requested_at=timezone.now(),
            created_by=message.created_by,
        )
        pin_transition(pin, to=PinState.PENDING, source=source, detail={"pin_message": message.pk}, created=True)
        audit_record(actor=created_by, action=MessagingAuditAction.PIN_CREATE, target=pin, source=source,
                     detail={"message_id": message_id, "expiration_days": expiration_days})
    return pin


def pin_unpin(*, pin: Pin, created_by=None, source: str = Source.API) -> Pin:
    """Queue the unpin of an active pin; it becomes `unpinned` when Meta accepts the unpin.

    Raises PinNotActive unless the pin is active with no unpin on its way, GroupNotSendable if the
    group cannot receive it.
    """
    with transaction.atomic():
        group = lock_groups().get(pk=pin.group_id)  # Lock order: Group → OutboundMessage → Pin.
        pin = lock_pins().select_related("unpin_message").get(pk=pin.pk)
        if pin.state != PinState.ACTIVE:
            raise PinNotActive(
                f"Only an active pin can be unpinned; this one is {pin.get_state_display().lower()}.",
                field="state", extra={"state": pin.state},
            )
        if pin.unpin_message_id is not None:
            raise PinNotActive(
                "An unpin of this pin is already on its way.", field="unpin_message",
                extra={"unpin_message": pin.unpin_message_id},
            )
        group_assert_sendable(group=group)
        message = message_create(
            group=group,
            type=OutboundMessage.Type.PIN,
            content={"type": "unpin", "message_id": pin.message_id},
            created_by=created_by,
            source=source,
            composing=False,
        )
        pin.unpin_message = message
        pin_transition(
            pin,
            to=PinState.ACTIVE,
            source=source,
            detail={"event": "unpin_requested", "unpin_message": message.pk},
            update_fields=["unpin_message"],
        )
        audit_record(actor=created_by, action=MessagingAuditAction.PIN_UNPIN, target=pin, source=source,
                     detail={"message_id": pin.message_id})
    return pin


def pin_message_outcome(*, message: OutboundMessage, source: str = Source.TASK) -> Pin | None:
    """Follow a pin or unpin action message that just changed status (the caller holds it locked).

    Accepted (or later) activates the pin, or unpins it; `failed` fails the pin, or cancels the unpin.
    Calling it again for the same status changes nothing.
    """
    if (message.content or {}).get("type") == "unpin":
        pin = lock_pins().filter(unpin_message=message).first()
        if pin is not None:
            _unpin_outcome(pin, message=message, source=source)
        return pin
    # None while the message is being queued: its pin row is written just after, in the same transaction.
    pin = lock_pins().filter(pin_message=message).first()
    if pin is None:
        return None
    if message.status in PINNABLE_STATUSES and pin.state == PinState.PENDING:
        _pin_activate(pin, message=message, source=source)
    elif message.status == MessageStatus.FAILED and pin.state in (PinState.PENDING, PinState.ACTIVE):
        _pin_fail(pin, message=message, source=source)
    return pin


def _pin_activate(pin: Pin, *, message: OutboundMessage, source: str) -> None:
    # Meta's acceptance time: when the send call returned the pin's wamid (or a status resolved it).
    pin.pinned_at = message.accepted_at or timezone.now()
    pin.expires_at = pin.pinned_at + timedelta(days=pin.expiration_days)
    pin.error = None
    pin_transition(
        pin,
        to=PinState.ACTIVE,
        source=source,
        detail={"wamid": message.wamid},
        update_fields=["pinned_at", "expires_at", "error"],
    )
    # Meta keeps 3 pins per group and silently unpins the oldest for a 4th (spec §4.16).
    others = sorted(
        lock_pins().filter(group_id=pin.group_id, state=PinState.ACTIVE).exclude(pk=pin.pk),
        key=lambda other: (other.pinned_at, other.pk),
    )
    while len(others) >= Pin.MAX_ACTIVE_PER_GROUP:
        oldest = others.pop(0)
        oldest.replaced_by = pin
        oldest.unpinned_at = pin.pinned_at
        pin_transition(
            oldest,
            to=PinState.REPLACED,
            source=source,
            detail={"replaced_by": pin.pk},
            update_fields=["replaced_by", "unpinned_at"],
        )


def _pin_fail(pin: Pin, *, message: OutboundMessage, source: str) -> None:
    was_active = pin.state == PinState.ACTIVE
    pin.error = message.error
    pin_transition(
        pin, to=PinState.FAILED, source=source, detail={"message_status": message.status}, update_fields=["error"]
    )
    if not was_active:
        return
    # The pin never happened after all, so the pins it seemed to push out are still pinned.
    now = timezone.now()
    for replaced in lock_pins().filter(replaced_by=pin, state=PinState.REPLACED):
        active = Pin.objects.filter(group_id=pin.group_id, state=PinState.ACTIVE).count()
        if active >= Pin.MAX_ACTIVE_PER_GROUP or (replaced.expires_at and replaced.expires_at <= now):
            continue
        replaced.replaced_by = None
        replaced.unpinned_at = None
        pin_transition(
            replaced,
            to=PinState.ACTIVE,
            source=source,
            detail={"event": "restored", "failed_pin": pin.pk},
            update_fields=["replaced_by", "unpinned_at"],
        )


def _unpin_outcome(pin: Pin, *, message: OutboundMessage, source: str) -> None:
    if message.status in PINNABLE_STATUSES and pin.state == PinState.ACTIVE:
        pin.unpinned_at = message.accepted_at or timezone.now()
        pin_transition(
            pin, to=PinState.UNPINNED, source=source, detail={"wamid": message.wamid}, update_fields=["unpinned_at"]
        )
    elif message.status == MessageStatus.FAILED:
        # The unpin did not happen: the pin stays (or is again) active until it expires, and can be unpinned again.
        if pin.state == PinState.UNPINNED and pin.expires_at and pin.expires_at <= timezone.now():
            return
        if pin.state not in (PinState.ACTIVE, PinState.UNPINNED):
            return
        pin.unpin_message = None
        pin.unpinned_at = None
        pin.error = message.error
        pin_transition(
            pin,
            to=PinState.ACTIVE,
            source=source,
            detail={"event": "unpin_failed", "unpin_message": message.pk},
            update_fields=["unpin_message", "unpinned_at", "error"],
        )


def pins_expire_due(*, now=None, limit: int = PIN_EXPIRY_BATCH) -> int:
    """Turn up to `limit` active pins past `expires_at` into `expired`; return how many changed."""
    now = now or timezone.now()
    expired = 0
    for pin_id in pin_ids_due_for_expiry(now=now, limit=limit):
        with transaction.atomic():
            pin = lock_pins().get(pk=pin_id)
            if pin.state != PinState.ACTIVE or pin.expires_at is None or pin.expires_at > now:
                continue  # Unpinned, replaced or failed since it was listed.
            pin.unpinned_at = pin.expires_at
            pin_transition(pin, to=PinState.EXPIRED, source=Source.TASK, update_fields=["unpinned_at"])
            expired += 1
    return expired


def _on_pin_message_status_change(message: OutboundMessage, change) -> None:
    pin_message_outcome(message=message, source=change.source)


def register_pin_message_type() -> None:
    """Register the `pin` type and its status hook in the content registry (called by `MessagingConfig.ready`)."""
    register_message_type(
        MessageType("pin", validate_pin_content, composable=False, on_status_change=_on_pin_message_status_change)
    )
