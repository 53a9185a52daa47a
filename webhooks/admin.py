"""Read-only admin of webhook events, with replay."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin, readable_html
from config.exceptions import ApplicationError
from core.admin_confirm import Confirmed, confirm, counted
from core.audit import audit_record
from core.models import Source
from webhooks.models import WebhookAuditAction, WebhookEvent
from webhooks.selectors import webhook_event_payload
from webhooks.services import webhook_event_reprocess

FIELDS = (
    "messages",
    "group_lifecycle_update",
    "group_participants_update",
    "group_settings_update",
    "group_status_update",
)


class ChangeFieldFilter(admin.SimpleListFilter):
    title = "field"
    parameter_name = "field"

    def lookups(self, request, model_admin):
        return [(name, name) for name in FIELDS]

    def queryset(self, request, queryset):
        if self.value():
            # JSON text match works on PostgreSQL and SQLite alike.
            return queryset.filter(fields__icontains=f'"{self.value()}"')
        return queryset


class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "received_at", "field_list", "state", "item_summary", "attempts", "deliveries", "short_error")
    list_filter = ("state", ChangeFieldFilter, "received_at")
    date_hierarchy = "received_at"
    search_fields = ("=id", "=sha256", "error")
    show_full_result_count = False  # No COUNT(*) over millions of events on every page.
    actions = ["reprocess"]
    readonly_fields = (
        "id",
        "received_at",
        "state",
        "field_list",
        "attempts",
        "unfinished_attempts",
        "deliveries",
        "processed_at",
        "item_counts",
        "item_failures_display",
        "error",
        "traceback",
        "headers",
        "sha256",
        "payload_display",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            queryset = queryset.defer("body", "traceback")
        return queryset

    def has_reprocess_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.reprocess_webhookevent")

    @admin.display(description="fields")
    def field_list(self, event: WebhookEvent) -> str:
        return ", ".join(event.fields) or "—"

    @admin.display(description="items")
    def item_summary(self, event: WebhookEvent) -> str:
        counts = event.item_counts or {}
        return ", ".join(f"{n} {state}" for state, n in counts.items() if n) or "—"

    @admin.display(description="error")
    def short_error(self, event: WebhookEvent) -> str:
        return (event.error[:120] + "…") if len(event.error) > 120 else event.error

    @admin.display(description="items not processed")
    def item_failures_display(self, event: WebhookEvent) -> str:
        return readable_html(event.item_failures)

    @admin.display(description="payload")
    def payload_display(self, event: WebhookEvent) -> str:
        payload = webhook_event_payload(event)
        download = format_html('<p><a href="{}" download>Download the body exactly as Meta sent it</a></p>',
                               reverse("admin:webhooks_webhookevent_body", args=[event.pk]))
        if isinstance(payload, str):  # Not JSON: the text is all there is to read.
            return format_html('{}<pre style="white-space: pre-wrap">{}</pre>', download, payload)
        try:
            return format_html("{}{}", download, readable_html(payload))
        except RecursionError:  # A poison body nested deeper than a page can show: the download is the way to read it.
            return format_html("{}<p>The body is nested too deeply to show here.</p>", download)

    def get_urls(self):
        body = path("<int:event_id>/body.json", self.admin_site.admin_view(self.body_view),
                    name="webhooks_webhookevent_body")
        return [body, *super().get_urls()]

    def body_view(self, request: HttpRequest, event_id: int) -> HttpResponse:
        """Return the event's raw body as a file (the exact bytes Meta signed), for staff who may view events."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        event = get_object_or_404(WebhookEvent, pk=event_id)
        response = HttpResponse(bytes(event.body), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="webhook-event-{event.pk}.json"'
        return response

    @admin.action(description="Reprocess selected events", permissions=["reprocess"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[WebhookEvent]) -> HttpResponse | None:
        reason = confirm(self, request, queryset.only("pk", "received_at", "state"), action="reprocess",
                         title="Reprocess these webhook events?",
                         warning="Each event's items are applied again: messages, groups and members change to what "
                                 "the events say, where they are newer than what Groupdesk shows.")
        if not isinstance(reason, Confirmed):
            return reason
        done = 0
        for event in queryset.only("pk", "state"):
            try:
                webhook_event_reprocess(event=event)
                # webhook_event_reprocess takes no actor, so the adapter records the staff action.
                audit_record(actor=request.user, action=WebhookAuditAction.WEBHOOK_EVENT_REPROCESS, target=event,
                             source=Source.ADMIN, reason=reason)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"Event {event.pk}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{counted(done, 'event')} queued for reprocessing.", messages.SUCCESS)
        return None
