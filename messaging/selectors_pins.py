"""Reads of pins, and the lock helper the pins services take before read-then-write."""

from datetime import datetime

from django.db.models import QuerySet

from groups.models import Group
from messaging.models import InboundMessage, OutboundMessage, Pin

PinState = Pin.State
MessageStatus = OutboundMessage.Status

# A message Meta has accepted (it has a wamid that participants can see) and that did not fail since.
PINNABLE_STATUSES = (MessageStatus.ACCEPTED, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
CURRENT_STATES = (PinState.PENDING, PinState.ACTIVE)


def lock_pins() -> QuerySet[Pin]:
    """Return pins locked FOR UPDATE in pk order (lock order: Group → OutboundMessage → Pin)."""
    return Pin.objects.select_for_update(of=("self",)).order_by("pk")


def pin_list(*, group: int | None = None, state: str | None = None) -> QuerySet[Pin]:
    """Return pins matching the filters (CONTRACT §5 "Pins"), newest request first."""
    pins = Pin.objects.all()
    if group is not None:
        pins = pins.filter(group_id=group)
    if state:
        pins = pins.filter(state=state)
    return pins


def pins_active_oldest_first(*, group: Group) -> QuerySet[Pin]:
    """Return the group's active pins in the order Meta pushes them out: oldest pinned first."""
    return Pin.objects.filter(group=group, state=PinState.ACTIVE).order_by("pinned_at", "pk")


def pin_to_be_replaced(*, group: Group, ahead: int = 0) -> Pin | None:
    """Return the active pin a new pin of the group would push out once Meta accepts it, if any.

    Pins still pending, and `ahead` more about to be asked first, are accepted before it, so each of
    them pushes out one of the oldest first.
    """
    active = list(pins_active_oldest_first(group=group))
    pending = Pin.objects.filter(group=group, state=PinState.PENDING).count()
    index = len(active) + pending + ahead - Pin.MAX_ACTIVE_PER_GROUP
    return active[index] if 0 <= index < len(active) else None


def pin_find_current(*, group: Group, message_id: str) -> Pin | None:
    """Return the pending or active pin of that wamid in the group, if any."""
    return Pin.objects.filter(group=group, message_id=message_id, state__in=CURRENT_STATES).first()


def pin_target_outbound(*, group: Group, message_id: str) -> OutboundMessage | None:
    """Return our accepted (or later) message of the group with that wamid; pin actions are not targets."""
    return (
        OutboundMessage.objects.filter(group=group, wamid=message_id, status__in=PINNABLE_STATUSES)
        .exclude(type=OutboundMessage.Type.PIN)
        .first()
    )


def pin_target_inbound(*, group: Group, message_id: str) -> InboundMessage | None:
    """Return the message a participant wrote in the group with that wamid."""
    return InboundMessage.objects.filter(group=group, wamid=message_id).first()


def pin_ids_due_for_expiry(*, now: datetime, limit: int) -> list[int]:
    """Return ids of active pins whose `expires_at` has passed, soonest first."""
    return list(
        Pin.objects.filter(state=PinState.ACTIVE, expires_at__lte=now)
        .order_by("expires_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
