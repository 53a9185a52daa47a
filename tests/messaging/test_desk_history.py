"""The support desk's message history: filters, search, progress bars, CSV export, query counts, estimated counts."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from desk import triage
from groups.models import GroupEvent, GroupOperation, PhoneNumber
from messaging.models import InboundMessage, MessageReceipt, MessageStatusChange, OutboundMessage
from tests.groups.factories import GroupOperationFactory, JoinRequestFactory
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.messaging.pin_factories import PinFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/messaging/outboundmessage/"
EXPORT = "/admin/messaging/outboundmessage/export.csv"
Status = OutboundMessage.Status


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    return client


def _ids(response) -> set[int]:
    return {message.pk for message in response.context["cl"].result_list}


def _csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def history(superuser):
    """Two numbers, three groups, messages in every shape the filters tell apart."""
    other_number = PhoneNumber.objects.create(phone_number_id="999", display_phone_number="15550009999", waba_id="1")
    parcels = GroupFactory(subject="Parcels Leeds")
    billing = GroupFactory(subject="Billing help")
    abroad = GroupFactory(subject="Abroad", phone_number=other_number)
    old = timezone.now() - timedelta(days=40)
    rows = {
        "read": OutboundMessageFactory(group=parcels, status=Status.READ, wamid="wamid.READ1", recipient_count=4,
                                       delivered_count=4, read_count=2, content={"body": "Your parcel left"},
                                       created_by=superuser),
        "failed": OutboundMessageFactory(group=billing, status=Status.FAILED, error_code="131026",
                                         failed_at=timezone.now(), content={"body": "Invoice ready"}),
        "abroad": OutboundMessageFactory(group=abroad, status=Status.DELIVERED, wamid="wamid.ABROAD",
                                         content={"body": "Hola"}),
        "old": OutboundMessageFactory(group=parcels, status=Status.SENT, content={"body": "Old news"}),
    }
    OutboundMessage.objects.filter(pk=rows["old"].pk).update(created_at=old)
    return rows


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", {"failed"}),
        ("error_code=131026", {"failed"}),
        ("phone_number={abroad_number}", {"abroad"}),
        ("group={parcels}", {"read", "old"}),
        ("created_by={user}", {"read"}),
        ("created_by=none", {"failed", "abroad", "old"}),
        ("created_from={old_day}&created_to={old_day}", {"old"}),
        ("created_from={today}", {"read", "failed", "abroad"}),
        ("q=wamid.ABROAD", {"abroad"}),
        ("q=billing", {"failed"}),
        ("q=parcel+left", {"read"}),
    ],
)
def test_message_history_filters_and_search_narrow_the_list(logged_in, history, superuser, query, expected):
    # given
    values = {
        "abroad_number": history["abroad"].group.phone_number_id, "parcels": history["read"].group_id,
        "user": superuser.pk, "today": timezone.localdate().isoformat(),
        "old_day": timezone.localtime(OutboundMessage.objects.get(pk=history["old"].pk).created_at).date().isoformat(),
    }
    # when
    response = logged_in.get(f"{CHANGELIST}?{query.format(**values)}")
    # then
    assert response.status_code == 200
    assert _ids(response) == {history[name].pk for name in expected}


def test_message_list_shows_delivered_and_read_as_progress_bars(logged_in, history):
    # when
    page = logged_in.get(CHANGELIST).content.decode()
    # then
    assert 'aria-label="delivered 4/4"' in page
    assert 'aria-label="read 2/4"' in page
    assert "<svg" in page


def test_failed_message_links_its_code_to_the_catalog(logged_in, history):
    # when
    listing = logged_in.get(CHANGELIST).content.decode()
    detail = logged_in.get(f"{CHANGELIST}{history['failed'].pk}/change/").content.decode()
    # then
    assert "/admin/messaging/outboundmessage/error-codes/#code-131026" in listing
    assert "/admin/messaging/outboundmessage/error-codes/#code-131026" in detail


def test_csv_export_streams_the_filtered_rows_only(logged_in, history, monkeypatch):
    # given: chunks of 1 row, so the keyset paging runs over several queries
    monkeypatch.setattr(triage, "EXPORT_CHUNK", 1)
    # when
    response = logged_in.get(f"{EXPORT}?group={history['read'].group_id}")
    # then
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert [int(row["id"]) for row in rows] == sorted([history["read"].pk, history["old"].pk], reverse=True)
    assert rows[-1]["text"] == "Your parcel left" or rows[0]["text"] == "Your parcel left"
    assert {row["group_subject"] for row in rows} == {"Parcels Leeds"}


@pytest.mark.parametrize("formula", ["=HYPERLINK(\"http://evil.test\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
                                     "\tTAB=1", "\rCR=1"])
def test_csv_export_neutralises_cells_a_spreadsheet_would_run(logged_in, formula):
    """OWASP CSV injection: a group subject or message text is data, never a formula."""
    # given
    OutboundMessageFactory(group=GroupFactory(subject=formula), content={"body": formula, "preview_url": False})
    # when
    (row,) = _csv(logged_in.get(EXPORT))
    # then: prefixed with a quote, so the spreadsheet shows the text as it was written
    assert row["group_subject"] == "'" + formula
    assert row["text"] == "'" + formula
    assert row["status"] == "queued"  # Other cells unchanged.


def test_csv_export_writes_times_in_iso_8601_utc_to_the_second(logged_in, settings):
    # given: a message created and failed at known instants, read in a time zone that is not UTC
    settings.TIME_ZONE = "Europe/Paris"
    created = datetime(2026, 12, 7, 0, 39, 59, 592162, tzinfo=UTC)
    message = OutboundMessageFactory(status=Status.FAILED, failed_at=created + timedelta(seconds=2))
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=created)
    # when
    (row,) = _csv(logged_in.get(EXPORT))
    # then
    assert row["created_at"] == "2026-12-07T00:39:59Z"
    assert row["failed_at"] == "2026-12-07T00:40:01Z"
    assert row["sent_at"] == ""


def test_csv_export_keeps_the_search(logged_in, history):
    # when
    rows = _csv(logged_in.get(f"{EXPORT}?q=billing"))
    # then
    assert [(int(r["id"]), r["error_code"], r["status"]) for r in rows] == [(history["failed"].pk, "131026", "failed")]


def test_csv_export_needs_the_view_permission(client, user_with_perms, history):
    # given
    client.force_login(user_with_perms("groups.view_group", is_staff=True))
    # when
    response = client.get(EXPORT)
    # then
    assert response.status_code == 403


def test_changelist_links_the_export_with_the_current_filters(logged_in, history):
    # when
    page = logged_in.get(f"{CHANGELIST}?status=failed").content.decode()
    # then
    assert 'href="/admin/messaging/outboundmessage/export.csv?status=failed"' in page


# --- Query counts -------------------------------------------------------------------------------------------


@pytest.fixture
def many_rows(superuser):
    """Several rows in every table the desk lists, so an N+1 query shows as a count that grows."""
    for n in range(6):
        group = GroupFactory()
        participants = [ParticipantFactory(group=group) for _ in range(3)]
        message = OutboundMessageFactory(group=group, status=Status.READ, wamid=f"wamid.MANY{n}", recipient_count=3,
                                         delivered_count=3, read_count=1, created_by=superuser)
        for participant in participants:
            MessageReceipt.objects.create(message=message, participant=participant, participant_key=participant.wa_id,
                                          delivered_at=timezone.now())
            MessageStatusChange.objects.create(message=message, status="delivered", participant=participant,
                                               participant_key=participant.wa_id, source="webhook",
                                               event_key=f"delivered:{participant.wa_id}")
        OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131000", failed_at=timezone.now())
        GroupOperationFactory(group=group, state=GroupOperation.State.FAILED, errors=[{"code": 131000}])
        GroupEvent.objects.create(group=group, type=GroupEvent.Type.CREATED, occurred_at=timezone.now(),
                                  source="webhook", actor=superuser)
        JoinRequestFactory(group=group)
        InboundMessage.objects.create(group=group, wamid=f"wamid.IN{n}", type="text", text="hi",
                                      timestamp=timezone.now(), participant=participants[0])
        PinFactory(group=group)
        WebhookEvent.objects.create(received_at=timezone.now(), body=b"{}", sha256=f"{n:064d}", fields=["messages"])
    return OutboundMessage.objects.filter(status=Status.READ).first()


CHANGELISTS = sorted(
    f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    for model in site._registry
    if model._meta.app_label in ("groups", "messaging", "webhooks")
)


@pytest.mark.parametrize("url", CHANGELISTS)
def test_each_changelist_first_page_stays_within_ten_queries(logged_in, many_rows, url, django_assert_max_num_queries):
    # when / then
    with django_assert_max_num_queries(10):
        response = logged_in.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["status=failed", "error_code=131000", "q=wamid.MANY1", "created_by=none"])
def test_filtered_message_list_stays_within_ten_queries(logged_in, many_rows, query, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        assert logged_in.get(f"{CHANGELIST}?{query}").status_code == 200


def test_message_page_with_receipts_and_history_stays_within_its_queries(
    logged_in, many_rows, django_assert_max_num_queries
):
    # when
    with django_assert_max_num_queries(10):
        response = logged_in.get(f"{CHANGELIST}{many_rows.pk}/change/")
    # then: the receipt matrix and the status history are on it
    page = response.content.decode()
    assert 'class="receipt-matrix"' in page
    assert 'class="status-history"' in page


def test_message_changelist_query_count_does_not_grow_with_rows(logged_in, many_rows, superuser):
    # given
    with CaptureQueriesContext(connection) as before:
        logged_in.get(CHANGELIST)
    for n in range(10):
        OutboundMessageFactory(status=Status.DELIVERED, created_by=superuser, wamid=f"wamid.MORE{n}")
    # when
    with CaptureQueriesContext(connection) as after:
        logged_in.get(CHANGELIST)
    # then
    assert len(after.captured_queries) == len(before.captured_queries)


# --- Estimated counts (PostgreSQL) --------------------------------------------------------------------------


@pytest.mark.integration
def test_unfiltered_message_list_runs_no_count_on_postgresql(logged_in, many_rows, monkeypatch):
    # given: a table "larger" than the exact-count cap, analysed so pg_class has its estimate
    if connection.vendor != "postgresql":
        pytest.skip("estimated counts are PostgreSQL's")
    from config import paginator

    monkeypatch.setattr(paginator, "EXACT_COUNT_CAP", 3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_outboundmessage")
    # when
    with CaptureQueriesContext(connection) as unfiltered:
        response = logged_in.get(CHANGELIST)
    with CaptureQueriesContext(connection) as filtered:
        logged_in.get(f"{CHANGELIST}?status=read")
    # then: no COUNT(*) at all unfiltered; filtered, only one bounded by a LIMIT
    assert response.status_code == 200
    assert not [q for q in unfiltered.captured_queries if "COUNT(" in q["sql"].upper()]
    assert "reltuples" in " ".join(q["sql"] for q in unfiltered.captured_queries)
    counts = [q["sql"] for q in filtered.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql for sql in counts)
