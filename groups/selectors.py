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


def group_get(*, pk: int) -> Group:
    """Return one group by our id; raises Group.DoesNotExist."""
    return Group.objects.select_related("phone_number").get(pk=pk)


def group_get_by_group_id(*, group_id: str) -> Group | None:
    """Return the group with Meta's `group_id`, or None."""
    return Group.objects.select_related("phone_number").filter(group_id=group_id).first()


def group_list() -> QuerySet[Group]:
    return Group.objects.select_related("phone_number")


def phone_number_get_by_meta_id(*, phone_number_id: str) -> PhoneNumber | None:
    return PhoneNumber.objects.filter(phone_number_id=phone_number_id).first()


def participant_find(*, group: Group, wa_id: str | None = None, user_id: str | None = None) -> Participant | None:
    """Return the participant known by `wa_id` or `user_id` (BSUID) in the group, or None."""
    query = Q()
    if wa_id:
        query |= Q(wa_id=wa_id)
    if user_id:
        query |= Q(user_id=user_id)
    if not query:
        return None
    # A wa_id match wins over a BSUID match: the phone is what older rows were keyed by.
    matches = list(group.participants.filter(query))
    return next((p for p in matches if wa_id and p.wa_id == wa_id), matches[0] if matches else None)


def participant_list(*, group: Group) -> QuerySet[Participant]:
    return group.participants.order_by("pk")


def join_request_list(*, group: Group) -> QuerySet[JoinRequest]:
    return group.join_requests.order_by("-pk")


def group_event_list(*, group: Group) -> QuerySet[GroupEvent]:
    return group.events.order_by("-occurred_at", "-pk")


def group_operations_pending(*, group: Group, kinds: list[str]) -> QuerySet[GroupOperation]:
    """Return the group's pending operations of these kinds, oldest first (webhooks settle them in order)."""
    return group.operations.filter(kind__in=kinds, state=GroupOperation.State.PENDING).order_by("created_at", "pk")


def group_operation_ids_stale(*, older_than: datetime, limit: int) -> list[int]:
    """Return ids of pending operations Meta accepted (or may have) before `older_than` whose webhook never came."""
    return list(
        GroupOperation.objects.filter(state=GroupOperation.State.PENDING, claimed_at__lt=older_than)
        .order_by("claimed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


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
