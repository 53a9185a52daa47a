"""The dashboard's hourly roll-up (messaging.services.rollups) gives the same counts as the raw aggregate."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db.models import Q

from messaging.models import MessageHourlyCount, OutboundMessage
from messaging.selectors import failures_over_time, hour_floor, message_counts_by_phone_number, rollup_watermark
from messaging.services.rollups import message_counts_roll_up
from tests.groups.factories import GroupFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 21, 10, 43, tzinfo=UTC)
Status = OutboundMessage.Status


def _message(group, *, at: datetime, status: str, error_code: str = "", recipients: int = 3, delivered: int = 0,
             read: int = 0) -> OutboundMessage:
    message = OutboundMessage.objects.create(group=group, type="text", content={"body": "x"}, status=status,
                                             error_code=error_code, recipient_count=recipients,
                                             delivered_count=delivered, read_count=read)
    OutboundMessage.objects.filter(pk=message.pk).update(created_at=at)  # auto_now_add: set the time afterwards.
    return message


@pytest.fixture
def messages():
    """Messages of two numbers over 31 days, in every status, some in the current (open) hour."""
    first = GroupFactory()
    second = GroupFactory(phone_number=PhoneNumberFactory(phone_number_id="2", display_phone_number="15550002222"))
    statuses = [Status.QUEUED, Status.ACCEPTED, Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED]
    rows = []
    for i in range(90):
        at = NOW - timedelta(hours=i * 8 + 0.3 * (i % 3), minutes=i % 60)
        status = statuses[i % len(statuses)]
        rows.append(_message(first if i % 4 else second, at=at, status=status,
                             error_code="131026" if status == Status.FAILED else "",
                             delivered=2 if status in (Status.DELIVERED, Status.READ) else 0,
                             read=1 if status == Status.READ else 0))
    rows.append(_message(first, at=NOW - timedelta(minutes=5), status=Status.READ, delivered=3, read=3))
    return rows


def message_counts_raw(*, created: Q) -> dict[int, dict]:
    """The raw aggregate the roll-up must equal: every message of the period, counted one by one."""
    counts: dict[int, dict] = {}
    sent_or_beyond = {Status.SENT, Status.DELIVERED, Status.READ}
    for message in OutboundMessage.objects.filter(created).select_related("group"):
        row = counts.setdefault(message.group.phone_number_id, dict.fromkeys(
            ["total", "sent", "delivered", "read", "failed", "recipients", "receipts_delivered", "receipts_read"], 0))
        row["total"] += 1
        row["sent"] += message.status in sent_or_beyond
        row["delivered"] += message.status in (Status.DELIVERED, Status.READ)
        row["read"] += message.status == Status.READ
        row["failed"] += message.status == Status.FAILED
        row["recipients"] += message.recipient_count
        row["receipts_delivered"] += message.delivered_count
        row["receipts_read"] += message.read_count
    return counts


PERIODS = [timedelta(hours=24), timedelta(days=7), timedelta(days=30), timedelta(hours=1), timedelta(minutes=90)]


@pytest.mark.parametrize("span", PERIODS)
def test_rolled_up_counts_equal_the_raw_aggregate(messages, span):
    # given
    message_counts_roll_up(now=NOW, hours=31 * 24)
    since = NOW - span
    # when
    counts = message_counts_by_phone_number(since=since)
    # then
    assert MessageHourlyCount.objects.exists()
    assert counts == message_counts_raw(created=Q(created_at__gte=since))


def test_without_a_roll_up_the_counts_are_live(messages):
    assert message_counts_by_phone_number(since=NOW - timedelta(days=30)) == message_counts_raw(
        created=Q(created_at__gte=NOW - timedelta(days=30)))


def test_the_next_run_counts_statuses_that_arrived_in_a_recent_closed_hour(messages):
    # given: rolled up, then a message of 3 hours ago is read and one sent the hour after the run
    message_counts_roll_up(now=NOW, hours=31 * 24)
    sent = next(m for m in messages if m.status == Status.SENT and NOW - m.created_at < timedelta(hours=20))
    OutboundMessage.objects.filter(pk=sent.pk).update(status=Status.READ, delivered_count=3, read_count=1)
    later = NOW + timedelta(hours=1, minutes=5)
    _message(messages[0].group, at=NOW + timedelta(minutes=30), status=Status.SENT)
    # when
    message_counts_roll_up(now=later)
    # then
    since = later - timedelta(days=30)
    assert message_counts_by_phone_number(since=since) == message_counts_raw(created=Q(created_at__gte=since))


def test_messages_created_after_the_last_run_are_counted_live(messages):
    # given
    message_counts_roll_up(now=NOW, hours=31 * 24)
    new = _message(messages[0].group, at=NOW + timedelta(minutes=1), status=Status.QUEUED)
    # when
    counts = message_counts_by_phone_number(since=NOW - timedelta(days=30))
    # then
    assert counts == message_counts_raw(created=Q(created_at__gte=NOW - timedelta(days=30)))
    assert counts[new.group.phone_number_id]["total"] == message_counts_raw(
        created=Q(created_at__gte=NOW - timedelta(days=30)))[new.group.phone_number_id]["total"]


@pytest.mark.parametrize(("span", "bucket"), [(timedelta(hours=24), "hour"), (timedelta(days=30), "day")])
def test_failures_over_time_from_the_roll_up_equal_those_from_the_messages(messages, span, bucket):
    # given: failures in a closed hour of today and in the open hour too
    for at in (NOW - timedelta(hours=3), NOW - timedelta(minutes=2)):
        _message(messages[0].group, at=at, status=Status.FAILED, error_code="131020")
    since = NOW - span
    live = failures_over_time(since=since, bucket=bucket)
    phone = messages[0].group.phone_number_id
    live_one = failures_over_time(since=since, bucket=bucket, phone_number=phone)
    # when: rolled up; first with the watermark cached before the run (stale: all live), then read anew
    message_counts_roll_up(now=NOW, hours=31 * 24)
    assert failures_over_time(since=since, bucket=bucket) == live
    cache.clear()
    # then
    assert rollup_watermark() == hour_floor(NOW)
    assert failures_over_time(since=since, bucket=bucket) == live
    assert failures_over_time(since=since, bucket=bucket, phone_number=phone) == live_one
    assert sum(row["count"] for row in live) == OutboundMessage.objects.filter(
        status=Status.FAILED, created_at__gte=since).count() > 0
