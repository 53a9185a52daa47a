"""The messages changelist's filters and columns: typed-in and date-range filters, progress bars, error links."""

from datetime import datetime, time, timedelta

from django.contrib import admin
from django.contrib.admin import ListFilter
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html

from core.admin_links import admin_link
from groups.models import PhoneNumber
from messaging.errors import error_explain
from messaging.models import InboundMessage, message_type_label
from messaging.selectors import message_error_codes

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


class InboundTypeFilter(admin.SimpleListFilter):
    """Inbound messages by type, named as people say it ("Image", "Voice note"), not by Meta's stored value."""

    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        types = InboundMessage.objects.order_by("type").values_list("type", flat=True).distinct()
        return [(value, message_type_label(value)) for value in types]

    def queryset(self, request, queryset):
        return queryset.filter(type=self.value()) if self.value() else queryset


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
    url = admin_link("error_catalog")
    if url is None:
        return code
    return format_html('<a href="{}#code-{}" title="What it means">{}</a>', url, code, code)
