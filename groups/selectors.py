"""Reads of groups data, and the lock helpers services take before read-then-write."""

from datetime import datetime

from django.db.models import Count, Q, QuerySet

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant, PhoneNumber


def lock_groups(*, skip_locked: bool = False) -> QuerySet[Group]:
    """Return groups locked FOR UPDATE in pk order (lock order: Group first, always); with `skip_locked`, only those
    no other transaction holds."""
    return Group.objects.select_for_update(of=("self",), skip_locked=skip_locked).order_by("pk")


def lock_group_operations() -> QuerySet[GroupOperation]:
    return GroupOperation.objects.select_for_update(of=("self",)).order_by("pk")


def group_operation_ids_due(*, due_before: datetime, limit: int) -> list[int]:
    """Return ids of operations waiting to be sent whose time came before `due_before`: a retry, or a lost task."""
    unsent = GroupOperation.objects.filter(state=GroupOperation.State.PENDING, claimed_at__isnull=True)
    retry_due = unsent.filter(next_attempt_at__lte=due_before)
    never_tried = unsent.filter(next_attempt_at__isnull=True, created_at__lte=due_before)
    return list((retry_due | never_tried).order_by("pk").values_list("pk", flat=True)[:limit])


def group_list() -> QuerySet[Group]:
    return Group.objects.select_related("phone_number")


def participant_list(*, group: Group) -> QuerySet[Participant]:
    return group.participants.order_by("pk")


def join_request_list(*, group: Group) -> QuerySet[JoinRequest]:
    return group.join_requests.order_by("-pk")


def group_event_list(*, group: Group) -> QuerySet[GroupEvent]:
    return group.events.order_by("-occurred_at", "-pk")


def groups_by_state(*, phone_number: int | None = None) -> dict[str, int]:
    """Return how many groups are in each state, plus "suspended" (any state), for the dashboard."""
    groups = Group.objects.all()
    if phone_number is not None:
        groups = groups.filter(phone_number_id=phone_number)
    rows = groups.values("state").annotate(n=Count("pk"), suspended=Count("pk", filter=Q(suspended=True))).order_by()
    counts = {row["state"]: row["n"] for row in rows}
    counts["suspended"] = sum(row["suspended"] for row in rows)
    return counts


def phone_number_list() -> QuerySet[PhoneNumber]:
    return PhoneNumber.objects.order_by("display_phone_number")


def phone_number_only() -> PhoneNumber | None:
    """The phone number when exactly one is registered (forms preselect it), else None."""
    numbers = list(PhoneNumber.objects.order_by("pk")[:2])
    return numbers[0] if len(numbers) == 1 else None
