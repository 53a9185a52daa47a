"""The dashboard's hourly roll-up of messages: closed hours counted once by a periodic task, not per status.

At a million messages a 30-day count read every message of the period (about 1 s, docs/benchmarks.md). The roll-up
turns it into a few thousand rows. It is written from indexed columns by a periodic task, never by the status
path: a delivered or read status changes a message of a closed hour, so the task counts the recent closed hours
again on each run (statuses keep coming for a day or two) and, nightly, every hour a dashboard period can show.
"""

from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncHour

from messaging.models import MessageHourlyCount, OutboundMessage, RollupWatermark
from messaging.selectors import ROLLUP_NAME, hour_floor

# Statuses (delivered, read) come minutes to hours after a message is sent, rarely days later: the frequent run
# counts the last two days again; the nightly run (ROLLUP_FULL_HOURS) counts everything a dashboard shows.
ROLLUP_RECENT_HOURS = 48
ROLLUP_FULL_HOURS = 31 * 24  # The longest dashboard period (30 days) and a day of margin.


def message_counts_roll_up(*, now: datetime, hours: int = ROLLUP_RECENT_HOURS) -> int:
    """Count again the closed hours of the last `hours` (or since the last run, if older); return the rows written.

    One transaction: the watermark row is locked first, so two runs at once take turns, and a dashboard reads
    either the old rows with the old watermark or the new ones with the new one.
    """
    until = hour_floor(now)
    with transaction.atomic():
        mark, _ = RollupWatermark.objects.select_for_update().get_or_create(
            name=ROLLUP_NAME, defaults={"until": until - timedelta(hours=ROLLUP_FULL_HOURS)})
        start = min(until - timedelta(hours=hours), mark.until)
        rows = (
            OutboundMessage.objects.filter(created_at__gte=start, created_at__lt=until)
            .annotate(hour=TruncHour("created_at", tzinfo=UTC))
            .values("hour", "group__phone_number_id", "status", "error_code")
            .annotate(messages=Count("pk"), recipients=Sum("recipient_count"),
                      receipts_delivered=Sum("delivered_count"), receipts_read=Sum("read_count"))
            .order_by()
        )
        counts = [
            MessageHourlyCount(hour=row["hour"], phone_number_id=row["group__phone_number_id"], status=row["status"],
                               error_code=row["error_code"], messages=row["messages"],
                               recipients=row["recipients"] or 0, receipts_delivered=row["receipts_delivered"] or 0,
                               receipts_read=row["receipts_read"] or 0)
            for row in rows
        ]
        MessageHourlyCount.objects.filter(hour__gte=start, hour__lt=until).delete()
        MessageHourlyCount.objects.bulk_create(counts, batch_size=1000)
        mark.until = until
        mark.save(update_fields=["until"])
        transaction.on_commit(lambda: cache.delete(f"rollup-watermark:{ROLLUP_NAME}"))  # This process reads it anew.
    return len(counts)
