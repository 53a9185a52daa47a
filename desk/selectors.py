"""Reads of the group workspace: the conversation, pins, members, join requests, operations and timeline.

Every read is bounded whatever the group's size (a group can have 100,000 messages): the newest page of each kind
through the (group, time) indexes, with what each row shows fetched in the same few queries (no query per row).
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant
from messaging.errors import ErrorExplanation, error_explain
from messaging.models import InboundMessage, MessageReceipt, OutboundMessage, Pin
from messaging.selectors import participant_was_audience
from messaging.selectors_pins import CURRENT_STATES, PINNABLE_STATUSES

CONVERSATION_PAGE = 50  # Newest messages shown; older ones are a link away ("Older messages").
MEMBERS_LIMIT = 200  # A group holds 8 people at once; people who left pile up, the newest 200 are plenty.
JOIN_REQUESTS_LIMIT = 50
OPERATIONS_LIMIT = 20
TIMELINE_LIMIT = 50

MessageStatus = OutboundMessage.Status


@dataclass
class Bubble:
    """One message of the conversation: ours (`outbound`) or a participant's (`inbound`)."""

    at: datetime
    outbound: OutboundMessage | None = None
    inbound: InboundMessage | None = None
    pin: Pin | None = None  # The message's current pin, if any.
    not_read: list[Participant] = field(default_factory=list)  # Outbound: who got it and has not read it.

    @property
    def message(self) -> OutboundMessage | InboundMessage:
        return self.outbound or self.inbound

    @property
    def type(self) -> str:
        return self.message.type

    @property
    def content(self) -> dict:
        """Meta's type object of the message (`{"body": ...}`, `{"link": ..., "caption": ...}`, ...)."""
        return self.message.content or {}

    @property
    def text(self) -> str:
        """The words of the message: a text's body or a media caption (a participant's, as Meta gave it)."""
        if self.inbound is not None:
            return self.inbound.text
        return self.content.get("body") or self.content.get("caption") or ""

    @property
    def error(self) -> ErrorExplanation | None:
        """What our failed message's error code means, from the error catalog (no query)."""
        return error_explain(self.outbound.error_code) if self.outbound is not None else None

    @property
    def pinnable(self) -> bool:
        return bool(self.message.wamid) and (self.inbound is not None or self.outbound.status in PINNABLE_STATUSES)


@dataclass
class Conversation:
    bubbles: list[Bubble]  # Oldest first, as a chat reads.
    older_than: datetime | None  # Set when older messages exist: the cursor of the "Older messages" link.


def workspace_participants(*, group: Group) -> list[Participant]:
    """Return the group's people, active first, then by name: the members list and the names of every region."""
    people = group.participants.order_by("-pk")[:MEMBERS_LIMIT]
    return sorted(people, key=lambda p: (p.state != Participant.State.ACTIVE, (p.name or "").lower() or "~", p.pk))


def workspace_pins(*, group: Group) -> list[Pin]:
    """Return the group's pending and active pins with the messages they pin, oldest pinned first."""
    return list(
        Pin.objects.filter(group=group, state__in=CURRENT_STATES)
        .select_related("target_message", "target_inbound__participant")
        .order_by("pinned_at", "pk")
    )


def pin_excerpt(pin: Pin) -> str:
    """Return the words of the pinned message (its text or caption, else its type), "" when we do not have it."""
    if pin.target_message is not None:
        bubble = Bubble(at=pin.target_message.created_at, outbound=pin.target_message)
    elif pin.target_inbound is not None:
        bubble = Bubble(at=pin.target_inbound.timestamp, inbound=pin.target_inbound)
    else:
        return ""
    return bubble.text or f"{bubble.type.capitalize()} message"


def workspace_conversation(
    *, group: Group, people: list[Participant], pins: list[Pin], before: datetime | None = None,
    limit: int = CONVERSATION_PAGE,
) -> Conversation:
    """Return the group's newest `limit` messages (before `before`), ours and theirs, in time order.

    Three queries whatever `limit`: our messages with their receipts, and theirs with their senders. Pin actions are
    not messages people wrote: they show as the pins above the conversation.
    """
    outbound: QuerySet[OutboundMessage] = (
        group.outbound_messages.exclude(type=OutboundMessage.Type.PIN)
        .select_related("created_by")
        .prefetch_related(Prefetch("receipts", queryset=MessageReceipt.objects.order_by("pk")))
        .order_by("-created_at", "-pk")
    )
    inbound: QuerySet[InboundMessage] = group.inbound_messages.select_related("participant").order_by(
        "-timestamp", "-pk"
    )
    if before is not None:
        outbound = outbound.filter(created_at__lt=before)
        inbound = inbound.filter(timestamp__lt=before)
    pin_of = {pin.message_id: pin for pin in pins}
    bubbles = [Bubble(at=m.created_at, outbound=m, pin=pin_of.get(m.wamid)) for m in outbound[: limit + 1]]
    bubbles += [Bubble(at=m.timestamp, inbound=m, pin=pin_of.get(m.wamid)) for m in inbound[: limit + 1]]
    bubbles.sort(key=lambda b: b.at, reverse=True)
    newest, more = bubbles[:limit], len(bubbles) > limit
    for bubble in newest:
        if bubble.outbound is not None:
            bubble.not_read = _not_read(bubble.outbound, people)
    return Conversation(bubbles=newest[::-1], older_than=newest[-1].at if more and newest else None)


def _not_read(message: OutboundMessage, people: list[Participant]) -> list[Participant]:
    """Return who the message went to and has not read it (the receipts were prefetched: no query)."""
    if message.status not in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
        return []
    readers = {r.participant_id for r in message.receipts.all() if r.read_at is not None}
    return [p for p in people if p.pk not in readers and participant_was_audience(p, message=message)]


def workspace_join_requests(*, group: Group) -> list[JoinRequest]:
    """Return the group's pending join requests first, then the newest decided ones."""
    requests_ = list(group.join_requests.order_by("-pk")[:JOIN_REQUESTS_LIMIT])
    return sorted(requests_, key=lambda r: r.state != JoinRequest.State.PENDING)


def workspace_operations(*, group: Group) -> list[GroupOperation]:
    """Return the group's newest operations with who asked for them (the picture bytes left in the database)."""
    return list(group.operations.select_related("requested_by").defer("picture").order_by("-created_at", "-pk")
                [:OPERATIONS_LIMIT])


def workspace_timeline(*, group: Group) -> list[GroupEvent]:
    """Return the group's newest timeline entries, newest first, with the staff user behind each."""
    return list(group.events.select_related("actor").order_by("-occurred_at", "-pk")[:TIMELINE_LIMIT])
