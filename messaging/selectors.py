"""Reads of messaging data, and the lock helpers services take before read-then-write."""

from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncHour
from django.utils import timezone

from groups.models import Group, Participant
from groups.selectors import lock_groups
from messaging.models import (
    CALLBACK_PREFIX,
    MessageHourlyCount,
    MessageReceipt,
    MessageStatusChange,
    OutboundMessage,
    RollupWatermark,
    UnmatchedStatus,
)

MessageStatus = OutboundMessage.Status
ROLLUP_NAME = "message_hourly_counts"  # The watermark of messaging.services.rollups.


def hour_floor(moment: datetime) -> datetime:
    """Return the start of the UTC hour holding `moment`."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def lock_outbound_messages() -> QuerySet[OutboundMessage]:
    """Return messages locked FOR UPDATE in pk order (lock order: Group → OutboundMessage → Pin)."""
    return OutboundMessage.objects.select_for_update(of=("self",)).order_by("pk")


def lock_outbound_message(*, pk: int | None = None, wamid: str | None = None) -> OutboundMessage | None:
    """Return one message (by pk or wamid) locked FOR UPDATE with its group and number, or None.

    A pin action's group is locked first: its outcome changes the group's pins ("three at most"),
    and only the group lock serialises two pins of one group accepted at once (lock order:
    Group → OutboundMessage → Pin).
    """
    rows = OutboundMessage.objects.filter(pk=pk) if pk is not None else OutboundMessage.objects.filter(wamid=wamid)
    found = rows.values("pk", "group_id", "type").first()
    if found is None:
        return None
    if found["type"] == OutboundMessage.Type.PIN:
        lock_groups().filter(pk=found["group_id"]).first()
    return lock_outbound_messages().select_related("group__phone_number").filter(pk=found["pk"]).first()


def message_id_from_callback(callback_data: str | None) -> int | None:
    """Return our message id carried in `biz_opaque_callback_data`, or None if it is not ours."""
    if not callback_data or not callback_data.startswith(CALLBACK_PREFIX):
        return None
    tail = callback_data[len(CALLBACK_PREFIX):]
    return int(tail) if tail.isdigit() else None


def message_find_by_idempotency_key(*, created_by, idempotency_key: str) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(created_by=created_by, idempotency_key=idempotency_key).first()


def message_status_change_list(*, message: OutboundMessage) -> QuerySet[MessageStatusChange]:
    return message.status_changes.select_related("participant").order_by("pk")


def message_receipt_list(*, message: OutboundMessage) -> QuerySet[MessageReceipt]:
    return message.receipts.select_related("participant").order_by("participant_key")


def message_audience_without_receipt(*, message: OutboundMessage) -> QuerySet[Participant]:
    """Return the participants the message went to who have no receipt: in the group when Meta accepted it.

    Before it is accepted, the group's active participants. Someone who joined after it was accepted never got it;
    someone who left after still did (and may still have no receipt).
    """
    with_receipt = message.receipts.filter(participant__isnull=False).values("participant_id")
    participants = message.group.participants.exclude(pk__in=with_receipt).order_by("pk")
    if message.accepted_at is None:
        return participants.filter(state=Participant.State.ACTIVE)
    accepted = message.accepted_at
    return participants.filter(Q(joined_at__isnull=True) | Q(joined_at__lte=accepted)).filter(
        Q(left_at__isnull=True) | Q(left_at__gt=accepted)
    )


def participant_was_audience(participant: Participant, *, message: OutboundMessage) -> bool:
    """Return whether the message went to this participant: the rule of message_audience_without_receipt, for rows
    already in memory (the group workspace checks fifty messages against one list of people)."""
    accepted = message.accepted_at
    if accepted is None:
        return participant.state == Participant.State.ACTIVE
    joined_before = participant.joined_at is None or participant.joined_at <= accepted
    return joined_before and (participant.left_at is None or participant.left_at > accepted)


def message_ids_outcome_unknown(*, started_before: datetime, limit: int) -> list[int]:
    """Return ids of messages still `sending` since before `started_before`, oldest first."""
    return list(
        OutboundMessage.objects.filter(status=MessageStatus.SENDING, sending_started_at__lt=started_before)
        .order_by("sending_started_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def message_ids_due(*, due_before: datetime, limit: int) -> list[int]:
    """Return ids of queued messages whose send time came before `due_before`: a retry, a paced send, a lost task."""
    queued = OutboundMessage.objects.filter(status=MessageStatus.QUEUED)
    overdue_retry = queued.filter(next_attempt_at__lte=due_before)
    never_tried = queued.filter(next_attempt_at__isnull=True, created_at__lte=due_before)
    return list((overdue_retry | never_tried).order_by("pk").values_list("pk", flat=True)[:limit])


def unmatched_statuses_for(*, wamid: str) -> QuerySet[UnmatchedStatus]:
    return UnmatchedStatus.objects.filter(wamid=wamid, applied_at__isnull=True).order_by("pk")


def unmatched_wamids_now_known(*, limit: int) -> list[str]:
    """Return wamids with unapplied statuses that a message now carries."""
    known = OutboundMessage.objects.filter(wamid__isnull=False).values("wamid")
    return list(
        UnmatchedStatus.objects.filter(applied_at__isnull=True, wamid__in=known)
        .values_list("wamid", flat=True)
        .distinct()[:limit]
    )


def active_participant_count(*, group: Group) -> int:
    """Return how many people a message to the group reaches now."""
    count = group.participants.filter(state=Participant.State.ACTIVE).count()
    return count or group.participant_count


# --- Support desk: history filters, failure triage, dashboard (issue 8) ---------------------------------------


_DISTINCT_ERROR_CODES_SQL = """
WITH RECURSIVE codes(code) AS (
    (SELECT error_code FROM messaging_outboundmessage WHERE error_code > '' ORDER BY error_code LIMIT 1)
    UNION ALL
    SELECT (SELECT m.error_code FROM messaging_outboundmessage m WHERE m.error_code > codes.code
            ORDER BY m.error_code LIMIT 1)
    FROM codes WHERE codes.code IS NOT NULL
)
SELECT code FROM codes WHERE code IS NOT NULL
"""


def message_error_codes() -> list[str]:
    """Return the distinct error codes messages carry, sorted, without scanning the table.

    On PostgreSQL a recursive "loose index scan" walks the error_code index one distinct value at a
    time (a handful of lookups instead of reading a million rows); elsewhere a plain DISTINCT.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_DISTINCT_ERROR_CODES_SQL)
            return [row[0] for row in cursor.fetchall()]
    # order_by() first: the default ordering's columns would join the DISTINCT and repeat each code per row.
    return list(OutboundMessage.objects.exclude(error_code="").order_by("error_code")
                .values_list("error_code", flat=True).distinct())


def failed_messages_by_code(*, since: datetime, phone_number: int | None = None) -> list[dict]:
    """Return [{error_code, count, last_failed_at}] of messages failed since `since`, most frequent first."""
    failed = OutboundMessage.objects.filter(status=MessageStatus.FAILED, failed_at__gte=since)
    if phone_number is not None:
        failed = failed.filter(group__phone_number_id=phone_number)
    return list(
        failed.values("error_code").annotate(count=Count("pk"), last_failed_at=Max("failed_at")).order_by(
            "-count", "error_code"
        )
    )


def failed_messages_for_retry(*, error_code: str, since: datetime, limit: int) -> list[OutboundMessage]:
    """Return failed messages with this code since `since` that were never retried, oldest first."""
    retried = OutboundMessage.objects.filter(retry_of=OuterRef("pk"))
    return list(
        OutboundMessage.objects.filter(status=MessageStatus.FAILED, error_code=error_code, failed_at__gte=since)
        .exclude(type=OutboundMessage.Type.PIN)
        .filter(~Exists(retried))
        .select_related("group")
        .order_by("failed_at", "pk")[:limit]
    )


SENT_OR_BEYOND = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]


def _count_columns(count, total) -> dict:
    """The dashboard's counts, over messages (`count` is Count("pk")) or roll-up rows (`count` sums `messages`)."""
    return {
        "total": total,
        "sent": count(Q(status__in=SENT_OR_BEYOND)),
        "delivered": count(Q(status__in=SENT_OR_BEYOND[1:])),
        "read": count(Q(status=MessageStatus.READ)),
        "failed": count(Q(status=MessageStatus.FAILED)),
    }


def _counted(*, created: Q) -> QuerySet:
    """Count the messages `created` selects per phone number, over the created_at index.

    Status only moves forward, so "sent" counts every message at sent or beyond, "delivered" at delivered or read.
    """
    return (
        OutboundMessage.objects.filter(created)
        .values("group__phone_number_id")
        .annotate(**_count_columns(lambda where: Count("pk", filter=where), Count("pk")),
                  recipients=Sum("recipient_count"), receipts_delivered=Sum("delivered_count"),
                  receipts_read=Sum("read_count"))
        .order_by()
    )


WATERMARK_CACHE_SECONDS = 60


def rollup_watermark() -> datetime | None:
    """Return how far the hourly roll-up has counted (None before its first run), cached for a minute.

    A cached watermark older than the stored one is still exact: fewer hours are read from the roll-up and more are
    counted live, never one twice or none. So the cache needs no invalidation across processes.
    """
    return cache.get_or_set(f"rollup-watermark:{ROLLUP_NAME}", lambda: RollupWatermark.objects.filter(
        name=ROLLUP_NAME).values_list("until", flat=True).first(), WATERMARK_CACHE_SECONDS)


def _rollup_split(since: datetime) -> tuple[Q, Q]:
    """Return which messages created since `since` to count live, and which roll-up hours to read instead.

    The roll-up holds whole hours before its watermark (messaging.services.rollups); the part hour at the start of
    the period and everything since the watermark are live; without a roll-up, all of it is. The bounds are
    literal times, so the planner reads the small live range through the created_at index.
    """
    first_hour = hour_floor(since) + timedelta(hours=1) if since != hour_floor(since) else since
    rolled_until = max(rollup_watermark() or first_hour, first_hour)
    live = Q(created_at__gte=since, created_at__lt=first_hour) | Q(created_at__gte=rolled_until)
    return live, Q(hour__gte=first_hour, hour__lt=rolled_until)


def message_counts_by_phone_number(*, since: datetime) -> dict[int, dict]:
    """Return per phone number id the messages created since `since`: total, sent, delivered, read, failed, ...

    Whole hours come from the hourly roll-up, the rest from the messages (`_rollup_split`), in one UNION ALL.
    """
    live, rolled = _rollup_split(since)
    summed = (
        MessageHourlyCount.objects.filter(rolled)
        .values("phone_number_id")
        .annotate(**_count_columns(lambda where: Coalesce(Sum("messages", filter=where), 0), Sum("messages")),
                  recipients=Sum("recipients"), receipts_delivered=Sum("receipts_delivered"),
                  receipts_read=Sum("receipts_read"))
        .order_by()
    )
    counts: dict[int, dict] = {}
    for row in _counted(created=live).union(summed, all=True):
        number = row.pop("group__phone_number_id")
        counts[number] = {key: (counts.get(number, {}).get(key) or 0) + (value or 0) for key, value in row.items()}
    return counts


def failures_over_time(*, since: datetime, bucket: str, phone_number: int | None = None) -> list[dict]:
    """Return [{bucket, error_code, count}] of the failed messages created since `since`, per hour or local day.

    By the hour the messages were created, like the counts beside the chart: whole hours from the roll-up, the rest
    from the messages (`_rollup_split`), in one UNION ALL.
    """
    live, rolled = _rollup_split(since)
    failed = OutboundMessage.objects.filter(live, status=MessageStatus.FAILED)
    summed = MessageHourlyCount.objects.filter(rolled, status=MessageStatus.FAILED)
    if phone_number is not None:
        failed = failed.filter(group__phone_number_id=phone_number)
        summed = summed.filter(phone_number_id=phone_number)
    failed = (failed.annotate(hour=TruncHour("created_at", tzinfo=UTC)).values("hour", "error_code")
              .annotate(count=Count("pk")).order_by())
    summed = summed.values("hour", "error_code").annotate(count=Sum("messages")).order_by()
    buckets: dict[tuple[datetime, str], int] = {}
    for row in failed.union(summed, all=True):
        at = timezone.localtime(row["hour"])  # Days are the configured time zone's (TIME_ZONE).
        key = (at.replace(hour=0) if bucket == "day" else at, row["error_code"])
        buckets[key] = buckets.get(key, 0) + row["count"]
    return [{"bucket": at, "error_code": code, "count": count} for (at, code), count in sorted(buckets.items())]


def messages_stuck(*, older_than: datetime, phone_number: int | None = None) -> dict[str, int]:
    """Return how many messages still wait for a status since before `older_than`, by what they wait in.

    "accepted": Meta took it but no status came; "queued"/"sending": our worker has not finished it.
    Only the status index is read: waiting messages are few even among millions.
    """
    waiting = OutboundMessage.objects.filter(
        status__in=[MessageStatus.ACCEPTED, MessageStatus.QUEUED, MessageStatus.SENDING]
    )
    if phone_number is not None:
        waiting = waiting.filter(group__phone_number_id=phone_number)
    counts = waiting.aggregate(
        accepted=Count("pk", filter=Q(status=MessageStatus.ACCEPTED, accepted_at__lt=older_than)),
        queued=Count("pk", filter=Q(status=MessageStatus.QUEUED, created_at__lt=older_than)),
        sending=Count("pk", filter=Q(status=MessageStatus.SENDING, sending_started_at__lt=older_than)),
    )
    return {key: value or 0 for key, value in counts.items()}


def message_page_marker(*, message_id: int) -> tuple | None:
    """Return what moves when a message's page would change, in one query: the message's last update, its newest
    history row and receipt, and the newest change among its group's members (None if there is no such message).

    Each subquery is an index lookup (both histories lead with the message, participants with the group): cheap
    enough for the page's live region to ask every second (desk/live.py).
    """
    newest_change = MessageStatusChange.objects.filter(message_id=OuterRef("pk")).order_by("-pk").values("pk")[:1]
    newest_receipt = (MessageReceipt.objects.filter(message_id=OuterRef("pk")).order_by("-updated_at")
                      .values("updated_at")[:1])
    newest_member = (Participant.objects.filter(group_id=OuterRef("group_id")).order_by("-updated_at")
                     .values("updated_at")[:1])
    return (
        OutboundMessage.objects.filter(pk=message_id)
        .values_list("updated_at", Subquery(newest_change), Subquery(newest_receipt), Subquery(newest_member))
        .first()
    )
