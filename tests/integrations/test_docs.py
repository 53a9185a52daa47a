"""docs/events.md and the OpenAPI schema document every event type with the example the code holds."""

import json
from pathlib import Path

from django.utils import timezone

from integrations.event_examples import event_example
from integrations.schema import add_event_components
from outbox import event_types
from outbox.models import OutboxEvent

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
