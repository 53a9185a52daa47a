"""The support desk dashboard (issue 8): messages, failures, groups and webhook health on one admin page.

It lives in `desk`, the top app, because it spans every app: the one layer allowed to read them all. Each number
comes from a selector of the app that owns the data; every query is date-bounded or index-only, so the page stays
fast at a million messages.
"""

from datetime import datetime, timedelta

from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.db import connection, models
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from desk.charts import Series, horizontal_bars, stacked_bars
from desk.live import live_page, live_version
from groups.models import Group, GroupEvent
from groups.selectors import groups_by_state, phone_number_list
from integrations.selectors import endpoints_health
from messaging.errors import error_explain
from messaging.models import MessageStatusChange, OutboundMessage
from messaging.selectors import failures_over_time, message_counts_by_phone_number, messages_stuck
from webhooks.models import WebhookEvent
from webhooks.registry import handled_fields
from webhooks.selectors import signature_rejections, webhook_failed_count, webhook_last_event_per_field

PERIODS = {"24h": (timedelta(hours=24), "hour"), "7d": (timedelta(days=7), "day"), "30d": (timedelta(days=30), "day")}
DEFAULT_STUCK_MINUTES = 15
MAX_CODES_CHARTED = 8  # More colours than this are unreadable; the rest are summed as "other".


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "-"


def _buckets(since: datetime, now: datetime, bucket: str) -> list[datetime]:
    start = timezone.localtime(since).replace(minute=0, second=0, microsecond=0)
    step = timedelta(hours=1)
    if bucket == "day":
        start, step = start.replace(hour=0), timedelta(days=1)
    keys = []
    while start <= now:
        keys.append(start)
        start = timezone.localtime(start + step)  # Re-localise: a DST change moves midnight.
        if bucket == "day":
            start = start.replace(hour=0)
    return keys


def _failure_chart(*, since: datetime, now: datetime, bucket: str, phone_number: int | None):
    rows = failures_over_time(since=since, bucket=bucket, phone_number=phone_number)
    keys = _buckets(since, now, bucket)
    index = {key: i for i, key in enumerate(keys)}
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["error_code"] or "none"] = totals.get(row["error_code"] or "none", 0) + row["count"]
    charted = sorted(totals, key=lambda code: -totals[code])[:MAX_CODES_CHARTED]
    values = {code: [0] * len(keys) for code in [*charted, "other"]}
    for row in rows:
        i = index.get(timezone.localtime(row["bucket"]))
        if i is None:
            continue
        code = row["error_code"] or "none"
        values[code if code in charted else "other"][i] += row["count"]
    series = [Series(code, values[code]) for code in charted]
    if any(values["other"]):
        series.append(Series("other", values["other"]))
    fmt = "%H:00" if bucket == "hour" else "%d %b"
    labels = [key.strftime(fmt) for key in keys]
    chart = stacked_bars(labels=labels, series=series, title="Failed messages by error code", chart_id="failures-chart")
    return chart, [{"code": code, "count": totals[code], "explained": error_explain(None if code == "none" else code)}
                   for code in sorted(totals, key=lambda code: -totals[code])]


def _stuck_minutes(value: str | None) -> int:
    try:
        return max(1, min(24 * 60, int(value or DEFAULT_STUCK_MINUTES)))
    except ValueError:
        return DEFAULT_STUCK_MINUTES


def _message_counts(numbers: list, *, since: datetime) -> tuple[list[dict], dict]:
    """Return one row of message counts and rates per phone number, and their totals."""
    counts = message_counts_by_phone_number(since=since)
    empty = {"total": 0, "sent": 0, "delivered": 0, "read": 0, "failed": 0, "recipients": 0,
             "receipts_delivered": 0, "receipts_read": 0}
    per_number = []
    for number in numbers:
        row = {**empty, **{k: v or 0 for k, v in counts.get(number.pk, {}).items()}}
        per_number.append({"number": number, **row, "delivery_rate": _rate(row["delivered"], row["sent"]),
                           "read_rate": _rate(row["read"], row["delivered"])})
    totals = {key: sum(row[key] for row in per_number) for key in empty}
    return per_number, totals


def _link_failure_codes(failure_codes: list[dict], *, phone_id: int | None) -> None:
    """Give each failure code the link to the failed messages it counts."""
    changelist = reverse("admin:messaging_outboundmessage_changelist")
    for row in failure_codes:
        query = {"status": "failed", "error_code": "" if row["code"] == "none" else row["code"]}
        if phone_id:
            query["phone_number"] = phone_id
        row["list_url"] = f"{changelist}?{urlencode(query)}"


def _groups_chart(*, phone_id: int | None):
    states = groups_by_state(phone_number=phone_id)
    state_rows = [(label, states.get(value, 0)) for value, label in Group.State.choices]
    state_rows.append(("Suspended", states.get("suspended", 0)))
    return horizontal_bars(rows=state_rows, title="Groups by state", chart_id="groups-chart")


def _with_state_labels(last_events: dict) -> list[tuple[str, dict | None]]:
    """Return (field, last event) pairs by field, each event with its state as staff read it ("Processed")."""
    labels = dict(WebhookEvent.State.choices)
    return sorted((field, event and {**event, "state_label": labels.get(event["state"], event["state"])})
                  for field, event in last_events.items())


def _webhook_health(*, now: datetime) -> dict:
    """Return the webhook part of the page: last event per field, failures and signature rejections (24 h)."""
    rejections = signature_rejections(since=now - timedelta(hours=24))
    rejection_keys = _buckets(now - timedelta(hours=23), now, "hour")
    by_hour = {timezone.localtime(r.hour): r.count for r in rejections}
    return {
        "last_events": _with_state_labels(webhook_last_event_per_field(fields=sorted(handled_fields()))),
        "failed_events_24h": webhook_failed_count(since=now - timedelta(hours=24)),
        "rejections_24h": sum(r.count for r in rejections),
        "rejection_chart": stacked_bars(
            labels=[key.strftime("%H:00") for key in rejection_keys],
            series=[Series("signature rejected", [by_hour.get(key, 0) for key in rejection_keys])],
            title="Signature rejections per hour", width=480, height=120, chart_id="rejections-chart",
        ),
    }


def _newest_ids(*tables: type[models.Model]) -> tuple:
    """Return each table's highest primary key, in one query (each the end of its primary key index)."""
    quote = connection.ops.quote_name
    # Names from the models' metadata, never from input.
    columns = ", ".join(f"(SELECT MAX({quote(table._meta.pk.column)}) FROM {quote(table._meta.db_table)})"  # noqa: S608
                        for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return cursor.fetchone()


def dashboard_version(request: HttpRequest) -> str:
    """Return what moves when a number on the dashboard may have: the newest message, status change, group event
    and webhook, and the minute (stuck messages and "last event" ages)."""
    newest = _newest_ids(OutboundMessage, MessageStatusChange, GroupEvent, WebhookEvent)
    return live_version(*newest, timezone.now().replace(second=0, microsecond=0))


@permission_required("messaging.view_outboundmessage", raise_exception=True)
@live_page(version=dashboard_version)
def dashboard_view(request: HttpRequest) -> TemplateResponse:
    """Render the dashboard for one period and all or one phone number."""
    period = request.GET.get("period") if request.GET.get("period") in PERIODS else "24h"
    span, bucket = PERIODS[period]
    now = timezone.now()
    since = now - span
    numbers = list(phone_number_list())
    phone = request.GET.get("phone") or ""
    selected = next((n for n in numbers if str(n.pk) == phone), None)
    stuck_minutes = _stuck_minutes(request.GET.get("stuck"))
    per_number, totals = _message_counts(numbers, since=since)
    shown = next((row for row in per_number if selected and row["number"].pk == selected.pk), None) or totals
    phone_id = selected.pk if selected else None
    failure_chart, failure_codes = _failure_chart(since=since, now=now, bucket=bucket, phone_number=phone_id)
    _link_failure_codes(failure_codes, phone_id=phone_id)
    context = {
        **admin.site.each_context(request),
        "title": "Support desk dashboard",
        "periods": list(PERIODS),
        "period": period,
        "numbers": numbers,
        "selected": selected,
        "per_number": per_number,
        "totals": {**totals, "delivery_rate": _rate(totals["delivered"], totals["sent"]),
                   "read_rate": _rate(totals["read"], totals["delivered"])},
        "shown": shown,
        "funnel_chart": horizontal_bars(
            rows=[("Sent", shown["sent"]), ("Delivered", shown["delivered"]), ("Read", shown["read"]),
                  ("Failed", shown["failed"])],
            title="Messages sent, delivered, read and failed", chart_id="funnel-chart",
        ),
        "failure_chart": failure_chart,
        "failure_codes": failure_codes,
        "groups_chart": _groups_chart(phone_id=phone_id),
        **_webhook_health(now=now),
        "endpoints_health": endpoints_health(since=now - timedelta(hours=24)),
        "stuck": messages_stuck(older_than=now - timedelta(minutes=stuck_minutes), phone_number=phone_id),
        "stuck_minutes": stuck_minutes,
        "now": now,
    }
    return TemplateResponse(request, "admin/dashboard.html", context)
