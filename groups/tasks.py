"""Celery tasks of the groups app (queue `outbound`): thin, each loads by id and calls one service."""

from celery import shared_task


@shared_task(ignore_result=True)
def group_operation_send_task(operation_id: int) -> None:
    """Send one queued group operation; the service puts a temporary failure off to its retry time."""
    from groups.services import group_operation_send

    group_operation_send(operation_id=operation_id)


@shared_task
def group_operations_settle_stale_task() -> None:
    """Settle pending operations whose webhook is overdue (periodic; bounded batch of 50 per run)."""
    from groups.services import group_operations_settle_stale

    group_operations_settle_stale()
