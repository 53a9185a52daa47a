"""The audit log's screen: read-only, newest first (registered with every other screen by `desk.admin`)."""

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from core.models import AuditEntry


class ActorFilter(admin.SimpleListFilter):
    """Filter by the staff users who have audit entries (not every user of the site)."""

    title = "actor"
    parameter_name = "actor"

    def lookups(self, request, model_admin):
        return list(AuditEntry.objects.order_by("actor_username").values_list("actor_username", "actor_username")
                    .distinct())

    def queryset(self, request, queryset):
        return queryset.filter(actor_username=self.value()) if self.value() else queryset


class AuditEntryAdmin(ReadOnlyAdmin):
    """The audit log: read-only, newest first; who, what, when, why and on what."""

    list_display = ("created_at", "actor_username", "action", "target_link", "reason", "source")
    list_filter = (ActorFilter, "action", "source", "created_at")
    date_hierarchy = "created_at"
    search_fields = ("actor_username", "target_repr", "reason", "=target_id")
    list_select_related = ("target_type",)
    fields = ("created_at", "actor", "actor_username", "action", "source", "target_link", "group", "reason",
              "detail")
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="target")
    def target_link(self, entry: AuditEntry) -> str:
        if entry.target_type is None:
            return "-"
        try:
            url = reverse(f"admin:{entry.target_type.app_label}_{entry.target_type.model}_change",
                          args=[entry.target_id])
        except NoReverseMatch:
            return entry.target_repr
        return format_html('<a href="{}">{}</a>', url, entry.target_repr or f"#{entry.target_id}")

    def get_actions(self, request):
        return {}  # The log is history: nothing to act on, not even delete_selected.

