"""Every admin action that calls Meta or changes what others see asks first, on the one confirmation page
(core.admin_confirm, templates/admin/confirm_action.html): the first POST shows it and changes nothing, the
confirmed POST acts. Destructive actions say what cannot be undone."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from core.models import AuditEntry
from groups.models import Group, GroupOperation, JoinRequest
from messaging.models import OutboundMessage, Pin
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import SPEC_PINNED_WAMID, PinFactory, PinnableMessageFactory
from tests.spec import SPEC_G1, SPEC_G3, graph_json, webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"


@dataclass
class Case:
    url: str
    action: str
    given: Callable  # (graph, post_webhook) -> the selected object
    acted: Callable  # (the object) -> bool
    irreversible: bool = False
    reason: str = ""


def _reject_graph(graph):
    graph.delete(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("reject_join_requests.response"))


def _approve_graph(graph):
    graph.post(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("approve_join_requests.response"))


def _join_request():
    return JoinRequestFactory(group=GroupFactory(group_id=SPEC_G3),
                              join_request_id="NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg")


def _webhook_event(post_webhook):
    post_webhook(webhook_body("messages.status_sent"))
    WebhookEvent.objects.update(state=WebhookEvent.State.FAILED)  # Only a failed event is offered for replay.
    return WebhookEvent.objects.get()


CASES = {
    "sync": Case("/admin/groups/group/", "sync_from_meta",
                 lambda graph, _: (graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info.response")),
                                   GroupFactory(group_id=SPEC_G1))[1],
                 lambda group: Group.objects.get(pk=group.pk).participant_count == 3),
    "reset invite link": Case(
        "/admin/groups/group/", "reset_invite_link",
        lambda graph, _: (graph.post(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("reset_invite_link.response")),
                          GroupFactory(group_id=SPEC_G1))[1],
        lambda group: Group.objects.get(pk=group.pk).invite_link.endswith("F8uYc2RbN6qJw4ZeT1kVsA"),
        irreversible=True),
    "delete group": Case("/admin/groups/group/", "delete_groups", lambda graph, _: GroupFactory(group_id=SPEC_G1),
                         lambda group: Group.objects.get(pk=group.pk).state == Group.State.DELETING,
                         irreversible=True, reason="Order closed"),
    "remove participant": Case(
        "/admin/groups/participant/", "remove_participants",
        lambda graph, _: ParticipantFactory(group=GroupFactory(group_id=SPEC_G1), wa_id="16505551234"),
        lambda participant: GroupOperation.objects.filter(kind=GroupOperation.Kind.REMOVE_PARTICIPANTS).exists(),
        irreversible=True, reason="Asked to leave"),
    "approve": Case("/admin/groups/joinrequest/", "approve",
                    lambda graph, _: (_approve_graph(graph), _join_request())[1],
                    lambda jr: JoinRequest.objects.get(pk=jr.pk).state == JoinRequest.State.APPROVED),
    "reject": Case("/admin/groups/joinrequest/", "reject", lambda graph, _: (_reject_graph(graph), _join_request())[1],
                   lambda jr: JoinRequest.objects.get(pk=jr.pk).state == JoinRequest.State.REJECTED,
                   irreversible=True),
    "retry": Case("/admin/messaging/outboundmessage/", "retry_failed",
                  lambda graph, _: OutboundMessageFactory(status="failed", error_code="131026"),
                  lambda message: OutboundMessage.objects.filter(retry_of=message).exists(), irreversible=True),
    "pin": Case("/admin/messaging/outboundmessage/", "pin_selected_messages",
                lambda graph, _: PinnableMessageFactory(group=GroupFactory(spec_g1=True), wamid=SPEC_PINNED_WAMID),
                lambda message: Pin.objects.filter(message_id=SPEC_PINNED_WAMID).exists()),
    "unpin": Case("/admin/messaging/pin/", "unpin_selected",
                  lambda graph, _: PinFactory(group=GroupFactory(spec_g1=True), message_id=SPEC_PINNED_WAMID,
                                              active=True),
                  lambda pin: OutboundMessage.objects.filter(type=OutboundMessage.Type.PIN).exists(),
                  irreversible=True),
    "reprocess webhook event": Case(
        "/admin/webhooks/webhookevent/", "reprocess", lambda graph, post_webhook: _webhook_event(post_webhook),
        lambda event: AuditEntry.objects.filter(target_id=event.pk).exists()),
}


def _snapshot() -> tuple:
    """Everything the actions could change: rows and states of the tables they write."""
    return (
        list(Group.objects.values_list("pk", "state", "invite_link", "participant_count")),
        list(JoinRequest.objects.values_list("pk", "state")),
        GroupOperation.objects.count(), OutboundMessage.objects.count(), list(Pin.objects.values_list("pk", "state")),
        AuditEntry.objects.count(), list(WebhookEvent.objects.values_list("pk", "state", "attempts")),
    )


@pytest.mark.parametrize("name", list(CASES))
def test_the_first_post_asks_on_the_one_confirmation_page_and_changes_nothing(client, superuser, graph,
                                                                             post_webhook, name):
    # given
    case = CASES[name]
    obj = case.given(graph, post_webhook)
    client.force_login(superuser)
    before = _snapshot()
    # when
    response = client.post(case.url, {"action": case.action, "_selected_action": [obj.pk]})
    # then
    assert response.status_code == 200
    assert response.templates[0].name == "admin/confirm_action.html"
    assert _snapshot() == before
    assert len(graph.calls) == 0
    assert ('id="confirm-irreversible"' in response.text) is case.irreversible
    assert ("errornote" in response.text) is case.irreversible  # The red box only says what cannot be undone.
    graph.reset()  # The Meta answer registered for the confirmed step is not used by this test.


@pytest.mark.parametrize("name", list(CASES))
def test_the_confirmed_post_acts(client, superuser, graph, post_webhook, name):
    # given
    case = CASES[name]
    obj = case.given(graph, post_webhook)
    client.force_login(superuser)
    # when
    response = client.post(case.url, {"action": case.action, "_selected_action": [obj.pk], "post": "yes",
                                      "reason": case.reason, "expiration_days": "7"})
    # then
    assert response.status_code == 302
    assert case.acted(obj)


def test_a_required_reason_is_asked_again_and_nothing_happens(client, superuser, graph):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    client.force_login(superuser)
    # when
    response = client.post("/admin/groups/group/", {"action": "delete_groups", "_selected_action": [group.pk],
                                                   "post": "yes", "reason": " "})
    # then
    assert 'id="reason-error"' in response.text
    group.refresh_from_db()
    assert group.state == Group.State.ACTIVE


def test_the_bulk_retry_asks_on_the_same_page_then_retries(client, superuser):
    # given
    failed = OutboundMessageFactory(status="failed", error_code="131026")
    OutboundMessage.objects.filter(pk=failed.pk).update(failed_at=failed.created_at)
    client.force_login(superuser)
    url = "/admin/messaging/outboundmessage/failures/"
    # when
    asked = client.post(url, {"error_code": "131026", "hours": "24"})
    # then
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert 'id="confirm-irreversible"' in asked.text
    assert not OutboundMessage.objects.filter(retry_of=failed).exists()
    # when
    client.post(url, {"error_code": "131026", "hours": "24", "post": "yes"})
    # then
    assert OutboundMessage.objects.filter(retry_of=failed).exists()


def _question(response) -> str:
    """What a confirmation page asks: its title and main content, without the form's token and the way back."""
    assert response.templates[0].name == "admin/confirm_action.html"
    title = re.search(r"<title>(.*?)</title>", response.text).group(1)
    main = response.text.split('<div id="content-main"', 1)[1].split("</form>", 1)[0]
    main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", main)
    return title + re.sub(r'<a href="[^"]*" class="button cancel-link">', "", main)


def _workspace_pin():
    return PinFactory(group=GroupFactory(spec_g1=True), message_id=SPEC_PINNED_WAMID, active=True)


def _workspace_message():
    return PinnableMessageFactory(group=GroupFactory(spec_g1=True), wamid=SPEC_PINNED_WAMID)


WORKSPACE_CASES = {  # name: (the object, its changelist and action, its URL on the group workspace)
    "unpin": (_workspace_pin, "/admin/messaging/pin/", "unpin_selected", "workspace/unpin/{pk}/"),
    "approve": (_join_request, "/admin/groups/joinrequest/", "approve", "workspace/join-requests/{pk}/approve/"),
    "reject": (_join_request, "/admin/groups/joinrequest/", "reject", "workspace/join-requests/{pk}/reject/"),
    "pin": (_workspace_message, "/admin/messaging/outboundmessage/", "pin_selected_messages",
            "workspace/pin/out/{pk}/"),
}


@pytest.mark.parametrize("name", list(WORKSPACE_CASES))
def test_the_workspace_asks_exactly_as_the_list_does(client, superuser, graph, name):
    # given
    make, changelist, action, workspace_path = WORKSPACE_CASES[name]
    obj = make()
    client.force_login(superuser)
    workspace_url = f"/admin/groups/group/{obj.group.pk}/" + workspace_path.format(pk=obj.pk)
    # when
    from_list = client.post(changelist, {"action": action, "_selected_action": [obj.pk]})
    from_workspace = client.post(workspace_url)
    # then: the same page, leading back where it was asked from
    assert _question(from_workspace) == _question(from_list)
    group_page = f"/admin/groups/group/{obj.group.pk}/change/"
    assert f'<a href="{group_page}" class="button cancel-link">' in from_workspace.text
    assert f'<a href="{group_page}">{obj.group.subject}</a>' in from_workspace.text
    assert len(graph.calls) == 0
