"""Admin of pins: the pins list with time left and an Unpin action, a Pin action on messages.

`desk.admin` registers the pins admin; the group's current pins are on its workspace (desk.workspace).
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timesince import timeuntil

from config.admin import ReadOnlyAdmin, exact_time, readable_html
from config.exceptions import ApplicationError
from core.admin_confirm import Confirmed, confirm, these
from core.models import Source
from messaging.content import content_text
from messaging.models import InboundMessage, OutboundMessage, Pin
from messaging.selectors_pins import pin_to_be_replaced
from messaging.services.pins import pin_create, pin_unpin

DEFAULT_EXPIRATION_DAYS = 7


def pin_time_left(pin: Pin) -> str:
    """Return how long an active pin stays pinned, for people."""
    if pin.state != Pin.State.ACTIVE or pin.expires_at is None:
        return "-"
    if pin.expires_at <= timezone.now():
        return "expiring now"
    return timeuntil(pin.expires_at)


def _message_words(message: OutboundMessage | InboundMessage) -> str:
    """Return a message's words (its text or caption, else what it is), quoted and cut for a confirmation."""
    text = content_text(type=message.type, content=message.content, text=getattr(message, "text", ""))
    return f"“{Truncator(text).chars(120)}”"


def _pinned_words(pin: Pin) -> str:
    if target := pin.target_message or pin.target_inbound:
        return _message_words(target)
    return f"the message {Truncator(pin.message_id).chars(24)}"  # Not stored here: its wamid is all we know.


def _state_label(state: str) -> str:
    """A pin state as staff read it ("Replaced by a newer pin"), "-" for none."""
    return dict(Pin.State.choices).get(state, state) if state else "-"


def _unpin_label(pin: Pin) -> str:
    """A pin on the unpin confirmation: the words of its message, its group and its time left."""
    left = pin_time_left(pin)
    return f"{_pinned_words(pin)} in {pin.group}" + (f", {left} left" if left != "-" else "")


def _replaced_label(pin: Pin) -> str:
    """The pin a new one pushes out, on the pin confirmation: its number, its message's words and its age."""
    return f"pin #{pin.pk}, {_pinned_words(pin)}, pinned {exact_time(pin.pinned_at)}"


class PinAdmin(ReadOnlyAdmin):
    list_display = ["id", "group", "pinned_message", "state", "expiration_days", "pinned_at", "expires_at",
                    "time_left"]
    list_filter = ["state"]
    search_fields = ["message_id", "group__subject", "=group__group_id"]
    list_select_related = ["group", "target_message", "target_inbound"]
    actions = ["unpin_selected"]
    fields = [
        "group", "message_id", "target_message", "target_inbound", "expiration_days", "state", "time_left",
        "requested_at", "pinned_at", "expires_at", "unpinned_at", "error", "pin_message", "unpin_message",
        "replaced_by", "created_by", "history",
    ]
    readonly_fields = fields

    @admin.display(description="Time left")
    def time_left(self, pin: Pin) -> str:
        return pin_time_left(pin)

    @admin.display(description="Message")
    def pinned_message(self, pin: Pin) -> str:
        return _pinned_words(pin)

    @admin.display(description="History")
    def history(self, pin: Pin) -> str:
        rows = [
            (exact_time(change.created_at), _state_label(change.from_state), _state_label(change.to_state),
             change.get_source_display(),
             readable_html(change.detail))
            for change in pin.status_changes.order_by("pk")
        ]
        return format_html(
            '<table class="pin-history"><thead><tr><th>When</th><th>From</th><th>To</th><th>Source</th>'
            "<th>Detail</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr>" + "<td>{}</td>" * 5 + "</tr>", rows),
        )

    def has_unpin_permission(self, request) -> bool:
        return request.user.has_perm("messaging.change_pin")

    @admin.action(description="Unpin the selected pins", permissions=["unpin"])
    def unpin_selected(self, request: HttpRequest, queryset: QuerySet[Pin]) -> HttpResponse | None:
        pins = queryset.select_related("group", "target_message", "target_inbound")
        confirmed = confirm(self, request, pins, action="unpin_selected", title=f"Unpin {these(pins, 'message')}?",
                            reason="none", submit="Yes, unpin", describe=_unpin_label,
                            warning="WhatsApp takes each message off the top of its group for every member.",
                            irreversible="the time left on each pin is lost; pinning the message again starts a "
                                         "new pin.")
        if not isinstance(confirmed, Confirmed):
            return confirmed
        unpinned = 0
        for pin in pins:
            try:
                pin_unpin(pin=pin, created_by=request.user, source=Source.ADMIN)
            except ApplicationError as exc:
                self.message_user(request, f"{pin}: {exc.message}", messages.ERROR)
            else:
                unpinned += 1
        if unpinned:
            self.message_user(
                request, f"Queued the unpin of {unpinned} pin{'s' if unpinned != 1 else ''}.", messages.SUCCESS
            )
        return None

class PinForm(forms.Form):
    expiration_days = forms.IntegerField(
        min_value=Pin.MIN_EXPIRATION_DAYS,
        max_value=Pin.MAX_EXPIRATION_DAYS,
        initial=DEFAULT_EXPIRATION_DAYS,
        label="Days pinned",
        help_text="From 1 to 30 days; WhatsApp unpins it then.",
    )


@admin.action(description="Pin the selected messages", permissions=["pin"])
def pin_selected_messages(
    modeladmin, request: HttpRequest, queryset: QuerySet[OutboundMessage]
) -> HttpResponse | None:
    """Ask the days (and show which pin each one will replace), then pin each message through the service."""
    if not request.user.has_perm("messaging.add_pin"):
        modeladmin.message_user(request, "You may not pin messages.", messages.ERROR)
        return None
    selected = list(queryset.select_related("group").order_by("pk"))
    confirmed = confirm(
        modeladmin, request, selected, action="pin_selected_messages", title=f"Pin {these(selected, 'message')}?",
        reason="none", form_class=PinForm, details_template="admin/messaging/pin_confirmation_rows.html", submit="Pin",
        warning=f"Each message is shown on top of its group, to every member, for the days chosen. A group shows at "
                f"most {Pin.MAX_ACTIVE_PER_GROUP} pins: when WhatsApp accepts a new pin in a group that already has "
                f"{Pin.MAX_ACTIVE_PER_GROUP}, it silently unpins the oldest one.",
        extra_context={"rows": _pin_rows(selected), "max_pins": Pin.MAX_ACTIVE_PER_GROUP},
    )
    if not isinstance(confirmed, Confirmed):
        return confirmed
    pinned = 0
    for message in selected:
        try:
            pin_create(
                group=message.group,
                message_id=message.wamid or "",
                expiration_days=confirmed.form.cleaned_data["expiration_days"],
                created_by=request.user,
                source=Source.ADMIN,
            )
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{message}: {exc.message}", messages.ERROR)
        else:
            pinned += 1
    if pinned:
        modeladmin.message_user(request, f"Queued {pinned} pin{'s' if pinned != 1 else ''}.", messages.SUCCESS)
    return None


def _pin_rows(selected: list[OutboundMessage]) -> list[dict]:
    """Return each message to pin with the pin it will push out, if any."""
    rows = []
    ahead: dict[int, int] = {}  # Pins asked earlier in this same batch push out older ones first.
    for message in selected:
        replaced = pin_to_be_replaced(group=message.group, ahead=ahead.get(message.group_id, 0))
        ahead[message.group_id] = ahead.get(message.group_id, 0) + 1
        rows.append({"message": message, "words": _message_words(message), "replaced": replaced,
                     "replaced_label": replaced and _replaced_label(replaced)})
    return rows
