"""Apply `group_participants_update`: joins, leaves, our removals' outcomes and join requests (spec §6.3, C1, C2)."""

from datetime import datetime

from django.db.models import Q

from groups.event_payloads import JOIN_REQUEST_EVENTS
from groups.identity import identity_from_input
from groups.models import Group, GroupOperation, JoinRequest, Participant
from groups.services.common import EventType, ParticipantRef, WebhookOrigin, group_event_record, is_newer
from groups.services.operations import operation_finish
from groups.services.participants import participant_state_apply
from groups.services.webhook_apply.settle import WEBHOOK, Kind, OpState, group_for_webhook, operation_match
from outbox.services import event_record


def group_participants_add_apply(
    *, group_id: str, participants: list[ParticipantRef], reason: str | None, at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Make each added person an active participant (joined by link, or by an approved join request)."""
    group = group_for_webhook(group_id)
    for ref in participants:
        # Only approved join requests echo an `input` (spec §6.3): that is how the two variants differ.
        via_request = ref.input is not None
        participant_state_apply(
            group=group, ref=ref, state=Participant.State.ACTIVE, at=at, source=WEBHOOK,
            event_type=EventType.PARTICIPANT_JOINED, origin=origin,
            detail={"reason": reason, "via_join_request": via_request},
        )
        wa_id, user_id = ref.identity()
        for join_request in _join_requests_of(group, wa_id=wa_id, user_id=user_id, parent_user_id=ref.parent_id()):
            _join_request_settle(group, join_request)
    return group


def is_business_removal(*, initiated_by: str | None, removed: list[ParticipantRef],
                        failed: list[ParticipantRef]) -> bool:
    """Return True for our removal's outcome, False for people who left on their own.

    Meta says so in `initiated_by`; when it is missing, a removal names people by the `input` we sent (or reports
    failures), a leave gives only their wa_id/user_id. A `request_id` alone proves nothing: leaves carry one too (C2).
    """
    if initiated_by is not None:
        return initiated_by == "business"
    return bool(failed) or any(ref.input for ref in removed)


def group_participants_remove_apply(
    *,
    group_id: str,
    request_id: str | None,
    initiated_by: str | None,
    removed: list[ParticipantRef],
    failed: list[ParticipantRef],
    errors: list[dict],
    at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Apply a leave, or the outcome of our removal per participant (removed, or failed with its errors)."""
    group = group_for_webhook(group_id)
    by_business = is_business_removal(initiated_by=initiated_by, removed=removed, failed=failed)
    for ref in removed:
        participant_state_apply(
            group=group, ref=ref,
            state=Participant.State.REMOVED if by_business else Participant.State.LEFT,
            at=at, source=WEBHOOK,
            event_type=EventType.PARTICIPANT_REMOVED if by_business else EventType.PARTICIPANT_LEFT,
            origin=origin, detail={"input": ref.input} if ref.input else None,
        )
    if by_business:
        _removal_settle(group, request_id=request_id, removed=removed, failed=failed, errors=errors, at=at,
                        origin=origin)
    return group


def _removal_settle(group: Group, *, request_id: str | None, removed: list[ParticipantRef],
                    failed: list[ParticipantRef], errors: list[dict], at: datetime,
                    origin: WebhookOrigin | None) -> None:
    """Settle the removal operation the item reports (if ours), and record the people it failed to remove."""
    outcome = {_named(ref): {"removed": True} for ref in removed}
    for ref in failed:
        outcome[_named(ref)] = {"removed": False, "errors": ref.errors or errors}
    inputs = {_identity(value) for value in outcome}

    def concerns(operation: GroupOperation) -> bool:
        # Without our request_id, only a removal that asked for at least one of these people can be this one.
        asked = {_identity(value) for value in (operation.requested or {}).get("participants", [])}
        return not asked or bool(inputs & asked)

    operation = operation_match(group=group, request_id=request_id, kinds=[Kind.REMOVE_PARTICIPANTS],
                                concerns=concerns)
    if failed:
        group_event_record(
            group=group, type=EventType.REMOVE_FAILED, source=WEBHOOK, occurred_at=at, origin=origin,
            detail={"failed": {k: v for k, v in outcome.items() if not v["removed"]}, "errors": errors,
                    "operation": operation.pk if operation else None},
        )
    if operation is not None and operation.state == OpState.PENDING:
        state = OpState.FAILED if not removed else OpState.PARTIALLY_FAILED if failed else OpState.SUCCEEDED
        operation_finish(operation, group, state=state, errors=errors, outcome={"participants": outcome},
                         source=WEBHOOK, at=at, write_event=False)


def _named(ref: ParticipantRef) -> str:
    return ref.input or ref.wa_id or ref.user_id or "?"


def _identity(value: str) -> str:
    """Return the one identifier a removal input names, so `+16505551234` and `16505551234` compare equal."""
    return next((v for v in identity_from_input(value) if v), value)


def join_request_apply(
    *, group_id: str, join_request_id: str, ref: ParticipantRef, state: str, at: datetime,
    reason: str | None = None, origin: WebhookOrigin | None = None,
) -> JoinRequest:
    """Record a join request created (pending) or withdrawn (revoked) by the user, newest event winning."""
    group = group_for_webhook(group_id)
    wa_id, user_id = ref.identity()
    named = {"wa_id": wa_id, "user_id": user_id, "parent_user_id": ref.parent_user_id, "username": ref.username}
    join_request, created = JoinRequest.objects.get_or_create(
        join_request_id=join_request_id,
        defaults={"group": group, **{k: v or "" for k, v in named.items()}, "wa_id": wa_id, "user_id": user_id,
                  "state": state, "requested_at": at if state == JoinRequest.State.PENDING else None,
                  "state_changed_at": at},
    )
    applied = created or is_newer(at, join_request.state_changed_at)
    if not created:
        filled = [name for name, value in named.items() if value and not getattr(join_request, name)]
        for name in filled:
            setattr(join_request, name, named[name])  # A later item may name the person more fully.
        if filled:
            join_request.save(update_fields=[*filled, "updated_at"])
    group_event_record(
        group=group,
        type=EventType.JOIN_REQUEST_CREATED if state == JoinRequest.State.PENDING else EventType.JOIN_REQUEST_REVOKED,
        source=WEBHOOK, occurred_at=at, origin=origin,
        detail={"join_request_id": join_request_id, "wa_id": wa_id, "user_id": user_id,
                **({"reason": reason} if reason else {}), **({} if applied else {"applied": False})},
    )
    _join_request_settle(group, join_request, created=created)
    return join_request


def _join_requests_of(group: Group, *, wa_id: str | None, user_id: str | None,
                      parent_user_id: str | None = None) -> list[JoinRequest]:
    query = Q()
    if wa_id:
        query |= Q(wa_id=wa_id)
    if user_id:
        query |= Q(user_id=user_id)
    if parent_user_id:
        query |= Q(parent_user_id=parent_user_id)
    return list(group.join_requests.filter(query).order_by("pk")) if query else []


# Ties at one timestamp: the request first, then a join, then a decision or a withdrawal.
_REQUEST_STEP = {
    EventType.JOIN_REQUEST_CREATED: (0, JoinRequest.State.PENDING),
    EventType.PARTICIPANT_JOINED: (1, JoinRequest.State.APPROVED),
    EventType.JOIN_REQUEST_APPROVED: (2, JoinRequest.State.APPROVED),
    EventType.JOIN_REQUEST_REJECTED: (2, JoinRequest.State.REJECTED),
    EventType.JOIN_REQUEST_REVOKED: (2, JoinRequest.State.REVOKED),
}


def _join_request_timeline(group: Group, join_request: JoinRequest) -> list[tuple]:
    """Return (occurred_at, rank, type) of the request's own entries and of webhook joins of the same person."""
    own = Q(type__in=[EventType.JOIN_REQUEST_CREATED, EventType.JOIN_REQUEST_REVOKED, EventType.JOIN_REQUEST_APPROVED,
                      EventType.JOIN_REQUEST_REJECTED], detail__join_request_id=join_request.join_request_id)
    person = Q()
    if join_request.wa_id:
        person |= Q(detail__wa_id=join_request.wa_id)
    if join_request.user_id:
        person |= Q(detail__user_id=join_request.user_id)
    joins = Q(type=EventType.PARTICIPANT_JOINED, source=WEBHOOK) & person if person else Q(pk__in=[])
    return sorted(
        (occurred_at, _REQUEST_STEP[type_][0], type_)
        for occurred_at, type_ in group.events.filter(own | joins).values_list("occurred_at", "type")
    )


def _join_request_settle(group: Group, join_request: JoinRequest, *, created: bool = False) -> None:
    """Set a join request's state from its timeline replayed in Meta's time order, whatever order it arrived in.

    The request's own entries (created, revoked, approved/rejected by staff) set its state; a webhook join of
    the same person after it approves it if it was pending then, as that join did when it arrived in order.
    """
    state, changed_at, requested_at = None, None, None
    for at, _rank, type_ in _join_request_timeline(group, join_request):
        new_state = _REQUEST_STEP[type_][1]
        if type_ == EventType.JOIN_REQUEST_CREATED:
            requested_at = requested_at or at
        elif type_ == EventType.PARTICIPANT_JOINED and state != JoinRequest.State.PENDING:
            continue  # A join approves only a request pending at that time.
        if new_state != state:
            state, changed_at = new_state, at
    if state is None:
        return  # Nothing on the timeline (e.g. found by a sync): keep what is stored.
    values = {"state": state, "state_changed_at": changed_at, "requested_at": requested_at or join_request.requested_at}
    changed = [name for name, value in values.items() if getattr(join_request, name) != value]
    for name in changed:
        setattr(join_request, name, values[name])
    if changed:
        join_request.save(update_fields=[*changed, "updated_at"])
    if created or "state" in changed:
        event_record(type=JOIN_REQUEST_EVENTS[join_request.state], obj=join_request,
                     occurred_at=join_request.state_changed_at)


__all__ = ["group_participants_add_apply", "group_participants_remove_apply",
           "is_business_removal", "join_request_apply"]
