"""Message history and failure triage for the support desk: filters, progress bars, CSV export, error catalog.

Used by messaging/admin.py (the messages changelist) and linked from the groups admin by URL name only.
"""

import csv
from collections.abc import Iterator
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ListFilter
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.http import urlencode

from config.exceptions import ApplicationError
from config.spreadsheet import csv_cell
from groups.cloud_api import error_catalog
from groups.models import PhoneNumber, Source
from messaging.errors import OWN_CODES, error_explain
from messaging.selectors import failed_messages_by_code, failed_messages_for_retry, message_error_codes
from messaging.services import message_retry

EXPORT_CHUNK = 2000  # Rows per query while streaming: small enough to keep memory flat, large enough to be quick.
BULK_RETRY_LIMIT = 500  # One click queues at most this many retries; the page says so and can be used again.


# --- List filters -----------------------------------------------------------------------------------------


class InputFilter(admin.SimpleListFilter):
    """A filter typed into a box: lists of thousands of groups do not fit a sidebar."""

    template = "admin/messaging/input_filter.html"
    placeholder = ""

    def lookups(self, request, model_admin):
        return [("", "")]  # Django shows a filter only when it has choices.

    def choices(self, changelist):
        params = {k: v for k, v in changelist.params.items() if k != self.parameter_name}
        yield {"parameter_name": self.parameter_name, "value": self.value() or "", "placeholder": self.placeholder,
               "other_params": [(k, v[-1] if isinstance(v, list) else v) for k, v in params.items()]}


class GroupFilter(InputFilter):
    title = "group (id)"
    parameter_name = "group"
    placeholder = "Group id"

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        return queryset.filter(group_id=int(value)) if value.isdigit() else queryset


class PhoneNumberFilter(admin.SimpleListFilter):
    title = "phone number"
    parameter_name = "phone_number"

    def lookups(self, request, model_admin):
        return [(str(number.pk), str(number)) for number in PhoneNumber.objects.order_by("display_phone_number")]

    def queryset(self, request, queryset):
        return queryset.filter(group__phone_number_id=self.value()) if (self.value() or "").isdigit() else queryset


class CreatedByFilter(admin.SimpleListFilter):
    title = "created by"
    parameter_name = "created_by"

    def lookups(self, request, model_admin):
        staff = get_user_model().objects.filter(is_staff=True).order_by("username")[:200]
        return [(str(user.pk), user.get_username()) for user in staff] + [("none", "Nobody (REST/API token)")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(created_by__isnull=True)
        return queryset.filter(created_by_id=self.value()) if (self.value() or "").isdigit() else queryset


class ErrorCodeFilter(admin.SimpleListFilter):
    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request, model_admin):
        return [(code, f"{code}: {explained.title}" if (explained := error_explain(code)) else code)
                for code in message_error_codes()]

    def queryset(self, request, queryset):
        return queryset.filter(error_code=self.value()) if self.value() else queryset


class CreatedRangeFilter(ListFilter):
    """Created between two dates (inclusive), typed as YYYY-MM-DD."""

    title = "created (date range)"
    template = "admin/messaging/date_range_filter.html"
    parameters = ("created_from", "created_to")

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.values = {}
        for name in self.parameters:
            if name in params:
                value = params.pop(name)
                self.values[name] = value[-1] if isinstance(value, list) else value

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return list(self.parameters)

    def queryset(self, request, queryset):
        start = parse_date(self.values.get("created_from") or "")
        end = parse_date(self.values.get("created_to") or "")
        zone = timezone.get_current_timezone()
        if start:
            queryset = queryset.filter(created_at__gte=datetime.combine(start, time.min, tzinfo=zone))
        if end:
            queryset = queryset.filter(created_at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone))
        return queryset

    def choices(self, changelist):
        params = {k: v for k, v in changelist.params.items() if k not in self.parameters}
        yield {"values": self.values,
               "other_params": [(k, v[-1] if isinstance(v, list) else v) for k, v in params.items()]}


# --- List columns -----------------------------------------------------------------------------------------


def progress_bar(count: int, total: int, *, label: str) -> str:
    """Return "n/N" with a small inline-SVG bar (no JS, no CSS file)."""
    width = 60
    filled = 0 if total <= 0 else round(width * min(count, total) / total)
    return format_html(
        '<span class="progress" title="{} {} of {}">'
        '<svg width="{}" height="8" role="img" aria-label="{} {}/{}" style="vertical-align: middle">'
        '<rect width="{}" height="8" rx="2" fill="#e1e5ea"></rect>'
        '<rect width="{}" height="8" rx="2" fill="#2f7d4a"></rect></svg> {}/{}</span>',
        count, label, total, width, label, count, total, width, filled, count, total,
    )


def error_code_link(code: str) -> str:
    """Return the code linked to its entry on the error catalog page, or "" without a code."""
    if not code:
        return ""
    return format_html('<a href="{}#code-{}" title="What it means">{}</a>', reverse("admin:messaging_error_catalog"),
                       code, code)


# --- CSV export -------------------------------------------------------------------------------------------

EXPORT_COLUMNS = [
    "id", "created_at", "group_id", "group_subject", "phone_number", "type", "status", "wamid", "error_code",
    "recipient_count", "delivered_count", "read_count", "text", "created_by", "accepted_at", "sent_at",
    "delivered_at", "read_at", "failed_at", "retry_of",
]


class _Echo:
    """A file-like object whose write() returns the line, so csv.writer feeds a streaming response."""

    def write(self, value: str) -> str:
        return value


def export_rows(queryset) -> Iterator[list]:
    """Yield the rows of a (filtered) message queryset newest first, one bounded query per chunk (keyset on pk)."""
    queryset = queryset.order_by("-pk").values_list(
        "pk", "created_at", "group_id", "group__subject", "group__phone_number__display_phone_number", "type",
        "status", "wamid", "error_code", "recipient_count", "delivered_count", "read_count", "content",
        "created_by__username", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at", "retry_of_id",
    )
    last_pk = None
    while True:
        chunk = queryset if last_pk is None else queryset.filter(pk__lt=last_pk)
        rows = list(chunk[:EXPORT_CHUNK])
        for row in rows:
            content = row[12] if isinstance(row[12], dict) else {}
            yield [*row[:12], content.get("body") or content.get("caption") or "", *row[13:]]
        if len(rows) < EXPORT_CHUNK:
            return
        last_pk = rows[-1][0]


def export_csv_response(queryset) -> StreamingHttpResponse:
    """Stream the queryset as CSV: the header line, then one line per message, any number of rows."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(EXPORT_COLUMNS)
        for row in export_rows(queryset):
            yield writer.writerow([csv_cell(value) for value in row])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="messages-{stamp}.csv"'
    return response


# --- Pages: export, error catalog, failures by code ---------------------------------------------------------


class BulkRetryForm(forms.Form):
    error_code = forms.CharField(max_length=32)
    hours = forms.IntegerField(min_value=1, max_value=24 * 30)


def desk_urls(model_admin) -> list:
    """Return the extra admin URLs of the messages admin (names: messaging_outboundmessage_export, ...)."""
    wrap = model_admin.admin_site.admin_view
    return [
        path("export.csv", wrap(lambda request: export_view(model_admin, request)),
             name="messaging_outboundmessage_export"),
        path("error-codes/", wrap(lambda request: error_catalog_view(model_admin, request)),
             name="messaging_error_catalog"),
        path("failures/", wrap(lambda request: failures_view(model_admin, request)), name="messaging_failures"),
    ]


def export_view(model_admin, request: HttpRequest) -> StreamingHttpResponse:
    """Export exactly what the changelist shows (filters and search), streamed."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    changelist = model_admin.get_changelist_instance(request)
    return export_csv_response(changelist.get_queryset(request))


def catalog_entries() -> list[dict]:
    """Return every error code staff may meet: Meta's catalog (spec §9), then Groupdesk's own."""
    entries = [
        {"code": str(d.code), "codes": d.codes or str(d.code), "title": d.title, "meaning": d.meaning,
         "action": d.action, "retry_class": str(d.retry_class), "origin": "Meta"}
        for d in error_catalog()
    ]
    entries += [
        {"code": e.code, "codes": e.code, "title": e.title, "meaning": e.meaning, "action": e.action,
         "retry_class": "", "origin": "Groupdesk"}
        for e in OWN_CODES.values()
    ]
    return entries


def error_catalog_view(model_admin, request: HttpRequest) -> TemplateResponse:
    """Every error code with what it means and what to do; each message and operation error links here."""
    if not request.user.is_staff:
        raise PermissionDenied
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
               "title": "Error codes: what they mean and what to do", "entries": catalog_entries()}
    return TemplateResponse(request, "admin/messaging/error_catalog.html", context)


def failures_view(model_admin, request: HttpRequest) -> HttpResponse:
    """Failed messages grouped by error code, with links to the filtered list and a confirmed bulk retry."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    hours = _int(request.GET.get("hours") or request.POST.get("hours"), default=24, low=1, high=24 * 30)
    may_retry = request.user.has_perm("messaging.add_outboundmessage")
    if request.method == "POST":
        if not may_retry:
            raise PermissionDenied
        form = BulkRetryForm(request.POST)
        if form.is_valid():
            return _bulk_retry(model_admin, request, code=form.cleaned_data["error_code"],
                               hours=form.cleaned_data["hours"])
    since = timezone.now() - timedelta(hours=hours)
    changelist = reverse("admin:messaging_outboundmessage_changelist")
    rows = []
    for row in failed_messages_by_code(since=since):
        explained = error_explain(row["error_code"])
        rows.append({
            **row,
            "title": explained.title if explained else "No error code recorded",
            "list_url": f"{changelist}?{urlencode({'status': 'failed', 'error_code': row['error_code']})}",
        })
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
               "title": f"Failed messages by error code, last {hours} h", "rows": rows, "hours": hours,
               "hour_choices": [1, 6, 24, 72, 168, 720], "may_retry": may_retry, "limit": BULK_RETRY_LIMIT}
    return TemplateResponse(request, "admin/messaging/failures.html", context)


def _bulk_retry(model_admin, request: HttpRequest, *, code: str, hours: int) -> HttpResponse:
    """Ask first (like delete_selected), then retry each failed message with this code once."""
    since = timezone.now() - timedelta(hours=hours)
    candidates = failed_messages_for_retry(error_code=code, since=since, limit=BULK_RETRY_LIMIT)
    if request.POST.get("post") != "yes":
        explained = error_explain(code)
        context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta,
                   "title": "Retry failed messages?", "code": code, "hours": hours, "explained": explained,
                   "messages_to_retry": candidates, "limit": BULK_RETRY_LIMIT}
        return TemplateResponse(request, "admin/messaging/bulk_retry_confirm.html", context)
    retried = 0
    for message in candidates:
        try:
            _retry, created = message_retry(message=message, created_by=request.user, source=Source.ADMIN)
        except ApplicationError as exc:
            model_admin.message_user(request, f"{message}: {exc.message}", messages.ERROR)
        else:
            retried += created
    model_admin.message_user(request, f"Queued {retried} retr{'y' if retried == 1 else 'ies'} of code {code}.",
                             messages.SUCCESS)
    return HttpResponseRedirect(f"{reverse('admin:messaging_failures')}?hours={hours}")


def _int(value, *, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default
