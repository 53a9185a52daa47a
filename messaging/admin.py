"""The messages admin: compose, the messages list with delivery counts, history and receipts.

Its screens are registered, and joined to the other apps' screens, by `desk.admin` (the one place that composes
the admin site).
"""

import json
import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import F, Lookup, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator, smart_split, unescape_string_literal

from config.admin import ReadOnlyAdmin
from config.exceptions import ApplicationError
from config.paginator import EstimatedCountPaginator
from core.admin_confirm import Confirmed, confirm, these
from core.admin_links import admin_link
from core.meta_errors import MetaError
from core.models import Source
from core.people import person_label
from groups.models import Group
from messaging.admin_filters import (
    CreatedByFilter,
    CreatedRangeFilter,
    ErrorCodeFilter,
    GroupFilter,
    InboundTypeFilter,
    PhoneNumberFilter,
    error_code_link,
    progress_bar,
)
from messaging.admin_pins import pin_selected_messages
from messaging.content import COMPOSABLE_TYPES, content_text, content_validate
from messaging.errors import error_explain
from messaging.exceptions import ContentInvalid
from messaging.models import AccountError, InboundMessage, OutboundMessage
from messaging.selectors import message_audience_without_receipt, message_receipt_list
from messaging.services import message_create, message_retry

MEDIA_TYPES = ("image", "video", "audio", "document")


class ComposeForm(forms.Form):
    """One message to one or more groups; only the fields of the chosen type are used."""

    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.filter(state=Group.State.ACTIVE, suspended=False).exclude(group_id=None),
        widget=forms.CheckboxSelectMultiple,
        help_text="Only active groups that are not suspended can receive messages.",
    )
    type = forms.ChoiceField(choices=[(name, name.capitalize()) for name in COMPOSABLE_TYPES], initial="text")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, strip=False,
                           help_text="Text: up to 4096 characters.")
    preview_url = forms.BooleanField(required=False, label="Show a link preview")
    media_link = forms.CharField(required=False, label="Media link", help_text="A public http(s) URL, or give an ID.")
    media_id = forms.CharField(required=False, label="Media ID", help_text="An ID of media uploaded to Meta.")
    caption = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                              help_text="Image, video and document only.")
    filename = forms.CharField(required=False, help_text="Document only.")
    template_name = forms.CharField(required=False)
    template_language = forms.CharField(required=False, help_text="e.g. en_US")
    template_components = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                                          help_text="The template's components: a JSON list, as Meta's docs define it.")
    token = forms.CharField(widget=forms.HiddenInput, required=False)  # Makes a double submit send once.

    FIELD_FOR_KEY = {
        "body": "body", "preview_url": "preview_url", "link": "media_link", "id": "media_id", "caption": "caption",
        "filename": "filename", "name": "template_name", "language": "template_language",
        "components": "template_components",
    }

    def _raw_content(self, data: dict) -> dict:
        message_type = data.get("type")
        if message_type == "text":
            return {"body": data.get("body") or "", "preview_url": bool(data.get("preview_url"))}
        if message_type in MEDIA_TYPES:
            raw = {"link": data.get("media_link") or None, "id": data.get("media_id") or None}
            if data.get("caption"):
                raw["caption"] = data["caption"]
            if data.get("filename"):
                raw["filename"] = data["filename"]
            return {key: value for key, value in raw.items() if value is not None}
        raw: dict = {"name": data.get("template_name") or "", "language": data.get("template_language") or ""}
        if data.get("template_components"):
            try:
                raw["components"] = json.loads(data["template_components"])
            except json.JSONDecodeError as exc:
                raise forms.ValidationError({"template_components": f"Not valid JSON: {exc.msg}."}) from exc
        return raw

    def clean(self):
        data = super().clean()
        if "type" not in data:
            return data
        try:
            data["content"] = content_validate(type=data["type"], content=self._raw_content(data))
        except ContentInvalid as exc:
            key = (exc.field or "").split(".", 1)[-1].split("[", 1)[0]
            raise forms.ValidationError({self.FIELD_FOR_KEY.get(key, "type"): exc.message}) from exc
        return data


def _retry_label(message: OutboundMessage) -> str:
    """A failed message on the retry confirmation: its words, its group and its error code."""
    words = Truncator(content_text(type=message.type, content=message.content)).chars(120)
    return f"“{words}” to {message.group}" + (f" (failed with {message.error_code})" if message.error_code else "")


def compose_preview(form: ComposeForm) -> dict:
    """Return what the preview of a valid compose form shows (admin/messaging/compose_preview.html)."""
    data = form.cleaned_data
    return {"type": data["type"], "content": data["content"], "groups": data["groups"],
            "json": json.dumps({data["type"]: data["content"]}, indent=2)}


class InSubqueryArray(Lookup):
    """PostgreSQL's `col = ANY(ARRAY(subquery))`: the subquery runs once (an InitPlan) and col's index is used."""

    lookup_name = "in_subquery_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


class OutboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "group", "message_text", "status", "delivered", "read", "error_code_column", "created_at"]
    list_filter = ["status", "type", ErrorCodeFilter, PhoneNumberFilter, GroupFilter, CreatedByFilter,
                   CreatedRangeFilter]
    # Searched by get_search_results below; listed so that the changelist shows its search box.
    search_fields = ["group__subject", "content__body"]
    search_help_text = "A wamid (exact), or words of the group subject or the message text."
    list_select_related = ["group"]
    # A million rows: no COUNT(*) per page (estimated count, see config/paginator.py).
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["retry_failed", pin_selected_messages]
    fields = [
        "group", "type", "content", "status", "wamid", "error_explained", "recipient_count", "delivered", "read",
        "retry_of", "created_by", "source", "attempt_count", "created_at", "accepted_at", "sent_at",
        "delivered_at", "read_at", "failed_at", "receipt_matrix", "status_history",
    ]
    readonly_fields = fields
    change_list_template = "admin/messaging/outboundmessage/change_list.html"

    @admin.display(description="Delivered")
    def delivered(self, message: OutboundMessage) -> str:
        return progress_bar(message.delivered_count, message.recipient_count, label="delivered")

    @admin.display(description="Read")
    def read(self, message: OutboundMessage) -> str:
        return progress_bar(message.read_count, message.recipient_count, label="read")

    @admin.display(description="Message")
    def message_text(self, message: OutboundMessage) -> str:
        return Truncator(content_text(type=message.type, content=message.content)).chars(80)

    @admin.display(description="Error code", ordering="error_code")
    def error_code_column(self, message: OutboundMessage) -> str:
        return error_code_link(message.error_code)

    def get_search_results(self, request, queryset, search_term):
        # A wamid is looked up exactly (its unique index), never by a scan of every message's text.
        term = search_term.strip()
        if term.startswith("wamid."):
            return queryset.filter(wamid=term), False
        # Every word in the message text or the group's subject. On PostgreSQL the text lookup is the exact SQL of
        # the trigram index of migration 0005, and the groups (a small table) are matched once into an array, so
        # that each word is a BitmapOr of two index scans: a join or a plain IN (subquery) in the OR makes the
        # planner scan every message instead.
        postgresql = connections[queryset.db].vendor == "postgresql"
        for word in smart_split(term):
            if len(word) > 1 and word[0] in "\"'" and word[0] == word[-1]:
                word = unescape_string_literal(word)
            groups = Group.objects.filter(subject__icontains=word).order_by().values("pk")
            in_groups = Q(InSubqueryArray(F("group_id"), Subquery(groups))) if postgresql else Q(group__in=groups)
            queryset = queryset.filter(Q(content__body__icontains=word) | in_groups)
        return queryset, False

    @admin.display(description="Error")
    def error_explained(self, message: OutboundMessage) -> str:
        explained = error_explain(message.error_code, final=message.status == OutboundMessage.Status.FAILED)
        if explained is None:
            return "-"
        catalog = admin_link("error_catalog")
        details = meta_error.text if (meta_error := MetaError.from_value(message.error)) else ""
        return format_html(
            "<strong>{}: {}</strong><br>{}<br><em>What to do:</em> {}{}<br>{}",
            explained.code, explained.title, explained.meaning, explained.action,
            format_html("<br><small>Meta said: {}</small>", details) if details else "",
            format_html('<a href="{}#code-{}">All error codes</a>', catalog, explained.code) if catalog else "",
        )

    @admin.display(description="Receipts")
    def receipt_matrix(self, message: OutboundMessage) -> str:
        rows = [
            (str(r.participant or r), r.delivered_at or "-", r.read_at or "-")
            for r in message_receipt_list(message=message)
        ] + [(str(p), "-", "-") for p in message_audience_without_receipt(message=message)]
        if not rows:
            return "No participant yet."
        return format_html(
            '<table class="receipt-matrix"><thead><tr><th>Participant</th><th>Delivered</th><th>Read</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Status history")
    def status_history(self, message: OutboundMessage) -> str:
        rows = [
            (c.created_at, c.status, c.participant_key or "group", f"{c.from_status} → {c.to_status}",
             c.timestamp or "-", (c.error or {}).get("code") or "", c.get_source_display())
            for c in message.status_changes.order_by("pk")
        ]
        return format_html(
            '<table class="status-history"><thead><tr><th>Received</th><th>Event</th><th>Who</th><th>Message</th>'
            "<th>Meta's time</th><th>Error</th><th>Source</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows),
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # Filtered by one error code: say what it means and what to do, above the failed messages.
        # Only failed messages carry an error code (messaging.services.history): the advice is for a final failure.
        explained = error_explain(request.GET.get(ErrorCodeFilter.parameter_name), final=True)
        return super().changelist_view(request, {**(extra_context or {}), "error_explained": explained})

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("messaging.add_outboundmessage")

    def has_pin_permission(self, request) -> bool:
        return request.user.has_perm("messaging.add_pin")

    @admin.action(description="Retry the selected failed messages", permissions=["retry"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[OutboundMessage]) -> HttpResponse | None:
        failed = queryset.select_related("group")
        confirmed = confirm(self, request, failed, action="retry_failed", title=f"Retry {these(failed, 'message')}?",
                            reason="none", submit="Yes, send again", describe=_retry_label,
                            warning="Each failed message is sent again to its whole group, as a new message; "
                                    "the failed one keeps its history.",
                            irreversible="a message once sent cannot be recalled.")
        if not isinstance(confirmed, Confirmed):
            return confirmed
        retried = 0
        for message in failed:
            try:
                retry, created = message_retry(message=message, created_by=request.user, source=Source.ADMIN)
            except ApplicationError as exc:
                self.message_user(request, f"{message}: {exc.message}", messages.ERROR)
            else:
                if created:
                    retried += 1
                else:
                    self.message_user(request, f"{message}: already retried as message {retry.pk}; nothing new "
                                               "was sent.", messages.WARNING)
        if retried:
            self.message_user(request, f"Queued {retried} retr{'y' if retried == 1 else 'ies'}.", messages.SUCCESS)
        return None

    def get_urls(self):
        compose = path("compose/", self.admin_site.admin_view(self.compose_view), name="messaging_compose")
        return [compose, *super().get_urls()]

    def compose_view(self, request: HttpRequest) -> HttpResponse:
        """Compose one message to the chosen groups: preview first, then send through the service."""
        if not request.user.has_perm("messaging.add_outboundmessage"):
            raise PermissionDenied
        preview = None
        if request.method == "POST":
            form = ComposeForm(request.POST)
            if form.is_valid():
                if "_send" in request.POST:
                    return self._compose_send(request, form)
                preview = compose_preview(form)
        else:
            selected = [pk for pk in request.GET.get("groups", "").split(",") if pk.isdigit()]
            form = ComposeForm(initial={"groups": selected, "type": "text", "token": uuid.uuid4().hex})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Send a message",
            "form": form,
            "preview": preview,
            "media_types": MEDIA_TYPES,
        }
        return TemplateResponse(request, "admin/messaging/compose.html", context)

    def _compose_send(self, request: HttpRequest, form: ComposeForm) -> HttpResponse:
        self.compose_send(request, form)
        return HttpResponseRedirect(reverse("admin:messaging_outboundmessage_changelist"))

    def compose_send(self, request: HttpRequest, form: ComposeForm) -> None:
        """Queue the valid form's message to each of its groups and say what happened (the compose page and the
        group workspace send through it)."""
        sent = 0
        token = form.cleaned_data.get("token") or uuid.uuid4().hex
        for group in form.cleaned_data["groups"]:
            try:
                message_create(
                    group=group, type=form.cleaned_data["type"], content=form.cleaned_data["content"],
                    created_by=request.user, source=Source.ADMIN, idempotency_key=f"admin:{token}:{group.pk}",
                )
            except ApplicationError as exc:
                self.message_user(request, f"{group}: {exc.message}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(request, f"Queued {sent} message{'s' if sent != 1 else ''}.", messages.SUCCESS)


@admin.action(description="Send a message to the selected groups", permissions=["send_message"])
def send_message_to_groups(modeladmin, request: HttpRequest, queryset: QuerySet[Group]) -> HttpResponse | None:
    """Open the compose page with the selected groups ticked (an action of the groups admin, added by desk.admin)."""
    if not request.user.has_perm("messaging.add_outboundmessage"):
        modeladmin.message_user(request, "You may not send messages.", messages.ERROR)
        return None
    ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
    return HttpResponseRedirect(f"{reverse('admin:messaging_compose')}?groups={ids}")


class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = ["timestamp", "group", "sender", "message_text", "error_code"]
    list_filter = [InboundTypeFilter]
    search_fields = ["text", "contact_name", "from_wa_id", "from_user_id", "wamid"]
    list_select_related = ["group"]

    @admin.display(description="From", ordering="contact_name")
    def sender(self, message: InboundMessage) -> str:
        # By name, the number with its "+" (or the BSUID) beside it, as the workspace writes a person.
        return person_label(name=message.contact_name, wa_id=message.from_wa_id, user_id=message.from_user_id)

    @admin.display(description="Message")
    def message_text(self, message: InboundMessage) -> str:
        return Truncator(content_text(type=message.type, content=message.content, text=message.text)).chars(80)

    @admin.display(description="Error")
    def error_code(self, message: InboundMessage) -> str:
        return meta_error.code_text if (meta_error := MetaError.from_value(message.error)) else ""


class AccountErrorAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "code", "title", "meaning", "meta_phone_number_id"]
    list_filter = ["code"]

    @admin.display(description="Meaning and what to do")
    def meaning(self, error: AccountError) -> str:
        explained = error_explain(error.code)
        return f"{explained.meaning} {explained.action}" if explained else ""


class UnmatchedStatusAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "wamid", "status", "participant_key", "timestamp", "applied_at"]
    list_filter = ["status", ("applied_at", admin.EmptyFieldListFilter)]
    search_fields = ["wamid"]
