"""Sync from Meta and settling operations whose webhook never came (spec §10.2-3)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from groups.models import Group, GroupOperation, Participant, PhoneNumber
from groups.services import (
    group_operations_settle_stale,
    group_sync,
    join_requests_sync,
    participant_get_or_create,
    phone_number_sync,
)
from outbox import event_types
from outbox.models import OutboxEvent
from tests.groups.factories import (
    GroupFactory,
    GroupOperationFactory,
    JoinRequestFactory,
    ParticipantFactory,
    PhoneNumberFactory,
)
from tests.integrations.factories import WebhookEndpointFactory
from tests.spec import SPEC_G1, SPEC_G3, SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"
Kind = GroupOperation.Kind
OpState = GroupOperation.State


def test_group_sync_reconciles_fields_and_participants(graph):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Stale")
    ParticipantFactory(group=group, wa_id="919876543210")  # Meta no longer lists them.
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info.response"))
    # when
    group_sync(group=group)
    # then
    group.refresh_from_db()
    assert group.subject == "Order 48213 - delivery support"
    assert group.participant_count == 3
    assert group.participants.get(wa_id="919876543210").state == Participant.State.LEFT
    assert set(group.participants.filter(state="active").values_list("wa_id", flat=True)) == {
        "16505551234", "447700900123", "5511987654321"}


def test_group_sync_that_learns_new_texts_records_group_updated_naming_them(graph):
    # given
    info = graph_json("get_group_info.response")
    group = GroupFactory(group_id=SPEC_G1, subject="Stale", description=info["description"])
    WebhookEndpointFactory()
    graph.get(f"{BASE}/{SPEC_G1}", json=info)
    # when
    group_sync(group=group)
    # then
    event = OutboxEvent.objects.get(type=event_types.GROUP_UPDATED)
    assert event.detail == {"updated": ["subject"]}
    assert (event.object_type, event.object_id, event.data["subject"]) == ("group", group.pk, info["subject"])


def test_group_sync_names_every_text_that_changed(graph):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Stale", description="Old")
    WebhookEndpointFactory()
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info.response"))
    # when
    group_sync(group=group)
    # then
    assert OutboxEvent.objects.get(type=event_types.GROUP_UPDATED).detail == {"updated": ["subject", "description"]}


def test_group_sync_that_learns_nothing_new_records_no_group_updated(graph):
    # given
    info = graph_json("get_group_info.response")
    group = GroupFactory(group_id=SPEC_G1, subject=info["subject"], description=info["description"])
    WebhookEndpointFactory()
    graph.get(f"{BASE}/{SPEC_G1}", json=info)
    # when
    group_sync(group=group)
    # then
    assert not OutboxEvent.objects.filter(type=event_types.GROUP_UPDATED).exists()


def test_group_sync_accepts_bsuid_only_participants(graph):
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info_bsuid.response"))
    group_sync(group=group)
    assert group.participants.get(user_id="GB.48810273365190042771").wa_id is None
    group.refresh_from_db()
    assert group.participant_count == 2


def test_group_sync_of_a_group_meta_no_longer_knows_deletes_it(graph):
    # given
    group = GroupFactory(group_id=SPEC_G1, state=Group.State.DELETING)
    operation = GroupOperationFactory(group=group, kind=Kind.DELETE, claimed_at=timezone.now())
    graph.get(f"{BASE}/{SPEC_G1}", status=400, json=graph_json("error.group_not_found_131041"))
    # when
    group_sync(group=group)
    # then
    group.refresh_from_db()
    operation.refresh_from_db()
    assert group.state == Group.State.DELETED
    assert operation.state == OpState.SUCCEEDED


def test_stale_settings_and_removal_are_settled_from_group_info(graph):
    # given
    long_ago = timezone.now() - timedelta(minutes=11)
    group = GroupFactory(group_id=SPEC_G1)
    settings_op = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS, claimed_at=long_ago,
                                        requested={"subject": "Order 48213 - delivery support"})
    remove_op = GroupOperationFactory(group=group, kind=Kind.REMOVE_PARTICIPANTS, claimed_at=long_ago,
                                      requested={"participants": ["+919876543210", "16505551234"]})
    fresh_op = GroupOperationFactory(group=group, kind=Kind.UPDATE_SETTINGS, claimed_at=timezone.now(),
                                     requested={"subject": "Later"})
    graph.get(f"{BASE}/{SPEC_G1}", json=graph_json("get_group_info.response"))
    # when
    group_operations_settle_stale()
    # then
    for op in (settings_op, remove_op, fresh_op):
        op.refresh_from_db()
    assert settings_op.state == OpState.SUCCEEDED
    assert remove_op.state == OpState.PARTIALLY_FAILED
    assert remove_op.outcome["participants"] == {"+919876543210": {"removed": True, "via": "sync"},
                                                 "16505551234": {"removed": False, "via": "sync"}}
    assert fresh_op.state == OpState.PENDING


def test_stale_create_is_found_in_the_list_and_unknown_groups_are_adopted(graph):
    # given: the create's webhook never came; G3 was made elsewhere
    number = PhoneNumberFactory()
    group = GroupFactory(phone_number=number, creating=True, subject="Order 48213 - delivery support")
    GroupOperationFactory(group=group, kind=Kind.CREATE, claimed_at=timezone.now() - timedelta(minutes=30))
    # Requested a minute before Meta's creation time in the list sample (1771320012).
    GroupOperation.objects.update(created_at=datetime(2026, 2, 17, 9, 19, tzinfo=UTC))
    graph.get(f"{BASE}/{SPEC_PHONE_NUMBER_ID}/groups", json={**graph_json("list_groups.response"), "paging": {}})
    # when
    group_operations_settle_stale()
    # then
    group.refresh_from_db()
    assert (group.state, group.group_id) == (Group.State.ACTIVE, SPEC_G1)
    assert group.operations.get().state == OpState.SUCCEEDED
    adopted = Group.objects.get(group_id=SPEC_G3)
    assert (adopted.state, adopted.subject) == (Group.State.ACTIVE, "Premium onboarding - cohort 7")


def test_stale_create_missing_from_the_list_fails(graph):
    number = PhoneNumberFactory()
    group = GroupFactory(phone_number=number, creating=True, subject="Never made")
    GroupOperationFactory(group=group, kind=Kind.CREATE, claimed_at=timezone.now() - timedelta(minutes=30))
    graph.get(f"{BASE}/{SPEC_PHONE_NUMBER_ID}/groups", json={"data": {"groups": []}})
    phone_number_sync(phone_number=number)
    group.refresh_from_db()
    assert group.state == Group.State.CREATE_FAILED
    assert group.last_error["title"] == "No confirmation from Meta"


def test_join_requests_sync_reads_open_requests_and_revokes_vanished_ones(graph):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    gone = JoinRequestFactory(group=group, join_request_id="GONE")
    graph.get(f"{BASE}/{SPEC_G3}/join_requests", json={**graph_json("get_join_requests.response"), "paging": {}})
    # when
    open_requests = join_requests_sync(group=group)
    # then
    assert {r.wa_id for r in open_requests} == {"16505551234", "447700900123"}
    gone.refresh_from_db()
    assert gone.state == "revoked"


def test_participant_get_or_create_finds_by_wa_id_or_bsuid_and_links_them():
    # given
    group = GroupFactory()
    # when
    first, created = participant_get_or_create(group=group, wa_id="+447700900123", name="Oliver Grant")
    same, created_again = participant_get_or_create(group=group, wa_id="447700900123",
                                                    user_id="GB.48810273365190042771")
    by_bsuid, _ = participant_get_or_create(group=group, user_id="GB.48810273365190042771")
    # then
    assert (created, created_again) == (True, False)
    assert first.pk == same.pk == by_bsuid.pk
    assert by_bsuid.user_id == "GB.48810273365190042771" and by_bsuid.wa_id == "447700900123"
    group.refresh_from_db()
    assert group.participant_count == 1


@pytest.mark.parametrize("phone_profile_newer", [False, True])
def test_two_rows_of_one_person_merge_keeping_the_newer_profile(phone_profile_newer):
    # given: one row by phone, one by BSUID, each named by an item of its own time
    group = GroupFactory()
    older, newer = datetime(2026, 3, 1, 12, 0, tzinfo=UTC), datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    participant_get_or_create(group=group, wa_id="447700900123", name="Phone name", username="by.phone",
                              at=newer if phone_profile_newer else older)
    participant_get_or_create(group=group, user_id="GB.48810273365190042771", name="BSUID name",
                              at=older if phone_profile_newer else newer)
    # when: an item names both
    merged, _ = participant_get_or_create(group=group, wa_id="447700900123", user_id="GB.48810273365190042771")
    # then: one row, the newer name; a field only the older row had is kept
    assert group.participants.count() == 1
    expected = "Phone name" if phone_profile_newer else "BSUID name"
    assert (merged.name, merged.username, merged.profile_seen_at) == (expected, "by.phone", newer)


def test_configured_phone_number_is_registered_after_migrate(settings):
    # given
    settings.WHATSAPP_PHONE_NUMBER_ID = SPEC_PHONE_NUMBER_ID
    settings.WHATSAPP_WABA_ID = "102290129340398"
    settings.WHATSAPP_DISPLAY_PHONE_NUMBER = "15550783881"
    # when
    call_command("migrate", "groups", verbosity=0)
    # then
    assert PhoneNumber.objects.get().phone_number_id == SPEC_PHONE_NUMBER_ID
