"""Pieces every groups service shares: the timeline writer, change checks, identities, error shapes."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from core.meta_errors import MetaError
from core.models import Source
from groups.exceptions import GroupIsSuspended, GroupNotActive
from groups.identity import identity_from_input, normalize_wa_id
from groups.models import Group, GroupEvent, Participant

EventType = GroupEvent.Type


@dataclass(frozen=True)
class WebhookOrigin:
    """The webhook item behind a change: its stored event, its place in the body and a content key."""

    event_id: int | None
    item: str  # e.g. "entry[0].changes[0].groups[0]"
    key: str  # A hash of the item's content: the same item in another delivery has the same key.

    def dedupe_key(self, effect: str) -> str:
        """Return the GroupEvent.dedupe_key of one effect of this item (64 hex characters)."""
        return hashlib.sha256(f"{self.key}|{effect}".encode()).hexdigest()


@dataclass(frozen=True)
class ParticipantRef:
    """A person named in a webhook or Graph answer: phone and/or BSUID, the `input` we sent, errors."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    name: str | None = None
    input: str | None = None
    errors: list[dict] = field(default_factory=list)

    def identity(self) -> tuple[str | None, str | None]:
        """Return (wa_id, user_id), falling back on `input` (a phone, with or without +, or a BSUID)."""
        wa_id = normalize_wa_id(self.wa_id)
        if wa_id or self.user_id:
            return wa_id, self.user_id
        named = identity_from_input(self.input or "")
        return named.wa_id, named.user_id

    def parent_id(self) -> str | None:
        """Return the parent BSUID this reference gives, itself or as the `input` we sent (C1)."""
        return self.parent_user_id or identity_from_input(self.input or "").parent_user_id


def error_dict(raw: Any) -> dict[str, Any]:
    """Return an error (a dict we stored, an exception, text) in CONTRACT's `{code, title, message, details}` shape."""
    return MetaError.from_value(raw).as_dict()


def group_assert_accepts_changes(*, group: Group) -> None:
    """Check that the group can take a change now.

    Raises GroupNotActive if it is not active, GroupIsSuspended if WhatsApp suspended it.
    """
    if group.state != Group.State.ACTIVE:
        raise GroupNotActive(
            f"The group is {group.get_state_display().lower()}; only an active group accepts changes.",
            field="state", extra={"state": group.state},
        )
    if group.suspended:
        raise GroupIsSuspended(
            "WhatsApp suspended this group; it accepts no changes until the suspension is cleared.",
            field="suspended", extra={"state": group.state},
        )


def group_event_record(
    *,
    group: Group,
    type: str,
    source: str,
    detail: dict | None = None,
    occurred_at: datetime | None = None,
    actor=None,
    origin: WebhookOrigin | None = None,
    effect: str = "",
) -> GroupEvent | None:
    """Append one entry to the group's timeline; a webhook effect already recorded writes nothing.

    The time is kept in whole seconds, as Meta's webhooks give it: otherwise "asked to create" at 12:00:00.7 sorted
    after Meta's "created" at 12:00:00, though it caused it. Entries of the same second then tie on the time, and
    every timeline order (`-occurred_at`, `-pk`) breaks the tie by the order Groupdesk recorded them.
    """
    dedupe_key = origin.dedupe_key(effect or type) if origin else None
    if dedupe_key and GroupEvent.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    return GroupEvent.objects.create(
        group=group,
        type=type,
        source=source,
        detail=detail or {},
        occurred_at=(occurred_at or timezone.now()).replace(microsecond=0),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        webhook_event_id=origin.event_id if origin else None,
        webhook_item=origin.item[:100] if origin else "",
        dedupe_key=dedupe_key,
    )


def group_participant_count_refresh(*, group: Group) -> int:
    """Recount the group's active participants into `participant_count` (the one place it is written)."""
    count = group.participants.filter(state=Participant.State.ACTIVE).count()
    if group.participant_count != count:
        group.participant_count = count
        group.save(update_fields=["participant_count", "updated_at"])
    return count


def is_newer(at: datetime, than: datetime | None) -> bool:
    """Return True when an event at `at` may overwrite state last changed at `than` (ties apply: idempotent)."""
    return than is None or at >= than


def actor_or_none(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


__all__ = [
    "EventType",
    "ParticipantRef",
    "Source",
    "WebhookOrigin",
    "actor_or_none",
    "error_dict",
    "group_assert_accepts_changes",
    "group_event_record",
    "group_participant_count_refresh",
    "identity_from_input",
    "is_newer",
    "normalize_wa_id",
]
