"""Make our rows true from Meta's reads (list groups, get info), and settle operations whose webhook never came."""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.models import Source
from groups.cloud_api import CloudAPIClient, CloudAPIError, GroupNotFound, get_cloud_api_client
from groups.models import Group, GroupOperation, Participant, PhoneNumber
from groups.selectors import lock_group_operations, lock_groups
from groups.services.common import (
    EventType,
    ParticipantRef,
    group_event_record,
    group_participant_count_refresh,
    identity_from_input,
)
from groups.services.operations import operation_finish
from groups.services.participants import participant_state_apply
from outbox import event_types
from outbox.services import event_record

logger = logging.getLogger(__name__)

Kind = GroupOperation.Kind
OpState = GroupOperation.State
GroupState = Group.State
TASK = Source.TASK

# Meta caps a number at 10,000 groups (spec §2) and a page at 1,024: 20 full pages cover any number.
LIST_PAGE_SIZE = 1024
MAX_LIST_PAGES = 20
# Groups are adopted or settled within this much of the create request (clock skew, queueing).
CREATE_MATCH_SLACK = timedelta(minutes=5)


def stale_after() -> timedelta:
    """Return how long an operation may wait for its webhook before a sync settles it."""
    return timedelta(minutes=settings.GROUP_OPERATION_STALE_MINUTES)


def _no_webhook_error(detail: str) -> dict:
    return {"code": None, "title": "No confirmation from Meta", "message": "No webhook came for this operation.",
            "details": detail}


def group_sync(*, group: Group, client: CloudAPIClient | None = None, now: datetime | None = None) -> Group:
    """Read the group from Meta (info and participants) into our rows, and settle its stale operations.

    A group Meta no longer knows becomes deleted. Does nothing for a group without a group_id.
    """
    if not group.group_id:
        return group
    client = client or get_cloud_api_client()
    now = now or timezone.now()
    try:
        info = client.get_group_info(group_id=group.group_id)
    except GroupNotFound:
        info = None
    with transaction.atomic():
        group = lock_groups().select_related("phone_number").get(pk=group.pk)
        if info is None:
            _sync_gone(group, now=now)
            return group
        fields = ["last_synced_at"]
        group.last_synced_at = now
        # Only the texts: Meta's group info has no picture, so a sync never learns that one changed.
        updated = [name for name in ("subject", "description")
                   if getattr(info, name) is not None and getattr(info, name) != getattr(group, name)]
        if info.subject is not None or info.description is not None:
            group.subject = info.subject if info.subject is not None else group.subject
            group.description = info.description if info.description is not None else group.description
            group.settings_changed_at = now  # Meta's state as of now: older webhooks must not overwrite it.
            fields += ["subject", "description", "settings_changed_at"]
        if info.join_approval_mode in Group.JoinApprovalMode.values:
            group.join_approval_mode = info.join_approval_mode
            fields.append("join_approval_mode")
        if info.suspended is not None and info.suspended != group.suspended:
            group.suspended = info.suspended
            group.suspension_changed_at = now
            fields += ["suspended", "suspension_changed_at"]
            event_record(type=event_types.GROUP_SUSPENDED if info.suspended else event_types.GROUP_UNSUSPENDED,
                         obj=group, occurred_at=now)
            group_event_record(group=group, type=EventType.SUSPENDED if info.suspended else
                               EventType.SUSPENSION_CLEARED, source=TASK, occurred_at=now, detail={"via": "sync"})
        group.save(update_fields=[*fields, "updated_at"])
        if updated:
            event_record(type=event_types.GROUP_UPDATED, obj=group, occurred_at=now, detail={"updated": updated})
        present: set[tuple[str | None, str | None]] = set()
        if info.participants is not None:
            present = _sync_participants(group, info.participants, now=now)
        group_participant_count_refresh(group=group)
        _settle_stale_operations(group, present=present, info=info, now=now)
        group_event_record(group=group, type=EventType.SYNCED, source=TASK, occurred_at=now,
                           detail={"participants": group.participant_count,
                                   "total_participant_count": info.total_participant_count})
    return group


def _sync_gone(group: Group, *, now: datetime) -> None:
    for operation in lock_group_operations().filter(group=group, state=OpState.PENDING):
        state = OpState.SUCCEEDED if operation.kind == Kind.DELETE else OpState.FAILED
        errors = [] if state == OpState.SUCCEEDED else [_no_webhook_error("Meta no longer knows the group.")]
        operation_finish(operation, group, state=state, errors=errors, source=TASK, at=now, write_event=False)
    if group.state != GroupState.DELETED:
        group.state = GroupState.DELETED
        group.lifecycle_changed_at = now
        group.last_synced_at = now
        group.save(update_fields=["state", "lifecycle_changed_at", "last_synced_at", "updated_at"])
        group.participants.filter(state=Participant.State.ACTIVE).update(
            state=Participant.State.REMOVED, left_at=now, state_changed_at=now, updated_at=now
        )
        group_participant_count_refresh(group=group)
        event_record(type=event_types.GROUP_DELETED, obj=group, occurred_at=now)
        group_event_record(group=group, type=EventType.DELETED, source=TASK, occurred_at=now,
                           detail={"via": "sync", "why": "Meta no longer knows the group"})


def _sync_participants(group: Group, participants: list, *, now: datetime) -> set:
    present = set()
    for info in participants:
        ref = ParticipantRef(wa_id=info.wa_id, user_id=info.user_id, parent_user_id=info.parent_user_id,
                             username=info.username)
        wa_id, user_id = ref.identity()
        present.add((wa_id, user_id))
        existing = group.participants.filter(state=Participant.State.ACTIVE)
        if (wa_id and existing.filter(wa_id=wa_id).exists()) or (user_id and existing.filter(user_id=user_id).exists()):
            continue
        participant_state_apply(group=group, ref=ref, state=Participant.State.ACTIVE, at=now, source=TASK,
                                event_type=EventType.PARTICIPANT_JOINED, detail={"via": "sync"})
    wa_ids = {w for w, _ in present if w}
    user_ids = {u for _, u in present if u}
    for participant in group.participants.filter(state=Participant.State.ACTIVE):
        if (participant.wa_id and participant.wa_id in wa_ids) or (participant.user_id and participant.user_id in
                                                                   user_ids):
            continue
        # Meta does not say whether they left or were removed; "left" claims the least.
        participant_state_apply(
            group=group, ref=ParticipantRef(wa_id=participant.wa_id, user_id=participant.user_id),
            state=Participant.State.LEFT, at=now, source=TASK, event_type=EventType.PARTICIPANT_LEFT,
            detail={"via": "sync", "why": "not in Meta's participant list"},
        )
    return present


def _settle_stale_operations(group: Group, *, present: set, info, now: datetime) -> None:
    cutoff = now - stale_after()
    wa_ids = {w for w, _ in present if w}
    user_ids = {u for _, u in present if u}
    for operation in lock_group_operations().filter(group=group, state=OpState.PENDING, claimed_at__lt=cutoff):
        requested = operation.requested or {}
        if operation.kind == Kind.DELETE:
            operation_finish(operation, group, state=OpState.FAILED, source=TASK, at=now,
                             errors=[_no_webhook_error("Meta still lists the group: it was not deleted.")])
        elif operation.kind == Kind.UPDATE_SETTINGS:
            matches = {
                name: getattr(info, name) == value for name, value in requested.items() if name in ("subject",
                                                                                                   "description")
            }
            outcome = {name: {"updated": ok, "via": "sync"} for name, ok in matches.items()}
            state = (OpState.SUCCEEDED if all(matches.values()) else
                     OpState.PARTIALLY_FAILED if any(matches.values()) else OpState.FAILED)
            errors = [] if state == OpState.SUCCEEDED else [_no_webhook_error("Meta's group does not show the change.")]
            operation_finish(operation, group, state=state, errors=errors, outcome={"settings": outcome}, source=TASK,
                             at=now)
        elif operation.kind == Kind.REMOVE_PARTICIPANTS:
            outcome = {}
            parent_ids = set(group.participants.filter(state=Participant.State.ACTIVE)
                             .exclude(parent_user_id="").values_list("parent_user_id", flat=True))
            for value in requested.get("participants", []):
                wa_id, user_id, parent_id = identity_from_input(value)
                gone = not ((wa_id and wa_id in wa_ids) or (user_id and user_id in user_ids)
                            or (parent_id and parent_id in parent_ids))
                outcome[value] = {"removed": gone, "via": "sync"}
            removed = [k for k, v in outcome.items() if v["removed"]]
            state = (OpState.SUCCEEDED if len(removed) == len(outcome) else
                     OpState.PARTIALLY_FAILED if removed else OpState.FAILED)
            errors = [] if state == OpState.SUCCEEDED else [_no_webhook_error("Some participants are still in it.")]
            operation_finish(operation, group, state=state, errors=errors, outcome={"participants": outcome},
                             source=TASK, at=now)
        else:  # A picture cannot be read back from Meta.
            operation_finish(operation, group, state=OpState.FAILED, source=TASK, at=now,
                             errors=[_no_webhook_error("Meta never confirmed the picture; upload it again.")])


def _groups_listed(client: CloudAPIClient, phone_number: PhoneNumber) -> list:
    """Return the number's groups as Meta lists them, page after page (at most MAX_LIST_PAGES)."""
    summaries, after = [], None
    for _ in range(MAX_LIST_PAGES):
        page = client.list_groups(phone_number_id=phone_number.phone_number_id, limit=LIST_PAGE_SIZE, after=after)
        summaries.extend(page.groups)
        after = page.after
        if not after:
            break
    return summaries


def phone_number_sync(*, phone_number: PhoneNumber, client: CloudAPIClient | None = None,
                      now: datetime | None = None) -> list[Group]:
    """List the number's groups at Meta: finish creates whose webhook never came, adopt groups we lack.

    Returns the groups created or adopted. A stale create Meta does not list becomes create_failed.
    """
    now = now or timezone.now()
    summaries = _groups_listed(client or get_cloud_api_client(), phone_number)
    known = set(Group.objects.filter(group_id__in=[s.group_id for s in summaries]).values_list("group_id", flat=True))
    unknown = [s for s in summaries if s.group_id not in known]
    changed: list[Group] = []
    with transaction.atomic():
        creates = list(
            GroupOperation.objects.filter(group__phone_number=phone_number, kind=Kind.CREATE,
                                          state__in=[OpState.PENDING, OpState.FAILED],
                                          group__state__in=[GroupState.CREATING, GroupState.CREATE_FAILED])
            .exclude(claimed_at__isnull=True).select_related("group").order_by("pk")
        )
        for operation in creates:
            match = next(
                (s for s in unknown if s.subject == operation.group.subject
                 and (s.created_at is None or s.created_at >= operation.created_at - CREATE_MATCH_SLACK)),
                None,
            )
            group = lock_groups().get(pk=operation.group_id)
            operation = lock_group_operations().get(pk=operation.pk)
            if match is not None:
                unknown.remove(match)
                group.group_id = match.group_id
                group.state = GroupState.ACTIVE
                group.last_error = None
                group.lifecycle_changed_at = now
                group.save(update_fields=["group_id", "state", "last_error", "lifecycle_changed_at", "updated_at"])
                event_record(type=event_types.GROUP_CREATED, obj=group, occurred_at=now)
                operation_finish(operation, group, state=OpState.SUCCEEDED, source=TASK, at=now,
                                 outcome={"group_id": match.group_id, "via": "sync"})
                group_event_record(group=group, type=EventType.CREATED, source=TASK, occurred_at=now,
                                   detail={"group_id": match.group_id, "via": "sync"})
                changed.append(group)
            elif operation.state == OpState.PENDING and operation.claimed_at < now - stale_after():
                operation_finish(operation, group, state=OpState.FAILED, source=TASK, at=now, errors=[
                    _no_webhook_error("Meta lists no group made by this request; create it again if needed.")])
        for summary in unknown:
            # Only API-created groups can exist on the number (spec §1.1): it is ours, made elsewhere.
            group = Group.objects.create(
                phone_number=phone_number, group_id=summary.group_id,
                subject=summary.subject[: Group.SUBJECT_MAX_LENGTH] or summary.group_id[:20],
                state=GroupState.ACTIVE, lifecycle_changed_at=now,
            )
            event_record(type=event_types.GROUP_CREATED, obj=group, occurred_at=now)
            group_event_record(group=group, type=EventType.SYNCED, source=TASK, occurred_at=now,
                               detail={"adopted": True, "created_at": summary.created_at.isoformat()
                                       if summary.created_at else None})
            changed.append(group)
    return changed


def group_operations_settle_stale(*, now: datetime | None = None, limit: int = 50,
                                  client: CloudAPIClient | None = None) -> int:
    """Settle pending operations whose webhook is overdue by syncing their group or number; return how many looked at.

    Operations never sent (a retry, a lost task) are started by the due-work sweep (core/due.py), not here.
    """
    now = now or timezone.now()
    cutoff = now - stale_after()
    stale = list(GroupOperation.objects.filter(state=OpState.PENDING, claimed_at__lt=cutoff)
                 .select_related("group__phone_number").order_by("claimed_at", "pk")[:limit])
    client = client or get_cloud_api_client()
    numbers, groups = {}, {}
    for operation in stale:
        if operation.kind == Kind.CREATE:
            numbers[operation.group.phone_number_id] = operation.group.phone_number
        else:
            groups[operation.group_id] = operation.group
    # One failing read must not keep the others from settling: log it and go on (the next run retries).
    for phone_number in numbers.values():
        try:
            phone_number_sync(phone_number=phone_number, client=client, now=now)
        except CloudAPIError as exc:
            logger.warning("groups: phone number sync failed", extra={"phone_number": phone_number.pk,
                                                                     "meta_code": exc.meta_code})
    for group in groups.values():
        try:
            group_sync(group=group, client=client, now=now)
        except CloudAPIError as exc:
            logger.warning("groups: group sync failed", extra={"group": group.pk, "meta_code": exc.meta_code})
    return len(stale)
