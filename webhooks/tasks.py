"""Webhook tasks (queue `webhooks`): thin wrappers over webhooks.services."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    bind=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=5, retry_backoff_max=300, max_retries=20
)
def webhook_events_drain_task(self, slot: int = 0) -> int:
    """Process pending webhook events in batches; a database outage retries, item errors are recorded."""
    from webhooks.services import webhook_events_drain

    # The task id survives retries, so a retry after a database outage takes its own claims back.
    return webhook_events_drain(claimant=self.request.id or "", slot=slot)


@shared_task
def webhook_events_sweep_pending_task() -> int:
    """Wake a drainer if pending events wait with nobody on them."""
    from webhooks.services import webhook_events_sweep_pending

    return webhook_events_sweep_pending()


@shared_task
def webhook_events_delete_old_task() -> int:
    """Delete processed and ignored events past the retention."""
    from webhooks.services import webhook_events_delete_old

    return webhook_events_delete_old()
