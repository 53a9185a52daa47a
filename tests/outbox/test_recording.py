"""Events are recorded in the transaction of the change they report: once, in order, as the REST API shows them."""

import json

import pytest
from django.db import transaction

from groups.models import Group, GroupOperation
from integrations.models import Delivery
from outbox import event_types
from outbox.models import OutboxEvent
from outbox.services import event_record
from tests.groups.factories import GroupFactory, GroupOperationFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.messaging.factories import OutboundMessageFactory, ParticipantFactory
from tests.spec import SPEC_G1, SPEC_G2, SPEC_G3, webhook_body
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="
MAYA, OLIVER, LUCAS = "16505551234", "447700900123", "5511987654321"


def redelivered(name: str) -> bytes:
    """The same items in another body (Meta re-batches): past the raw dedupe, to the services' own."""
    return json.dumps(json.loads(webhook_body(name)), indent=1).encode()


@pytest.fixture
def post(post_webhook):
    def do(name: str, *, again: bool = False) -> WebhookEvent:
        response = post_webhook(redelivered(name) if again else webhook_body(name))
        assert response.status_code == 200
        event = WebhookEvent.objects.order_by("-pk").first()
        assert event.state == WebhookEvent.State.PROCESSED, event.error
        return event

    return do


@pytest.fixture
def message():
    group = GroupFactory(spec_g1=True, participant_count=3)
    for wa_id in (MAYA, OLIVER, LUCAS):
        ParticipantFactory(group=group, wa_id=wa_id)
    return OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)


def types() -> list[str]:
    return list(OutboxEvent.objects.order_by("pk").values_list("type", flat=True))


def test_a_committed_status_records_one_event_showing_the_message_as_the_api_does(post, message, admin_api):
    # given
    endpoint = WebhookEndpointFactory()
    # when
    post("messages.status_sent")
    # then
    event = OutboxEvent.objects.get()
    assert (event.type, event.object_type, event.object_id, event.sequence) == (
        event_types.MESSAGE_SENT, "message", message.pk, 1)
    assert event.data == admin_api.get(f"/api/v1/messages/{message.pk}/").json()
    assert list(Delivery.objects.values_list("event_id", "endpoint_id")) == [(event.event_id, endpoint.pk)]


def test_a_rolled_back_change_records_nothing(message):
    # given
    WebhookEndpointFactory()
    from messaging.events import StatusEvent
    from messaging.services import message_status_apply

    status = StatusEvent(wamid=WAMID, status="sent", timestamp=message.accepted_at)
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        message_status_apply(event=status)
        assert types() == [event_types.MESSAGE_SENT]  # Recorded inside the transaction...
        raise RuntimeError("the change fails after the event was recorded")
    # then
    assert (OutboxEvent.objects.count(), Delivery.objects.count()) == (0, 0)  # ...and gone with it.


def test_duplicated_status_webhooks_record_no_duplicate_events(post, message):
    # given
    WebhookEndpointFactory()
    # when
    for name in ("messages.status_sent", "messages.status_delivered_aggregated", "messages.status_read_aggregated"):
        post(name)
        post(name, again=True)
    # then: each move of the message once, and each person's delivery and read once
    assert types().count(event_types.MESSAGE_SENT) == 1
    assert types().count(event_types.MESSAGE_DELIVERED) == 1
    assert types().count(event_types.MESSAGE_READ) == 1
    receipts = OutboxEvent.objects.filter(type=event_types.MESSAGE_RECEIPT).order_by("pk")
    assert [(e.detail["status"], e.detail["receipt"]["participant_wa_id"]) for e in receipts] == [
        ("delivered", MAYA), ("delivered", OLIVER), ("delivered", LUCAS), ("read", MAYA), ("read", LUCAS)]


def test_a_message_s_events_are_numbered_in_order(post, message):
    # given
    WebhookEndpointFactory()
    # when
    post("messages.status_sent")
    post("messages.status_delivered_single")
    # then
    events = OutboxEvent.objects.filter(object_type="message", object_id=message.pk).order_by("pk")
    assert [e.sequence for e in events] == list(range(1, events.count() + 1))
    assert [e.type for e in events][:2] == [event_types.MESSAGE_SENT, event_types.MESSAGE_DELIVERED]
    assert events.last().data["status"] == "delivered"
    assert events.first().data["status"] == "sent"  # A snapshot: the later change did not alter it.


def test_nothing_is_recorded_when_no_active_endpoint_subscribes(post, message):
    # given
    WebhookEndpointFactory(active=False)
    WebhookEndpointFactory(event_types=[event_types.GROUP_CREATED])
    # when
    post("messages.status_sent")
    # then
    assert OutboxEvent.objects.count() == 0


def test_an_endpoint_receives_only_the_types_it_subscribes_to(post, message):
    # given
    reads = WebhookEndpointFactory(event_types=[event_types.MESSAGE_READ])
    everything = WebhookEndpointFactory()
    # when
    post("messages.status_sent")
    post("messages.status_read_aggregated")
    # then
    assert set(Delivery.objects.filter(endpoint=reads).values_list("event__type", flat=True)) == {
        event_types.MESSAGE_READ}
    assert Delivery.objects.filter(endpoint=everything).count() == OutboxEvent.objects.count()


def test_group_create_webhook_records_created_and_the_operation_once(post):
    # given
    WebhookEndpointFactory()
    group = GroupFactory(creating=True, subject="Order 48213 - delivery support")
    operation = GroupOperationFactory(group=group, kind=GroupOperation.Kind.CREATE,
                                      request_id="c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4")
    # when
    post("group_lifecycle_update.create_succeeded")
    post("group_lifecycle_update.create_succeeded", again=True)
    # then
    assert sorted(types()) == [event_types.GROUP_CREATED, event_types.GROUP_OPERATION_COMPLETED]
    created = OutboxEvent.objects.get(type=event_types.GROUP_CREATED)
    assert (created.object_id, created.data["state"], created.data["group_id"]) == (group.pk, "active", SPEC_G1)
    completed = OutboxEvent.objects.get(type=event_types.GROUP_OPERATION_COMPLETED)
    assert (completed.object_id, completed.data["state"]) == (operation.pk, "succeeded")


def test_group_create_failed_records_create_failed(post):
    # given
    WebhookEndpointFactory()
    group = GroupFactory(creating=True, subject="Order 48377 - delivery support")
    GroupOperationFactory(group=group, kind=GroupOperation.Kind.CREATE, request_id=None)
    # when
    post("group_lifecycle_update.create_failed")
    # then
    failed = OutboxEvent.objects.filter(type=event_types.GROUP_CREATE_FAILED)
    assert [(e.object_id, e.data["state"]) for e in failed] == [(group.pk, Group.State.CREATE_FAILED)]
    assert failed.get().data["last_error"]["code"] is not None


def test_suspension_and_participants_record_once_each(post):
    # given
    WebhookEndpointFactory()
    GroupFactory(group_id=SPEC_G1)
    GroupFactory(group_id=SPEC_G2)
    # when
    for name in ("group_status_update.suspended", "group_participants_update.joined_via_link",
                 "group_participants_update.participant_left"):
        post(name)
        post(name, again=True)
    # then
    assert types() == [event_types.GROUP_SUSPENDED, event_types.GROUP_PARTICIPANT_JOINED,
                       event_types.GROUP_PARTICIPANT_LEFT]
    joined, left = OutboxEvent.objects.filter(object_type="participant").order_by("pk")
    assert (joined.data["state"], left.data["state"]) == ("active", "left")
    assert joined.data["group"] == left.data["group"] == Group.objects.get(group_id=SPEC_G1).pk


def test_events_are_numbered_per_object():
    # given
    WebhookEndpointFactory()
    first, second = GroupFactory(), GroupFactory()
    # when
    with transaction.atomic():
        recorded = [event_record(type=event_types.GROUP_UPDATED, obj=group) for group in (first, second, first)]
    # then
    assert [(event.object_id, event.sequence) for event in recorded] == [(first.pk, 1), (second.pk, 1), (first.pk, 2)]


def test_join_request_created_records_one_event(post):
    # given
    WebhookEndpointFactory()
    GroupFactory(group_id=SPEC_G3, join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    # when
    post("group_participants_update.join_request_created")
    post("group_participants_update.join_request_created", again=True)
    # then
    event = OutboxEvent.objects.get()
    assert (event.type, event.object_type, event.data["state"]) == (
        event_types.GROUP_JOIN_REQUEST_CREATED, "join_request", "pending")


def test_inbound_message_records_once(post, admin_api):
    # given
    WebhookEndpointFactory()
    GroupFactory(spec_g1=True)
    # when
    post("messages.inbound_text")
    post("messages.inbound_text", again=True)
    # then
    event = OutboxEvent.objects.get()
    assert event.type == event_types.MESSAGE_INBOUND
    assert event.data == admin_api.get(f"/api/v1/inbound-messages/{event.object_id}/").json() or \
        event.data["id"] == event.object_id


def test_composing_a_message_records_queued(admin_api):
    # given
    WebhookEndpointFactory()
    group = GroupFactory()
    # when
    response = admin_api.post("/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "Hi"}},
                              format="json")
    # then
    assert response.status_code == 202, response.content
    event = OutboxEvent.objects.get(type=event_types.MESSAGE_QUEUED)
    assert (event.object_id, event.data["status"]) == (response.json()["id"], "queued")


def test_event_record_outside_a_subscriber_returns_none():
    # given: no endpoint at all
    group = GroupFactory()
    # when / then
    assert event_record(type=event_types.GROUP_UPDATED, obj=group) is None
    assert OutboxEvent.objects.count() == 0
