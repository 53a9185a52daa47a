"""config.bulk: the batch path's writes store exactly what the ORM would (COPY and unnest on PostgreSQL)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from config.bulk import bulk_insert_columns, bulk_insert_rows, bulk_update_rows, insert_row
from integrations.models import Delivery
from messaging.models import MessageReceipt, MessageStatusChange
from outbox.models import OutboxEvent
from tests.groups.factories import ParticipantFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=UTC)


def _change(message, index: int, **fields) -> MessageStatusChange:
    return MessageStatusChange(message=message, status="delivered", from_status="sent", to_status="delivered",
                               source="webhook", event_key=f"delivered|wa:{index}", participant_key=f"wa:{index}",
                               **fields)


def _stored(change: MessageStatusChange) -> dict:
    row = MessageStatusChange.objects.filter(event_key=change.event_key).values().get()
    del row["id"], row["created_at"]
    return row


def test_inserted_rows_match_what_save_stores():
    message = OutboundMessageFactory()
    said = [
        {"timestamp": AT, "error": {"code": 131_000, "title": "Quote ' and \\ and ünïcode"}, "pricing": None,
         "detail": {"recipient_id": "Y2FwaQ", "list": [1, None, "x"]}, "participant_wa_id": "447700900001",
         "webhook_event_id": 2**40, "webhook_item": "entry[0].changes[0].value.statuses[0]"},
        {"timestamp": None, "error": None, "pricing": {"billable": False}, "detail": {}, "participant_user_id": "US.1"},
        {"timestamp": AT - timedelta(days=400), "error": {}, "detail": {"tab": "a\tb\nc"}, "webhook_item": ""},
    ]
    saved = [_change(message, index, **fields) for index, fields in enumerate(said)]
    for change in saved:
        change.save()
    expected = [_stored(change) for change in saved]
    MessageStatusChange.objects.filter(pk__in=[change.pk for change in saved]).delete()

    before = timezone.now()
    bulk_insert_rows([_change(message, index, **fields) for index, fields in enumerate(said)])

    assert [_stored(change) for change in saved] == expected
    created = MessageStatusChange.objects.filter(message=message).values_list("created_at", flat=True)
    assert all(at >= before for at in created)  # auto_now_add filled, as save() does


def test_one_inserted_row_is_the_one_save_stores_and_the_object_knows_its_key():
    message = OutboundMessageFactory()
    said = {"timestamp": AT, "error": {"code": 131_000, "title": "Quote ' and ünïcode"}, "detail": {"list": [1, None]},
            "participant_wa_id": "447700900001", "webhook_event_id": 2**40}
    saved = _change(message, 1, **said)
    saved.save()
    expected = _stored(saved)
    saved.delete()

    inserted = _change(message, 1, **said)
    insert_row(inserted)

    assert _stored(inserted) == expected
    assert MessageStatusChange.objects.get(event_key=inserted.event_key).pk == inserted.pk
    inserted.detail = {"changed": True}
    inserted.save()  # The object is a stored row now: this updates it.
    assert list(MessageStatusChange.objects.filter(message=message).values_list("detail", flat=True)) == [
        {"changed": True}]


def test_a_naive_time_is_made_aware_as_the_orm_would():
    message = OutboundMessageFactory()
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        bulk_insert_rows([_change(message, 1, timestamp=datetime(2026, 11, 27, 12, 0))])

    stored = MessageStatusChange.objects.get(message=message).timestamp
    assert stored == datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_updated_rows_change_only_the_named_fields():
    message = OutboundMessageFactory()
    participant = ParticipantFactory(group=message.group)
    receipts = [MessageReceipt.objects.create(message=message, participant_key=f"wa:{index}",
                                              participant_wa_id=f"4477009{index:05d}") for index in range(3)]
    receipts[0].delivered_at, receipts[0].read_at = AT, AT + timedelta(minutes=1)
    receipts[1].delivered_at, receipts[1].participant = AT, participant
    receipts[2].participant_wa_id = "changed but not written"
    receipts[2].participant_user_id = "US.ünï'\""

    bulk_update_rows(receipts, fields=["delivered_at", "read_at", "participant", "participant_user_id"])

    stored = {r.pk: r for r in MessageReceipt.objects.filter(message=message)}
    assert (stored[receipts[0].pk].delivered_at, stored[receipts[0].pk].read_at) == (AT, AT + timedelta(minutes=1))
    assert (stored[receipts[1].pk].delivered_at, stored[receipts[1].pk].read_at) == (AT, None)
    assert stored[receipts[1].pk].participant_id == participant.pk
    assert stored[receipts[2].pk].participant_wa_id == "447700900002"
    assert stored[receipts[2].pk].participant_user_id == "US.ünï'\""


def test_json_fields_update_to_values_and_to_null():
    message = OutboundMessageFactory()
    changes = [_change(message, index, error={"code": index}, pricing={"billable": True}) for index in range(2)]
    for change in changes:
        change.save()
    changes[0].error, changes[0].pricing = None, {"billable": False, "category": "group_service"}
    changes[1].error, changes[1].detail = {"code": 131_049, "title": "O'Brien"}, {"nested": {"list": [1, 2]}}

    bulk_update_rows(changes, fields=["error", "pricing", "detail"])

    first, second = (MessageStatusChange.objects.get(pk=change.pk) for change in changes)
    assert (first.error, first.pricing) == (None, {"billable": False, "category": "group_service"})
    assert (second.error, second.detail) == ({"code": 131_049, "title": "O'Brien"}, {"nested": {"list": [1, 2]}})


def test_more_rows_than_one_statement_takes_are_all_updated():
    message = OutboundMessageFactory()
    bulk_insert_rows([_change(message, index) for index in range(1_001)])
    changes = list(MessageStatusChange.objects.filter(message=message))
    for change in changes:
        change.webhook_item = f"item {change.participant_key}"

    bulk_update_rows(changes, fields=["webhook_item"])

    stored = MessageStatusChange.objects.filter(message=message).values_list("participant_key", "webhook_item")
    assert len(stored) == 1_001
    assert all(item == f"item {key}" for key, item in stored)


def test_column_inserted_rows_hold_their_own_and_the_shared_values():
    # given
    endpoints = [WebhookEndpointFactory(), WebhookEndpointFactory()]
    events = [OutboxEvent.objects.create(type="group.updated", occurred_at=AT, object_type="group", object_id=index,
                                         sequence=1, data={}) for index in range(3)]
    pairs = [(endpoint.pk, event.event_id) for event in events for endpoint in endpoints]
    same = {"state": "pending", "attempt_count": 0, "next_attempt_at": AT, "retrying_since": AT - timedelta(days=1),
            "last_status_code": None, "last_error": "O'Brien\tünï\\", "delivered_at": None}
    before = timezone.now()
    # when
    bulk_insert_columns(Delivery, columns={"endpoint": [e for e, _ in pairs], "event": [v for _, v in pairs]},
                        same=same)
    # then
    stored = list(Delivery.objects.order_by("pk").values())
    assert [(row.pop("endpoint_id"), row.pop("event_id")) for row in stored] == pairs
    assert all(row.pop("created_at") >= before and row.pop("updated_at") >= before for row in stored)
    assert all(row.pop("id") and row == same for row in stored)


def test_column_insert_refuses_rows_missing_a_field():
    with pytest.raises(ValueError, match="retrying_since"):
        bulk_insert_columns(Delivery, columns={"endpoint": [1], "event": ["evt_x"]}, same={
            "state": "pending", "attempt_count": 0, "next_attempt_at": AT, "last_status_code": None,
            "last_error": "", "delivered_at": None})
