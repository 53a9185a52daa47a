"""Calls a user waits for: the invite link and join-request decisions (Meta answers them at once).

These call Meta directly (DESIGN "Outbound"), never inside a transaction: the call comes first, then one
short transaction records the answer. Meta's errors propagate as CloudAPIError (502 with meta_code in REST).
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.models import Source
from groups.cloud_api import CloudAPIClient, get_cloud_api_client
from groups.event_payloads import JOIN_REQUEST_EVENTS
from groups.exceptions import GroupInputInvalid, GroupNotActive, JoinRequestNotPending
from groups.models import Group, GroupAuditAction, JoinRequest
from groups.selectors import lock_groups
from groups.services.common import EventType, error_dict, group_assert_accepts_changes, group_event_record
from outbox import event_types
from outbox.services import event_record

JoinState = JoinRequest.State


@dataclass(frozen=True)
class JoinRequestDecision:
    """What Meta did with an approve or reject call: the ids it handled and the ones it refused, with why."""

    done: list[str]
    failed: list[dict] = field(default_factory=list)  # [{"join_request_id", "error": {code, title, message, details}}]


def _assert_has_group_id(group: Group) -> None:
    if group.state != Group.State.ACTIVE or not group.group_id:
        raise GroupNotActive(
            f"The group is {group.get_state_display().lower()}; its invite link exists only while it is active.",
            field="state", extra={"state": group.state},
        )


def group_invite_link_get(*, group: Group, client: CloudAPIClient | None = None) -> str:
    """Return the group's current invite link from Meta, keeping the stored copy true.

    Raises GroupNotActive unless the group is active.
    """
    _assert_has_group_id(group)
    link = (client or get_cloud_api_client()).get_invite_link(group_id=group.group_id)
    if link and link != group.invite_link:
        Group.objects.filter(pk=group.pk).update(invite_link=link, updated_at=timezone.now())
        group.invite_link = link
    return link


def group_invite_link_reset(*, group: Group, actor=None, source: str = Source.API,
                            client: CloudAPIClient | None = None, reason: str = "") -> str:
    """Replace the invite link; every earlier link stops working. Return the new one.

    Raises GroupNotActive / GroupIsSuspended unless the group accepts changes.
    """
    group_assert_accepts_changes(group=group)
    link = (client or get_cloud_api_client()).reset_invite_link(group_id=group.group_id)
    with transaction.atomic():
        locked = lock_groups().get(pk=group.pk)
        locked.invite_link = link
        locked.save(update_fields=["invite_link", "updated_at"])
        group_event_record(group=locked, type=EventType.INVITE_LINK_RESET, source=source, actor=actor,
                           detail={"invite_link": link, **({"reason": reason} if reason else {})})
        audit_record(actor=actor, action=GroupAuditAction.INVITE_LINK_RESET, target=locked, reason=reason,
                     source=source)
    group.invite_link = link
    return link


def group_invite_link_delete(*, group: Group, actor=None, source: str = Source.API,
                             client: CloudAPIClient | None = None, reason: str = "") -> None:
    """Delete the invite link (a reset makes a new one).

    Raises GroupNotActive / GroupIsSuspended unless the group accepts changes.
    """
    group_assert_accepts_changes(group=group)
    (client or get_cloud_api_client()).delete_invite_link(group_id=group.group_id)
    with transaction.atomic():
        locked = lock_groups().get(pk=group.pk)
        locked.invite_link = ""
        locked.save(update_fields=["invite_link", "updated_at"])
        group_event_record(group=locked, type=EventType.INVITE_LINK_DELETED, source=source, actor=actor,
                           detail={"reason": reason} if reason else None)
        audit_record(actor=actor, action=GroupAuditAction.INVITE_LINK_DELETE, target=locked, reason=reason,
                     source=source)
    group.invite_link = ""


def join_requests_sync(*, group: Group, client: CloudAPIClient | None = None) -> list[JoinRequest]:
    """Read the open join requests from Meta into our rows; return the open ones.

    A request we hold as pending that Meta no longer lists was handled elsewhere or withdrawn: it becomes revoked.
    Raises GroupNotActive unless the group is active.
    """
    _assert_has_group_id(group)
    client = client or get_cloud_api_client()
    items, after, pages = [], None, 0
    while True:
        page = client.list_join_requests(group_id=group.group_id, after=after)
        items.extend(page.items)
        after, pages = page.after, pages + 1
        if not after or not page.items or pages >= 50:  # 8 members max: 50 pages is far past any real list.
            break
    now = timezone.now()
    open_ids = set()
    with transaction.atomic():
        locked = lock_groups().get(pk=group.pk)
        for item in items:
            open_ids.add(item.join_request_id)
            wa_id = item.wa_id
            _join_request, created = JoinRequest.objects.get_or_create(
                join_request_id=item.join_request_id,
                defaults={"group": locked, "wa_id": wa_id, "user_id": item.user_id,
                          "parent_user_id": item.parent_user_id or "", "username": item.username or "",
                          "requested_at": item.created_at, "state_changed_at": item.created_at},
            )
            if created:
                event_record(type=event_types.GROUP_JOIN_REQUEST_CREATED, obj=_join_request,
                             occurred_at=item.created_at or now)
                group_event_record(group=locked, type=EventType.JOIN_REQUEST_CREATED, source=Source.TASK,
                                   occurred_at=item.created_at or now,
                                   detail={"join_request_id": item.join_request_id, "wa_id": wa_id, "via": "sync"})
        for stale in locked.join_requests.filter(state=JoinState.PENDING).exclude(join_request_id__in=open_ids):
            stale.state, stale.state_changed_at = JoinState.REVOKED, now
            stale.save(update_fields=["state", "state_changed_at", "updated_at"])
            event_record(type=event_types.GROUP_JOIN_REQUEST_REVOKED, obj=stale, occurred_at=now)
            group_event_record(group=locked, type=EventType.JOIN_REQUEST_REVOKED, source=Source.TASK,
                               detail={"join_request_id": stale.join_request_id, "why": "no longer open at Meta"})
    return list(group.join_requests.filter(join_request_id__in=open_ids, state=JoinState.PENDING))


def _clean_join_request_ids(group: Group, join_request_ids: list[str]) -> list[str]:
    ids = [str(i).strip() for i in join_request_ids]
    if not ids:
        raise GroupInputInvalid("Give at least one join request.", field="join_request_ids")
    if len(set(ids)) != len(ids):
        raise GroupInputInvalid("Each join request may appear once.", field="join_request_ids")
    known = dict(group.join_requests.filter(join_request_id__in=ids).values_list("join_request_id", "state"))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise GroupInputInvalid(f"Not join requests of this group: {', '.join(unknown)}.", field="join_request_ids")
    handled = [i for i in ids if known[i] != JoinState.PENDING]
    if handled:
        raise JoinRequestNotPending(
            f"Already handled (not pending): {', '.join(handled)}.", field="join_request_ids"
        )
    return ids


def _join_requests_decide(*, group: Group, join_request_ids: list[str], approve: bool, actor, source: str,
                          client: CloudAPIClient | None, reason: str = "") -> JoinRequestDecision:
    group_assert_accepts_changes(group=group)
    ids = _clean_join_request_ids(group, join_request_ids)
    client = client or get_cloud_api_client()
    call = client.approve_join_requests if approve else client.reject_join_requests
    result = call(group_id=group.group_id, join_request_ids=ids)
    failed = [
        {"join_request_id": f.join_request_id, "error": error_dict(f.errors[0]) if f.errors else None}
        for f in result.failed
    ]
    now = timezone.now()
    # A reject has no webhook: its state comes from this answer (spec §4.11). An approve's join follows by webhook.
    to_state = JoinState.APPROVED if approve else JoinState.REJECTED
    with transaction.atomic():
        locked = lock_groups().get(pk=group.pk)
        for join_request in locked.join_requests.filter(join_request_id__in=result.succeeded):
            join_request.state, join_request.state_changed_at = to_state, now
            join_request.save(update_fields=["state", "state_changed_at", "updated_at"])
            event_record(type=JOIN_REQUEST_EVENTS[to_state], obj=join_request, occurred_at=now)
            group_event_record(
                group=locked, type=EventType.JOIN_REQUEST_APPROVED if approve else EventType.JOIN_REQUEST_REJECTED,
                source=source, actor=actor, occurred_at=now,
                detail={"join_request_id": join_request.join_request_id, "wa_id": join_request.wa_id,
                        **({"reason": reason} if reason else {})},
            )
        for failure in failed:
            group_event_record(
                group=locked,
                type=EventType.JOIN_REQUEST_APPROVE_FAILED if approve else EventType.JOIN_REQUEST_REJECT_FAILED,
                source=source, actor=actor, occurred_at=now, detail=failure,
            )
        action = GroupAuditAction.JOIN_REQUESTS_APPROVE if approve else GroupAuditAction.JOIN_REQUESTS_REJECT
        audit_record(actor=actor, action=action,
                     target=locked, reason=reason, source=source,
                     detail={"join_request_ids": ids, "done": list(result.succeeded), "failed": failed})
    return JoinRequestDecision(done=list(result.succeeded), failed=failed)


def join_requests_approve(*, group: Group, join_request_ids: list[str], actor=None, source: str = Source.API,
                         client: CloudAPIClient | None = None, reason: str = "") -> JoinRequestDecision:
    """Approve pending join requests at Meta; a partial success (HTTP 206) lists what failed and why.

    Raises GroupInputInvalid / JoinRequestNotPending (field `join_request_ids`), GroupNotActive / GroupIsSuspended.
    """
    return _join_requests_decide(group=group, join_request_ids=join_request_ids, approve=True, actor=actor,
                                 source=source, client=client, reason=reason)


def join_requests_reject(*, group: Group, join_request_ids: list[str], actor=None, source: str = Source.API,
                         client: CloudAPIClient | None = None, reason: str = "") -> JoinRequestDecision:
    """Reject pending join requests at Meta; rejected ones are marked here (Meta sends no webhook).

    Raises GroupInputInvalid / JoinRequestNotPending (field `join_request_ids`), GroupNotActive / GroupIsSuspended.
    """
    return _join_requests_decide(group=group, join_request_ids=join_request_ids, approve=False, actor=actor,
                                 source=source, client=client, reason=reason)
