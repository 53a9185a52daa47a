"""Asynchronous group operations: validate, write the row in its first state, send it from a task.

Create, delete, settings, picture and removals complete through webhooks. A request writes a
GroupOperation (and the group's first state) and enqueues `group_operation_send_task` on commit;
the task claims the row, calls Meta outside any transaction and records what Meta answered.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.due import is_due, run_at
from core.models import Source
from groups.cloud_api import CloudAPIClient, CloudAPIError, RetryClass, get_cloud_api_client, retry_delay
from groups.exceptions import GroupCreateNotFailed, GroupInputInvalid
from groups.models import Group, GroupAuditAction, GroupOperation, PhoneNumber
from groups.selectors import lock_group_operations, lock_groups
from groups.services.common import (
    EventType,
    WebhookOrigin,
    actor_or_none,
    error_dict,
    group_assert_accepts_changes,
    group_event_record,
    is_newer,
)
from groups.services.operation_inputs import (
    clean_description,
    clean_participants,
    clean_subject,
    group_picture_validate,
)
from outbox import event_types
from outbox.services import event_record

logger = logging.getLogger(__name__)

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State


# --- Requests: write the first state, enqueue on commit -------------------------------------------


def _enqueue(operation: GroupOperation) -> None:
    from groups.tasks import group_operation_send_task

    transaction.on_commit(lambda: group_operation_send_task.delay(operation.pk))


def group_create(
    *,
    phone_number: PhoneNumber,
    subject: str,
    description: str = "",
    join_approval_mode: str = Group.JoinApprovalMode.AUTO_APPROVE,
    actor=None,
    source: str = Source.API,
) -> Group:
    """Write a group in `creating` and queue its creation at Meta.

    Raises GroupInputInvalid naming the field for a subject, description or mode Meta would refuse.
    """
    subject = clean_subject(subject, required=True)
    description = clean_description(description or "") or ""
    if join_approval_mode not in Group.JoinApprovalMode.values:
        raise GroupInputInvalid(
            f"join_approval_mode must be one of {', '.join(Group.JoinApprovalMode.values)}.", field="join_approval_mode"
        )
    with transaction.atomic():
        group = Group.objects.create(
            phone_number=phone_number,
            subject=subject,
            description=description,
            join_approval_mode=join_approval_mode,
            state=GroupState.CREATING,
            created_by=actor_or_none(actor),
        )
        requested = {"subject": subject, "join_approval_mode": join_approval_mode}
        if description:
            requested["description"] = description
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.CREATE, requested=requested, requested_by=actor_or_none(actor), source=source
        )
        group_event_record(group=group, type=EventType.CREATE_REQUESTED, source=source, actor=actor, detail=requested)
        audit_record(actor=actor, action=GroupAuditAction.GROUP_CREATE, target=group, detail=requested, source=source)
        _enqueue(operation)
    return group


def group_create_again(*, group: Group, actor=None, source: str = Source.API, reason: str = "") -> Group:
    """Create anew, as a new group, one whose creation failed for good: same number, subject, description, mode.

    Meta never retries a create and neither does Groupdesk; the failed group stays as it was, with its error.
    Raises GroupCreateNotFailed unless the group's creation failed.
    """
    if group.state != GroupState.CREATE_FAILED:
        raise GroupCreateNotFailed(f"“{group.subject}” is {group.get_state_display().lower()}: only a group whose "
                                   "creation failed can be created again.", field="group")
    with transaction.atomic():
        again = group_create(phone_number=group.phone_number, subject=group.subject, description=group.description,
                             join_approval_mode=group.join_approval_mode, actor=actor, source=source)
        audit_record(actor=actor, action=GroupAuditAction.GROUP_CREATE_AGAIN, target=group, reason=reason,
                     detail={"new_group": again.pk}, source=source)
    return again


def group_delete(*, group: Group, actor=None, source: str = Source.API, reason: str = "") -> Group:
    """Move an active group to `deleting` and queue the delete at Meta.

    Raises GroupNotActive / GroupIsSuspended unless the group accepts changes.
    """
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)
        group_assert_accepts_changes(group=group)
        group.state = GroupState.DELETING
        group.save(update_fields=["state", "updated_at"])
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.DELETE, requested_by=actor_or_none(actor), source=source
        )
        group_event_record(group=group, type=EventType.DELETE_REQUESTED, source=source, actor=actor,
                           detail={"reason": reason} if reason else None)
        audit_record(actor=actor, action=GroupAuditAction.GROUP_DELETE, target=group, reason=reason, source=source)
        _enqueue(operation)
    return group


def group_settings_update(
    *, group: Group, subject: str | None = None, description: str | None = None, actor=None, source: str = Source.API
) -> GroupOperation:
    """Queue a subject and/or description change; the group changes when Meta's webhook reports success.

    Raises GroupInputInvalid naming the field, GroupNotActive / GroupIsSuspended.
    """
    subject = clean_subject(subject, required=False)
    description = clean_description(description)
    if subject is None and description is None:
        raise GroupInputInvalid("Give a subject or a description to change.", field="subject")
    requested = {k: v for k, v in (("subject", subject), ("description", description)) if v is not None}
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)
        group_assert_accepts_changes(group=group)
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.UPDATE_SETTINGS, requested=requested, requested_by=actor_or_none(actor),
            source=source,
        )
        group_event_record(group=group, type=EventType.SETTINGS_REQUESTED, source=source, actor=actor,
                           detail=requested)
        audit_record(actor=actor, action=GroupAuditAction.GROUP_SETTINGS_UPDATE, target=group, detail=requested,
                     source=source)
        _enqueue(operation)
    return operation


def group_picture_update(*, group: Group, data: bytes, actor=None, source: str = Source.API) -> GroupOperation:
    """Check a picture locally and queue its upload.

    Raises GroupInputInvalid (field `file`), GroupNotActive / GroupIsSuspended.
    """
    width, height = group_picture_validate(data=data)
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)
        group_assert_accepts_changes(group=group)
        requested = {"picture": {"bytes": len(data), "width": width, "height": height}}
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.UPDATE_PICTURE, requested=requested, picture=data,
            requested_by=actor_or_none(actor), source=source,
        )
        group_event_record(group=group, type=EventType.SETTINGS_REQUESTED, source=source, actor=actor,
                           detail=requested)
        audit_record(actor=actor, action=GroupAuditAction.GROUP_PICTURE_UPDATE, target=group, detail=requested,
                     source=source)
        _enqueue(operation)
    return operation


def group_participants_remove(
    *, group: Group, participants: list[str], actor=None, source: str = Source.API, reason: str = ""
) -> GroupOperation:
    """Queue the removal of 1-8 participants (phone numbers or BSUIDs), each named once.

    Raises GroupInputInvalid (field `participants`), GroupNotActive / GroupIsSuspended.
    """
    users = clean_participants(participants)
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)
        group_assert_accepts_changes(group=group)
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.REMOVE_PARTICIPANTS, requested={"participants": users},
            requested_by=actor_or_none(actor), source=source,
        )
        group_event_record(group=group, type=EventType.REMOVE_REQUESTED, source=source, actor=actor,
                           detail={"participants": users, **({"reason": reason} if reason else {})})
        audit_record(actor=actor, action=GroupAuditAction.PARTICIPANTS_REMOVE, target=group, reason=reason,
                     detail={"participants": users}, source=source)
        _enqueue(operation)
    return operation


# --- The task's side: claim, call Meta outside any transaction, record --------------------------


def _call_meta(client: CloudAPIClient, operation: GroupOperation, group: Group) -> str | None:
    """Make the one Graph call of an operation; return a request_id when Meta gives one."""
    requested = operation.requested or {}
    if operation.kind == Kind.CREATE:
        return client.create_group(
            phone_number_id=group.phone_number.phone_number_id,
            subject=requested["subject"],
            description=requested.get("description") or None,
            join_approval_mode=requested.get("join_approval_mode"),
        )
    if operation.kind == Kind.DELETE:
        result = client.delete_group(group_id=group.group_id)
    elif operation.kind == Kind.UPDATE_SETTINGS:
        result = client.update_group_settings(
            group_id=group.group_id, subject=requested.get("subject"), description=requested.get("description")
        )
    elif operation.kind == Kind.UPDATE_PICTURE:
        result = client.update_group_picture(group_id=group.group_id, jpeg=bytes(operation.picture or b""))
    elif operation.kind == Kind.REMOVE_PARTICIPANTS:
        result = client.remove_participants(group_id=group.group_id, users=list(requested["participants"]))
    else:  # pragma: no cover - every Kind is handled above
        raise ValueError(f"unknown operation kind {operation.kind}")
    # Meta documents no request_id for these; if the live API sends one, keep it for matching (spec §3).
    request_id = result.get("request_id") if isinstance(result, dict) else None
    return str(request_id) if request_id else None


def group_operation_send(*, operation_id: int, client: CloudAPIClient | None = None) -> GroupOperation:
    """Send one queued operation to Meta; calling it twice never sends twice.

    A temporary error puts it off (`next_attempt_at`, the shared retry policy); a retry not yet due is left alone.
    """
    with transaction.atomic():
        operation = GroupOperation.objects.select_related("group__phone_number").get(pk=operation_id)
        group = lock_groups().get(pk=operation.group_id)  # Lock order: Group, then its operation.
        operation = lock_group_operations().select_related("group__phone_number").get(pk=operation_id)
        if operation.state != OpState.PENDING or operation.claimed_at is not None:
            return operation  # Another worker sent it, or a webhook already settled it.
        if not is_due(operation.next_attempt_at):
            return operation  # Woken early (a duplicate task): its retry is published or swept when due.
        if operation.kind != Kind.CREATE and not group.group_id:
            _operation_fail(operation, group, errors=[error_dict("The group has no Meta group_id yet.")],
                            source=Source.TASK)
            return operation
        operation.claimed_at = timezone.now()
        operation.attempts += 1
        operation.next_attempt_at = None
        operation.save(update_fields=["claimed_at", "attempts", "next_attempt_at", "updated_at"])
    client = client or get_cloud_api_client()
    try:
        request_id = _call_meta(client, operation, group)
    except CloudAPIError as exc:
        return _record_send_error(operation_id, exc)
    with transaction.atomic():
        operation = lock_group_operations().get(pk=operation_id)
        operation.sent_at = timezone.now()
        operation.picture = None  # Meta has it now; the bytes need not stay in the database.
        fields = ["sent_at", "picture", "updated_at"]
        if request_id and not operation.request_id:
            operation.request_id = request_id
            fields.append("request_id")
        operation.save(update_fields=fields)
    return operation


def _record_send_error(operation_id: int, exc: CloudAPIError) -> GroupOperation:
    logger.warning(
        "groups: operation call failed",
        extra={"operation_id": operation_id, "meta_code": exc.meta_code, "fbtrace_id": exc.fbtrace_id},
    )
    with transaction.atomic():
        operation = GroupOperation.objects.get(pk=operation_id)
        group = lock_groups().get(pk=operation.group_id)
        operation = lock_group_operations().get(pk=operation_id)
        if operation.state != OpState.PENDING:
            return operation  # A webhook settled it meanwhile: Meta's outcome wins.
        if exc.retry_class == RetryClass.OUTCOME_UNKNOWN:
            # Meta may have acted (read timeout): never resend blindly, above all a create, which has no
            # idempotency key (spec §3). The webhook or the stale-operation sync settles it.
            operation.errors = [*operation.errors, {**error_dict(exc), "outcome_unknown": True}]
            operation.save(update_fields=["errors", "updated_at"])
            return operation
        delay = retry_delay(error=exc, attempt=operation.attempts)
        if delay is None:
            _operation_fail(operation, group, errors=[error_dict(exc)], source=Source.TASK)
            return operation
        operation.claimed_at = None
        operation.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        operation.save(update_fields=["claimed_at", "next_attempt_at", "updated_at"])
        from groups.tasks import group_operation_send_task

        run_at(group_operation_send_task, pk=operation.pk, at=operation.next_attempt_at)
    return operation


def _operation_fail(operation: GroupOperation, group: Group, *, errors: list[dict], source: str,
                    at=None, origin=None, outcome: dict | None = None) -> None:
    """Record a failed operation and undo the group's in-between state (creating, deleting)."""
    operation_finish(operation, group, state=OpState.FAILED, errors=errors, source=source, at=at, origin=origin,
                     outcome=outcome)


# --- Lifecycle: how every operation ends (the send's answer, a webhook, a sync) -------------------------

_FAILURE_EVENT = {
    Kind.CREATE: EventType.CREATE_FAILED,
    Kind.DELETE: EventType.DELETE_FAILED,
    Kind.UPDATE_SETTINGS: EventType.SETTINGS_FAILED,
    Kind.UPDATE_PICTURE: EventType.SETTINGS_FAILED,
    Kind.REMOVE_PARTICIPANTS: EventType.REMOVE_FAILED,
}
# What a failed create or delete undoes: the group's state while it waited, and the state it returns to.
_UNDO = {Kind.CREATE: (GroupState.CREATING, GroupState.CREATE_FAILED), Kind.DELETE: (GroupState.DELETING,
                                                                                      GroupState.ACTIVE)}


def operation_finish(
    operation: GroupOperation,
    group: Group,
    *,
    state: str,
    errors: list[dict] | None = None,
    outcome: dict | None = None,
    source: str,
    at: datetime | None = None,
    origin: WebhookOrigin | None = None,
    write_event: bool = True,
) -> None:
    """Settle an operation (both rows already locked); a failed create or delete undoes the group's state."""
    operation.state = state
    operation.errors = list(errors or [])
    operation.outcome = {**(operation.outcome or {}), **(outcome or {})}
    operation.completed_at = timezone.now()
    operation.picture = None
    operation.save(update_fields=["state", "errors", "outcome", "completed_at", "picture", "updated_at"])
    event_record(type=event_types.GROUP_OPERATION_COMPLETED, obj=operation, occurred_at=at)
    if state != OpState.FAILED:
        return
    at_or_now = at or timezone.now()
    _group_undo(group, operation, at=at_or_now)
    if write_event:
        group_event_record(
            group=group, type=_FAILURE_EVENT[operation.kind], source=source, occurred_at=at_or_now, origin=origin,
            detail={"operation": operation.pk, "errors": operation.errors, **({"outcome": outcome} if outcome else {})},
        )


def _group_undo(group: Group, operation: GroupOperation, *, at: datetime) -> None:
    """Keep a failed operation's first error on the group (the newest wins), and undo a failed create or delete."""
    first_error = operation.errors[0] if operation.errors else None
    group_fields = []
    if first_error is not None and _error_is_newest(group, at):
        # Kept with Meta's time of the failure, so an older failure arriving later never replaces a newer one.
        group.last_error = {**first_error, "occurred_at": at.isoformat()}
        group_fields.append("last_error")
    undo = _UNDO.get(operation.kind)
    if undo and group.state == undo[0] and is_newer(at, group.lifecycle_changed_at):
        group.state = undo[1]
        group.lifecycle_changed_at = at
        group_fields += ["state", "lifecycle_changed_at"]
    if group_fields:
        group.save(update_fields=[*group_fields, "updated_at"])
    if group.state == GroupState.CREATE_FAILED and "state" in group_fields:
        event_record(type=event_types.GROUP_CREATE_FAILED, obj=group, occurred_at=at)


def _error_is_newest(group: Group, at: datetime) -> bool:
    """Return True when a failure at `at` is at least as new as the one `last_error` holds."""
    stored = (group.last_error or {}).get("occurred_at")
    if not stored:
        return True
    try:
        return is_newer(at, datetime.fromisoformat(stored))
    except (TypeError, ValueError):
        return True


