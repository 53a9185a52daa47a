"""The webhook endpoint and delivery pages for people: times relative with the exact time on hover, ids shortened
with a copy button, the body sent and each attempt as tables, and an endpoint's deliveries one click away.

Mixed into the integrations admins where the admin site is composed (desk.admin), so that the integrations app's
own admin stays free of the desk's presentation helpers.
"""

import json

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from config.admin import readable_html
from desk.list_times import time_column
from desk.templatetags.desk import exact, short_id, when, when_by
from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from integrations.selectors import delivery_list

RESPONSE_SHOWN = 300  # Characters of a receiver's answer on the page; the attempt keeps 2 KB.


def _shown_fields(fields, times: tuple[str, ...]) -> list:
    return [f"{name}_shown" if name in times else name for name in fields]


def with_exact_times(value):
    """Return stored JSON with its ISO times as exact local times (to the second, no microseconds)."""
    if isinstance(value, dict):
        return {key: with_exact_times(item) for key, item in value.items()}
    if isinstance(value, list):
        return [with_exact_times(item) for item in value]
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        moment = parse_datetime(value)
        return exact(moment) if moment is not None else value
    return value


def attempt_answer(attempt: DeliveryAttempt) -> str:
    """Return what one attempt got back: "HTTP 503", "HTTP 200 (delivered)", or its error ("Timeout after 10 s")."""
    if attempt.status_code:
        return f"HTTP {attempt.status_code}" + (" (delivered)" if attempt.succeeded else "")
    return attempt.error or "No answer"


def attempt_response(body: str) -> str:
    """Return a receiver's answer: as a table when it is JSON, else its first characters as code."""
    if body[:1] in ("{", "["):
        try:
            return readable_html(with_exact_times(json.loads(body)))
        except ValueError:
            pass  # Not JSON after all (or cut at 2 KB): shown as the text it is.
    return format_html("<code>{}</code>", Truncator(body).chars(RESPONSE_SHOWN)) if body else "-"


def latency(milliseconds: int) -> str:
    return f"{milliseconds} ms" if milliseconds < 1000 else f"{milliseconds / 1000:.1f} s"


ENDPOINT_TIMES = ("failing_since", "disabled_at", "previous_secret_expires_at", "created_at")
DELIVERY_FIELDS = ("endpoint", "event_shown", "state", "attempt_count", "last_status_code", "last_error",
                   "next_attempt_at_shown", "delivered_at_shown", "created_at_shown", "attempts", "body_sent")


class EndpointPageMixin:
    """Mixed in before `WebhookEndpointAdmin`: its page's times for people, and its deliveries by state, linked."""

    failing_since_shown = time_column("failing_since", "Failing since")
    disabled_at_shown = time_column("disabled_at", "Disabled")
    previous_secret_expires_at_shown = time_column("previous_secret_expires_at", "Previous secret expires")

    @admin.display(description="Created")
    def created_at_shown(self, endpoint: WebhookEndpoint) -> str:
        return when_by(endpoint.created_at, endpoint.created_by)

    def get_readonly_fields(self, request, obj=None):
        # The page's fields are the form's and these (ModelAdmin.get_fields), in this order.
        fields = _shown_fields(super().get_readonly_fields(request, obj), ENDPOINT_TIMES)
        return [*fields, "deliveries"] if obj is not None else fields

    @admin.display(description="Deliveries")
    def deliveries(self, endpoint: WebhookEndpoint) -> str:
        counts = dict(delivery_list(endpoint=endpoint).order_by().values_list("state").annotate(n=Count("pk")))
        changelist = reverse("admin:integrations_delivery_changelist")
        links = [
            (f"{changelist}?{urlencode({'endpoint__id__exact': endpoint.pk, 'state__exact': state})}", counts[state],
             label.lower())
            for state, label in Delivery.State.choices if counts.get(state)
        ]
        if not links:
            return "None yet."
        return format_html_join(", ", '<a href="{}">{} {}</a>', links)


class DeliveryPageMixin:
    """Mixed in before `DeliveryAdmin`: the event by type and short id, times for people, the body sent as a table
    (its times exact, never JSON) and the attempts as one table, newest first, instead of the stock inline."""

    next_attempt_at_shown = time_column("next_attempt_at", "Next attempt")
    delivered_at_shown = time_column("delivered_at", "Delivered")
    created_at_shown = time_column("created_at", "Created")

    def get_inlines(self, request, obj):
        return []

    def get_fields(self, request, obj=None):
        return list(DELIVERY_FIELDS)

    def get_readonly_fields(self, request, obj=None):
        return list(DELIVERY_FIELDS)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        delivery = self.get_object(request, object_id)
        if delivery is not None:  # Its heading says what went where, not the event's 40-character id.
            extra_context = {**(extra_context or {}), "subtitle": f"{delivery.event.type} to {delivery.endpoint}"}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Event")
    def event_shown(self, delivery: Delivery) -> str:
        return format_html("{} {}", delivery.event.type, short_id(delivery.event_id, "event ID"))

    @admin.display(description="Attempts")
    def attempts(self, delivery: Delivery) -> str:
        rows = [
            (when(a.attempted_at), attempt_answer(a), latency(a.latency_ms), attempt_response(a.response_body))
            for a in delivery.attempts.all()
        ]
        if not rows:
            return "None yet."
        return format_html(
            '<table class="delivery-attempts stack-on-phone"><thead><tr><th>When</th><th>Answer</th><th>Took</th>'
            "<th>Response</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", '<tr><td data-label="When">{}</td><td data-label="Answer">{}</td>'
                                 '<td data-label="Took">{}</td><td data-label="Response">{}</td></tr>',
                             rows),
        )

    @admin.display(description="Body sent")
    def body_sent(self, delivery: Delivery) -> str:
        return readable_html(with_exact_times(delivery.event.body()))
