"""Tasks of the `integrations` queue: send due deliveries (woken on commit, and by the due-work sweep)."""

from celery import shared_task

# A run sends batch after batch while deliveries are due, then returns: long enough to drain a burst (10,000
# events at over 1,000/s), short enough to stay well inside the task time limit.
SEND_BUDGET_SECONDS = 30


@shared_task
def deliveries_send_due_task(slot: int = 0) -> int:
    """Send due deliveries until none is due or the time budget is spent; return how many were attempted."""
    from integrations.services.deliveries import deliveries_send_all_due

    return deliveries_send_all_due(max_seconds=SEND_BUDGET_SECONDS, slot=slot)
