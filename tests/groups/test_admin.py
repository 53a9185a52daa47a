"""The groups support desk through the Django test client: list, forms, actions and their confirmations."""

import re

import pytest
from responses import matchers

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory, PhoneNumberFactory
from tests.spec import SPEC_G1, SPEC_G3, SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"


def management_forms(page: str) -> dict:
    """Return the inline formsets' management fields of a change page, as a browser would post them."""
    return dict(re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"[^>]*value="(\d+)"', page))


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


def test_group_list_shows_participants_out_of_eight(desk):
    GroupFactory(subject="Order 48213", participant_count=3)
    response = desk.get("/admin/groups/group/")
    assert response.status_code == 200
    assert "Order 48213" in response.text and "3/8" in response.text


def test_create_form_queues_the_create(desk, graph, django_capture_on_commit_callbacks):
    # given
    number = PhoneNumberFactory()
    graph.post(f"{BASE}/{SPEC_PHONE_NUMBER_ID}/groups", json=graph_json("create_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = desk.post("/admin/groups/group/add/", {
            "phone_number": number.pk, "subject": "Order 48213 - delivery support", "description": "",
            "join_approval_mode": "auto_approve",
        }, follow=True)
    # then
    assert response.status_code == 200
    group = Group.objects.get()
    assert group.state == Group.State.CREATING
    assert GroupOperation.objects.get().request_id == "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4"


def test_change_form_queues_a_settings_update(desk, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Old")
    graph.post(f"{BASE}/{SPEC_G1}", json={"success": True},
               match=[matchers.json_params_matcher({"messaging_product": "whatsapp", "subject": "New"})])
    forms = management_forms(desk.get(f"/admin/groups/group/{group.pk}/settings/").text)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        desk.post(f"/admin/groups/group/{group.pk}/settings/", {"subject": "New", "description": "", **forms})
    # then
    group.refresh_from_db()
    assert group.subject == "Old"  # Until Meta confirms by webhook.
    assert GroupOperation.objects.get().requested == {"subject": "New"}


def test_suspended_group_shows_a_banner_and_no_editable_fields(desk):
    group = GroupFactory(suspended=True)
    response = desk.get(f"/admin/groups/group/{group.pk}/change/")
    assert 'id="suspended-banner"' in response.text
    assert 'name="subject"' not in response.text


def test_reset_invite_link_asks_for_confirmation_first(desk, graph):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    data = {"action": "reset_invite_link", "_selected_action": [group.pk]}
    # when
    asked = desk.post("/admin/groups/group/", data)
    graph.post(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("reset_invite_link.response"))
    done = desk.post("/admin/groups/group/", {**data, "post": "yes"}, follow=True)
    # then
    assert "stops working" in asked.text
    group.refresh_from_db()
    assert group.invite_link == "https://chat.whatsapp.com/F8uYc2RbN6qJw4ZeT1kVsA"
    assert "invite link reset" in done.text


def test_delete_action_confirms_then_queues(desk, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    data = {"action": "delete_groups", "_selected_action": [group.pk]}
    asked = desk.post("/admin/groups/group/", data)
    graph.delete(f"{BASE}/{SPEC_G1}", json=graph_json("delete_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        desk.post("/admin/groups/group/", {**data, "post": "yes", "reason": "Order closed"})
    # then
    assert "cannot be undone" in asked.text
    group.refresh_from_db()
    assert group.state == Group.State.DELETING


def test_action_on_a_suspended_group_shows_the_refusal(desk):
    group = GroupFactory(suspended=True, subject="Held")
    response = desk.post("/admin/groups/group/", {"action": "delete_groups", "_selected_action": [group.pk],
                                                  "post": "yes", "reason": "Order closed"}, follow=True)
    assert "Held: WhatsApp suspended this group" in response.text
    group.refresh_from_db()
    assert group.state == Group.State.ACTIVE


def test_meta_error_shows_code_and_meaning(desk, graph):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Gone")
    graph.get(f"{BASE}/{SPEC_G1}", status=400, json=graph_json("error.rate_limit_130429"))
    # when
    response = desk.post("/admin/groups/group/", {"action": "sync_from_meta", "_selected_action": [group.pk],
                                                  "post": "yes"}, follow=True)
    # then
    assert "Gone: Meta error 130429" in response.text


def test_sync_action_reads_the_group(desk, graph):
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info.response"))
    desk.post("/admin/groups/group/", {"action": "sync_from_meta", "_selected_action": [group.pk], "post": "yes"})
    group.refresh_from_db()
    assert group.participant_count == 3


def test_remove_participants_action_confirms_then_queues(desk, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    participant = ParticipantFactory(group=group, wa_id="16505551234")
    data = {"action": "remove_participants", "_selected_action": [participant.pk]}
    asked = desk.post("/admin/groups/participant/", data)
    graph.delete(f"{BASE}/{SPEC_G1}/participants", json={"success": True})
    # when
    with django_capture_on_commit_callbacks(execute=True):
        done = desk.post("/admin/groups/participant/", {**data, "post": "yes", "reason": "Asked to leave"},
                         follow=True)
    # then
    assert "can no longer join" in asked.text
    assert "Removal of 1 participant sent to Meta." in done.text
    assert GroupOperation.objects.get().requested == {"participants": ["16505551234"]}


def test_approve_join_requests_reports_each_failure_with_its_meaning(desk, graph):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    ids = graph_json("approve_join_requests.request")["join_requests"]
    requests_ = [JoinRequestFactory(group=group, join_request_id=i) for i in ids]
    graph.post(f"{BASE}/{SPEC_G3}/join_requests", status=206,
               json=graph_json("approve_join_requests.partial.response"))
    # when
    response = desk.post("/admin/groups/joinrequest/", {"action": "approve", "post": "yes",
                                                        "_selected_action": [r.pk for r in requests_]}, follow=True)
    # then
    assert "1 join request approved" in response.text
    assert "Meta error 131203" in response.text
    assert JoinRequest.objects.get(join_request_id=ids[0]).state == JoinRequest.State.APPROVED


def test_reject_join_request_action(desk, graph):
    group = GroupFactory(group_id=SPEC_G3)
    join_request = JoinRequestFactory(group=group, join_request_id="NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg")
    graph.delete(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("reject_join_requests.response"))
    desk.post("/admin/groups/joinrequest/", {"action": "reject", "_selected_action": [join_request.pk],
                                             "post": "yes"})
    join_request.refresh_from_db()
    assert join_request.state == JoinRequest.State.REJECTED


def test_staff_without_permission_cannot_open_groups(client, user_with_perms):
    client.force_login(user_with_perms(is_staff=True))
    assert client.get("/admin/groups/group/").status_code == 403


# --- The group page and the list --------------------------------------------------------------------


def test_group_page_lists_participants_join_requests_operations_and_timeline(desk):
    # given
    group = GroupFactory(subject="Order 48213")
    ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel")
    JoinRequestFactory(group=group, join_request_id="JRVISIBLE01", wa_id="447700900123")
    GroupOperation.objects.create(group=group, kind=GroupOperation.Kind.REMOVE_PARTICIPANTS,
                                  state=GroupOperation.State.FAILED, request_id="REQVISIBLE01",
                                  errors=[{"code": 131212, "title": "", "message": "", "details": "not in group"}])
    GroupEvent.objects.create(group=group, type=GroupEvent.Type.SUSPENSION_CLEARED, source="webhook",
                              occurred_at="2026-02-17T10:00Z")
    # when
    page = desk.get(f"/admin/groups/group/{group.pk}/change/").text
    # then
    assert "Maya Patel" in page and "16505551234" in page
    assert "JRVISIBLE01" in page and "447700900123" in page
    assert "REQVISIBLE01" in page and "Meta error 131212" in page
    assert "WhatsApp lifted the suspension" in page


def test_group_page_shows_the_last_meta_error_with_its_meaning(desk):
    group = GroupFactory(state=Group.State.CREATE_FAILED, group_id=None,
                         last_error={"code": 131211, "title": "", "message": "", "details": "limit"})
    page = desk.get(f"/admin/groups/group/{group.pk}/change/").text
    assert "Meta error 131211 (Group create limit reached)" in page
    assert "already owns the maximum number of groups" in page


def test_group_page_links_to_its_participants_and_pending_join_requests(desk):
    # given
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id="16505551234")
    ParticipantFactory(wa_id="19998887777")  # Another group's.
    JoinRequestFactory(group=group, join_request_id="JRMINE")
    JoinRequestFactory(join_request_id="JROTHER")
    page = desk.get(f"/admin/groups/group/{group.pk}/change/").text
    participants_url = re.search(r'href="([^"]+)"\s+id="group-participants-link"', page).group(1)
    requests_url = re.search(r'href="([^"]+)"\s+id="group-join-requests-link"', page).group(1)
    # when
    participants = desk.get(participants_url.replace("&amp;", "&"))
    join_requests = desk.get(requests_url.replace("&amp;", "&"))
    # then
    assert participants.status_code == 200 and join_requests.status_code == 200
    assert "16505551234" in participants.text and "19998887777" not in participants.text
    assert "JRMINE" in join_requests.text and "JROTHER" not in join_requests.text


def test_group_list_shows_the_columns(desk):
    GroupFactory(subject="Order 48213", participant_count=8, suspended=True)
    page = desk.get("/admin/groups/group/").text
    for column in ("column-subject", "column-state", "column-suspension", "column-participants",
                   "column-phone_number", "column-created_at"):
        assert column in page
    assert "8/8" in page and "+15550783881" in page.replace("Support (+", "+")


def test_group_list_filters_and_search(desk):
    # given
    GroupFactory(subject="Order 48213 - delivery")
    GroupFactory(subject="Returns desk", suspended=True)
    GroupFactory(subject="Brand new", creating=True)
    elsewhere = GroupFactory(subject="Elsewhere", phone_number=PhoneNumberFactory(phone_number_id="42"))
    # when
    def subjects(query: str) -> set[str]:
        page = desk.get(f"/admin/groups/group/?{query}").text
        return {s for s in ("Order 48213 - delivery", "Returns desk", "Brand new", "Elsewhere") if s in page}
    # then
    assert subjects("q=48213") == {"Order 48213 - delivery"}
    assert subjects("suspended__exact=1") == {"Returns desk"}
    assert subjects("state__exact=creating") == {"Brand new"}
    assert subjects(f"phone_number__id__exact={elsewhere.phone_number_id}") == {"Elsewhere"}
    assert 'id="changelist-filter"' in desk.get("/admin/groups/group/").text


# --- Refusals and confirmations -------------------------------------------------------------------------


def test_confirmation_pages_call_nothing_before_yes(desk, graph):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    participant = ParticipantFactory(group=group)
    # when
    pages = [
        desk.post("/admin/groups/group/", {"action": "reset_invite_link", "_selected_action": [group.pk]}),
        desk.post("/admin/groups/group/", {"action": "delete_groups", "_selected_action": [group.pk]}),
        desk.post("/admin/groups/participant/", {"action": "remove_participants",
                                                 "_selected_action": [participant.pk]}),
    ]
    # then
    assert all('name="post" value="yes"' in p.text for p in pages)
    assert len(graph.calls) == 0
    group.refresh_from_db()
    assert group.state == Group.State.ACTIVE and not GroupOperation.objects.exists()


def test_suspended_group_refuses_removals_and_join_decisions_in_the_admin(desk):
    # given
    group = GroupFactory(suspended=True, subject="Held")
    participant = ParticipantFactory(group=group)
    join_request = JoinRequestFactory(group=group)
    # when
    removed = desk.post("/admin/groups/participant/", {"action": "remove_participants",
                                                       "_selected_action": [participant.pk], "post": "yes",
                                                       "reason": "Asked to leave"},
                        follow=True)
    approved = desk.post("/admin/groups/joinrequest/", {"action": "approve", "_selected_action": [join_request.pk],
                                                        "post": "yes"}, follow=True)
    reset = desk.post("/admin/groups/group/", {"action": "reset_invite_link", "_selected_action": [group.pk],
                                               "post": "yes"}, follow=True)
    # then
    for response in (removed, approved, reset):
        assert "Held: WhatsApp suspended this group" in response.text
    assert not GroupOperation.objects.exists()
    join_request.refresh_from_db()
    assert join_request.state == JoinRequest.State.PENDING


def test_suspended_group_change_form_post_queues_nothing(desk):
    # given
    group = GroupFactory(suspended=True, subject="Held")
    forms = management_forms(desk.get(f"/admin/groups/group/{group.pk}/settings/").text)
    # when
    desk.post(f"/admin/groups/group/{group.pk}/settings/", {"subject": "Changed", "description": "x", **forms})
    # then
    group.refresh_from_db()
    assert group.subject == "Held" and not GroupOperation.objects.exists()


def test_create_form_refuses_an_empty_or_long_subject(desk):
    number = PhoneNumberFactory()
    for subject in ("   ", "s" * 129):
        response = desk.post("/admin/groups/group/add/", {"phone_number": number.pk, "subject": subject,
                                                          "description": "", "join_approval_mode": "auto_approve"})
        assert response.status_code == 200 and "errornote" in response.text
    assert not Group.objects.exists()


def test_meta_error_message_names_the_meaning(desk, graph):
    group = GroupFactory(group_id=SPEC_G1, subject="Gone")
    graph.post(f"{BASE}/{SPEC_G1}/invite_link", status=404, json=graph_json("error.group_not_found_131041"))
    response = desk.post("/admin/groups/group/", {"action": "reset_invite_link", "_selected_action": [group.pk],
                                                  "post": "yes"}, follow=True)
    assert "Gone: Meta error 131041" in response.text
    from groups.cloud_api import describe_error

    assert describe_error(131041).meaning.replace("'", "&#x27;") in response.text


def test_lists_and_confirmations_write_a_phone_number_with_its_plus_as_the_workspace_does(desk):
    group = GroupFactory(subject="Order 48213")
    ParticipantFactory(group=group, wa_id="16505551234", name="")
    join_request = JoinRequestFactory(group=group, wa_id="447700900123")
    assert ">+16505551234<" in desk.get("/admin/groups/participant/").text
    assert "+447700900123 → Order 48213" in desk.get("/admin/groups/joinrequest/").text
    confirm = desk.post("/admin/groups/joinrequest/", {"action": "approve", "_selected_action": [join_request.pk]})
    assert "+447700900123 → Order 48213" in confirm.text
