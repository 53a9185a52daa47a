"""Hostile signed bodies (issue 16 §5): one bad event ends failed alone, with its reason, and never delays another.

Run on PostgreSQL too (`bash tests/with_services.sh .venv/bin/pytest -q tests/webhooks/test_poison_bodies.py`):
a NUL or a lone surrogate reaches PostgreSQL's text and jsonb columns, which refuse both.
"""

import json

import pytest
from django.db import connection

from config.logging import JsonFormatter
from messaging.models import OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import webhook_body
from webhooks.models import WebhookEvent
from webhooks.registry import HANDLERS, ItemContext
from webhooks.services import webhook_event_record, webhook_events_drain

pytestmark = pytest.mark.django_db

State = WebhookEvent.State
NESTED_BODY = b'{"entry": ' + b"[" * 5000 + b"]" * 5000 + b"}"


def _delivered_body(message: OutboundMessage, wa_id: str) -> bytes:
    """A genuine `delivered` status of `message` for `wa_id` (the spec's sample, its ids filled)."""
    sample = json.loads(webhook_body("messages.status_delivered_aggregated"))
    item = {"id": message.wamid, "status": "delivered", "timestamp": "1772000001",
            "recipient_id": message.group.group_id, "recipient_participant_id": wa_id}
    sample["entry"][0]["changes"][0]["value"]["statuses"] = [item]
    return json.dumps(sample).encode()


def _logged(caplog) -> str:
    """Every webhook log line as production writes it: JSON with its extra fields and any traceback."""
    return "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name.startswith("webhooks"))


def _group_body(*, field: str, kind: str) -> bytes:
    """The spec's suspension sample with its change field and item type replaced."""
    sample = json.loads(webhook_body("group_status_update.suspended"))
    change = sample["entry"][0]["changes"][0]
    change["field"] = field
    change["value"]["groups"][0]["type"] = kind
    return json.dumps(sample).encode()  # ensure_ascii: NUL and surrogates travel as \u escapes, as Meta's would.


@pytest.fixture
def genuine_delivery():
    """A message accepted by Meta for one participant, and a genuine `delivered` body for it."""
    group = GroupFactory()
    wa_id = ParticipantFactory(group=group).wa_id
    message = OutboundMessageFactory(group=group, accepted=True, recipient_count=1)
    return message, _delivered_body(message, wa_id)


POISON_BODIES = {
    "nested 5,000 deep": NESTED_BODY,
    "NUL in the change field": _group_body(field="group_status_update\u0000", kind="group_suspend"),
    "NUL in the item type": _group_body(field="group_status_update", kind="group_suspend\u0000x"),
    "lone surrogate in the change field": _group_body(field="\ud800", kind="group_suspend"),
    "lone surrogate in the item type": _group_body(field="group_status_update", kind="\udfff"),
}


@pytest.mark.parametrize("body", POISON_BODIES.values(), ids=POISON_BODIES.keys())
def test_a_poison_body_ends_alone_and_the_events_after_it_are_applied(body, genuine_delivery):
    # given: the poison body stored first (pending, as a worker would find it), a genuine delivery after it
    message, delivered = genuine_delivery
    poison, _ = webhook_event_record(body=body, headers={})
    genuine, _ = webhook_event_record(body=delivered, headers={})
    # when
    processed = webhook_events_drain()
    # then
    assert processed == 2
    poison.refresh_from_db()
    genuine.refresh_from_db()
    message.refresh_from_db()
    assert genuine.state == State.PROCESSED
    assert message.status == OutboundMessage.Status.DELIVERED
    assert poison.state in (State.FAILED, State.IGNORED)
    assert poison.claimed_until is None  # Done: no drain takes it again.
    if poison.state == State.FAILED:
        assert poison.error


def test_a_deeply_nested_body_is_answered_400_and_failed_at_once_with_its_reason(post_webhook):
    # when
    response = post_webhook(NESTED_BODY)
    # then
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert event.state == State.FAILED
    assert "nested too deeply" in event.error


def test_a_nul_in_the_item_type_is_kept_readable_in_the_outcome(post_webhook):
    # when
    post_webhook(_group_body(field="group_status_update", kind="group_suspend\u0000x"))
    # then: ignored (no handler has that kind), the kind shown with a replacement character
    event = WebhookEvent.objects.get()
    assert event.state == State.IGNORED
    assert event.item_failures[0]["kind"] == "group_suspend\ufffdx"


@pytest.mark.parametrize("body", POISON_BODIES.values(), ids=POISON_BODIES.keys())
def test_the_admin_and_rest_pages_of_a_poison_event_render(body, client, superuser, admin_api):
    # given
    event, _ = webhook_event_record(body=body, headers={})
    webhook_events_drain()
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    listing = client.get("/admin/webhooks/webhookevent/")
    detail = admin_api.get(f"/api/v1/webhook-events/{event.pk}/")
    listed = admin_api.get("/api/v1/webhook-events/")
    # then
    assert (page.status_code, listing.status_code, detail.status_code, listed.status_code) == (200, 200, 200, 200)
    assert detail.json()["id"] == event.pk


def test_the_pages_of_an_event_with_a_lone_surrogate_in_its_text_render(client, superuser, admin_api):
    # given: a body whose text value holds a lone surrogate (valid JSON, not encodable as UTF-8 once parsed)
    body = json.dumps({"object": "whatsapp_business_account", "entry": [], "note": "\ud800"}).encode()
    event, _ = webhook_event_record(body=body, headers={})
    client.force_login(superuser)
    # when
    page = client.get(f"/admin/webhooks/webhookevent/{event.pk}/change/")
    detail = admin_api.get(f"/api/v1/webhook-events/{event.pk}/")
    # then: the payload is shown with the character replaced
    assert page.status_code == 200
    assert detail.status_code == 200
    assert detail.json()["payload"]["note"] == "\ufffd"


def test_a_body_of_many_bad_items_logs_a_few_lines_and_a_summary_without_quoting_it(post_webhook, caplog):
    # given: 2,000 items of a kind no handler has, each carrying text that must not reach the log
    sample = json.loads(webhook_body("group_status_update.suspended"))
    item = sample["entry"][0]["changes"][0]["value"]["groups"][0]
    sample["entry"][0]["changes"][0]["value"]["groups"] = [
        {**item, "type": f"group_archived {n} Maya Patel +16505551234"} for n in range(2000)]
    # when
    with caplog.at_level("INFO", logger="webhooks"):
        post_webhook(json.dumps(sample).encode())
    # then
    event = WebhookEvent.objects.get()
    assert event.item_counts["ignored"] == 2000
    webhook_lines = [r for r in caplog.records if r.name.startswith("webhooks")]
    assert len(webhook_lines) <= 11
    (summary,) = [r for r in webhook_lines if r.getMessage() == "webhook event not fully processed"]
    assert summary.item_counts["ignored"] == 2000
    assert summary.item_lines_left_out == 2000 - 10
    assert "Maya" not in _logged(caplog)
    assert "6505551234" not in _logged(caplog)


@pytest.mark.parametrize("error", [ValueError, RuntimeError])
def test_a_failed_item_is_logged_without_its_error_text(post_webhook, caplog, monkeypatch, error):
    # given: a handler whose error quotes the item (as parsing errors do)
    def handle(item: dict, ctx: ItemContext) -> None:
        raise error(f"cannot apply {item['id']}")

    monkeypatch.setitem(HANDLERS, ("messages", "statuses"), handle)
    body = json.loads(webhook_body("messages.status_sent"))
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = "Maya Patel"
    # when
    with caplog.at_level("INFO", logger="webhooks"):
        post_webhook(json.dumps(body).encode())
    # then: the event keeps the error for staff; the log names its type only
    event = WebhookEvent.objects.get()
    assert event.state == State.FAILED
    assert "Maya Patel" in event.error
    assert "webhook item failed" in _logged(caplog)
    assert "Maya" not in _logged(caplog)


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite stores NUL: only PostgreSQL refuses the UPDATE")
def test_an_outcome_the_database_refuses_fails_that_event_alone(genuine_delivery, monkeypatch):
    # given: values this run cannot clean (as a future field might bring), and a genuine delivery in the same batch
    from webhooks.services import outcome

    monkeypatch.setattr(outcome, "storable", lambda text: text)
    _message, delivered = genuine_delivery
    poison, _ = webhook_event_record(body=_group_body(field="group_status_update", kind="x\u0000"), headers={})
    genuine, _ = webhook_event_record(body=delivered, headers={})
    # when
    webhook_events_drain()
    # then: the refused event is failed with the reason, the other applied
    poison.refresh_from_db()
    genuine.refresh_from_db()
    assert (poison.state, poison.claimed_until) == (State.FAILED, None)
    assert "could not be stored (DataError)" in poison.error
    assert genuine.state == State.PROCESSED


def test_an_event_that_cannot_be_walked_fails_alone_with_its_reason(genuine_delivery, monkeypatch):
    # given: walking one body raises something no handler catches (here forced; a parser or envelope bug)
    from webhooks.services import process

    message, delivered = genuine_delivery
    poison, _ = webhook_event_record(body=_group_body(field="group_status_update", kind="boom"), headers={})
    genuine, _ = webhook_event_record(body=delivered, headers={})
    walk = process.iter_items

    def iter_items(payload, *, event_id):
        if event_id == poison.pk:
            raise RuntimeError("walker bug")
        return walk(payload, event_id=event_id)

    monkeypatch.setattr(process, "iter_items", iter_items)
    # when
    webhook_events_drain()
    # then
    poison.refresh_from_db()
    genuine.refresh_from_db()
    message.refresh_from_db()
    assert (poison.state, poison.error) == (State.FAILED, "Processing stopped: RuntimeError: walker bug")
    assert "walker bug" in poison.traceback
    assert genuine.state == State.PROCESSED
    assert message.status == OutboundMessage.Status.DELIVERED
