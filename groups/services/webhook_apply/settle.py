"""Settle group operations from their webhooks: find the operation an item reports, and record its outcome."""

from collections.abc import Callable

from core.models import Source
from groups.exceptions import GroupUnknown
from groups.models import Group, GroupOperation
from groups.selectors import lock_group_operations, lock_groups

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State
WEBHOOK = Source.WEBHOOK


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
