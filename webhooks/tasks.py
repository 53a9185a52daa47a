"""Webhook tasks (queue `webhooks`): thin wrappers over webhooks.services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    bind=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=5, retry_backoff_max=300, max_retries=20
)
def webhook_event_process_task(self, event_id: int) -> None:
    """Process one stored webhook event; a database outage retries, item errors are recorded."""
    from webhooks.services import webhook_event_process

    # The task id survives retries, so a retry after a database outage takes its own claim back.
    webhook_event_process(event_id=event_id, claimant=self.request.id or "")


@shared_task
def webhook_events_sweep_pending_task() -> int:
    """Queue pending events that no worker is processing."""
    from webhooks.services import webhook_events_sweep_pending

    return webhook_events_sweep_pending()


@shared_task
def webhook_events_delete_old_task() -> int:
    """Delete processed and ignored events past the retention."""
    from webhooks.services import webhook_events_delete_old

    return webhook_events_delete_old()
