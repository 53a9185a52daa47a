"""Webhook tasks (queue `webhooks`): thin wrappers over webhooks.services."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import InterfaceError, OperationalError


@shared_task(bind=True, max_retries=20)
def webhook_events_drain_task(self, slot: int = 0) -> int:
    """Process pending webhook events in batches; a database outage retries, item errors are recorded."""
    from webhooks.services import webhook_events_drain

    try:
        # The task id survives retries, so a retry after a database outage takes its own claims back.
        return webhook_events_drain(claimant=self.request.id or "", slot=slot)
    except (OperationalError, InterfaceError) as exc:
        if self.request.is_eager:
            # No broker: an in-process retry would run at once, inside the webhook's request. The claimed
            # events stay pending; once their lease ends the periodic sweep wakes a drainer.
            raise
        raise self.retry(exc=exc, countdown=get_exponential_backoff_interval(
            factor=5, retries=self.request.retries, maximum=300, full_jitter=True)) from exc


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
