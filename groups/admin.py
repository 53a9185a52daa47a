"""The groups admin: lists, the group page and actions that call the groups services.

Its screens are registered, and given what the apps above add to them (send a message, pins), by `desk.admin`.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.admin import ReadOnlyAdmin
from config.exceptions import ApplicationError
from core.admin_confirm import Confirmed, confirm, counted, these
from core.models import Source
from groups import selectors, services
from groups.admin_confirm import (
    group_last_error_html,
    meta_error_text,
    operation_error_html,
    report_error,
)
from groups.admin_timeline import event_who
from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant


class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("__str__", "phone_number_id", "waba_id", "throughput_per_second", "created_at")
    search_fields = ("phone_number_id", "display_phone_number", "label")


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("phone_number", "subject", "description", "join_approval_mode")


class GroupAdmin(admin.ModelAdmin):
    form = GroupForm
    list_display = ("subject", "state", "suspension", "participants", "phone_number", "created_at")
    list_filter = ("state", "suspended", "phone_number")
    search_fields = ("subject", "group_id")
    actions = ["sync_from_meta", "reset_invite_link", "delete_groups", "create_again"]
    readonly_fields = ("group_id", "state", "suspended", "invite_link", "participant_count", "last_error_text",
                       "created_by", "created_at", "updated_at", "last_synced_at")

    @admin.display(description="suspension", ordering="suspended", empty_value="")
    def suspension(self, obj: Group) -> str:
        # Only the exception is marked: a red cross on every healthy group read as an error.
        if not obj.suspended:
            return ""
        return format_html('<span style="white-space: nowrap"><img src="{}" alt=""> Suspended</span>',
                           static("admin/img/icon-alert.svg"))

    @admin.display(description="participants")
    def participants(self, obj: Group) -> str:
        return f"{obj.participant_count}/{Group.MAX_PARTICIPANTS}"

    @admin.display(description="last error")
    def last_error_text(self, obj: Group) -> str:
        return group_last_error_html(obj) or "-"

    def has_delete_at_meta_permission(self, request) -> bool:
        return request.user.has_perm("groups.delete_group_at_meta")

    def has_reset_invite_link_permission(self, request) -> bool:
        return request.user.has_perm("groups.reset_invite_link")

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        only = selectors.phone_number_only()
        if only is not None:
            initial.setdefault("phone_number", only.pk)
        return initial

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
            self.message_user(request, f"{counted(count, 'group')}: {done}", messages.SUCCESS)
        return count

    @admin.action(description="Sync from Meta", permissions=["change"])
    def sync_from_meta(self, request, queryset: QuerySet[Group]):
        reason = confirm(self, request, queryset, action="sync_from_meta", submit="Yes, sync",
                         title=f"Sync {these(queryset, 'group')} from Meta?",
                         warning="Groupdesk asks Meta for each group's subject, settings and members and "
                                 "overwrites what it shows with Meta's answer.", reason="none")
        if not isinstance(reason, Confirmed):
            return reason
        self._each(request, queryset, lambda g: services.group_sync(group=g), "synced from Meta.")
        return None

    @admin.action(description="Reset invite link", permissions=["reset_invite_link"])
    def reset_invite_link(self, request, queryset: QuerySet[Group]):
        reason = confirm(self, request, queryset, action="reset_invite_link", submit="Yes, reset the link",
                         title=f"Reset the invite link of {these(queryset, 'group')}?",
                         warning="Meta makes a new invite link for each group.",
                         irreversible="the current link stops working at once and cannot be restored; anyone "
                                      "holding it can no longer join.")
        if not isinstance(reason, Confirmed):
            return reason
        self._each(request, queryset, lambda g: services.group_invite_link_reset(
            group=g, actor=request.user, source=Source.ADMIN, reason=reason), "invite link reset.")
        return None

    @admin.action(description="Delete groups at Meta", permissions=["delete_at_meta"])
    def delete_groups(self, request, queryset: QuerySet[Group]):
        reason = confirm(self, request, queryset, action="delete_groups", submit="Yes, delete",
                         title=f"Delete {these(queryset, 'group')}?",
                         warning="Meta removes every participant and the group itself.",
                         irreversible="a deleted group, its members and its history on WhatsApp are gone for good.",
                         reason="required")
        if not isinstance(reason, Confirmed):
            return reason
        self._each(request, queryset, lambda g: services.group_delete(
            group=g, actor=request.user, source=Source.ADMIN, reason=reason), "delete sent to Meta.")
        return None


    @admin.action(description="Try again: create these groups anew", permissions=["add"])
    def create_again(self, request, queryset: QuerySet[Group]):
        reason = confirm(self, request, queryset, action="create_again", submit="Yes, create again",
                         title=f"Create {these(queryset, 'group')} again?",
                         warning="Their creation failed for good. Groupdesk asks Meta to create a new group with "
                                 "the same number, subject, description and approval mode; the failed one stays, "
                                 "with its error.")
        if not isinstance(reason, Confirmed):
            return reason
        self._each(request, queryset, lambda g: services.group_create_again(
            group=g, actor=request.user, source=Source.ADMIN, reason=reason), "creation sent to Meta again.")
        return None


class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("__str__", "group", "state", "joined_at", "left_at")
    list_filter = ("state",)
    search_fields = ("wa_id", "user_id", "name", "group__subject")
    actions = ["remove_participants"]
    readonly_fields = ("group", "wa_id", "user_id", "parent_user_id", "username", "name", "state", "joined_at",
                       "left_at", "state_changed_at", "profile_seen_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_remove_permission(self, request) -> bool:
        return request.user.has_perm("groups.remove_participant")

    @admin.action(description="Remove from their group", permissions=["remove"])
    def remove_participants(self, request, queryset: QuerySet[Participant]):
        reason = confirm(self, request, queryset, action="remove_participants", submit="Yes, remove",
                         title=f"Remove {these(queryset, 'participant')}?",
                         warning="Meta removes each person from their group.",
                         irreversible="a removed participant can no longer join through the invite link; only a "
                                      "new invitation brings them back.",
                         reason="required")
        if not isinstance(reason, Confirmed):
            return reason
        by_group: dict[int, list[Participant]] = {}
        for participant in queryset.select_related("group"):
            by_group.setdefault(participant.group_id, []).append(participant)
        count = 0
        for people in by_group.values():
            group = people[0].group
            try:
                services.group_participants_remove(group=group, participants=[p.wa_id or p.user_id for p in people],
                                                   actor=request.user, source=Source.ADMIN, reason=reason)
            except ApplicationError as exc:
                report_error(self, request, group, exc)
            else:
                count += len(people)
        if count:
            self.message_user(request, f"Removal of {counted(count, 'participant')} sent to Meta.", messages.SUCCESS)
        return None


class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ("__str__", "join_request_id", "group", "state", "requested_at")
    list_filter = ("state",)
    search_fields = ("join_request_id", "wa_id", "user_id", "group__subject")
    actions = ["approve", "reject"]
    readonly_fields = ("group", "join_request_id", "wa_id", "user_id", "parent_user_id", "username", "state",
                       "requested_at", "state_changed_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("groups.decide_joinrequest")

    def _decide(self, request, queryset, *, approve: bool, reason: str = ""):
        by_group: dict[int, list[JoinRequest]] = {}
        for join_request in queryset.select_related("group"):
            by_group.setdefault(join_request.group_id, []).append(join_request)
        done = 0
        decide = services.join_requests_approve if approve else services.join_requests_reject
        for requests_ in by_group.values():
            group = requests_[0].group
            try:
                decision = decide(group=group, join_request_ids=[r.join_request_id for r in requests_],
                                  actor=request.user, source=Source.ADMIN, reason=reason)
            except ApplicationError as exc:
                report_error(self, request, group, exc)
                continue
            done += len(decision.done)
            for failure in decision.failed:
                self.message_user(request, f"{failure['join_request_id']}: {meta_error_text(failure['error'])}",
                                  messages.ERROR)
        if done:
            verb = "approved" if approve else "rejected"
            self.message_user(request, f"{counted(done, 'join request')} {verb}.", messages.SUCCESS)

    @admin.action(description="Approve", permissions=["decide"])
    def approve(self, request, queryset):
        reason = confirm(self, request, queryset, action="approve", submit="Yes, approve",
                         title=f"Approve {these(queryset, 'join request')}?",
                         warning="Meta adds each person to the group: they see its messages from now on.")
        if not isinstance(reason, Confirmed):
            return reason
        self._decide(request, queryset, approve=True, reason=reason)
        return None

    @admin.action(description="Reject", permissions=["decide"])
    def reject(self, request, queryset):
        reason = confirm(self, request, queryset, action="reject", submit="Yes, reject",
                         title=f"Reject {these(queryset, 'join request')}?",
                         warning="The people asking are told no; they can ask again with the invite link.",
                         irreversible="a rejected request cannot be approved later: only a new request from the "
                                      "person can let them in.")
        if not isinstance(reason, Confirmed):
            return reason
        self._decide(request, queryset, approve=False, reason=reason)
        return None


class GroupOperationAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "group", "kind", "state", "request_id", "created_at", "completed_at")
    list_filter = ("kind", "state")
    search_fields = ("request_id", "group__subject", "group__group_id")
    exclude = ("picture", "errors")  # Shown as "errors explained": each with its meaning and advice.
    readonly_fields = ("errors_explained",)

    @admin.display(description="errors explained")
    def errors_explained(self, obj: GroupOperation) -> str:
        errors = ((operation_error_html(obj, e),) for e in obj.errors or [])
        return format_html_join(mark_safe("<br>"), "{}", errors) or "-"

class GroupEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "group", "type", "who", "source")
    list_filter = ("type", "source")
    search_fields = ("group__subject",)
    list_select_related = ("group", "actor")

    @admin.display(description="who")
    def who(self, event: GroupEvent) -> str:
        return event_who(event)
