"""App configuration: registers the webhooks app's audit actions."""

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.kinds import audit_actions
        from webhooks.models import WebhookAuditAction

        audit_actions.register(WebhookAuditAction)
