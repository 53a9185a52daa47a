"""The audit log: one entry per staff action (admin or REST) with who, what, when, reason and target."""

import pytest

from core.models import AuditEntry
from groups.models import Group
from groups.models import GroupAuditAction as Action
from messaging.models import MessagingAuditAction as MessageAction
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory
from tests.spec import SPEC_G1, SPEC_G3, graph_json, webhook_body

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"
REJECTED_ID = "NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg"  # The spec's reject sample.


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.parametrize("url,action,audited,required", [
    ("/admin/groups/group/", "delete_groups", Action.GROUP_DELETE, True),
    ("/admin/groups/group/", "reset_invite_link", Action.INVITE_LINK_RESET, False),
    ("/admin/groups/participant/", "remove_participants", Action.PARTICIPANTS_REMOVE, True),
    ("/admin/groups/joinrequest/", "reject", Action.JOIN_REQUESTS_REJECT, False),
])
def test_each_destructive_admin_action_confirms_and_records_the_reason(desk, superuser, graph, url, action, audited,
                                                                      required):
    # given
    group = GroupFactory(group_id=SPEC_G1 if action != "reject" else SPEC_G3)
    obj = {"delete_groups": group, "reset_invite_link": group,
           "remove_participants": ParticipantFactory(group=group, wa_id="16505551234"),
           "reject": JoinRequestFactory(group=group, join_request_id=REJECTED_ID)}[action]
    data = {"action": action, "_selected_action": [obj.pk]}
    if action == "reset_invite_link":
        graph.post(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("reset_invite_link.response"))
    if action == "reject":
        graph.delete(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("reject_join_requests.response"))
    # when
    asked = desk.post(url, data)
    asked_wrote = AuditEntry.objects.exists()
    without_reason = desk.post(url, {**data, "post": "yes"}) if required else None
    without_reason_wrote = AuditEntry.objects.exists()
    done = desk.post(url, {**data, "post": "yes", "reason": "  Customer asked us to  "}, follow=True)
    # then: a confirmation page asking a reason first, and nothing done before yes (nor without a required reason)
    assert 'name="reason"' in asked.text and not asked_wrote
    if required:
        assert "Give a reason" in without_reason.text and not without_reason_wrote
    assert done.status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.actor_username, entry.action, entry.reason, entry.source) == (
        superuser, "admin", audited, "Customer asked us to", "admin")
    assert entry.group == group and entry.created_at is not None
    assert entry.target_id == str(group.pk)


def test_each_staff_action_through_rest_writes_one_entry(admin_api, superuser, graph, post_webhook):
    # given
    group = GroupFactory(group_id=SPEC_G3, subject="Order 1")
    join_ids = graph_json("approve_join_requests.request")["join_requests"]
    for join_id in join_ids:
        JoinRequestFactory(group=group, join_request_id=join_id)
    ParticipantFactory(group=group, wa_id="16505551234")
    failed = OutboundMessageFactory(group=group, status="failed")
    pinned = PinFactory(group=group, active=True)
    target = OutboundMessageFactory(group=group, accepted=True, wamid="wamid.TARGET0001")
    graph.post(f"{BASE}/{SPEC_G3}/invite_link", json=graph_json("reset_invite_link.response"))
    graph.post(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("approve_join_requests.response"))
    calls = [
        (Action.GROUP_CREATE, "post", "/api/v1/groups/", {"phone_number": group.phone_number_id, "subject": "New"}),
        (Action.GROUP_SETTINGS_UPDATE, "patch", f"/api/v1/groups/{group.pk}/", {"subject": "Order 2"}),
        (Action.INVITE_LINK_RESET, "post", f"/api/v1/groups/{group.pk}/invite-link/reset/", {"reason": "leaked"}),
        (Action.JOIN_REQUESTS_APPROVE, "post", f"/api/v1/groups/{group.pk}/join-requests/approve/",
         {"join_request_ids": join_ids}),
        (Action.PARTICIPANTS_REMOVE, "post", f"/api/v1/groups/{group.pk}/participants/remove/",
         {"participants": ["16505551234"], "reason": "spam"}),
        (MessageAction.MESSAGE_SEND, "post", "/api/v1/messages/",
         {"group": group.pk, "type": "text", "text": {"body": "Hi"}}),
        (MessageAction.MESSAGE_RETRY, "post", f"/api/v1/messages/{failed.pk}/retry/", {}),
        (MessageAction.PIN_CREATE, "post", "/api/v1/pins/", {"group": group.pk, "message_id": target.wamid,
                                                      "expiration_days": 7}),
        (MessageAction.PIN_UNPIN, "post", f"/api/v1/pins/{pinned.pk}/unpin/", {}),
        (Action.GROUP_DELETE, "delete", f"/api/v1/groups/{group.pk}/?reason=closed", None),
    ]
    for action, method, url, body in calls:
        before = AuditEntry.objects.count()
        # when
        response = getattr(admin_api, method)(url, body, format="json")
        # then: exactly one entry, naming the action, the user and the source
        assert response.status_code in (200, 202), (url, response.content)
        assert AuditEntry.objects.count() == before + 1, url
        entry = AuditEntry.objects.order_by("pk").last()
        assert (entry.action, entry.actor, entry.source) == (action, superuser, "api")
    assert AuditEntry.objects.get(action=Action.INVITE_LINK_RESET).reason == "leaked"
    assert AuditEntry.objects.get(action=Action.PARTICIPANTS_REMOVE).reason == "spam"
    assert AuditEntry.objects.get(action=Action.GROUP_DELETE).reason == "closed"
    # and a webhook changing the group writes no audit entry (no staff user behind it)
    before = AuditEntry.objects.count()
    Group.objects.filter(pk=group.pk).update(group_id=SPEC_G1)
    post_webhook(webhook_body("group_status_update.suspended"))
    assert AuditEntry.objects.count() == before


def test_audit_admin_is_read_only_and_shows_who_what_reason_and_target(desk, superuser):
    # given
    group = GroupFactory(subject="Order 77")
    from core.audit import audit_record

    audit_record(actor=superuser, action=Action.GROUP_DELETE, target=group, reason="Closed order", source="admin")
    # when
    listing = desk.get("/admin/groups/auditentry/", {"action": "group_delete"})
    other = desk.get("/admin/groups/auditentry/", {"action": "pin_create"})
    # then
    assert "Closed order" in listing.text and "Order 77" in listing.text
    assert f"/admin/groups/group/{group.pk}/change/" in listing.text
    assert "Closed order" not in other.text
    assert "delete_selected" not in listing.text and "action-select" not in listing.text
    assert desk.get("/admin/groups/auditentry/add/").status_code == 403
    entry = AuditEntry.objects.get()
    assert desk.post(f"/admin/groups/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.count() == 1
