"""App configuration: subscribes the webhook endpoints to the outbox; registers deliveries as due work."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.due import DueWork, due_work_register
        from integrations.event_payloads import register_event_renderers
        from integrations.selectors import delivery_ids_due
        from integrations.services.fanout import deliveries_fan_out, subscriptions_read
        from integrations.tasks import deliveries_send_due_task
        from outbox.registry import subscriber_register

        subscriber_register(subscriptions=subscriptions_read, fan_out=deliveries_fan_out)
        register_event_renderers()
        # Deliveries coming due (a retry, a dead worker's lease ended) are sent by the one due-work sweep; its task
        # sends every due delivery in parallel batches, so it is registered batched (started once, not per row).
        due_work_register(DueWork(name="deliveries", due_ids=delivery_ids_due, task=deliveries_send_due_task,
                                  batched=True))
