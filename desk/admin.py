"""The admin site, composed in one place: every screen of every app is registered here, and only here.

The one pattern: each app's `admin.py` defines its `ModelAdmin` classes and registers nothing; this module
registers each screen with `site.register` and, where an app above adds to a screen of an app below (send a
message from the groups list, the group's workspace), subclasses that screen here. No app
mutates another app's admin, and no app below imports this one.
"""

from django.contrib import admin
from django.db import models
from django.http import HttpResponseNotAllowed
from django.urls import path, reverse

from config.paginator import EstimatedCountPaginator
from core.admin import AuditEntryAdmin
from core.models import AuditEntry
from desk import workspace, workspace_actions
from desk.group_settings import GroupSettingsMixin
from desk.integrations_pages import DeliveryPageMixin, EndpointPageMixin
from desk.list_times import show_list_times_relative
from desk.live import live_version
from desk.live_admin import LiveAdminMixin
from desk.message_page import MessagePageMixin
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
from integrations.admin import DeliveryAdmin, WebhookEndpointAdmin
from integrations.models import Delivery, WebhookEndpoint
from messaging.admin import (
    AccountErrorAdmin,
    InboundMessageAdmin,
    OutboundMessageAdmin,
    UnmatchedStatusAdmin,
    send_message_to_groups,
)
from messaging.admin_pins import PinAdmin
from messaging.models import AccountError, InboundMessage, OutboundMessage, Pin, UnmatchedStatus
from messaging.selectors import message_page_marker
from webhooks.admin import WebhookEventAdmin
from webhooks.models import WebhookEvent

site = admin.site  # desk.site.DeskAdminSite: its header, the index's sections and their order.


class DeskGroupAdmin(LiveAdminMixin, GroupSettingsMixin, GroupAdmin):
    """The groups admin, plus "Send a message" (messaging), and live: the list's state cells follow webhooks in
    place; the group's page is its workspace (desk.workspace: conversation, compose, pins, members, timeline) and
    the stock form, its settings and facts only (desk.group_settings), is "Edit settings"."""

    actions = [*GroupAdmin.actions, send_message_to_groups]

    def has_send_message_permission(self, request) -> bool:
        return request.user.has_perm("messaging.add_outboundmessage")

    def get_urls(self):
        def view(function, name: str, route: str):
            wrapped = self.admin_site.admin_view(lambda request, **kwargs: function(self, request, **kwargs))
            return path(f"<int:object_id>/{route}", wrapped, name=f"groups_group_{name}")

        return [
            view(DeskGroupAdmin.settings_view, "settings", "settings/"),
            view(workspace_actions.send_view, "workspace_send", "workspace/send/"),
            view(workspace_actions.pin_view, "workspace_pin", "workspace/pin/<str:kind>/<int:message_pk>/"),
            view(workspace_actions.unpin_view, "workspace_unpin", "workspace/unpin/<int:pin_pk>/"),
            view(workspace_actions.retry_view, "workspace_retry", "workspace/retry/<int:message_pk>/"),
            view(workspace_actions.decide_view, "workspace_decide",
                 "workspace/join-requests/<int:join_request_pk>/<str:decision>/"),
            view(workspace.region_view, "workspace_region", "workspace/<str:region>/"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The group's page is its workspace; its stock form (which posts to itself) is `settings_view`."""
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        return workspace.workspace_view(self, request, object_id)

    def settings_view(self, request, object_id):
        """The stock change form ("Edit settings"): subject and description, and the read-only details."""
        return super().change_view(request, str(object_id), extra_context={
            "workspace_url": reverse("admin:groups_group_change", args=[object_id]), "title": "Group settings",
            "show_save_and_add_another": False})


class DeskOutboundMessageAdmin(LiveAdminMixin, MessagePageMixin, OutboundMessageAdmin):
    """The messages admin, plus the desk's triage pages under it (CSV export, error codes, failures by code), its
    page shown for people (desk.message_page), and live: the list's status and count cells and the page's status,
    counts, receipts and history follow webhooks."""

    def get_urls(self):
        return [*triage_urls(self), *super().get_urls()]

    def live_object_version(self, pk) -> str:
        return live_version(message_page_marker(message_id=pk))


class DeskPinAdmin(LiveAdminMixin, PinAdmin):
    """The pins admin, live: a pin going active, expiring or being unpinned shows in the list and on its page."""


class DeskWebhookEndpointAdmin(EndpointPageMixin, WebhookEndpointAdmin):
    """The webhook endpoints admin, its page shown for people (desk.integrations_pages) with its deliveries linked."""


class DeskDeliveryAdmin(DeliveryPageMixin, DeliveryAdmin):
    """The delivery log, each delivery's page shown for people (desk.integrations_pages): its attempts and the body
    sent as tables."""


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
    (Pin, DeskPinAdmin),
    (WebhookEvent, WebhookEventAdmin),
    (WebhookEndpoint, DeskWebhookEndpointAdmin),
    (Delivery, DeskDeliveryAdmin),
]

for model, admin_class in SCREENS:
    site.register(model, admin_class)
    # A million messages: no changelist of ours runs a full COUNT(*) (issue 8, docs/benchmarks.md). One policy,
    # applied where every screen is registered, so a new screen of a large table cannot forget it.
    model_admin = site.get_model_admin(model)
    model_admin.paginator = EstimatedCountPaginator
    model_admin.show_full_result_count = False
    show_list_times_relative(model_admin)
