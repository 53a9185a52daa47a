"""The support desk for groups: lists, timelines and actions that call the groups services."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse

from config.exceptions import ApplicationError
from groups import services
from groups.cloud_api import CloudAPIError, describe_error
from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant, PhoneNumber, Source


def meta_error_text(error: dict | CloudAPIError | None) -> str:
    """Return a Meta error as staff read it: the code, its plain-language meaning and what to do."""
    if error is None:
        return ""
    if isinstance(error, CloudAPIError):
        code, details = error.meta_code, error.details or error.message
    else:
        code, details = error.get("code"), error.get("details") or error.get("message") or ""
    if code is None:
        return details or "Unknown error"
    description = describe_error(code)
    return f"Meta error {code} ({description.title}): {description.meaning} {description.action} {details}".strip()


def report_error(admin_obj: admin.ModelAdmin, request: HttpRequest, obj, exc: ApplicationError) -> None:
    text = meta_error_text(exc) if isinstance(exc, CloudAPIError) else exc.message
    admin_obj.message_user(request, f"{obj}: {text}", messages.ERROR)


def confirm(admin_obj, request, queryset, *, action: str, title: str, warning: str, extra: str = ""):
    """Render the two-step confirmation page (as delete_selected does); None once confirmed."""
    if request.POST.get("post") == "yes":
        return None
    context = {
        **admin_obj.admin_site.each_context(request),
        "title": title,
        "warning": warning,
        "extra": extra,
        "objects": list(queryset),
        "action": action,
        "opts": admin_obj.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/groups/confirm_action.html", context)


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "phone_number_id", "waba_id", "throughput_per_second", "created_at")
    search_fields = ("phone_number_id", "display_phone_number", "label")


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ParticipantInline(ReadOnlyInline):
    model = Participant
    fields = ("wa_id", "user_id", "username", "name", "state", "joined_at", "left_at")
    readonly_fields = fields


class JoinRequestInline(ReadOnlyInline):
    model = JoinRequest
    fields = ("join_request_id", "wa_id", "user_id", "state", "requested_at")
    readonly_fields = fields


class GroupOperationInline(ReadOnlyInline):
    model = GroupOperation
    fields = ("kind", "state", "request_id", "requested", "outcome", "error_text", "requested_by", "created_at",
              "completed_at")
    readonly_fields = fields

    @admin.display(description="errors")
    def error_text(self, obj: GroupOperation) -> str:
        return "; ".join(meta_error_text(e) for e in obj.errors or [])


class GroupEventInline(ReadOnlyInline):
    model = GroupEvent
    fields = ("occurred_at", "type", "source", "actor", "detail")
    readonly_fields = fields
    ordering = ("-occurred_at", "-pk")
    verbose_name_plural = "timeline"


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("phone_number", "subject", "description", "join_approval_mode")


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    form = GroupForm
    list_display = ("subject", "state", "suspended", "participants", "phone_number", "created_at")
    list_filter = ("state", "suspended", "phone_number")
    search_fields = ("subject", "group_id")
    inlines = [ParticipantInline, JoinRequestInline, GroupOperationInline, GroupEventInline]
    actions = ["sync_from_meta", "reset_invite_link", "delete_groups"]
    readonly_fields = ("group_id", "state", "suspended", "invite_link", "participant_count", "last_error_text",
                       "created_by", "created_at", "updated_at", "last_synced_at")

    @admin.display(description="participants")
    def participants(self, obj: Group) -> str:
        return f"{obj.participant_count}/{Group.MAX_PARTICIPANTS}"

    @admin.display(description="last error")
    def last_error_text(self, obj: Group) -> str:
        return meta_error_text(obj.last_error) or "-"

    def get_inlines(self, request, obj):
        return [] if obj is None else self.inlines

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("phone_number", "subject", "description", "join_approval_mode")
        return ("phone_number", "subject", "description", "join_approval_mode", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Only subject and description change after creation, and only while the group accepts changes.
        editable = ("subject", "description") if obj.accepts_changes else ()
        fixed = ("phone_number", "join_approval_mode", "subject", "description")
        return (*[f for f in fixed if f not in editable], *self.readonly_fields)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # Deleting goes through Meta (delete_groups), never a row delete.
        return actions

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj: Group, form, change: bool) -> None:
        # The admin wraps this in a transaction: services only write and enqueue on commit.
        if not change:
            group = services.group_create(
                phone_number=form.cleaned_data["phone_number"], subject=form.cleaned_data["subject"],
                description=form.cleaned_data.get("description") or "",
                join_approval_mode=form.cleaned_data["join_approval_mode"], actor=request.user, source=Source.ADMIN,
            )
            obj.pk = group.pk
            return
        changed = {name: form.cleaned_data[name] for name in ("subject", "description") if name in form.changed_data}
        if changed:
            services.group_settings_update(group=Group.objects.get(pk=obj.pk), **changed, actor=request.user,
                                           source=Source.ADMIN)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.path)

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"Creation of “{obj.subject}” was sent to Meta; the group becomes active "
                                   "when Meta confirms it.", messages.SUCCESS)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if any(name in request.POST for name in ("subject", "description")):
            self.message_user(request, "The change was sent to Meta; it shows here once Meta confirms it.",
                              messages.INFO)
        return super().response_change(request, obj)

    def _each(self, request, queryset, call, done: str) -> int:
        count = 0
        for group in queryset:
            try:
                call(group)
            except ApplicationError as exc:
                report_error(self, request, group, exc)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} group(s): {done}", messages.SUCCESS)
        return count

    @admin.action(description="Sync from Meta", permissions=["change"])
    def sync_from_meta(self, request, queryset: QuerySet[Group]):
        self._each(request, queryset, lambda g: services.group_sync(group=g), "synced from Meta.")

    @admin.action(description="Reset invite link", permissions=["change"])
    def reset_invite_link(self, request, queryset: QuerySet[Group]):
        page = confirm(self, request, queryset, action="reset_invite_link", title="Reset the invite link?",
                       warning="The current invite link of each group stops working at once; "
                               "anyone holding it can no longer join.")
        if page is not None:
            return page
        self._each(request, queryset, lambda g: services.group_invite_link_reset(
            group=g, actor=request.user, source=Source.ADMIN), "invite link reset.")
        return None

    @admin.action(description="Delete groups at Meta", permissions=["change"])
    def delete_groups(self, request, queryset: QuerySet[Group]):
        page = confirm(self, request, queryset, action="delete_groups", title="Delete these groups?",
                       warning="Meta removes every participant and the group itself. This cannot be undone.")
        if page is not None:
            return page
        self._each(request, queryset, lambda g: services.group_delete(group=g, actor=request.user,
                                                                      source=Source.ADMIN), "delete sent to Meta.")
        return None


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "group", "state", "joined_at", "left_at")
    list_filter = ("state",)
    search_fields = ("wa_id", "user_id", "name", "group__subject")
    actions = ["remove_participants"]
    readonly_fields = ("group", "wa_id", "user_id", "parent_user_id", "username", "name", "state", "joined_at",
                       "left_at", "state_changed_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Remove from their group", permissions=["change"])
    def remove_participants(self, request, queryset: QuerySet[Participant]):
        page = confirm(self, request, queryset, action="remove_participants", title="Remove these participants?",
                       warning="A removed participant can no longer join through the invite link.")
        if page is not None:
            return page
        by_group: dict[int, list[Participant]] = {}
        for participant in queryset.select_related("group"):
            by_group.setdefault(participant.group_id, []).append(participant)
        count = 0
        for people in by_group.values():
            group = people[0].group
            try:
                services.group_participants_remove(group=group, participants=[p.wa_id or p.user_id for p in people],
                                                   actor=request.user, source=Source.ADMIN)
            except ApplicationError as exc:
                report_error(self, request, group, exc)
            else:
                count += len(people)
        if count:
            self.message_user(request, f"Removal of {count} participant(s) sent to Meta.", messages.SUCCESS)
        return None


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ("__str__", "join_request_id", "group", "state", "requested_at")
    list_filter = ("state",)
    search_fields = ("join_request_id", "wa_id", "user_id", "group__subject")
    actions = ["approve", "reject"]
    readonly_fields = ("group", "join_request_id", "wa_id", "user_id", "username", "state", "requested_at",
                       "state_changed_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _decide(self, request, queryset, *, approve: bool):
        by_group: dict[int, list[JoinRequest]] = {}
        for join_request in queryset.select_related("group"):
            by_group.setdefault(join_request.group_id, []).append(join_request)
        done = 0
        decide = services.join_requests_approve if approve else services.join_requests_reject
        for requests_ in by_group.values():
            group = requests_[0].group
            try:
                decision = decide(group=group, join_request_ids=[r.join_request_id for r in requests_],
                                  actor=request.user, source=Source.ADMIN)
            except ApplicationError as exc:
                report_error(self, request, group, exc)
                continue
            done += len(decision.done)
            for failure in decision.failed:
                self.message_user(request, f"{failure['join_request_id']}: {meta_error_text(failure['error'])}",
                                  messages.ERROR)
        if done:
            verb = "approved" if approve else "rejected"
            self.message_user(request, f"{done} join request(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Approve", permissions=["change"])
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject", permissions=["change"])
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)


@admin.register(GroupOperation)
class GroupOperationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "group", "kind", "state", "request_id", "created_at", "completed_at")
    list_filter = ("kind", "state")
    search_fields = ("request_id", "group__subject", "group__group_id")
    exclude = ("picture",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GroupEvent)
class GroupEventAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "group", "type", "source", "actor")
    list_filter = ("type", "source")
    search_fields = ("group__subject",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


