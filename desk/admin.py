"""The admin site, composed in one place: every screen of every app is registered here, and only here.

The one pattern: each app's `admin.py` defines its `ModelAdmin` classes and registers nothing; this module
registers each screen with `site.register` and, where an app above adds to a screen of an app below (send a
message from the groups list, the current pins on the group page), subclasses that screen here. No app
mutates another app's admin, and no app below imports this one.
"""

from django.contrib import admin
from django.db import models

from config.paginator import EstimatedCountPaginator
from core.admin import AuditEntryAdmin
from core.models import AuditEntry
from desk.triage import triage_urls
from groups.admin import (
    GroupAdmin,
    GroupEventAdmin,
    GroupOperationAdmin,
    JoinRequestAdmin,
    ParticipantAdmin,
    PhoneNumberAdmin,
)
from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant, PhoneNumber
from messaging.admin import (
    AccountErrorAdmin,
    InboundMessageAdmin,
    OutboundMessageAdmin,
    UnmatchedStatusAdmin,
    send_message_to_groups,
)
from messaging.admin_pins import GroupPinInline, PinAdmin
from messaging.models import AccountError, InboundMessage, OutboundMessage, Pin, UnmatchedStatus
from webhooks.admin import WebhookEventAdmin
from webhooks.models import WebhookEvent

site = admin.site  # desk.site.DeskAdminSite: its header, the index's sections and their order.


class DeskGroupAdmin(GroupAdmin):
    """The groups admin, plus "Send a message" (messaging) and the group's current pins (messaging)."""

    actions = [*GroupAdmin.actions, send_message_to_groups]
    inlines = [*GroupAdmin.inlines, GroupPinInline]

    def has_send_message_permission(self, request) -> bool:
        return request.user.has_perm("messaging.add_outboundmessage")


class DeskOutboundMessageAdmin(OutboundMessageAdmin):
    """The messages admin, plus the desk's triage pages under it: CSV export, error codes, failures by code."""

    def get_urls(self):
        return [*triage_urls(self), *super().get_urls()]


SCREENS: list[tuple[type[models.Model], type[admin.ModelAdmin]]] = [
    (PhoneNumber, PhoneNumberAdmin),
    (Group, DeskGroupAdmin),
    (Participant, ParticipantAdmin),
    (JoinRequest, JoinRequestAdmin),
    (GroupOperation, GroupOperationAdmin),
    (GroupEvent, GroupEventAdmin),
    (AuditEntry, AuditEntryAdmin),
    (OutboundMessage, DeskOutboundMessageAdmin),
    (InboundMessage, InboundMessageAdmin),
    (AccountError, AccountErrorAdmin),
    (UnmatchedStatus, UnmatchedStatusAdmin),
    (Pin, PinAdmin),
    (WebhookEvent, WebhookEventAdmin),
]

for model, admin_class in SCREENS:
    site.register(model, admin_class)
    # A million messages: no changelist of ours runs a full COUNT(*) (issue 8, docs/benchmarks.md). One policy,
    # applied where every screen is registered, so a new screen of a large table cannot forget it.
    model_admin = site.get_model_admin(model)
    model_admin.paginator = EstimatedCountPaginator
    model_admin.show_full_result_count = False
