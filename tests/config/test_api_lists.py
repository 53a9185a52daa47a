"""REST lists (issue 9, P8): queries independent of page size, and output exactly DRF's field by field."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from core.models import Source
from groups.api.serializers import (
    GroupEventOutputSerializer,
    GroupOutputSerializer,
    JoinRequestOutputSerializer,
    ParticipantOutputSerializer,
    PhoneNumberOutputSerializer,
)
from groups.models import Group, GroupEvent, JoinRequest, Participant, PhoneNumber
from messaging.api.pins import PinOutputSerializer
from messaging.api.serializers import (
    InboundMessageOutputSerializer,
    MessageOutputSerializer,
    MessageReceiptOutputSerializer,
    MessageStatusChangeOutputSerializer,
)
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage, Pin
from tests.groups.factories import JoinRequestFactory
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory, PhoneNumberFactory
from tests.messaging.pin_factories import PinFactory
from webhooks.api.serializers import WebhookEventSerializer
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

ROWS = 6
# Whole seconds and microseconds both: DRF writes the fraction only when there is one.
WHOLE = datetime(2026, 2, 17, 9, 54, 20, tzinfo=UTC)
FRACTION = WHOLE + timedelta(microseconds=123456)


def _at(n: int) -> datetime:
    return (WHOLE if n % 2 else FRACTION) + timedelta(minutes=n)


@pytest.fixture
def rows(superuser):
    """ROWS rows behind every list, with nulls, errors and both kinds of timestamps."""
    group = GroupFactory(last_error={"code": 131000, "title": "Something", "message": "m", "details": "d"})
    for n in range(ROWS - 1):
        GroupFactory(phone_number=PhoneNumberFactory(phone_number_id=f"20000000{n}", label=f"Number {n}"),
                     suspended=n == 0)
    message = OutboundMessageFactory(group=group, accepted=True, accepted_at=FRACTION, sent_at=WHOLE)
    for n in range(ROWS - 1):
        failed = n % 2 == 0
        OutboundMessageFactory(
            group=group, status="failed" if failed else "queued", failed_at=_at(n) if failed else None,
            error={"code": 131026, "title": "Undeliverable", "message": "x", "details": "y"} if failed else None,
            error_code="131026" if failed else "", retry_of=message if n == 1 else None,
        )
    for n in range(ROWS):
        participant = ParticipantFactory(group=group, name=f"Person {n}", joined_at=_at(n) if n % 3 else None)
        MessageStatusChange.objects.create(
            message=message, status="delivered", participant=participant if n % 2 else None,
            participant_key=f"wa:{participant.wa_id}", participant_wa_id=participant.wa_id, timestamp=_at(n),
            source=Source.WEBHOOK, pricing={"billable": False} if n == 0 else None, event_key=f"delivered:{n}",
        )
        MessageReceipt.objects.create(
            message=message, participant_key=f"wa:{participant.wa_id}", participant=participant if n % 2 else None,
            participant_wa_id=participant.wa_id, delivered_at=_at(n), read_at=_at(n) if n % 3 else None,
        )
        JoinRequestFactory(group=group, requested_at=_at(n) if n % 2 else None)
        GroupEvent.objects.create(group=group, type=GroupEvent.Type.CREATED, occurred_at=_at(n),
                                  detail={"n": n}, source=Source.WEBHOOK)
        InboundMessage.objects.create(
            group=group if n % 2 else None, wamid=f"wamid.IN{n}", from_wa_id=f"4477009001{n:02d}",
            contact_name=f"Person {n}", type="text", text=f"hi {n}", content={"body": f"hi {n}"},
            error={"code": 130501, "title": "Unsupported"} if n == 0 else None, timestamp=_at(n),
        )
        WebhookEvent.objects.create(
            received_at=_at(n), body=b"{}", sha256=f"{n:064x}", state="processed" if n % 2 else "failed",
            fields=["messages"], attempts=1, processed_at=_at(n) if n % 2 else None, item_counts={"processed": n},
            error="" if n % 2 else "boom",
        )
        PinFactory(group=group, message_id=f"wamid.P{n}", requested_at=_at(n), **({"active": True} if n % 2 else {}))
    return {"group": group, "message": message}


def _lists(rows) -> dict[str, tuple[str, type[serializers.Serializer], object]]:
    """Return, per list, its URL, its output serializer and the queryset of the rows it shows."""
    group, message = rows["group"], rows["message"]
    return {
        "messages": ("/api/v1/messages/", MessageOutputSerializer, OutboundMessage.objects.all()),
        "statuses": (f"/api/v1/messages/{message.pk}/statuses/", MessageStatusChangeOutputSerializer,
                     message.status_changes.all()),
        "receipts": (f"/api/v1/messages/{message.pk}/receipts/", MessageReceiptOutputSerializer,
                     message.receipts.all()),
        "inbound": ("/api/v1/inbound-messages/", InboundMessageOutputSerializer, InboundMessage.objects.all()),
        "pins": ("/api/v1/pins/", PinOutputSerializer, Pin.objects.all()),
        "groups": ("/api/v1/groups/", GroupOutputSerializer, Group.objects.all()),
        "phone-numbers": ("/api/v1/phone-numbers/", PhoneNumberOutputSerializer, PhoneNumber.objects.all()),
        "participants": (f"/api/v1/groups/{group.pk}/participants/", ParticipantOutputSerializer,
                         Participant.objects.filter(group=group)),
        "join-requests": (f"/api/v1/groups/{group.pk}/join-requests/", JoinRequestOutputSerializer,
                          JoinRequest.objects.filter(group=group)),
        "events": (f"/api/v1/groups/{group.pk}/events/", GroupEventOutputSerializer,
                   GroupEvent.objects.filter(group=group)),
        "webhook-events": ("/api/v1/webhook-events/", WebhookEventSerializer, WebhookEvent.objects.all()),
    }


LISTS = ["messages", "statuses", "receipts", "inbound", "pins", "groups", "phone-numbers", "participants",
         "join-requests", "events", "webhook-events"]


def _get_counting_queries(client, url: str) -> tuple[dict, int]:
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.json(), len(queries)


@pytest.mark.parametrize("name", LISTS)
def test_list_query_count_does_not_grow_with_page_size(admin_api, rows, name):
    # given
    url = _lists(rows)[name][0]
    # when
    one, queries_for_one = _get_counting_queries(admin_api, f"{url}?page_size=1")
    every, queries_for_every = _get_counting_queries(admin_api, f"{url}?page_size=500")
    # then
    assert len(one["results"]) == 1
    assert len(every["results"]) >= 3  # Enough rows that a per-row query would show.
    assert queries_for_every == queries_for_one


def _drf_output(serializer_class, instance) -> dict:
    """Return the row as DRF's own Serializer.to_representation writes it, rendered to JSON and back."""
    data = serializers.Serializer.to_representation(serializer_class(), instance)
    return json.loads(JSONRenderer().render(data))


def _key(item: dict) -> str:
    return json.dumps(item, sort_keys=True)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/New_York"])
@pytest.mark.parametrize("name", [name for name in LISTS if name != "messages"])
def test_list_output_is_drfs_field_by_field(admin_api, rows, name, zone):
    # given
    url, serializer_class, queryset = _lists(rows)[name]
    # when
    with timezone.override(zone):
        results = admin_api.get(f"{url}?page_size=500").json()["results"]
        expected = [_drf_output(serializer_class, row) for row in queryset]
    # then
    assert len(results) == len(expected) >= 3
    assert sorted(results, key=_key) == sorted(expected, key=_key)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata"])
def test_message_list_writes_datetimes_as_drf_does(admin_api, rows, zone):
    # given
    drf = serializers.DateTimeField()
    # when
    with timezone.override(zone):
        results = {item["id"]: item for item in admin_api.get("/api/v1/messages/?page_size=500").json()["results"]}
        expected = {
            message.pk: {name: drf.to_representation(getattr(message, name)) if getattr(message, name) else None
                         for name in MessageOutputSerializer.DATE_FIELDS}
            for message in OutboundMessage.objects.all()
        }
        fraction = drf.to_representation(FRACTION)
    # then
    assert set(results) == set(expected)
    for pk, dates in expected.items():
        assert {name: results[pk][name] for name in dates} == dates
    assert results[rows["message"].pk]["accepted_at"] == fraction
    if zone == "UTC":
        assert results[rows["message"].pk]["sent_at"] == "2026-02-17T09:54:20Z"
        assert results[rows["message"].pk]["accepted_at"] == "2026-02-17T09:54:20.123456Z"
