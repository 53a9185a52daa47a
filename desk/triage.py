"""Failure triage for the support desk: CSV export of the message history, the error catalog, failures by code.

These pages hang under the messages admin (their URLs and names, e.g. `admin:messaging_error_catalog`, are the
ones staff and links have always used); `desk.admin` adds them to the composed messages admin.
"""

import csv
from collections.abc import Iterator
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode

from config.exceptions import ApplicationError
from config.spreadsheet import csv_cell
from core.admin_confirm import Confirmed, confirm
from core.meta_errors import RetryClass
from core.models import Source
from groups.cloud_api import error_catalog
from messaging.errors import OWN_CODES, error_explain
from messaging.selectors import failed_messages_by_code, failed_messages_for_retry
from messaging.services import message_retry

EXPORT_CHUNK = 2000  # Rows per query while streaming: small enough to keep memory flat, large enough to be quick.
BULK_RETRY_LIMIT = 500  # One click queues at most this many retries; the page says so and can be used again.


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


def triage_urls(model_admin) -> list:
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


# The catalog's "Retry" column in staff words; the values are the contract's retry classes (spec §8).
RETRY_WORDS = {
    RetryClass.BACK_OFF: "Yes: Groupdesk tries again later",
    RetryClass.FIX_REQUEST: "No: fix the cause, then send again",
    RetryClass.REAUTHENTICATE: "No: an administrator must fix the token",
    RetryClass.OUTCOME_UNKNOWN: "No: Meta may have acted already",
}


def catalog_entries() -> list[dict]:
    """Return every error code staff may meet: Meta's catalog (spec §9), then Groupdesk's own."""
    entries = [
        {"code": str(d.code), "codes": d.codes or str(d.code), "title": d.title, "meaning": d.meaning,
         "action": d.action, "retry": RETRY_WORDS.get(d.retry_class, ""), "origin": "Meta"}
        for d in error_catalog()
    ]
    entries += [
        {"code": e.code, "codes": e.code, "title": e.title, "meaning": e.meaning, "action": e.action,
         "retry": "", "origin": "Groupdesk"}
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
    explained = error_explain(code, final=True)
    confirmed = confirm(
        model_admin, request, candidates, action=None, title="Retry failed messages?", reason="none",
        warning=f"Retry {len(candidates)} failed message{'s' if len(candidates) != 1 else ''} with error {code}"
                f"{f' ({explained.title})' if explained else ''} from the last {hours} hours that were never "
                "retried? Each is sent again to its whole group as a new message; the failed one keeps its history.",
        irreversible="a message once sent cannot be recalled.", submit="Yes, retry them",
        details_template="admin/messaging/bulk_retry_rows.html", hidden={"error_code": code, "hours": hours},
        extra_context={"explained": explained, "limit": BULK_RETRY_LIMIT},
        cancel_url=f"{reverse('admin:messaging_failures')}?hours={hours}",
    )
    if not isinstance(confirmed, Confirmed):
        return confirmed
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
