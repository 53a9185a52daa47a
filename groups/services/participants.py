"""Participants: lookup or creation by wa_id/BSUID, and state changes that only move forward in time.

Every change here runs under its group's lock (`lock_groups()`), which serialises the participants of one group.
"""

from datetime import datetime

from django.dispatch import Signal

from groups.models import Group, Participant
from groups.services.common import (
    ParticipantRef,
    WebhookOrigin,
    group_event_record,
    group_participant_count_refresh,
    is_newer,
    normalize_wa_id,
)
from outbox import event_types
from outbox.services import event_record

ParticipantState = Participant.State

# What a person tells about themselves; the newest item that gives it wins (see Participant.profile_seen_at).
PROFILE_FIELDS = ("parent_user_id", "username", "name")
# Sent when a participant's wa_id/user_id changes, or when rows found to be one person are merged into it
# (kwargs `participant`, with its new identity, and `merged_ids`, rows about to be deleted). Apps holding rows
# keyed by a person's identity (messaging's receipts and status history) re-key them; groups imports none of them.
participant_identity_changed = Signal()


def _resolve(
    *, group: Group, wa_id: str | None, user_id: str | None, parent_user_id: str | None = None
) -> Participant | None:
    """Return the group's participant known by `wa_id` and/or `user_id`; merge two rows an item shows are one person.

    An item naming only a parent BSUID (a removal we asked by it, C1) finds the one participant that has it.
    A person may first be seen by phone (a status) and by BSUID (an inbound message) before an item names both:
    whatever the order, they end as one row.
    """
    by_phone = group.participants.filter(wa_id=wa_id).first() if wa_id else None
    by_bsuid = group.participants.filter(user_id=user_id).first() if user_id else None
    if by_phone is None or by_bsuid is None or by_phone.pk == by_bsuid.pk:
        return by_phone or by_bsuid or (_by_parent(group, parent_user_id) if not (wa_id or user_id) else None)
    if by_phone.user_id or by_bsuid.wa_id:
        return by_phone  # Each row already has another identity: not the same person by what we know.
    return _merge(keep=by_phone, other=by_bsuid)


def _by_parent(group: Group, parent_user_id: str | None) -> Participant | None:
    """Return the one participant of `group` with this parent BSUID (None if nobody, or several, have it)."""
    if not parent_user_id:
        return None
    rows = list(group.participants.filter(parent_user_id=parent_user_id)[:2])
    return rows[0] if len(rows) == 1 else None


def _merge(*, keep: Participant, other: Participant) -> Participant:
    """Fold `other` (known by BSUID only) into `keep` (by phone only), as if one row had seen both histories."""
    keep.user_id = other.user_id
    newer, older = (other, keep) if _profile_newer(other, than=keep) else (keep, other)
    for name in PROFILE_FIELDS:
        setattr(keep, name, getattr(newer, name) or getattr(older, name))
    keep.profile_seen_at = newer.profile_seen_at or older.profile_seen_at
    # State, its time and left_at come from the newest membership event; joined_at is the latest join.
    if other.state_changed_at is not None and (
        keep.state_changed_at is None or other.state_changed_at > keep.state_changed_at
    ):
        keep.state, keep.state_changed_at, keep.left_at = other.state, other.state_changed_at, other.left_at
    joins = [at for at in (keep.joined_at, other.joined_at) if at is not None]
    keep.joined_at = max(joins) if joins else None
    participant_identity_changed.send(sender=Participant, participant=keep, merged_ids=[other.pk])
    other.delete()
    keep.save()
    group_participant_count_refresh(group=keep.group)
    return keep


def _profile_newer(participant: Participant, *, than: Participant) -> bool:
    seen, other_seen = participant.profile_seen_at, than.profile_seen_at
    return seen is not None and (other_seen is None or seen > other_seen)


def _fill_identity(
    participant: Participant, *, ref: ParticipantRef, wa_id: str | None, user_id: str | None, at: datetime | None
) -> None:
    """Add what a newer payload tells about the person (a BSUID, a username) without losing what we had.

    Profile fields (a name, a username) follow the newest item that gave them: an item older than the stored
    profile, or of unknown time (`at` None), only fills what is empty.
    """
    changed = []
    group = participant.group
    if wa_id and not participant.wa_id and not group.participants.filter(wa_id=wa_id).exists():
        participant.wa_id = wa_id
        changed.append("wa_id")
    if user_id and not participant.user_id and not group.participants.filter(user_id=user_id).exists():
        participant.user_id = user_id
        changed.append("user_id")
    current = {name: getattr(participant, name) for name in PROFILE_FIELDS}
    updates, seen_at = profile_merge(current, seen_at=participant.profile_seen_at, profile=_profile_of(ref), at=at)
    for name, value in updates.items():
        setattr(participant, name, value)
        changed.append(name)
    if seen_at != participant.profile_seen_at:
        participant.profile_seen_at = seen_at
        changed.append("profile_seen_at")
    if changed:
        participant.save(update_fields=[*changed, "updated_at"])
    if {"wa_id", "user_id"} & set(changed):
        participant_identity_changed.send(sender=Participant, participant=participant, merged_ids=[])


def profile_merge(
    current: dict[str, str], *, seen_at: datetime | None, profile: dict[str, str], at: datetime | None
) -> tuple[dict[str, str], datetime | None]:
    """Return the profile fields an item at `at` changes, and the profile's new time (Participant.profile_seen_at).

    The newest item wins; an older one, or one of unknown time (`at` None), only fills what is empty.
    """
    newest = at is not None and is_newer(at, seen_at)
    updates = {name: value for name, value in profile.items()
               if current.get(name) != value and (newest or not current.get(name))}
    return updates, at if profile and newest else seen_at


def participant_profile(*, parent_user_id: str | None, username: str | None, name: str | None) -> dict[str, str]:
    """Return the profile fields given (non-empty), cut to their columns' lengths."""
    given = {"parent_user_id": parent_user_id, "username": username, "name": name}
    return {field: value[: Participant._meta.get_field(field).max_length] for field, value in given.items() if value}


def _profile_of(ref: ParticipantRef) -> dict[str, str]:
    return participant_profile(parent_user_id=ref.parent_id(), username=ref.username, name=ref.name)


def _new_row_profile(ref: ParticipantRef, *, at: datetime | None) -> dict:
    """Return a new row's profile fields from `ref`, seen at `at` when it gives any."""
    profile = _profile_of(ref)
    return {**profile, "profile_seen_at": at if profile else None}


def participant_get_or_create(
    *,
    group: Group,
    wa_id: str | None = None,
    user_id: str | None = None,
    parent_user_id: str | None = None,
    username: str | None = None,
    name: str | None = None,
    at: datetime | None = None,
) -> tuple[Participant, bool]:
    """Return the group's participant known by `wa_id` and/or `user_id`, creating one if new.

    Meant for callers that see a person act in the group (an inbound message, a delivery to them): a new row is
    active, with no state time, so any membership webhook still applies over it, whenever it arrives. In a group
    already deleted, it starts removed as of the deletion, as the deletion would have left it.
    `at` is Meta's time of the item that named them: it orders the profile (name, username) between items.
    Raises ValueError without an identity. The caller holds the group's lock.
    """
    wa_id = normalize_wa_id(wa_id)
    if not wa_id and not user_id:
        raise ValueError("a participant needs a wa_id or a user_id")
    ref = ParticipantRef(wa_id=wa_id, user_id=user_id, parent_user_id=parent_user_id, username=username, name=name)
    participant = _resolve(group=group, wa_id=wa_id, user_id=user_id)
    if participant is not None:
        _fill_identity(participant, ref=ref, wa_id=wa_id, user_id=user_id, at=at)
        return participant, False
    deleted_at = group.lifecycle_changed_at if group.state == Group.State.DELETED else None
    participant = Participant.objects.create(
        group=group,
        wa_id=wa_id,
        user_id=user_id,
        **_new_row_profile(ref, at=at),
        state=ParticipantState.REMOVED if deleted_at else ParticipantState.ACTIVE,
        left_at=deleted_at,
        state_changed_at=deleted_at,
    )
    group_participant_count_refresh(group=group)
    return participant, True


def participant_state_apply(
    *,
    group: Group,
    ref: ParticipantRef,
    state: str,
    at: datetime,
    source: str,
    event_type: str,
    detail: dict | None = None,
    origin: WebhookOrigin | None = None,
    actor=None,
) -> Participant | None:
    """Move one participant to `state` as of `at`; an event older than the stored state only enters history.

    Any arrival order ends alike: state, state time and left_at follow the newest event, joined_at the latest join.
    Returns the participant, or None when the reference names nobody (no phone, no BSUID).
    """
    wa_id, user_id = ref.identity()
    parent_id = ref.parent_id()
    participant = _resolve(group=group, wa_id=wa_id, user_id=user_id, parent_user_id=parent_id)
    if participant is None and not wa_id and not user_id:
        return None  # Named by nothing, or only by a parent BSUID nobody here has: no row can hold that alone.
    state_was = participant.state if participant is not None else None
    if participant is None:
        # A leave may arrive before its join: the row starts in whatever state the first event says.
        participant = Participant(group=group, wa_id=wa_id, user_id=user_id, state=state,
                                  **_new_row_profile(ref, at=at))
        participant.save()
    else:
        _fill_identity(participant, ref=ref, wa_id=wa_id, user_id=user_id, at=at)
    applied = is_newer(at, participant.state_changed_at)
    if applied:
        participant.state = state
        participant.state_changed_at = at
        if state == ParticipantState.ACTIVE:
            participant.left_at = None
        else:
            participant.left_at = at
    if state == ParticipantState.ACTIVE and (participant.joined_at is None or at > participant.joined_at):
        participant.joined_at = at  # The latest join, whether it arrives before or after older ones.
    participant.save()
    if applied:
        group_participant_count_refresh(group=group)
    # The entry says who the item named, not what we knew of them on arrival (that depends on arrival order).
    who = {"wa_id": wa_id, "user_id": user_id, **({"parent_user_id": parent_id} if parent_id else {})}
    group_event_record(
        group=group,
        type=event_type,
        source=source,
        occurred_at=at,
        detail={**who, **(detail or {}), **({} if applied else {"applied": False, "why": "older than stored state"})},
        origin=origin,
        actor=actor,
        effect=f"{event_type}:{wa_id or ''}:{user_id or ''}" + ("" if wa_id or user_id else f":{parent_id}"),
    )
    if participant.state != state_was:
        event_record(type=_PARTICIPANT_EVENTS[participant.state], obj=participant, occurred_at=at)
    return participant


_PARTICIPANT_EVENTS = {
    ParticipantState.ACTIVE: event_types.GROUP_PARTICIPANT_JOINED,
    ParticipantState.LEFT: event_types.GROUP_PARTICIPANT_LEFT,
    ParticipantState.REMOVED: event_types.GROUP_PARTICIPANT_REMOVED,
}
