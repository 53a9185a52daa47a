"""A create that failed for good is final: its advice says so (never "Groupdesk retries later"), and "Try again"
creates the group anew through groups.services.group_create_again, confirmed, and audited."""

import pytest

from core.models import AuditEntry, Source
from groups.exceptions import GroupCreateNotFailed
from groups.models import Group, GroupOperation
from groups.services import group_create_again
from tests.groups.factories import GroupFactory

pytestmark = pytest.mark.django_db

RATE_LIMITED = {"code": 131208, "title": "Group rate limit hit", "message": "", "details": ""}


def _failed_create(**fields) -> Group:
    return GroupFactory(state=Group.State.CREATE_FAILED, group_id=None, invite_link="", subject="Parcels Leeds",
                        description="Deliveries", last_error=RATE_LIMITED, **fields)


def test_create_again_creates_a_new_group_with_the_same_settings_and_audits_it(superuser):
    # given
    failed = _failed_create(join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    # when
    again = group_create_again(group=failed, actor=superuser, source=Source.ADMIN, reason="Meta was busy")
    # then
    assert again.pk != failed.pk and again.state == Group.State.CREATING
    assert (again.phone_number, again.subject, again.description, again.join_approval_mode) == (
        failed.phone_number, "Parcels Leeds", "Deliveries", Group.JoinApprovalMode.APPROVAL_REQUIRED)
    assert GroupOperation.objects.get(group=again).kind == GroupOperation.Kind.CREATE
    failed.refresh_from_db()
    assert failed.state == Group.State.CREATE_FAILED
    entry = AuditEntry.objects.get(action="group_create_again")
    assert (entry.target_id, entry.reason, entry.detail) == (str(failed.pk), "Meta was busy", {"new_group": again.pk})


@pytest.mark.parametrize("state", [Group.State.CREATING, Group.State.ACTIVE, Group.State.DELETED])
def test_create_again_refuses_a_group_whose_creation_did_not_fail(state):
    # given
    group = GroupFactory(state=state)
    # when / then
    with pytest.raises(GroupCreateNotFailed) as refused:
        group_create_again(group=group)
    assert refused.value.field == "group"
    assert Group.objects.count() == 1


def test_failed_create_page_says_it_is_final_and_offers_try_again(client, superuser):
    # given
    failed = _failed_create()
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/groups/group/{failed.pk}/change/").text
    # then
    assert "Meta error 131208" in page
    assert "retries later" not in page
    assert "Groupdesk does not retry a create" in page


def test_an_active_group_rate_limited_still_says_groupdesk_retries(client, superuser):
    # given: an error on a group that is not final (e.g. a settings change waiting for its retry)
    group = GroupFactory(last_error=RATE_LIMITED)
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/groups/group/{group.pk}/change/").text
    # then
    assert "retries later" in page


def test_try_again_action_confirms_then_creates_anew(client, superuser):
    # given
    failed = _failed_create()
    client.force_login(superuser)
    data = {"action": "create_again", "_selected_action": [failed.pk]}
    # when
    asked = client.post("/admin/groups/group/", data)
    # then
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert Group.objects.count() == 1
    # when
    client.post("/admin/groups/group/", {**data, "post": "yes", "reason": ""})
    # then
    assert Group.objects.filter(state=Group.State.CREATING, subject="Parcels Leeds").count() == 1


def test_131020_advice_does_not_contradict_the_recipient_count(client, superuser):
    # given: Groupdesk counted 3 recipients; Meta said it found only the business
    from tests.messaging.factories import OutboundMessageFactory

    message = OutboundMessageFactory(status="failed", error_code="131020", recipient_count=3,
                                     error={"code": 131020, "title": "Bad group", "message": "", "details": ""})
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/messaging/outboundmessage/{message.pk}/change/").text
    # then: the advice is phrased by what is known (Meta's view at delivery), and says how to check it
    assert "whose only member is the business" not in page
    assert "whatever Groupdesk&#x27;s member list showed" in page
    assert "Sync the group from Meta" in page


def test_a_failed_message_rate_limited_is_not_told_groupdesk_retries_later(client, superuser):
    # given: a message failed for good with a temporary error (Groupdesk's retries are spent)
    from tests.messaging.factories import OutboundMessageFactory

    message = OutboundMessageFactory(status="failed", error_code="130429", error={"code": 130429})
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/messaging/outboundmessage/{message.pk}/change/").text
    listed = client.get("/admin/messaging/outboundmessage/?error_code=130429").text
    # then
    for text in (page, listed):
        assert "retries later" not in text
        assert "this failure is final" in text
