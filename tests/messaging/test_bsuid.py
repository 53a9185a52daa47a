"""BSUID-era `messages` payloads as Meta documents them (spec §5.7, Corrections C1, C3, C4, C7, C9): names and parent
BSUIDs from status webhooks, `from` with a `+`, extra fields that must never fail. Built from tests/fixtures/meta."""

import json
from datetime import UTC, datetime

import pytest

from messaging.models import InboundMessage, OutboundMessage
from messaging.services import message_send
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json, webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="
MAYA_BSUID, OLIVER_BSUID = "US.13491208655302741918", "GB.48810273365190042771"
PARENT = "US.ENT.11815799212886844830"
MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"


@pytest.fixture
def group():
    return GroupFactory(spec_g1=True)


@pytest.fixture
def message(group):
    return OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)


@pytest.fixture
def post(post_webhook):
    def do(name: str) -> WebhookEvent:
        assert post_webhook(webhook_body(name)).status_code == 200
        event = WebhookEvent.objects.order_by("-pk").first()
        assert event.state == WebhookEvent.State.PROCESSED, event.error
        return event

    return do


def _at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, tz=UTC)


# --- Names from status webhooks (C4) -------------------------------------------------------------


def test_delivered_statuses_keep_the_names_of_their_contacts(post, group, message):
    # given: Maya known by phone with no name; Oliver not known yet
    ParticipantFactory(group=group, wa_id="16505551234", name="")
    # when
    post("messages.status_delivered_aggregated_bsuid")
    # then
    maya = group.participants.get(wa_id="16505551234")
    oliver = group.participants.get(user_id=OLIVER_BSUID)
    assert (maya.user_id, maya.name) == (MAYA_BSUID, "Maya Patel")
    assert (oliver.wa_id, oliver.name, oliver.username) == (None, "Oliver Grant", "oliver.grant")
    assert oliver.profile_seen_at == _at(1775041004)
    message.refresh_from_db()
    assert message.delivered_count == 2


def test_a_read_status_keeps_the_parent_bsuid_and_username_and_never_a_hidden_phone(post, group, message):
    # given: Maya known by BSUID only (her phone is hidden: the contact's wa_id is "")
    ParticipantFactory(group=group, wa_id=None, user_id=MAYA_BSUID, name="Maya")
    # when
    post("messages.status_read_bsuid_parent")
    # then
    maya = group.participants.get()
    assert (maya.wa_id, maya.parent_user_id, maya.username, maya.name) == (None, PARENT, "maya.p", "Maya Patel")
    message.refresh_from_db()
    assert (message.status, message.read_count) == (Status.READ, 1)


def test_an_older_status_never_replaces_a_newer_name(post, group, message):
    # given: a name seen after the status was produced (an inbound message of later)
    ParticipantFactory(group=group, wa_id=None, user_id=MAYA_BSUID, name="Maya P.", profile_seen_at=_at(1775049999))
    # when
    post("messages.status_read_bsuid_parent")
    # then: the older status fills only what was empty
    maya = group.participants.get()
    assert (maya.name, maya.username, maya.parent_user_id) == ("Maya P.", "maya.p", PARENT)
    assert maya.profile_seen_at == _at(1775049999)


def test_a_status_without_contacts_still_gives_its_parent_bsuid(post_webhook, group, message):
    # given: the read sample without its `contacts[]`: only recipient_participant_parent_user_id names the parent
    body = json.loads(webhook_body("messages.status_read_bsuid_parent"))
    del body["entry"][0]["changes"][0]["value"]["contacts"]
    ParticipantFactory(group=group, wa_id=None, user_id=MAYA_BSUID)
    # when
    assert post_webhook(json.dumps(body).encode()).status_code == 200
    # then
    assert group.participants.get().parent_user_id == PARENT


# --- `from` with a `+` (C3) ----------------------------------------------------------------------


def test_an_inbound_from_with_a_plus_is_stored_as_a_wa_id(post, group):
    # given
    ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel")
    # when
    post("messages.inbound_text_plus_from")
    # then
    inbound = InboundMessage.objects.get()
    assert inbound.from_wa_id == "16505551234"
    assert inbound.participant == group.participants.get()


# --- Extra fields never fail (C7, C9) ------------------------------------------------------------


def test_a_send_answer_with_group_id_and_a_contact_without_wa_id_is_accepted(graph, group):
    # given
    message = OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group_bsuid.response"))
    # when
    message_send(message_id=message.pk)
    # then
    message.refresh_from_db()
    assert (message.status, message.wamid) == (Status.ACCEPTED, WAMID)
