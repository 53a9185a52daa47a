"""Settle group operations from their webhooks: find the operation an item reports, and record its outcome."""

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from groups.exceptions import GroupUnknown
from groups.models import Group, GroupOperation, Source
from groups.selectors import lock_group_operations, lock_groups
from groups.services.common import EventType, WebhookOrigin, group_event_record, is_newer

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State
WEBHOOK = Source.WEBHOOK

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


def _error_is_newest(group: Group, at: datetime) -> bool:
    """Return True when a failure at `at` is at least as new as the one `last_error` holds."""
    stored = (group.last_error or {}).get("occurred_at")
    if not stored:
        return True
    try:
        return is_newer(at, datetime.fromisoformat(stored))
    except (TypeError, ValueError):
        return True


def operation_match(
    *, group: Group, request_id: str | None, kinds: list[str],
    concerns: Callable[[GroupOperation], bool] | None = None,
) -> GroupOperation | None:
    """Return (locked) the operation a webhook reports: by request_id, else the oldest sent pending one of its kinds.

    When the item's request_id is none of ours, only operations that have none yet qualify (one that has another
    request_id is another call), and only those `concerns` accepts: an unknown request_id never settles another
    operation.
    """
    if request_id:
        operation = lock_group_operations().filter(request_id=request_id).first()
        if operation is not None:
            return operation
    # Meta's synchronous answers carry no request_id for these calls (spec §3): match by group and kind,
    # preferring operations already sent over ones still queued.
    candidates = lock_group_operations().filter(group=group, kind__in=kinds, state=OpState.PENDING)
    if request_id:
        candidates = candidates.filter(request_id__isnull=True)
    candidates = sorted((op for op in candidates if concerns is None or concerns(op)),
                        key=lambda op: (op.claimed_at is None, op.pk))
    operation = candidates[0] if candidates else None
    if operation is not None and request_id:
        operation.request_id = request_id
        operation.save(update_fields=["request_id", "updated_at"])
    return operation


def group_for_webhook(group_id: str) -> Group:
    """Return (locked) the group a webhook names.

    Raises GroupUnknown for a group_id not known here.
    """
    group = lock_groups().select_related("phone_number").filter(group_id=group_id).first()
    if group is None:
        raise GroupUnknown(f"No group with group_id {group_id} is known here (sync the phone number to adopt it).")
    return group
