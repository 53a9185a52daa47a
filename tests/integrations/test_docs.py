"""docs/events.md and the OpenAPI schema document every event type with the example the code holds."""

import json
from pathlib import Path

import pytest
from django.utils import timezone

from integrations.event_examples import event_example
from integrations.schema import add_event_components
from messaging.models import InboundMessage
from outbox import event_types
from outbox.models import OutboxEvent
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_type_has_an_example_of_its_type():
    assert [event_example(type_)["type"] for type_ in event_types.ALL] == list(event_types.ALL)


def test_docs_show_every_type_with_its_example():
    docs = (ROOT / "docs" / "events.md").read_text()
    for type_ in event_types.ALL:
        assert f"### {type_}\n\n{event_types.DESCRIPTIONS[type_]}\n" in docs, type_
        assert json.dumps(event_example(type_), indent=2) in docs, type_


def test_schema_components_have_one_example_per_type():
    schemas = add_event_components({"components": {"schemas": {"Message": {}}}}, None, None, True)["components"][
        "schemas"]
    assert "OutboundEvent" in schemas
    for type_ in event_types.ALL:
        component = schemas["OutboundEvent_" + type_.replace(".", "_")]
        assert component["example"]["type"] == type_
    assert schemas["OutboundEvent_message_sent"]["allOf"][1]["properties"]["data"] == {
        "$ref": "#/components/schemas/Message"}


def test_examples_have_the_shape_of_a_delivered_body():
    delivered = OutboxEvent(type=event_types.GROUP_CREATED, occurred_at=timezone.now(), object_type="group",
                            object_id=1, sequence=1, data={}).body()
    assert set(event_example(event_types.GROUP_CREATED)) == set(delivered)


@pytest.mark.django_db
def test_every_example_shows_the_fields_the_rest_api_shows(admin_api):
    """An integrator reads `data` as "the object as the REST API shows it": the examples keep its fields.

    Participant and join-request rows add `group` (docs/events.md, "`data` is").
    """
    # given
    group = GroupFactory()
    message = OutboundMessageFactory(group=group)
    participant = ParticipantFactory(group=group)
    join_request = JoinRequestFactory(group=group)
    pin = PinFactory(group=group)
    inbound = InboundMessage.objects.create(group=group, wamid="wamid.IN1", type="text", text="Hi",
                                            content={"body": "Hi"}, timestamp=timezone.now())
    # when
    shown = {
        "message": admin_api.get(f"/api/v1/messages/{message.pk}/").json(),
        "group": admin_api.get(f"/api/v1/groups/{group.pk}/").json(),
        "participant": {**admin_api.get(f"/api/v1/groups/{group.pk}/participants/{participant.pk}/").json(),
                        "group": group.pk},
        "join_request": {**admin_api.get(f"/api/v1/groups/{group.pk}/join-requests/{join_request.pk}/").json(),
                         "group": group.pk},
        "pin": admin_api.get("/api/v1/pins/").json()["results"][0],
        "inbound_message": admin_api.get(f"/api/v1/inbound-messages/{inbound.pk}/").json(),
    }
    assert pin.pk == shown["pin"]["id"]
    # then
    for type_ in event_types.ALL:
        example = event_example(type_)
        rest = shown.get(example["object"]["type"])
        if rest is None:
            continue  # group_operation and ping: no REST view of their own.
        content_keys = {"text", "image", "video", "audio", "document", "template"}  # One of them, by type.
        assert set(example["data"]) - content_keys == set(rest) - content_keys, type_
        assert example["object"]["id"] == example["data"]["id"], type_
