"""Group webhooks Meta may send differently from its samples: unknown enum values, misplaced keys, disorder.

Bodies start from the spec samples and change only the value under test, then are posted signed.
"""

import json
import logging

import pytest

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant
from tests.groups.factories import GroupFactory, GroupOperationFactory, ParticipantFactory
from tests.spec import SPEC_G1, SPEC_G3, webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

Kind = GroupOperation.Kind
OpState = GroupOperation.State


def sample(name: str) -> dict:
    return json.loads(webhook_body(name))


def items(body: dict) -> list[dict]:
    return body["entry"][0]["changes"][0]["value"]["groups"]


@pytest.fixture
def post(post_webhook):
    def do(body: dict | bytes) -> WebhookEvent:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        response = post_webhook(raw)
        assert response.status_code == 200
        return WebhookEvent.objects.order_by("-pk").first()

    return do


def unknown_value_logged(caplog, key: str, value: str) -> bool:
    return any(f"unknown {key}" in r.getMessage() and getattr(r, "value", None) == value for r in caplog.records)


# --- Unknown enum values -------------------------------------------------------------------------


def test_an_unknown_type_in_a_known_field_is_ignored_and_the_rest_applies(post):
    # given: a participants body whose second item has a type Meta may add later
    group = GroupFactory(group_id=SPEC_G1)
    body = sample("group_participants_update.joined_via_link")
    items(body).append({**items(body)[0], "type": "group_participants_promote"})
    # when
    event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert (event.item_counts.get("processed"), event.item_counts.get("ignored")) == (1, 1)
    assert [f["kind"] for f in event.item_failures] == ["group_participants_promote"]
    assert group.participants.get().state == Participant.State.ACTIVE


def test_a_body_of_only_unknown_types_is_ignored_and_changes_nothing(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    body = sample("group_status_update.suspended")
    items(body)[0]["type"] = "group_suspend_warning"
    body["entry"][0]["changes"][0]["value"]["groups"][0]["group_id"] = SPEC_G1
    # when
    event = post(body)
    # then
    assert event.state == WebhookEvent.State.IGNORED
    group.refresh_from_db()
    assert group.suspended is False and not group.events.exists()


def test_an_unknown_initiated_by_is_logged_and_a_removal_with_request_id_still_applies(post, caplog):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="16505551234")
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS)
    body = sample("group_participants_update.remove_succeeded")
    items(body)[0]["initiated_by"] = "moderator"
    # when
    with caplog.at_level(logging.WARNING):
        event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert unknown_value_logged(caplog, "initiated_by", "moderator")
    operation.refresh_from_db()
    assert operation.state == OpState.SUCCEEDED
    assert group.participants.get(wa_id="16505551234").state == Participant.State.REMOVED


def test_an_unknown_initiated_by_without_request_id_counts_as_a_leave(post, caplog):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="447700900123")
    body = sample("group_participants_update.participant_left")
    items(body)[0]["initiated_by"] = "system_cleanup"
    # when
    with caplog.at_level(logging.WARNING):
        event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert unknown_value_logged(caplog, "initiated_by", "system_cleanup")
    assert group.participants.get().state == Participant.State.LEFT


def test_an_unknown_add_reason_is_logged_kept_in_the_timeline_and_the_join_applies(post, caplog):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    body = sample("group_participants_update.joined_via_link")
    items(body)[0]["reason"] = "qr_code"
    # when
    with caplog.at_level(logging.WARNING):
        event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert unknown_value_logged(caplog, "reason", "qr_code")
    assert group.participants.get().state == Participant.State.ACTIVE
    assert group.events.get(type=GroupEvent.Type.PARTICIPANT_JOINED).detail["reason"] == "qr_code"


def test_an_unknown_join_request_reason_is_logged_and_the_request_recorded(post, caplog):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    body = sample("group_participants_update.join_request_created")
    items(body)[0]["reason"] = "community_member"
    # when
    with caplog.at_level(logging.WARNING):
        event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert unknown_value_logged(caplog, "reason", "community_member")
    assert JoinRequest.objects.get(group=group).state == JoinRequest.State.PENDING
    assert group.events.get(type=GroupEvent.Type.JOIN_REQUEST_CREATED).detail["reason"] == "community_member"


def test_a_known_join_request_reason_is_not_logged_as_unknown(post, caplog):
    GroupFactory(group_id=SPEC_G3)
    body = sample("group_participants_update.join_request_created")
    items(body)[0]["reason"] = "admin_approval"
    with caplog.at_level(logging.WARNING):
        post(body)
    assert not any("unknown reason" in r.getMessage() for r in caplog.records)


def test_an_unknown_join_approval_mode_on_create_is_logged_and_the_requested_mode_kept(post, caplog):
    # given
    group = GroupFactory(creating=True, subject="Order 48213 - delivery support",
                         join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    GroupOperationFactory(group=group, kind=Kind.CREATE, request_id="c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4")
    body = sample("group_lifecycle_update.create_succeeded")
    items(body)[0]["join_approval_mode"] = "admins_only"
    # when
    with caplog.at_level(logging.WARNING):
        event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert unknown_value_logged(caplog, "join_approval_mode", "admins_only")
    group.refresh_from_db()
    assert (group.state, group.join_approval_mode) == (Group.State.ACTIVE, Group.JoinApprovalMode.APPROVAL_REQUIRED)


# --- `initiated_by` outside the group object (spec §6.7) -------------------------------------------


def test_initiated_by_outside_the_group_object_is_read_there(post):
    # given: Meta's sample shape, and no request_id to infer the business from
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="16505551234")
    ParticipantFactory(group=group, wa_id="5511987654321")
    operation = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at="2026-01-01T00:00Z")
    body = sample("group_participants_update.remove_succeeded")
    item = items(body)[0]
    body["entry"][0]["changes"][0]["value"]["initiated_by"] = item.pop("initiated_by")
    del item["request_id"]
    # when
    event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert set(group.participants.values_list("state", flat=True)) == {Participant.State.REMOVED}
    operation.refresh_from_db()
    assert operation.state == OpState.SUCCEEDED


def test_a_leave_with_initiated_by_outside_the_group_object_is_a_leave(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    ParticipantFactory(group=group, wa_id="447700900123")
    body = sample("group_participants_update.participant_left")
    body["entry"][0]["changes"][0]["value"]["initiated_by"] = items(body)[0].pop("initiated_by")
    # when
    event = post(body)
    # then
    assert event.state == WebhookEvent.State.PROCESSED
    assert group.participants.get().state == Participant.State.LEFT
    assert group.events.filter(type=GroupEvent.Type.PARTICIPANT_LEFT).count() == 1


# --- Disorder and duplicates ---------------------------------------------------------------------------


def test_a_leave_before_its_join_leaves_the_participant_out(post):
    # given: the same person's join (earlier timestamp) arrives after their leave
    group = GroupFactory(group_id=SPEC_G1)
    join = sample("group_participants_update.joined_via_link")
    items(join)[0]["added_participants"] = [{"wa_id": "447700900123"}]
    leave = sample("group_participants_update.participant_left")
    assert int(items(join)[0]["timestamp"]) < int(items(leave)[0]["timestamp"])
    # when
    post(leave)
    post(join)
    post(join)
    # then
    group.refresh_from_db()
    participant = group.participants.get()
    assert participant.state == Participant.State.LEFT
    assert participant.joined_at is not None and participant.left_at is not None
    assert participant.joined_at < participant.left_at
    assert group.participant_count == 0
    assert group.events.filter(type=GroupEvent.Type.PARTICIPANT_JOINED).count() == 1
    assert group.events.filter(type=GroupEvent.Type.PARTICIPANT_LEFT).count() == 1


def test_the_same_body_delivered_twice_counts_a_delivery_and_writes_nothing_new(post):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    post(webhook_body("group_participants_update.joined_via_link"))
    before = (group.events.count(), group.participants.count())
    # when
    event = post(webhook_body("group_participants_update.joined_via_link"))
    # then
    assert event.deliveries == 2
    assert (group.events.count(), group.participants.count()) == before == (1, 1)


def test_a_settings_webhook_older_than_a_synced_subject_does_not_overwrite_it(post):
    # given: the group's settings were last changed after the sample's timestamp
    group = GroupFactory(group_id=SPEC_G1, subject="Newest subject", settings_changed_at="2030-01-01T00:00Z")
    operation = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS, claimed_at="2026-01-01T00:00Z")
    # when
    post(webhook_body("group_settings_update.succeeded"))
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.subject == "Newest subject"
    assert operation.state == OpState.SUCCEEDED  # Meta did apply it; it is simply not the latest.
    assert group.events.get(type=GroupEvent.Type.SETTINGS_UPDATED).detail["applied"] is False
