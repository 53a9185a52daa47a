"""The group timeline: joins, leaves, messages sent/failed and pins, each with its staff user or webhook, in order."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from groups.models import GroupEvent
from messaging.models import MessagingTimelineType as MessageType
from messaging.models import OutboundMessage, Pin
from messaging.services import message_create
from messaging.services.pins import pin_create, pin_unpin, pins_expire_due
from tests.groups.factories import GroupFactory, PhoneNumberFactory
from tests.spec import SPEC_G1, SPEC_PHONE_NUMBER_ID, graph_json, webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
Type = GroupEvent.Type


def _accepted(wamid: str) -> dict:
    return {"messaging_product": "whatsapp", "contacts": [], "messages": [{"id": wamid}]}


def _status_failed_body(wamid: str) -> bytes:
    body = json.loads(webhook_body("messages.status_failed"))
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    return json.dumps(body).encode()


def test_timeline_has_each_kind_of_event_with_its_actor_or_webhook_in_order(
    graph, staff_user, superuser, post_webhook, django_capture_on_commit_callbacks, admin_api, client
):
    # given: a staff user sends two messages, one later fails by webhook; pins, unpins; a pin expires
    group = GroupFactory(group_id=SPEC_G1, subject="Order 9")
    graph.post(MESSAGES_URL, json=_accepted("wamid.SENT0001"))
    graph.post(MESSAGES_URL, json=_accepted("wamid.FAIL0001"))
    graph.post(MESSAGES_URL, json=_accepted("wamid.PIN00001"))
    graph.post(MESSAGES_URL, json=_accepted("wamid.UNPIN0001"))
    graph.post(MESSAGES_URL, json=_accepted("wamid.PIN00002"))
    with django_capture_on_commit_callbacks(execute=True):
        sent = message_create(group=group, type="text", content={"body": "Hi"}, created_by=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        message_create(group=group, type="text", content={"body": "Later"}, created_by=staff_user)
    post_webhook(_status_failed_body("wamid.FAIL0001"))
    post_webhook(_status_failed_body("wamid.FAIL0001"))  # Redelivered: no second entry.
    post_webhook(webhook_body("group_participants_update.joined_via_link"))
    with django_capture_on_commit_callbacks(execute=True):
        pin = pin_create(group=group, message_id="wamid.SENT0001", expiration_days=1, created_by=superuser)
    with django_capture_on_commit_callbacks(execute=True):
        pin_unpin(pin=pin, created_by=staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        second = pin_create(group=group, message_id="wamid.SENT0001", expiration_days=1, created_by=superuser)
    pins_expire_due(now=timezone.now() + timedelta(days=2))
    post_webhook(webhook_body("group_participants_update.participant_left"))
    # when
    events = list(group.events.order_by("pk"))
    api = admin_api.get(f"/api/v1/groups/{group.pk}/events/").json()["results"]
    client.force_login(superuser)
    page = client.get(f"/admin/groups/group/{group.pk}/change/").text
    # then: every kind, once each (the redelivered failure too)
    kinds = [e.type for e in events]
    for kind in (MessageType.MESSAGE_SENT, MessageType.MESSAGE_FAILED, Type.PARTICIPANT_JOINED, MessageType.PINNED,
                 MessageType.UNPINNED, MessageType.PIN_EXPIRED, Type.PARTICIPANT_LEFT):
        assert kind in kinds, kind
    assert kinds.count(MessageType.MESSAGE_FAILED) == 1 and kinds.count(MessageType.PINNED) == 2
    assert kinds.count(MessageType.MESSAGE_SENT) == 2
    by_type = {e.type: e for e in events}
    # the staff user or webhook behind each
    assert group.events.filter(type=MessageType.MESSAGE_SENT, detail__message=sent.pk).get().actor == staff_user
    assert group.events.filter(type=MessageType.PINNED).first().actor == superuser
    assert by_type[MessageType.UNPINNED].actor == staff_user
    failed_event = by_type[MessageType.MESSAGE_FAILED]
    assert failed_event.source == "webhook" and failed_event.webhook_event_id in set(
        WebhookEvent.objects.values_list("pk", flat=True))
    assert by_type[Type.PARTICIPANT_LEFT].source == "webhook" and by_type[MessageType.PIN_EXPIRED].source == "task"
    assert Pin.objects.get(pk=second.pk).state == Pin.State.EXPIRED
    assert OutboundMessage.objects.get(wamid="wamid.FAIL0001").status == OutboundMessage.Status.FAILED
    # the REST feed keeps CONTRACT's fields, newest first
    assert {"type", "occurred_at", "detail"} <= set(api[0])
    assert [e["occurred_at"] for e in api] == sorted((e["occurred_at"] for e in api), reverse=True)
    # the group page shows one chronological feed, oldest first, with who is behind each entry
    feed = page.split('class="group-timeline"', 1)[1]
    kinds_in_order = (MessageType.MESSAGE_SENT, MessageType.PINNED, MessageType.UNPINNED)
    positions = [feed.index(f'class="event-{kind}"') for kind in kinds_in_order]
    assert positions == sorted(positions)
    assert "staff" in feed and f"Webhook #{failed_event.webhook_event_id}" in feed


GROUPS_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/groups"
META_CREATED_AT = datetime(2026, 2, 17, 9, 20, 12, tzinfo=UTC)  # The create_succeeded sample's whole second.


def test_timeline_puts_the_create_request_before_metas_create_in_the_same_second(
    graph, admin_api, post_webhook, django_capture_on_commit_callbacks, client, superuser, monkeypatch
):
    # given: the create is asked for 0.7 s into the very second Meta's create webhook names (Meta sends whole seconds)
    monkeypatch.setattr("django.utils.timezone.now", lambda: META_CREATED_AT + timedelta(milliseconds=700))
    graph.post(GROUPS_URL, json=graph_json("create_group.response"))
    body = graph_json("create_group.request")
    with django_capture_on_commit_callbacks(execute=True):
        created = admin_api.post("/api/v1/groups/", {"phone_number": PhoneNumberFactory().pk,
                                                     "subject": body["subject"], "description": body["description"]},
                                 format="json")
    # when
    post_webhook(webhook_body("group_lifecycle_update.create_succeeded"))
    # then: asked to create, then created, in the REST feed (newest first) and on the group page (oldest first)
    group_pk = created.json()["id"]
    api = admin_api.get(f"/api/v1/groups/{group_pk}/events/").json()["results"]
    assert [e["type"] for e in api] == [Type.CREATED, Type.CREATE_REQUESTED]
    client.force_login(superuser)
    feed = client.get(f"/admin/groups/group/{group_pk}/change/").text.split('class="group-timeline"', 1)[1]
    assert feed.index(f'class="event-{Type.CREATE_REQUESTED}"') < feed.index(f'class="event-{Type.CREATED}"')
