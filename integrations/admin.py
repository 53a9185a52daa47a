"""Admin of webhook endpoints (secrets shown once, never stored in a page) and of the delivery log, with resend.

Registered by desk/admin.py, where the admin site is composed.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from core.admin_confirm import counted
from integrations.exceptions import EndpointUrlRefused
from integrations.http import url_check
from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from integrations.selectors import endpoint_success_rates
from integrations.services.endpoints import (
    delivery_resend,
    endpoint_create,
    endpoint_ping,
    endpoint_secret_rotate,
    endpoint_update,
)
from outbox import event_types


def _event_type_label(event_type: str) -> str:
    """Return a checkbox's label: the type's name, then what it reports (staff cannot open docs/events.md)."""
    return format_html("<code>{}</code> {}", event_type, event_types.DESCRIPTIONS[event_type].replace("`", ""))


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=[(t, _event_type_label(t)) for t in event_types.SUBSCRIBABLE], required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The events sent to this URL, each with what it reports. None ticked: every type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            url_check(url, unresolved_ok=True)
        except EndpointUrlRefused as exc:
            raise forms.ValidationError(exc.message) from exc
        return url


class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ("__str__", "url", "active", "types", "failing_since", "disabled_at")
    list_filter = ("active",)
    readonly_fields = ("failing_since", "disabled_at", "disabled_reason", "previous_secret_expires_at", "created_at")
    actions = ["rotate_secret", "ping", "enable"]

    @admin.display(description="types")
    def types(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) or "all"

    def get_list_display(self, request):
        rates = endpoint_success_rates()  # One query for the page, not one per row.

        @admin.display(description="success (24 h)")
        def success_rate(endpoint: WebhookEndpoint) -> str:
            ok, total = rates.get(endpoint.pk, (0, 0))
            return f"{100 * ok / total:.0f}% of {total} attempts" if total else "-"

        display = list(super().get_list_display(request))
        display.insert(display.index("types") + 1, success_rate)
        return display

    def save_model(self, request, obj, form, change):
        """Create and change through the services; a new endpoint's secret is shown by response_add, once."""
        data = {name: form.cleaned_data[name] for name in EndpointForm.Meta.fields}
        if change:
            endpoint_update(endpoint=obj, **{name: data[name] for name in form.changed_data if name in data})
        else:
            created = endpoint_create(**data, created_by=request.user)
            obj.pk = created.endpoint.pk
            request.integrations_new_secret = created.secret  # This request only: the admin object is shared.

    def response_add(self, request, obj, post_url_continue=None):
        endpoint = WebhookEndpoint.objects.get(pk=obj.pk)
        return self._secret_page(request, endpoint, request.integrations_new_secret, rotated=False)

    def _secret_page(self, request, endpoint, secret: str, *, rotated: bool) -> TemplateResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "endpoint": endpoint,
                   "secret": secret, "rotated": rotated, "title": "Signing secret"}
        return TemplateResponse(request, "admin/integrations/secret_once.html", context)

    @admin.action(description="Rotate the signing secret (one endpoint)", permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet):
        if queryset.count() != 1:
            self.message_user(request, "Rotate one endpoint at a time: its new secret is shown once.", messages.ERROR)
            return None
        rotated = endpoint_secret_rotate(endpoint=queryset.get())
        return self._secret_page(request, rotated.endpoint, rotated.secret, rotated=True)

    @admin.action(description="Send a test event (ping)", permissions=["change"])
    def ping(self, request: HttpRequest, queryset: QuerySet):
        active = [endpoint for endpoint in queryset if endpoint.active]
        for endpoint in active:
            endpoint_ping(endpoint=endpoint)
        if active:
            self.message_user(request, f"Queued a ping to {counted(len(active), 'endpoint')}; see their deliveries.",
                              messages.SUCCESS)
        if skipped := queryset.count() - len(active):
            self.message_user(request, f"Not pinged: {counted(skipped, 'endpoint')} not active (enable first).",
                              messages.WARNING)

    @admin.action(description="Enable (after fixing the receiver)", permissions=["change"])
    def enable(self, request: HttpRequest, queryset: QuerySet):
        for endpoint in queryset:
            endpoint_update(endpoint=endpoint, active=True)
        self.message_user(request, f"Enabled {counted(queryset.count(), 'endpoint')}.", messages.SUCCESS)


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = readonly_fields = ("attempted_at", "status_code", "succeeded", "latency_ms", "error", "response_body")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class DeliveryAdmin(ReadOnlyAdmin):
    """The delivery log: filter an endpoint's failures since a time (the date filter), then resend them."""

    list_display = ("event_type", "event_id", "endpoint", "state", "attempt_count", "last_status_code",
                    "next_attempt_at", "created_at")
    list_filter = ("state", "endpoint", "event__type", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("=event__event_id",)
    list_select_related = ("event", "endpoint")
    readonly_fields = ("endpoint", "event_id", "event_type", "state", "attempt_count", "next_attempt_at",
                       "last_status_code", "last_error", "delivered_at", "created_at", "body")
    exclude = ("event", "retrying_since")
    inlines = [AttemptInline]
    actions = ["resend"]

    @admin.display(description="type")
    def event_type(self, delivery: Delivery) -> str:
        return delivery.event.type

    @admin.display(description="body sent")
    def body(self, delivery: Delivery) -> str:
        return json.dumps(delivery.event.body(), indent=2)

    def has_resend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("integrations.change_webhookendpoint")

    @admin.action(description="Resend the selected deliveries now", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet):
        for delivery in queryset:
            delivery_resend(delivery=delivery)
        self.message_user(request, f"Resending {queryset.count()} deliveries.", messages.SUCCESS)
