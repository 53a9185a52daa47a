"""Apply Meta's group webhooks: settle operations and move groups, participants and join requests forward.

Every function runs inside the caller's transaction (one per webhook item), is idempotent (the same
item twice writes nothing new: events carry a dedupe key, operations settle once) and tolerates any
order (an event older than the stored state of what it would change only enters the timeline).
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from core.models import Source
from groups.exceptions import CreateNotMatched, GroupUnknown, OperationNotMatched
from groups.models import Group, GroupOperation, JoinRequest, Participant
from groups.selectors import lock_group_operations, lock_groups
from groups.services.common import (
    EventType,
    ParticipantRef,
    WebhookOrigin,
    error_dict,
    group_event_record,
    group_participant_count_refresh,
    is_newer,
    normalize_wa_id,
)
from groups.services.operations import operation_finish
from groups.services.participants import participant_state_apply
from outbox import event_types
from outbox.services import event_record

logger = logging.getLogger(__name__)

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State
WEBHOOK = Source.WEBHOOK

@dataclass(frozen=True)
class SettingOutcome:
    """One setting of a `group_settings_update` item: applied or not, its text, its errors."""

    succeeded: bool
    text: str | None = None
    sha256: str | None = None
    errors: list[dict] = field(default_factory=list)


# --- Operations ----------------------------------------------------------------------------------


def _operation_match(*, group: Group, request_id: str | None, kinds: list[str]) -> GroupOperation | None:
    """Return (locked) the operation a webhook reports: by request_id, else the oldest sent pending one of its kinds."""
    if request_id:
        operation = lock_group_operations().filter(request_id=request_id).first()
        if operation is not None:
            return operation
    # Meta's synchronous answers carry no request_id for these calls (spec §3): match by group and kind,
    # preferring operations already sent over ones still queued.
    candidates = list(lock_group_operations().filter(group=group, kind__in=kinds, state=OpState.PENDING))
    candidates.sort(key=lambda op: (op.claimed_at is None, op.pk))
    operation = candidates[0] if candidates else None
    if operation is not None and request_id and not operation.request_id:
        operation.request_id = request_id
        operation.save(update_fields=["request_id", "updated_at"])
    return operation


def _group_for_webhook(group_id: str) -> Group:
    group = lock_groups().select_related("phone_number").filter(group_id=group_id).first()
    if group is None:
        raise GroupUnknown(f"No group with group_id {group_id} is known here (sync the phone number to adopt it).")
    return group


# --- group_lifecycle_update ------------------------------------------------------------------------


def group_create_apply(
    *,
    phone_number_id: str,
    request_id: str | None,
    group_id: str | None,
    subject: str | None,
    invite_link: str | None,
    join_approval_mode: str | None,
    errors: list[dict],
    at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Finish a create: the group becomes active with its group_id and link, or create_failed.

    Raises CreateNotMatched if no create operation matches the request_id (nor a pending one the subject).
    """
    operation = GroupOperation.objects.filter(request_id=request_id, kind=Kind.CREATE).first() if request_id else None
    if operation is None and subject:
        # The webhook can beat the task's commit of the request_id: match a create still waiting on the subject.
        operation = (
            GroupOperation.objects.filter(
                kind=Kind.CREATE, state=OpState.PENDING, request_id__isnull=True,
                group__phone_number__phone_number_id=phone_number_id, group__subject=subject.strip(),
            ).order_by("pk").first()
        )
    if operation is None:
        existing = Group.objects.filter(group_id=group_id).first() if group_id else None
        if existing is not None:
            return existing  # Already known (adopted by a sync, or an earlier delivery).
        raise CreateNotMatched(f"No group create matches request_id {request_id}.")
    group = lock_groups().get(pk=operation.group_id)
    operation = lock_group_operations().get(pk=operation.pk)
    if request_id and not operation.request_id:
        operation.request_id = request_id
        operation.save(update_fields=["request_id", "updated_at"])
    if errors:
        if operation.state == OpState.PENDING:
            operation_finish(operation, group, state=OpState.FAILED, errors=errors, source=WEBHOOK, at=at,
                             origin=origin)
        return group
    if group.group_id and group.group_id != group_id:
        raise OperationNotMatched(f"The create of request_id {request_id} already made group {group.group_id}.")
    if group_id and Group.objects.exclude(pk=group.pk).filter(group_id=group_id).exists():
        raise OperationNotMatched(f"group_id {group_id} already belongs to another group here.")
    fields = []
    if group_id and not group.group_id:
        group.group_id = group_id
        fields.append("group_id")
    # A stale-operation sync may have given up on it (create_failed); Meta's word that it exists wins.
    # Only this first application sets the link: a redelivery must not bring back a link reset since.
    created = group.state in (GroupState.CREATING, GroupState.CREATE_FAILED)
    if created:
        if invite_link:
            group.invite_link = invite_link
            fields.append("invite_link")
        if join_approval_mode in Group.JoinApprovalMode.values:
            group.join_approval_mode = join_approval_mode
            fields.append("join_approval_mode")
        group.state = GroupState.ACTIVE
        group.last_error = None
        group.lifecycle_changed_at = at
        fields += ["state", "last_error", "lifecycle_changed_at"]
    if fields:
        group.save(update_fields=[*fields, "updated_at"])
    if created:
        event_record(type=event_types.GROUP_CREATED, obj=group, occurred_at=at)
    if operation.state in (OpState.PENDING, OpState.FAILED):
        operation_finish(operation, group, state=OpState.SUCCEEDED, source=WEBHOOK, at=at,
                         outcome={"group_id": group_id})
    group_event_record(
        group=group, type=EventType.CREATED, source=WEBHOOK, occurred_at=at, origin=origin,
        detail={"group_id": group_id, "invite_link": invite_link, "join_approval_mode": join_approval_mode},
    )
    return group


def group_delete_apply(
    *, group_id: str, request_id: str | None, errors: list[dict], at: datetime, origin: WebhookOrigin | None = None
) -> Group:
    """Finish a delete: the group becomes deleted (everyone is out), or returns to active with the error.

    Raises GroupUnknown for a group_id not known here.
    """
    group = _group_for_webhook(group_id)
    operation = _operation_match(group=group, request_id=request_id, kinds=[Kind.DELETE])
    if errors:
        if operation is not None and operation.state == OpState.PENDING:
            operation_finish(operation, group, state=OpState.FAILED, errors=errors, source=WEBHOOK, at=at,
                             origin=origin)
        elif operation is None:
            group_event_record(group=group, type=EventType.DELETE_FAILED, source=WEBHOOK, occurred_at=at,
                               origin=origin, detail={"errors": errors, "request_id": request_id})
        return group
    if operation is not None and operation.state in (OpState.PENDING, OpState.FAILED):
        operation_finish(operation, group, state=OpState.SUCCEEDED, source=WEBHOOK, at=at)
    applied = is_newer(at, group.lifecycle_changed_at) and group.state != GroupState.DELETED
    if applied:
        group.state = GroupState.DELETED
        group.lifecycle_changed_at = at
        group.invite_link = ""
        group.save(update_fields=["state", "lifecycle_changed_at", "invite_link", "updated_at"])
        # Deleting a group removes every participant, the business included (spec §4.5).
        group.participants.filter(state=Participant.State.ACTIVE).update(
            state=Participant.State.REMOVED, left_at=at, state_changed_at=at, updated_at=timezone.now()
        )
        group_participant_count_refresh(group=group)
        event_record(type=event_types.GROUP_DELETED, obj=group, occurred_at=at)
    group_event_record(group=group, type=EventType.DELETED, source=WEBHOOK, occurred_at=at, origin=origin,
                       detail={"request_id": request_id} if applied else {"request_id": request_id, "applied": False})
    return group


# --- group_participants_update --------------------------------------------------------------------


def group_participants_add_apply(
    *, group_id: str, participants: list[ParticipantRef], reason: str | None, at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Make each added person an active participant (joined by link, or by an approved join request)."""
    group = _group_for_webhook(group_id)
    for ref in participants:
        # Only approved join requests echo an `input` (spec §6.3): that is how the two variants differ.
        via_request = ref.input is not None
        participant_state_apply(
            group=group, ref=ref, state=Participant.State.ACTIVE, at=at, source=WEBHOOK,
            event_type=EventType.PARTICIPANT_JOINED, origin=origin,
            detail={"reason": reason, "via_join_request": via_request},
        )
        wa_id, user_id = ref.identity()
        for join_request in _join_requests_of(group, wa_id=wa_id, user_id=user_id):
            _join_request_settle(group, join_request)
    return group


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
    group = _group_for_webhook(group_id)
    by_business = initiated_by == "business" or (initiated_by is None and bool(request_id or failed))
    for ref in removed:
        participant_state_apply(
            group=group, ref=ref,
            state=Participant.State.REMOVED if by_business else Participant.State.LEFT,
            at=at, source=WEBHOOK,
            event_type=EventType.PARTICIPANT_REMOVED if by_business else EventType.PARTICIPANT_LEFT,
            origin=origin, detail={"input": ref.input} if ref.input else None,
        )
    if not by_business:
        return group
    outcome = {ref.input or ref.wa_id or ref.user_id or "?": {"removed": True} for ref in removed}
    for ref in failed:
        outcome[ref.input or ref.wa_id or ref.user_id or "?"] = {"removed": False, "errors": ref.errors or errors}
    operation = _operation_match(group=group, request_id=request_id, kinds=[Kind.REMOVE_PARTICIPANTS])
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
    return group


def join_request_apply(
    *, group_id: str, join_request_id: str, ref: ParticipantRef, state: str, at: datetime,
    reason: str | None = None, origin: WebhookOrigin | None = None,
) -> JoinRequest:
    """Record a join request created (pending) or withdrawn (revoked) by the user, newest event winning."""
    group = _group_for_webhook(group_id)
    wa_id, user_id = ref.identity()
    join_request, created = JoinRequest.objects.get_or_create(
        join_request_id=join_request_id,
        defaults={"group": group, "wa_id": wa_id, "user_id": user_id, "username": ref.username or "", "state": state,
                  "requested_at": at if state == JoinRequest.State.PENDING else None, "state_changed_at": at},
    )
    applied = created or is_newer(at, join_request.state_changed_at)
    if not created:
        fields = []
        for name, value in (("wa_id", wa_id), ("user_id", user_id), ("username", ref.username)):
            if value and not getattr(join_request, name):
                setattr(join_request, name, value)  # A later item may name the person more fully.
                fields.append(name)
        if fields:
            join_request.save(update_fields=[*fields, "updated_at"])
    group_event_record(
        group=group,
        type=EventType.JOIN_REQUEST_CREATED if state == JoinRequest.State.PENDING else EventType.JOIN_REQUEST_REVOKED,
        source=WEBHOOK, occurred_at=at, origin=origin,
        detail={"join_request_id": join_request_id, "wa_id": wa_id, "user_id": user_id,
                **({"reason": reason} if reason else {}), **({} if applied else {"applied": False})},
    )
    _join_request_settle(group, join_request, created=created)
    return join_request


def _join_requests_of(group: Group, *, wa_id: str | None, user_id: str | None) -> list[JoinRequest]:
    query = Q()
    if wa_id:
        query |= Q(wa_id=wa_id)
    if user_id:
        query |= Q(user_id=user_id)
    return list(group.join_requests.filter(query).order_by("pk")) if query else []


# Ties at one timestamp: the request first, then a join, then a decision or a withdrawal.
_REQUEST_STEP = {
    EventType.JOIN_REQUEST_CREATED: (0, JoinRequest.State.PENDING),
    EventType.PARTICIPANT_JOINED: (1, JoinRequest.State.APPROVED),
    EventType.JOIN_REQUEST_APPROVED: (2, JoinRequest.State.APPROVED),
    EventType.JOIN_REQUEST_REJECTED: (2, JoinRequest.State.REJECTED),
    EventType.JOIN_REQUEST_REVOKED: (2, JoinRequest.State.REVOKED),
}


def _join_request_settle(group: Group, join_request: JoinRequest, *, created: bool = False) -> None:
    """Set a join request's state from its timeline replayed in Meta's time order, whatever order it arrived in.

    The request's own entries (created, revoked, approved/rejected by staff) set its state; a webhook join of
    the same person after it approves it if it was pending then, as that join did when it arrived in order.
    """
    own = Q(type__in=[EventType.JOIN_REQUEST_CREATED, EventType.JOIN_REQUEST_REVOKED, EventType.JOIN_REQUEST_APPROVED,
                      EventType.JOIN_REQUEST_REJECTED], detail__join_request_id=join_request.join_request_id)
    person = Q()
    if join_request.wa_id:
        person |= Q(detail__wa_id=join_request.wa_id)
    if join_request.user_id:
        person |= Q(detail__user_id=join_request.user_id)
    joins = Q(type=EventType.PARTICIPANT_JOINED, source=WEBHOOK) & person if person else Q(pk__in=[])
    steps = sorted(
        (occurred_at, _REQUEST_STEP[type_][0], type_)
        for occurred_at, type_ in group.events.filter(own | joins).values_list("occurred_at", "type")
    )
    state, changed_at, requested_at = None, None, None
    for at, _rank, type_ in steps:
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
        event_record(type=JOIN_REQUEST_EVENTS[join_request.state], obj=join_request, occurred_at=changed_at)


JOIN_REQUEST_EVENTS = {
    JoinRequest.State.PENDING: event_types.GROUP_JOIN_REQUEST_CREATED,
    JoinRequest.State.APPROVED: event_types.GROUP_JOIN_REQUEST_APPROVED,
    JoinRequest.State.REJECTED: event_types.GROUP_JOIN_REQUEST_REJECTED,
    JoinRequest.State.REVOKED: event_types.GROUP_JOIN_REQUEST_REVOKED,
}


# --- group_settings_update ------------------------------------------------------------------------


def group_settings_apply(
    *,
    group_id: str,
    request_id: str | None,
    subject: SettingOutcome | None,
    description: SettingOutcome | None,
    picture: SettingOutcome | None,
    errors: list[dict],
    at: datetime,
    origin: WebhookOrigin | None = None,
) -> Group:
    """Apply each setting Meta reports as updated; record the rest as failed, per setting."""
    group = _group_for_webhook(group_id)
    reported = {name: o for name, o in (("subject", subject), ("description", description), ("picture", picture))
                if o is not None}
    if not reported:
        kinds = [Kind.UPDATE_SETTINGS, Kind.UPDATE_PICTURE]
    elif set(reported) == {"picture"}:
        kinds = [Kind.UPDATE_PICTURE]
    elif "picture" in reported:
        kinds = [Kind.UPDATE_SETTINGS, Kind.UPDATE_PICTURE]
    else:
        kinds = [Kind.UPDATE_SETTINGS]
    operation = _operation_match(group=group, request_id=request_id, kinds=kinds)
    applied = is_newer(at, group.settings_changed_at)
    changed = []
    if applied:
        if subject is not None and subject.succeeded and subject.text is not None:
            group.subject = subject.text.strip()[: Group.SUBJECT_MAX_LENGTH]
            changed.append("subject")
        if description is not None and description.succeeded and description.text is not None:
            group.description = description.text[: Group.DESCRIPTION_MAX_LENGTH]
            changed.append("description")
        if changed or (picture is not None and picture.succeeded):
            group.settings_changed_at = at
            group.save(update_fields=[*changed, "settings_changed_at", "updated_at"])
            updated = [name for name, o in reported.items() if o.succeeded]
            event_record(type=event_types.GROUP_UPDATED, obj=group, occurred_at=at, detail={"updated": updated})
    outcome = {
        name: {"updated": o.succeeded, **({"text": o.text} if o.text is not None else {}),
               **({"sha256": o.sha256} if o.sha256 else {}), **({"errors": o.errors} if o.errors else {})}
        for name, o in reported.items()
    }
    succeeded = {name: v for name, v in outcome.items() if v["updated"]}
    failed = {name: v for name, v in outcome.items() if not v["updated"]}
    if succeeded:
        group_event_record(group=group, type=EventType.SETTINGS_UPDATED, source=WEBHOOK, occurred_at=at,
                           origin=origin, detail={"settings": succeeded, **({} if applied else {"applied": False})})
    if failed or (errors and not reported):
        group_event_record(group=group, type=EventType.SETTINGS_FAILED, source=WEBHOOK, occurred_at=at,
                           origin=origin, detail={"settings": failed, "errors": errors})
    if operation is not None and operation.state == OpState.PENDING:
        if not failed and not errors:
            state = OpState.SUCCEEDED
        elif succeeded:
            state = OpState.PARTIALLY_FAILED
        else:
            state = OpState.FAILED
        operation_errors = errors or [e for v in failed.values() for e in v.get("errors", [])]
        operation_finish(operation, group, state=state, errors=operation_errors, outcome={"settings": outcome},
                         source=WEBHOOK, at=at, write_event=False)
    return group


# --- group_status_update --------------------------------------------------------------------------


def group_suspension_apply(*, group_id: str, suspended: bool, at: datetime,
                           origin: WebhookOrigin | None = None) -> Group:
    """Set or clear `suspended`, unless a newer suspension event is already applied."""
    group = _group_for_webhook(group_id)
    applied = is_newer(at, group.suspension_changed_at)
    if applied:
        changed = group.suspended != suspended
        group.suspended = suspended
        group.suspension_changed_at = at
        group.save(update_fields=["suspended", "suspension_changed_at", "updated_at"])
        if changed:
            event_record(type=event_types.GROUP_SUSPENDED if suspended else event_types.GROUP_UNSUSPENDED, obj=group,
                         occurred_at=at)
    group_event_record(
        group=group, type=EventType.SUSPENDED if suspended else EventType.SUSPENSION_CLEARED, source=WEBHOOK,
        occurred_at=at, origin=origin, detail={} if applied else {"applied": False, "why": "older than stored state"},
    )
    return group


__all__ = [
    "SettingOutcome",
    "error_dict",
    "group_create_apply",
    "group_delete_apply",
    "group_participants_add_apply",
    "group_participants_remove_apply",
    "group_settings_apply",
    "group_suspension_apply",
    "join_request_apply",
    "normalize_wa_id",
    "operation_finish",
]
