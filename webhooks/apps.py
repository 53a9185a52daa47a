"""App configuration: registers the webhooks app's audit actions and the link to an event's page."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.admin_links import admin_link_register
        from core.kinds import audit_actions
        from webhooks.models import WebhookAuditAction

        audit_actions.register(WebhookAuditAction)
        admin_link_register("webhook_event", "admin:webhooks_webhookevent_change")
