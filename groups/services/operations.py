"""Asynchronous group operations: validate, write the row in its first state, send it from a task.

Create, delete, settings, picture and removals complete through webhooks. A request writes a
GroupOperation (and the group's first state) and enqueues `group_operation_send_task` on commit;
the task claims the row, calls Meta outside any transaction and records what Meta answered.
"""

import io
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from config.due import run_at
from groups.cloud_api import CloudAPIClient, CloudAPIError, RetryClass, get_cloud_api_client, retry_delay
from groups.exceptions import GroupInputInvalid
from groups.models import Group, GroupOperation, PhoneNumber, Source
from groups.selectors import lock_group_operations, lock_groups
from groups.services.audit import Action, audit_record
from groups.services.common import (
    BSUID_RE,
    PHONE_RE,
    EventType,
    actor_or_none,
    error_dict,
    group_assert_accepts_changes,
    group_event_record,
    normalize_wa_id,
)

logger = logging.getLogger(__name__)

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State

PICTURE_MAX_BYTES = 5 * 1024 * 1024  # Meta's limit (spec §2).
PICTURE_MIN_SIDE = 192


# --- Validation (before anything reaches Meta) ---------------------------------------------------


def _clean_subject(subject: str | None, *, required: bool) -> str | None:
    if subject is None:
        if required:
            raise GroupInputInvalid("A subject is required.", field="subject")
        return None
    subject = subject.strip()  # Meta trims it too (spec §2).
    if not subject:
        raise GroupInputInvalid("The subject must not be empty.", field="subject")
    if len(subject) > Group.SUBJECT_MAX_LENGTH:
        raise GroupInputInvalid(
            f"The subject has {len(subject)} characters; at most {Group.SUBJECT_MAX_LENGTH} are allowed.",
            field="subject",
        )
    return subject


def _clean_description(description: str | None) -> str | None:
    if description is None:
        return None
    if len(description) > Group.DESCRIPTION_MAX_LENGTH:
        raise GroupInputInvalid(
            f"The description has {len(description)} characters; at most {Group.DESCRIPTION_MAX_LENGTH} are allowed.",
            field="description",
        )
    return description


def group_picture_validate(*, data: bytes) -> tuple[int, int]:
    """Return (width, height) of a valid group picture.

    Raises GroupInputInvalid (field `file`) unless it is a square JPEG of at least 192 px and at most 5 MB.
    """
    if len(data) > PICTURE_MAX_BYTES:
        raise GroupInputInvalid(f"The picture is {len(data)} bytes; at most 5 MB is allowed.", field="file")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise GroupInputInvalid("The file is not an image; upload a JPEG.", field="file") from exc
    if image_format != "JPEG":
        raise GroupInputInvalid(f"The picture is {image_format}; only JPEG is accepted.", field="file")
    if width != height:
        raise GroupInputInvalid(f"The picture is {width}x{height}; it must be square.", field="file")
    if width < PICTURE_MIN_SIDE:
        raise GroupInputInvalid(
            f"The picture is {width}x{height}; it must be at least {PICTURE_MIN_SIDE}x{PICTURE_MIN_SIDE}.", field="file"
        )
    return width, height


def _clean_participants(participants: list[str]) -> list[str]:
    values = [str(p).strip() for p in participants]
    if not 1 <= len(values) <= Group.MAX_PARTICIPANTS:
        raise GroupInputInvalid(
            f"Give 1 to {Group.MAX_PARTICIPANTS} participants; {len(values)} were given.", field="participants"
        )
    for value in values:
        if not (PHONE_RE.match(value) or BSUID_RE.match(value)):
            raise GroupInputInvalid(
                f"{value!r} is neither a phone number (wa_id) nor a business-scoped user ID.", field="participants"
            )
    normalized = [normalize_wa_id(v) if PHONE_RE.match(v) else v for v in values]
    duplicates = sorted({v for v in normalized if normalized.count(v) > 1})
    if duplicates:
        raise GroupInputInvalid(f"Each participant may appear once; repeated: {', '.join(duplicates)}.",
                                field="participants")
    return values


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
    subject = _clean_subject(subject, required=True)
    description = _clean_description(description or "") or ""
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
        audit_record(actor=actor, action=Action.GROUP_CREATE, target=group, detail=requested, source=source)
        _enqueue(operation)
    return group


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
        audit_record(actor=actor, action=Action.GROUP_DELETE, target=group, reason=reason, source=source)
        _enqueue(operation)
    return group


def group_settings_update(
    *, group: Group, subject: str | None = None, description: str | None = None, actor=None, source: str = Source.API
) -> GroupOperation:
    """Queue a subject and/or description change; the group changes when Meta's webhook reports success.

    Raises GroupInputInvalid naming the field, GroupNotActive / GroupIsSuspended.
    """
    subject = _clean_subject(subject, required=False)
    description = _clean_description(description)
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
        audit_record(actor=actor, action=Action.GROUP_SETTINGS_UPDATE, target=group, detail=requested, source=source)
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
        audit_record(actor=actor, action=Action.GROUP_PICTURE_UPDATE, target=group, detail=requested, source=source)
        _enqueue(operation)
    return operation


def group_participants_remove(
    *, group: Group, participants: list[str], actor=None, source: str = Source.API, reason: str = ""
) -> GroupOperation:
    """Queue the removal of 1-8 participants (phone numbers or BSUIDs), each named once.

    Raises GroupInputInvalid (field `participants`), GroupNotActive / GroupIsSuspended.
    """
    users = _clean_participants(participants)
    with transaction.atomic():
        group = lock_groups().get(pk=group.pk)
        group_assert_accepts_changes(group=group)
        operation = GroupOperation.objects.create(
            group=group, kind=Kind.REMOVE_PARTICIPANTS, requested={"participants": users},
            requested_by=actor_or_none(actor), source=source,
        )
        group_event_record(group=group, type=EventType.REMOVE_REQUESTED, source=source, actor=actor,
                           detail={"participants": users, **({"reason": reason} if reason else {})})
        audit_record(actor=actor, action=Action.PARTICIPANTS_REMOVE, target=group, reason=reason,
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
        if operation.next_attempt_at and operation.next_attempt_at > timezone.now():
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
    from groups.services.webhook_apply import operation_finish

    operation_finish(operation, group, state=OpState.FAILED, errors=errors, source=source, at=at, origin=origin,
                     outcome=outcome)
