"""Celery tasks of the groups app (queue `outbound`): thin, each loads by id and calls one service."""

from celery import shared_task

from groups.cloud_api import CloudAPIError
from groups.services.operations import MAX_SEND_ATTEMPTS


@shared_task(bind=True, max_retries=MAX_SEND_ATTEMPTS)
def group_operation_send_task(self, operation_id: int) -> None:
    """Send one queued group operation; the service decides whether a failure is retried."""
    from groups.services import group_operation_send

    try:
        group_operation_send(operation_id=operation_id)
    except CloudAPIError as exc:
        if not self.request.is_eager:
            raise self.retry(exc=exc, countdown=min(600, 30 * 2**self.request.retries)) from exc
        # No broker (tasks run in-process): retry at once, a bounded number of times; the service
        # records the final failure itself once the attempts are spent.
        for _ in range(MAX_SEND_ATTEMPTS):
            try:
                group_operation_send(operation_id=operation_id)
                return
            except CloudAPIError:
                continue


@shared_task
def group_operations_settle_stale_task() -> None:
    """Settle pending operations whose webhook is overdue (periodic; bounded batch of 50 per run)."""
    from groups.services import group_operations_settle_stale

    group_operations_settle_stale()
