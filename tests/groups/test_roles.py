"""Roles created by migration (Support agent, Support lead, Auditor) and what each may do in REST and the admin."""

import pytest
from django.contrib.auth.models import Group as Role
from django.contrib.auth.models import Permission

from groups.models import Group, GroupOperation
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory

pytestmark = pytest.mark.django_db

AGENT_EXTRA = {"messaging.add_outboundmessage", "messaging.add_pin", "messaging.change_pin"}
LEAD_EXTRA = AGENT_EXTRA | {"groups.delete_group_at_meta", "groups.reset_invite_link", "groups.remove_participant",
                            "groups.decide_joinrequest", "webhooks.reprocess_webhookevent"}

# Destructive routes only a lead may call; a group still creating refuses them without calling Meta (409).
LEAD_ROUTES = [
    ("delete", "/api/v1/groups/{pk}/"),
    ("post", "/api/v1/groups/{pk}/invite-link/reset/"),
    ("post", "/api/v1/groups/{pk}/participants/remove/"),
    ("post", "/api/v1/groups/{pk}/join-requests/approve/"),
    ("post", "/api/v1/groups/{pk}/join-requests/reject/"),
]
AGENT_ROUTES = [("post", "/api/v1/messages/"), ("post", "/api/v1/pins/")]
OTHER_WRITES = [
    ("post", "/api/v1/groups/"),
    ("patch", "/api/v1/groups/{pk}/"),
    ("post", "/api/v1/groups/{pk}/picture/"),
    ("post", "/api/v1/phone-numbers/"),
    ("post", "/api/v1/messages/{message}/retry/"),
    ("post", "/api/v1/pins/{pin}/unpin/"),
    ("post", "/api/v1/webhook-events/1/reprocess/"),
]


def _codes(role_name: str) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in Role.objects.get(name=role_name).permissions.select_related("content_type")}


def _views() -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}"
            for p in Permission.objects.filter(content_type__app_label__in=["groups", "messaging", "webhooks"],
                                               codename__startswith="view_").select_related("content_type")}


@pytest.fixture
def member(django_user_model):
    def make(role_name: str):
        user, _ = django_user_model.objects.get_or_create(username=role_name.lower().replace(" ", "-"),
                                                          defaults={"is_staff": True})
        user.groups.add(Role.objects.get(name=role_name))
        return django_user_model.objects.get(pk=user.pk)

    return make


def _call(client, method: str, path: str, group: Group):
    message = OutboundMessageFactory(group=group)
    pin = PinFactory(group=group)
    url = path.format(pk=group.pk, message=message.pk, pin=pin.pk)
    return getattr(client, method)(url, {}, format="json")


def test_the_migration_creates_the_three_roles_with_exactly_the_intended_permissions():
    # then
    views = _views()
    assert {"groups.view_group", "messaging.view_outboundmessage", "webhooks.view_webhookevent",
            "groups.view_auditentry"} <= views
    assert _codes("Support agent") == views | AGENT_EXTRA
    assert _codes("Support lead") == views | LEAD_EXTRA
    assert _codes("Auditor") == views


@pytest.mark.parametrize("method,path", LEAD_ROUTES)
def test_an_agent_gets_403_on_destructive_routes_and_a_lead_gets_through(api_client, member, method, path):
    # given
    group = GroupFactory(creating=True)
    # when
    api_client.force_authenticate(member("Support agent"))
    as_agent = _call(api_client, method, path, group)
    api_client.force_authenticate(member("Support lead"))
    as_lead = _call(api_client, method, path, group)
    # then
    assert as_agent.status_code == 403
    assert as_lead.status_code in (400, 409)  # Reached the view: its input or the group's state decides.
    assert not GroupOperation.objects.exists()


@pytest.mark.parametrize("role_name", ["Support agent", "Support lead"])
@pytest.mark.parametrize("method,path", AGENT_ROUTES)
def test_agents_and_leads_may_compose_and_pin(api_client, member, role_name, method, path):
    api_client.force_authenticate(member(role_name))
    response = _call(api_client, method, path, GroupFactory(creating=True))
    assert response.status_code == 400  # Past the permission check: the empty input is refused by name.


@pytest.mark.parametrize("method,path", LEAD_ROUTES + AGENT_ROUTES + OTHER_WRITES)
def test_an_auditor_gets_403_on_every_write(api_client, member, method, path):
    # given
    api_client.force_authenticate(member("Auditor"))
    # when
    response = _call(api_client, method, path, GroupFactory())
    # then
    assert response.status_code == 403
    assert not GroupOperation.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/groups/", "/api/v1/messages/", "/api/v1/pins/", "/api/v1/webhook-events/",
                                  "/api/v1/inbound-messages/", "/api/v1/phone-numbers/"])
def test_an_auditor_can_read(api_client, member, path):
    api_client.force_authenticate(member("Auditor"))
    assert api_client.get(path).status_code == 200


ADMIN_ACTIONS = {
    "/admin/groups/group/": ["delete_groups", "reset_invite_link"],
    "/admin/groups/participant/": ["remove_participants"],
    "/admin/groups/joinrequest/": ["approve", "reject"],
}


def _seed_admin_rows():
    group = GroupFactory()
    ParticipantFactory(group=group)
    JoinRequestFactory(group=group)
    OutboundMessageFactory(group=group)
    PinFactory(group=group)


def test_an_agent_sees_no_destructive_admin_action_and_a_lead_sees_them(client, member):
    # given
    _seed_admin_rows()
    for role_name, offered in (("Support agent", False), ("Support lead", True)):
        client.force_login(member(role_name))
        for url, actions in ADMIN_ACTIONS.items():
            # when
            page = client.get(url)
            # then
            assert page.status_code == 200
            for action in actions:
                assert (f'value="{action}"' in page.text) is offered, (role_name, url, action)
    client.force_login(member("Support agent"))
    messages_page = client.get("/admin/messaging/outboundmessage/").text
    assert 'value="pin_selected_messages"' in messages_page


def test_an_agent_posting_a_destructive_admin_action_changes_nothing(client, member):
    # given
    group = GroupFactory()
    client.force_login(member("Support agent"))
    # when
    client.post("/admin/groups/group/", {"action": "delete_groups", "_selected_action": [group.pk], "post": "yes",
                                         "reason": "x"})
    # then
    group.refresh_from_db()
    assert group.state == Group.State.ACTIVE and not GroupOperation.objects.exists()


@pytest.mark.parametrize("url", [*ADMIN_ACTIONS, "/admin/messaging/outboundmessage/", "/admin/messaging/pin/",
                                 "/admin/webhooks/webhookevent/", "/admin/groups/auditentry/",
                                 "/admin/groups/groupevent/"])
def test_an_auditor_sees_the_admin_lists_without_any_action(client, member, url):
    # given
    _seed_admin_rows()
    client.force_login(member("Auditor"))
    # when
    page = client.get(url)
    # then
    assert page.status_code == 200
    assert 'name="action"' not in page.text
