"""An item's effect happens once, even when it arrives again inside a different body."""

import json

import pytest

from groups.models import GroupEvent, Participant
from messaging.models import MessageReceipt, MessageStatusChange
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import SPEC_G1, webhook_body
from webhooks.models import WebhookEvent

WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="


def _with_items(sample: str, list_name: str, items: list[dict]) -> bytes:
    body = json.loads(webhook_body(sample))
    body["entry"][0]["changes"][0]["value"][list_name] = items
    return json.dumps(body).encode()


def _items(sample: str, list_name: str) -> list[dict]:
    return json.loads(webhook_body(sample))["entry"][0]["changes"][0]["value"][list_name]


@pytest.mark.django_db
def test_a_status_inside_two_different_bodies_is_applied_once(post_webhook):
    # given: the message the spec's statuses are about
    message = OutboundMessageFactory(accepted=True, wamid=WAMID, group=GroupFactory(spec_g1=True))
    aggregated = _items("messages.status_delivered_aggregated", "statuses")
    single = aggregated[0]
    # when: Meta delivers the first participant's status alone, then again inside the aggregate
    first = post_webhook(_with_items("messages.status_delivered_aggregated", "statuses", [single]))
    second = post_webhook(webhook_body("messages.status_delivered_aggregated"))
    # then: two different bodies, but one history row and one receipt per participant
    assert (first.status_code, second.status_code) == (200, 200)
    assert WebhookEvent.objects.count() == 2
    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    delivered = MessageStatusChange.objects.filter(message=message, status="delivered")
    assert delivered.count() == 3
    assert delivered.filter(participant_wa_id=single["recipient_participant_id"]).count() == 1
    assert MessageReceipt.objects.filter(message=message).count() == 3
    message.refresh_from_db()
    assert message.delivered_count == 3


@pytest.mark.django_db
def test_a_join_inside_two_different_bodies_is_applied_once(post_webhook):
    # given
    group = GroupFactory(spec_g1=True)
    join = _items("group_participants_update.joined_via_link", "groups")[0]
    other = {**join, "timestamp": str(int(join["timestamp"]) + 5), "added_participants": [{"wa_id": "447700900123"}]}
    # when: the same join arrives alone and then batched with another one
    post_webhook(webhook_body("group_participants_update.joined_via_link"))
    post_webhook(_with_items("group_participants_update.joined_via_link", "groups", [other, join]))
    # then
    assert WebhookEvent.objects.count() == 2
    assert Participant.objects.filter(group=group, wa_id="16505551234").count() == 1
    joined = GroupEvent.objects.filter(group=group, type=GroupEvent.Type.PARTICIPANT_JOINED)
    assert joined.count() == 2  # One per person, not per delivery.
    group.refresh_from_db()
    assert group.participant_count == 2
    assert group.group_id == SPEC_G1
