"""Apply `group_lifecycle_update`: a create or a delete finished at Meta (spec §6.2)."""

from datetime import datetime

from django.utils import timezone

from groups.exceptions import CreateNotMatched, OperationNotMatched
from groups.models import Group, GroupOperation, Participant
from groups.selectors import lock_group_operations, lock_groups
from groups.services.common import (
    EventType,
    WebhookOrigin,
    group_event_record,
    group_participant_count_refresh,
    is_newer,
)
from groups.services.operations import operation_finish
from groups.services.webhook_apply.settle import WEBHOOK, GroupState, Kind, OpState, group_for_webhook, operation_match
from outbox import event_types
from outbox.services import event_record


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
    operation = _create_operation(phone_number_id=phone_number_id, request_id=request_id, subject=subject)
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
    _group_activate(group, group_id=group_id, invite_link=invite_link, join_approval_mode=join_approval_mode, at=at)
    if operation.state in (OpState.PENDING, OpState.FAILED):
        operation_finish(operation, group, state=OpState.SUCCEEDED, source=WEBHOOK, at=at,
                         outcome={"group_id": group_id})
    group_event_record(
        group=group, type=EventType.CREATED, source=WEBHOOK, occurred_at=at, origin=origin,
        detail={"group_id": group_id, "invite_link": invite_link, "join_approval_mode": join_approval_mode},
    )
    return group


def _create_operation(*, phone_number_id: str, request_id: str | None, subject: str | None) -> GroupOperation | None:
    """Return the create a lifecycle item reports: by request_id, else a pending one of that number and subject."""
    operation = GroupOperation.objects.filter(request_id=request_id, kind=Kind.CREATE).first() if request_id else None
    if operation is None and subject:
        # The webhook can beat the task's commit of the request_id: match a create still waiting on the subject.
        operation = (
            GroupOperation.objects.filter(
                kind=Kind.CREATE, state=OpState.PENDING, request_id__isnull=True,
                group__phone_number__phone_number_id=phone_number_id, group__subject=subject.strip(),
            ).order_by("pk").first()
        )
    return operation


def _group_activate(
    group: Group, *, group_id: str | None, invite_link: str | None, join_approval_mode: str | None, at: datetime
) -> None:
    """Give a created group its group_id, and on the first application its link, mode and active state."""
    fields = []
    if group_id and not group.group_id:
        group.group_id = group_id
        fields.append("group_id")
    # A stale-operation sync may have given up on it (create_failed); Meta's word that it exists wins.
    # Only this first application sets the link: a redelivery must not bring back a link reset since.
    if group.state in (GroupState.CREATING, GroupState.CREATE_FAILED):
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
    if "state" in fields:
        event_record(type=event_types.GROUP_CREATED, obj=group, occurred_at=at)


def group_delete_apply(
    *, group_id: str, request_id: str | None, errors: list[dict], at: datetime, origin: WebhookOrigin | None = None
) -> Group:
    """Finish a delete: the group becomes deleted (everyone is out), or returns to active with the error.

    Raises GroupUnknown for a group_id not known here.
    """
    group = group_for_webhook(group_id)
    operation = operation_match(group=group, request_id=request_id, kinds=[Kind.DELETE])
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
