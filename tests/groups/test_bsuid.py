"""BSUID-era payloads as Meta documents them (spec §5.7, Corrections C1-C3, C9): parent BSUIDs, self-leaves that
carry a request_id, wa_ids that are digits only. Each test is built from a published example in
tests/fixtures/meta (placeholders filled with the spec's ids)."""

import json

import pytest
from responses import matchers

from groups.models import GroupEvent, GroupOperation, Participant
from groups.services import group_sync
from tests.groups.factories import GroupFactory, GroupOperationFactory, ParticipantFactory
from tests.spec import SPEC_G1, graph_json, webhook_body

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"
Kind = GroupOperation.Kind
OpState = GroupOperation.State
PARENT = "US.ENT.11815799212886844830"
MAYA_BSUID = "US.13491208655302741918"


@pytest.fixture
def post(post_webhook):
    def do(name: str, *, again: bool = False) -> None:
        # `again`: the same items in another body, as Meta re-batches them (a new event, the same items).
        body = json.dumps(json.loads(webhook_body(name)), indent=1).encode() if again else webhook_body(name)
        assert post_webhook(body).status_code == 200

    return do


def _item(name: str) -> dict:
    return json.loads(webhook_body(name))["entry"][0]["changes"][0]["value"]["groups"][0]


# --- Parent BSUIDs (C1) --------------------------------------------------------------------------


def test_a_removal_by_parent_bsuid_removes_the_participant_who_has_it(post):
    # given: Maya, known by phone and BSUID with her parent BSUID; we asked Meta to remove her by the parent BSUID
    group = GroupFactory(group_id=SPEC_G1)
    maya = ParticipantFactory(group=group, wa_id="16505551234", user_id=MAYA_BSUID, parent_user_id=PARENT)
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-04-01T00:00Z",
                                      requested={"participants": [PARENT]})
    # when
    post("group_participants_update.remove_succeeded_parent_bsuid")
    post("group_participants_update.remove_succeeded_parent_bsuid", again=True)
    # then: she is removed, nobody new appears, the operation succeeded
    maya.refresh_from_db()
    operation.refresh_from_db()
    assert maya.state == Participant.State.REMOVED
    assert group.participants.count() == 1
    assert not group.participants.filter(wa_id=PARENT).exists()
    assert operation.state == OpState.SUCCEEDED
    assert operation.outcome["participants"] == {PARENT: {"removed": True}}
    [event] = group.events.filter(type=GroupEvent.Type.PARTICIPANT_REMOVED)  # It says whom the item named.
    assert event.detail == {"wa_id": None, "user_id": None, "parent_user_id": PARENT, "input": PARENT}


def test_a_removal_by_an_unknown_parent_bsuid_creates_no_participant(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="16505551234")
    # when
    post("group_participants_update.remove_succeeded_parent_bsuid")
    # then
    assert list(group.participants.values_list("wa_id", "state")) == [("16505551234", Participant.State.ACTIVE)]


def test_removing_by_parent_bsuid_through_rest_sends_it_as_user(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    graph.delete(f"{BASE}/{SPEC_G1}/participants", json={"success": True}, match=[matchers.json_params_matcher(
        {"messaging_product": "whatsapp", "participants": [{"user": PARENT}, {"user": MAYA_BSUID}]})])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/",
                                  {"participants": [PARENT, MAYA_BSUID]}, format="json")
    # then
    assert response.status_code == 202
    assert GroupOperation.objects.get().requested == {"participants": [PARENT, MAYA_BSUID]}


@pytest.mark.parametrize("value", ["US.ENT.", "US.ENT.12ab", "1234567890123456", "+"])
def test_removing_by_something_else_is_refused_naming_the_field(admin_api, value):
    group = GroupFactory(group_id=SPEC_G1)
    response = admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": [value]},
                              format="json")
    assert response.status_code == 400
    assert "participants" in response.json()["extra"]["fields"]


def test_a_sync_keeps_parent_bsuids_and_ignores_country_codes(graph):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info_parent_bsuid.response"))
    # when
    group_sync(group=group)
    # then
    maya = group.participants.get(wa_id="16505551234")
    assert (maya.user_id, maya.parent_user_id, maya.username) == (MAYA_BSUID, PARENT, "maya.p")
    assert group.participants.filter(user_id="GB.48810273365190042771", state=Participant.State.ACTIVE).exists()


# --- Self-leaves that carry a request_id (C2) --------------------------------------------------


def test_a_self_leave_with_a_request_id_is_a_leave_and_settles_no_removal(post):
    # given: a pending removal of someone else, and Oliver, who leaves on his own
    group = GroupFactory(group_id=SPEC_G1)
    oliver = ParticipantFactory(group=group, wa_id="447700900123")
    ParticipantFactory(group=group, wa_id="16505551234")
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-04-01T00:00Z",
                                      requested={"participants": ["16505551234"]})
    assert "initiated_by" not in _item("group_participants_update.participant_left_bsuid")
    # when
    post("group_participants_update.participant_left_bsuid")
    # then
    oliver.refresh_from_db()
    operation.refresh_from_db()
    assert (oliver.state, oliver.user_id, oliver.username) == (Participant.State.LEFT, "GB.48810273365190042771",
                                                               "oliver.grant")
    assert operation.state == OpState.PENDING and operation.request_id is None
    assert group.events.filter(type=GroupEvent.Type.PARTICIPANT_LEFT).count() == 1
    assert not group.events.filter(type=GroupEvent.Type.PARTICIPANT_REMOVED).exists()


def test_a_removal_whose_request_id_is_none_of_ours_settles_only_a_removal_of_those_people(post):
    # given: two pending removals without a request_id; only the second asked for Lucas and Maya
    group = GroupFactory(group_id=SPEC_G1)
    other = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-01-01T00:00Z",
                                  requested={"participants": ["447700900123"]})
    ours = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-01-01T00:00Z",
                                 requested={"participants": ["16505551234", "+5511987654321"]})
    # when
    post("group_participants_update.remove_succeeded")
    # then
    other.refresh_from_db()
    ours.refresh_from_db()
    assert other.state == OpState.PENDING
    assert ours.state == OpState.SUCCEEDED


def test_a_removal_whose_request_id_another_operation_holds_settles_nothing_else(post):
    # given: the only pending removal has its own request_id (from Meta's answer), another than the webhook's
    group = GroupFactory(group_id=SPEC_G1)
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-01-01T00:00Z",
                                      request_id="another-call", requested={"participants": ["16505551234"]})
    # when
    post("group_participants_update.remove_succeeded")
    # then
    operation.refresh_from_db()
    assert operation.state == OpState.PENDING


# --- wa_id is digits only (C3) -------------------------------------------------------------------


def test_no_bsuid_or_placeholder_is_ever_stored_as_a_wa_id(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    # when: every group sample, BSUID era included
    for name in ("group_participants_update.joined_via_link_bsuid", "group_participants_update.participant_left_bsuid",
                 "group_participants_update.remove_succeeded_parent_bsuid"):
        post(name)
    # then
    assert all(wa_id is None or (wa_id.isdigit() and len(wa_id) <= 15)
               for wa_id in Participant.objects.values_list("wa_id", flat=True))
    assert group.participants.count() == 1
