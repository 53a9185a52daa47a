"""The outbound message's page for people: its content as a bubble, times relative with the exact time on hover, the
wamid shortened with a copy button, receipts and history by name (issue 17 §3).

Mixed into the messages admin where the admin site is composed (desk.admin), so that messaging's own admin stays
free of the desk's presentation helpers. The values stay read-only fields (`div.readonly`): the live page copies
them in place as before.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from desk.list_times import time_column
from desk.selectors import Bubble
from desk.templatetags.desk import identity_of, person, short_id, when
from desk.workspace_actions import asked_from
from messaging.models import OutboundMessage
from messaging.selectors import message_audience_without_receipt, message_receipt_list

TIME_FIELDS = ["created_at", "accepted_at", "sent_at", "delivered_at", "read_at", "failed_at"]
STATUS_LABELS = dict(OutboundMessage.Status.choices)


def _who(change) -> str:
    """Return a participant of the history by name (the phone number or BSUID on hover), else by that identity."""
    name, identity = identity_of(change)
    return format_html('<span class="person-name" title="{}">{}</span>', identity, name) if name else identity


def history_sentences(message: OutboundMessage, changes) -> list[str]:
    """Return what each change of the history means: "Accepted by Meta", "+1 delivered: Maya Patel (2/2)"."""
    seen: dict[str, int] = {}
    out = []
    for change in changes:
        if not change.participant_key:
            out.append(STATUS_LABELS.get(change.status, change.status.capitalize()))
            continue
        seen[change.status] = seen.get(change.status, 0) + 1
        of = f" ({seen[change.status]}/{message.recipient_count})" if message.recipient_count else ""
        if change.status == OutboundMessage.Status.DELIVERED:
            out.append(format_html("+1 delivered: {}{}", _who(change), of))
        elif change.status == OutboundMessage.Status.READ:
            out.append(format_html("Read by {}{}", _who(change), of))
        elif change.status == OutboundMessage.Status.FAILED:
            out.append(format_html("Failed for {}", _who(change)))
        else:
            out.append(format_html("{}: {}", STATUS_LABELS.get(change.status, change.status.capitalize()),
                                   _who(change)))
    return out


class MessagePageMixin:
    """Mixed in before `OutboundMessageAdmin`: its page's values shown for people instead of as stored."""

    change_form_template = "admin/desk/message_change_form.html"

    def get_urls(self):
        retry = path("<int:object_id>/retry/", self.admin_site.admin_view(self.retry_view),
                     name="messaging_outboundmessage_retry")
        return [retry, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        context = {**(extra_context or {}), "may_retry": self.has_retry_permission(request)}
        return super().change_view(request, object_id, form_url, context)

    def retry_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Retry this failed message through the list's action and its confirmation, then come back to this page."""
        page = reverse("admin:messaging_outboundmessage_change", args=[object_id])
        if request.method != "POST":
            return HttpResponseRedirect(page)
        if not self.has_retry_permission(request):
            raise PermissionDenied
        message = get_object_or_404(OutboundMessage, pk=object_id)
        crumbs = [(reverse("admin:messaging_outboundmessage_changelist"), "Outbound messages"), (page, str(message))]
        response = asked_from(self.retry_failed(request, OutboundMessage.objects.filter(pk=message.pk)),
                              crumbs=crumbs, back=page)
        return response or HttpResponseRedirect(page)

    def get_fields(self, request, obj=None):
        replaced = {"content": "content_shown", "wamid": "wamid_shown", **{t: f"{t}_shown" for t in TIME_FIELDS}}
        # ReadOnlyAdmin has already made the JSON `content` a generic display function named after the field.
        return [replaced.get(getattr(name, "__name__", name), name) for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description="Content")
    def content_shown(self, message: OutboundMessage) -> str:
        return render_to_string("desk/message_content.html", {"bubble": Bubble(at=message.created_at,
                                                                                outbound=message)})

    @admin.display(description="Wamid")
    def wamid_shown(self, message: OutboundMessage) -> str:
        return short_id(message.wamid, "wamid")

    created_at_shown = time_column("created_at", "Created")
    accepted_at_shown = time_column("accepted_at", "Accepted")
    sent_at_shown = time_column("sent_at", "Sent")
    delivered_at_shown = time_column("delivered_at", "Delivered")
    read_at_shown = time_column("read_at", "Read")
    failed_at_shown = time_column("failed_at", "Failed")

    @admin.display(description="Receipts")
    def receipt_matrix(self, message: OutboundMessage) -> str:
        rows = [(person(r), when(r.delivered_at), when(r.read_at)) for r in message_receipt_list(message=message)]
        rows += [(person(p), when(None), when(None)) for p in message_audience_without_receipt(message=message)]
        if not rows:
            return "No participant yet."
        return format_html(
            '<div class="desk-scroll"><table class="receipt-matrix"><thead><tr><th>Participant</th><th>Delivered</th>'
            "<th>Read</th></tr></thead><tbody>{}</tbody></table></div>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="Status history")
    def status_history(self, message: OutboundMessage) -> str:
        changes = list(message.status_changes.select_related("participant").order_by("pk"))
        rows = [
            (when(c.created_at), sentence, when(c.timestamp), (c.error or {}).get("code") or "",
             c.get_source_display())
            for c, sentence in zip(changes, history_sentences(message, changes), strict=True)
        ]
        return format_html(
            '<div class="desk-scroll"><table class="status-history"><thead><tr><th>Received</th>'
            "<th>What happened</th><th>Meta's time</th><th>Error</th><th>Source</th></tr></thead><tbody>{}</tbody>"
            "</table></div>",
            format_html_join("", "<tr>" + "<td>{}</td>" * 5 + "</tr>", rows),
        )
