"""Every group webhook variant posted signed to /webhooks/whatsapp/, with duplicates and disorder."""

import json

import pytest

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant
from tests.groups.factories import GroupFactory, GroupOperationFactory, JoinRequestFactory, ParticipantFactory
from tests.spec import SPEC_G1, SPEC_G2, SPEC_G3, webhook_body, webhook_names
from webhooks.models import WebhookEvent
from webhooks.registry import HANDLERS

pytestmark = pytest.mark.django_db

Kind = GroupOperation.Kind
OpState = GroupOperation.State


def redelivered(name: str) -> bytes:
    """Return the same items in a different body (Meta re-batches): a new event, the same items."""
    return json.dumps(json.loads(webhook_body(name)), indent=1).encode()


@pytest.fixture
def post(post_webhook):
    def do(name: str, *, again: bool = False) -> WebhookEvent:
        response = post_webhook(redelivered(name) if again else webhook_body(name))
        assert response.status_code == 200
        return WebhookEvent.objects.order_by("-pk").first()

    return do


def events(group: Group, type: str) -> list[GroupEvent]:
    return list(group.events.filter(type=type))


@pytest.mark.parametrize("name", [n for n in webhook_names() if n.startswith("group_")])
def test_every_group_sample_has_a_registered_handler(name):
    # given
    payload = json.loads(webhook_body(name))
    # then
    for entry in payload["entry"]:
        for change in entry["changes"]:
            for item in change["value"]["groups"]:
                assert (change["field"], item["type"]) in HANDLERS


# --- group_lifecycle_update -----------------------------------------------------------------------


def test_create_succeeded_makes_the_group_active_with_its_id_and_link(post):
    # given
    group = GroupFactory(creating=True, subject="Order 48213 - delivery support")
    operation = GroupOperationFactory(group=group, kind=Kind.CREATE, request_id="c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4")
    # when
    event = post("group_lifecycle_update.create_succeeded")
    post("group_lifecycle_update.create_succeeded", again=True)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    group.refresh_from_db()
    operation.refresh_from_db()
    assert (group.state, group.group_id) == (Group.State.ACTIVE, SPEC_G1)
    assert group.invite_link == "https://chat.whatsapp.com/KxR4nQ7vLm2Bd9TfWc3HpZ"
    assert operation.state == OpState.SUCCEEDED
    assert len(events(group, GroupEvent.Type.CREATED)) == 1


def test_create_succeeded_before_the_request_id_is_stored_matches_by_subject(post):
    # given: the task has not committed Meta's request_id yet
    group = GroupFactory(creating=True, subject="Premium onboarding - cohort 7")
    operation = GroupOperationFactory(group=group, kind=Kind.CREATE, request_id=None)
    # when
    post("group_lifecycle_update.create_succeeded_approval_required")
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert (group.state, group.group_id) == (Group.State.ACTIVE, SPEC_G3)
    assert group.join_approval_mode == Group.JoinApprovalMode.APPROVAL_REQUIRED
    assert operation.request_id == "0b6e4d2a9c1f4e35a7d8c2b5e9f1a604"


def test_create_succeeded_redelivered_after_a_link_reset_keeps_the_new_link(post):
    # given
    group = GroupFactory(creating=True, subject="Order 48213 - delivery support")
    GroupOperationFactory(group=group, kind=Kind.CREATE, request_id="c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4")
    post("group_lifecycle_update.create_succeeded")
    Group.objects.filter(pk=group.pk).update(invite_link="https://chat.whatsapp.com/NewLink")
    # when
    post("group_lifecycle_update.create_succeeded", again=True)
    # then
    group.refresh_from_db()
    assert group.invite_link == "https://chat.whatsapp.com/NewLink"


def test_create_failed_records_the_error(post):
    # given
    group = GroupFactory(creating=True, subject="Order 48377 - delivery support")
    operation = GroupOperationFactory(group=group, kind=Kind.CREATE, request_id="7d02e8b5a1c94f6e8b3d2a90f4c1e5b7")
    # when
    post("group_lifecycle_update.create_failed")
    post("group_lifecycle_update.create_failed", again=True)
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.state == Group.State.CREATE_FAILED
    assert group.last_error["code"] == 131211
    assert operation.state == OpState.FAILED
    assert len(events(group, GroupEvent.Type.CREATE_FAILED)) == 1


def test_create_for_an_unknown_request_waits_for_it(post):
    # when: the create webhook comes before (or without) any create of ours
    event = post("group_lifecycle_update.create_succeeded")
    # then: kept pending for a later try, not failed
    assert event.state == WebhookEvent.State.PENDING
    assert event.item_counts["deferred"] == 1
    assert "CreateNotMatched" in event.error
    assert event.claimed_until > event.received_at


def test_delete_succeeded_deletes_and_empties_the_group(post):
    # given
    group = GroupFactory(group_id=SPEC_G2, state=Group.State.DELETING)
    ParticipantFactory(group=group, wa_id="16505551234")
    operation = GroupOperationFactory(group=group, kind=Kind.DELETE)
    # when
    post("group_lifecycle_update.delete_succeeded")
    post("group_lifecycle_update.delete_succeeded", again=True)
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.state == Group.State.DELETED
    assert group.participant_count == 0
    assert group.participants.get().state == Participant.State.REMOVED
    assert (operation.state, operation.request_id) == (OpState.SUCCEEDED, "a83e5c1f0d7b4e29b6c4f8a2e1d9c035")
    assert len(events(group, GroupEvent.Type.DELETED)) == 1


def test_delete_failed_returns_the_group_to_active_with_the_error(post):
    # given
    group = GroupFactory(group_id=SPEC_G2, state=Group.State.DELETING)
    operation = GroupOperationFactory(group=group, kind=Kind.DELETE)
    # when
    post("group_lifecycle_update.delete_failed")
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.state == Group.State.ACTIVE
    assert group.last_error["code"] == 131000
    assert operation.state == OpState.FAILED


def test_delete_failed_arriving_after_a_newer_delete_success_keeps_the_group_deleted(post):
    # given: the failure (earlier timestamp) of a first attempt arrives after the success of a second
    group = GroupFactory(group_id=SPEC_G2, state=Group.State.DELETING)
    GroupOperationFactory(group=group, kind=Kind.DELETE, request_id="a83e5c1f0d7b4e29b6c4f8a2e1d9c035")
    post("group_lifecycle_update.delete_succeeded")
    # when
    post("group_lifecycle_update.delete_failed")
    # then
    group.refresh_from_db()
    assert group.state == Group.State.DELETED



@pytest.mark.parametrize("delete_first", [False, True])
def test_last_error_is_the_newest_failure_by_metas_time_whatever_arrives_last(post, delete_first):
    # given: a settings failure (131207 at 15:03:20) and a delete failure (131000 at 09:15 the next day)
    group = GroupFactory(group_id=SPEC_G2, state=Group.State.DELETING)
    GroupOperationFactory(group=group, kind=Kind.DELETE, request_id="5b9f2d7e3a184c60a5e1d3f7b2c8e946")
    GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS, request_id="81f6b3d9e2a54c7f9d0e4b8a2c6f1d35")
    names = ["group_settings_update.failed", "group_lifecycle_update.delete_failed"]
    # when
    for name in reversed(names) if delete_first else names:
        post(name)
    # then
    group.refresh_from_db()
    assert group.last_error["code"] == 131000


# --- group_participants_update --------------------------------------------------------------------


def test_joined_via_link_adds_an_active_participant_once(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    # when
    post("group_participants_update.joined_via_link")
    post("group_participants_update.joined_via_link", again=True)
    # then
    group.refresh_from_db()
    participant = group.participants.get()
    assert (participant.wa_id, participant.state) == ("16505551234", Participant.State.ACTIVE)
    assert participant.joined_at is not None
    assert group.participant_count == 1
    assert len(events(group, GroupEvent.Type.PARTICIPANT_JOINED)) == 1


def test_joined_via_link_bsuid_keeps_the_business_scoped_id(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="447700900123", state=Participant.State.LEFT)
    # when
    post("group_participants_update.joined_via_link_bsuid")
    # then
    participant = group.participants.get()
    assert participant.user_id == "GB.48810273365190042771"
    assert participant.username == "oliver.grant"
    assert participant.state == Participant.State.ACTIVE


def test_participant_left_marks_them_left(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="447700900123")
    # when
    post("group_participants_update.participant_left")
    # then
    group.refresh_from_db()
    participant = group.participants.get()
    assert participant.state == Participant.State.LEFT
    assert participant.left_at is not None
    assert group.participant_count == 0


def test_a_join_older_than_a_removal_does_not_bring_the_participant_back(post):
    # given: the removal (later timestamp) arrives before the join
    group = GroupFactory(group_id=SPEC_G1)
    post("group_participants_update.remove_succeeded")
    # when
    post("group_participants_update.joined_via_link")
    # then
    group.refresh_from_db()
    participant = group.participants.get(wa_id="16505551234")
    assert participant.state == Participant.State.REMOVED
    assert participant.joined_at is not None  # The late join still tells when they joined.
    assert group.participant_count == 0
    joined = events(group, GroupEvent.Type.PARTICIPANT_JOINED)
    assert len(joined) == 1 and joined[0].detail["applied"] is False


@pytest.mark.parametrize("link_first", [False, True])
def test_a_timeline_entry_names_whom_the_item_named_not_what_was_known_on_arrival(post, link_first):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    names = ["group_participants_update.participant_left", "group_participants_update.joined_via_link_bsuid"]
    # when: the later join links Oliver's phone to his BSUID
    for name in reversed(names) if link_first else names:
        post(name)
    # then
    assert events(group, GroupEvent.Type.PARTICIPANT_LEFT)[0].detail["user_id"] is None
    participant = group.participants.get()
    assert (participant.wa_id, participant.user_id) == ("447700900123", "GB.48810273365190042771")
    assert participant.state == Participant.State.ACTIVE  # The join is newer than the leave.


def test_one_person_first_seen_by_phone_and_by_bsuid_ends_as_one_participant(post):
    # given: a leave names Oliver by phone, an inbound message by BSUID only
    group = GroupFactory(group_id=SPEC_G1)
    post("group_participants_update.participant_left")
    post("messages.inbound_text_bsuid")
    assert group.participants.count() == 2
    # when: the join names both
    post("group_participants_update.joined_via_link_bsuid")
    # then
    group.refresh_from_db()
    participant = group.participants.get()
    assert (participant.wa_id, participant.user_id, participant.name) == (
        "447700900123", "GB.48810273365190042771", "Oliver Grant")
    assert participant.state == Participant.State.ACTIVE
    assert group.participant_count == 1
    assert group.inbound_messages.get().participant == participant


def test_join_request_created_then_approved(post):
    # given
    group = GroupFactory(group_id=SPEC_G3, join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    # when
    post("group_participants_update.join_request_created")
    post("group_participants_update.join_request_created", again=True)
    post("group_participants_update.join_request_approved")
    # then
    join_request = JoinRequest.objects.get()
    assert join_request.join_request_id == "MTY1MDU1NTEyMzQ6MTIwMzYzNDA1MzA5OTU0ODEy"
    assert join_request.state == JoinRequest.State.APPROVED
    assert group.participants.get().wa_id == "16505551234"
    assert len(events(group, GroupEvent.Type.JOIN_REQUEST_CREATED)) == 1


def test_join_request_revoked(post):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    JoinRequestFactory(group=group, join_request_id="NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg", wa_id="447700900123")
    # when
    post("group_participants_update.join_request_revoked")
    # then
    assert JoinRequest.objects.get().state == JoinRequest.State.REVOKED


def _revoke_of_the_created_request() -> bytes:
    """Return the revoke sample rewritten to withdraw the request of join_request_created (same id and person)."""
    created = json.loads(webhook_body("group_participants_update.join_request_created"))["entry"][0]["changes"][0]
    body = json.loads(webhook_body("group_participants_update.join_request_revoked"))
    item = body["entry"][0]["changes"][0]["value"]["groups"][0]
    item.update({key: created["value"]["groups"][0][key] for key in ("join_request_id", "wa_id")})
    return json.dumps(body).encode()


def test_join_request_revoked_before_its_creation_stays_revoked(post, post_webhook):
    # given: Meta's revoke (later) arrives first for a request we never saw
    group = GroupFactory(group_id=SPEC_G3)
    assert post_webhook(_revoke_of_the_created_request()).status_code == 200
    # when: the (earlier) creation arrives
    post("group_participants_update.join_request_created")
    # then
    join_request = JoinRequest.objects.get()
    assert join_request.state == JoinRequest.State.REVOKED
    assert join_request.requested_at is not None
    assert group.events.filter(type=GroupEvent.Type.JOIN_REQUEST_CREATED).get().detail["applied"] is False


@pytest.mark.parametrize("approval_first", [False, True])
def test_an_approval_before_its_request_still_approves_it(post, approval_first):
    # given
    group = GroupFactory(group_id=SPEC_G3, join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    names = ["group_participants_update.join_request_created", "group_participants_update.join_request_approved"]
    # when
    for name in reversed(names) if approval_first else names:
        post(name)
    # then: the same request as in order, timed by Meta's timestamps
    join_request = JoinRequest.objects.get()
    assert join_request.state == JoinRequest.State.APPROVED
    assert join_request.requested_at.timestamp() == 1771321200
    assert join_request.state_changed_at.timestamp() == 1771321800
    assert group.participants.get().state == Participant.State.ACTIVE


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (2, 0, 1), (1, 2, 0)])
def test_a_join_after_a_withdrawn_request_leaves_it_revoked_in_any_order(post, post_webhook, order):
    # given: created (09:40), revoked (09:43:40), then the person joins (09:50)
    GroupFactory(group_id=SPEC_G3, join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    bodies = [webhook_body("group_participants_update.join_request_created"), _revoke_of_the_created_request(),
              webhook_body("group_participants_update.join_request_approved")]
    # when
    for index in order:
        assert post_webhook(bodies[index]).status_code == 200
    # then
    join_request = JoinRequest.objects.get()
    assert (join_request.state, join_request.state_changed_at.timestamp()) == (JoinRequest.State.REVOKED, 1771321420)


def test_remove_succeeded_settles_the_operation(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="16505551234")
    ParticipantFactory(group=group, wa_id="5511987654321")
    ParticipantFactory(group=group, wa_id="447700900123")
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS,
                                      requested={"participants": ["16505551234", "+5511987654321"]})
    # when
    post("group_participants_update.remove_succeeded")
    post("group_participants_update.remove_succeeded", again=True)
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert operation.state == OpState.SUCCEEDED
    assert operation.outcome["participants"] == {"16505551234": {"removed": True}, "+5511987654321": {"removed": True}}
    assert set(group.participants.filter(state=Participant.State.REMOVED).values_list("wa_id", flat=True)) == {
        "16505551234", "5511987654321"}
    assert group.participant_count == 1
    assert len(events(group, GroupEvent.Type.PARTICIPANT_REMOVED)) == 2


def test_remove_partially_failed_records_the_outcome_per_participant(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="5511987654321")
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS,
                                      request_id="2f8d4a6c1e9b4d07b3a5c8e2f6d1a9b0")
    # when
    post("group_participants_update.remove_partially_failed")
    # then
    operation.refresh_from_db()
    assert operation.state == OpState.PARTIALLY_FAILED
    assert operation.outcome["participants"]["5511987654321"] == {"removed": True}
    failed = operation.outcome["participants"]["919876543210"]
    assert failed["removed"] is False and failed["errors"][0]["code"] == 131212
    assert group.participants.get().state == Participant.State.REMOVED


def test_remove_failed_fails_the_operation(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-01-01T00:00Z")
    # when
    post("group_participants_update.remove_failed")
    post("group_participants_update.remove_failed", again=True)
    # then
    operation.refresh_from_db()
    group.refresh_from_db()
    assert operation.state == OpState.FAILED
    assert operation.errors[0]["code"] == 131212
    assert len(events(group, GroupEvent.Type.REMOVE_FAILED)) == 1


# --- group_settings_update ------------------------------------------------------------------------


def test_settings_succeeded_applies_subject_and_description(post):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Old", description="Old description")
    operation = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS, claimed_at="2026-01-01T00:00Z")
    # when
    post("group_settings_update.succeeded")
    post("group_settings_update.succeeded", again=True)
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.subject == "Order 48213 - delivery and returns"
    assert group.description == "Delivery and returns for order 48213. Replies 08:00-20:00."
    assert operation.state == OpState.SUCCEEDED
    assert operation.request_id == "4a7b1e9c3d6f4a20b8e5d2c1f9a7e063"
    assert len(events(group, GroupEvent.Type.SETTINGS_UPDATED)) == 1


def test_settings_partially_failed_applies_only_the_successful_settings(post):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Old")
    operation = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS)
    # when
    post("group_settings_update.partially_failed")
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.subject == "Order 48213 - returns"
    assert operation.state == OpState.PARTIALLY_FAILED
    assert operation.outcome["settings"]["picture"]["updated"] is False
    assert operation.outcome["settings"]["picture"]["errors"][0]["code"] == 131209
    assert operation.outcome["settings"]["subject"]["updated"] is True


def test_settings_failed_changes_nothing(post):
    # given
    group = GroupFactory(group_id=SPEC_G2, subject="Keep me")
    operation = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS)
    # when
    post("group_settings_update.failed")
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.subject == "Keep me"
    assert operation.state == OpState.FAILED
    assert operation.errors[0]["code"] == 131207
    assert len(events(group, GroupEvent.Type.SETTINGS_FAILED)) == 1


def test_older_settings_do_not_overwrite_newer_ones(post):
    # given: the newer success (1771340300) arrives before the older one (1771340000)
    group = GroupFactory(group_id=SPEC_G1)
    post("group_settings_update.partially_failed")
    # when
    post("group_settings_update.succeeded")
    # then
    group.refresh_from_db()
    assert group.subject == "Order 48213 - returns"


# --- group_status_update --------------------------------------------------------------------------


def test_suspended_then_cleared(post):
    # given
    group = GroupFactory(group_id=SPEC_G2)
    # when
    post("group_status_update.suspended")
    group.refresh_from_db()
    suspended = group.suspended
    post("group_status_update.suspension_cleared")
    # then
    group.refresh_from_db()
    assert suspended is True
    assert group.suspended is False
    assert [e.type for e in group.events.order_by("occurred_at")] == ["suspended", "suspension_cleared"]


def test_a_late_suspension_does_not_undo_a_newer_clearance(post):
    # given
    group = GroupFactory(group_id=SPEC_G2)
    post("group_status_update.suspension_cleared")
    # when
    post("group_status_update.suspended")
    post("group_status_update.suspended", again=True)
    # then
    group.refresh_from_db()
    assert group.suspended is False
    assert len(events(group, GroupEvent.Type.SUSPENDED)) == 1


def test_an_unknown_group_waits_and_changes_nothing(post):
    # when
    event = post("group_status_update.suspended")
    # then
    assert event.state == WebhookEvent.State.PENDING
    assert event.item_counts["deferred"] == 1
    assert not Group.objects.exists()
