"""Participants: lookup or creation by wa_id/BSUID, and state changes that only move forward in time."""

from datetime import datetime

from groups.models import Group, Participant
from groups.selectors import participant_find
from groups.services.common import (
    ParticipantRef,
    WebhookOrigin,
    group_event_record,
    group_participant_count_refresh,
    is_newer,
    normalize_wa_id,
)

ParticipantState = Participant.State


def _fill_identity(participant: Participant, *, ref: ParticipantRef, wa_id: str | None, user_id: str | None) -> None:
    """Add what a newer payload tells about the person (a BSUID, a username) without losing what we had."""
    changed = []
    group = participant.group
    if wa_id and not participant.wa_id and not group.participants.filter(wa_id=wa_id).exists():
        participant.wa_id = wa_id
        changed.append("wa_id")
    if user_id and not participant.user_id and not group.participants.filter(user_id=user_id).exists():
        participant.user_id = user_id
        changed.append("user_id")
    for name in ("parent_user_id", "username", "name"):
        value = getattr(ref, name)
        if value and getattr(participant, name) != value:
            setattr(participant, name, value[: Participant._meta.get_field(name).max_length])
            changed.append(name)
    if changed:
        participant.save(update_fields=[*changed, "updated_at"])


def participant_get_or_create(
    *,
    group: Group,
    wa_id: str | None = None,
    user_id: str | None = None,
    parent_user_id: str | None = None,
    username: str | None = None,
    name: str | None = None,
) -> tuple[Participant, bool]:
    """Return the group's participant known by `wa_id` and/or `user_id`, creating an active one if new.

    Meant for callers that see a person act in the group (an inbound message): a new row is active,
    with no state time, so any membership webhook still applies over it. Raises ValueError without an identity.
    """
    wa_id = normalize_wa_id(wa_id)
    if not wa_id and not user_id:
        raise ValueError("a participant needs a wa_id or a user_id")
    ref = ParticipantRef(wa_id=wa_id, user_id=user_id, parent_user_id=parent_user_id, username=username, name=name)
    participant = participant_find(group=group, wa_id=wa_id, user_id=user_id)
    if participant is not None:
        _fill_identity(participant, ref=ref, wa_id=wa_id, user_id=user_id)
        return participant, False
    participant = Participant.objects.create(
        group=group,
        wa_id=wa_id,
        user_id=user_id,
        parent_user_id=parent_user_id or "",
        username=username or "",
        name=name or "",
        state=ParticipantState.ACTIVE,
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

    Returns the participant, or None when the reference names nobody (no phone, no BSUID).
    """
    wa_id, user_id = ref.identity()
    if not wa_id and not user_id:
        return None
    participant = participant_find(group=group, wa_id=wa_id, user_id=user_id)
    if participant is None:
        # A leave may arrive before its join: the row starts in whatever state the first event says.
        participant = Participant(group=group, wa_id=wa_id, user_id=user_id, state=state)
        participant.save()
    else:
        _fill_identity(participant, ref=ref, wa_id=wa_id, user_id=user_id)
    for name in ("parent_user_id", "username", "name"):
        if getattr(ref, name) and not getattr(participant, name):
            setattr(participant, name, getattr(ref, name))
    applied = is_newer(at, participant.state_changed_at)
    if applied:
        participant.state = state
        participant.state_changed_at = at
        if state == ParticipantState.ACTIVE:
            participant.joined_at = at
            participant.left_at = None
        else:
            participant.left_at = at
        participant.save()
        group_participant_count_refresh(group=group)
    elif state == ParticipantState.ACTIVE and participant.joined_at is None:
        participant.joined_at = at  # A late join still tells when they joined.
        participant.save(update_fields=["joined_at", "updated_at"])
    who = {"wa_id": participant.wa_id, "user_id": participant.user_id}
    group_event_record(
        group=group,
        type=event_type,
        source=source,
        occurred_at=at,
        detail={**who, **(detail or {}), **({} if applied else {"applied": False, "why": "older than stored state"})},
        origin=origin,
        actor=actor,
        effect=f"{event_type}:{wa_id or ''}:{user_id or ''}",
    )
    return participant
