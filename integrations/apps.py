"""App configuration: subscribes the webhook endpoints to the outbox."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.event_payloads import register_event_renderers
        from integrations.services.fanout import deliveries_fan_out, subscriptions_read
        from outbox.registry import subscriber_register

        subscriber_register(subscriptions=subscriptions_read, fan_out=deliveries_fan_out)
        register_event_renderers()
