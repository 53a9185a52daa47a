"""Celery tasks of the groups app (queue `outbound`): thin, each loads by id and calls one service."""

from celery import shared_task


@shared_task(ignore_result=True)
def group_operation_send_task(operation_id: int) -> None:
    """Send one queued group operation; the service puts a temporary failure off to its retry time."""
    from groups.services import group_operation_send

    group_operation_send(operation_id=operation_id)


@shared_task
def group_sync_task(group_id: int) -> None:
    """Read one group from Meta into our rows."""
    from groups.selectors import group_get
    from groups.services import group_sync

    group_sync(group=group_get(pk=group_id))


@shared_task
def phone_number_sync_task(phone_number_id: int) -> None:
    """List one number's groups at Meta: finish overdue creates, adopt unknown groups."""
    from groups.models import PhoneNumber
    from groups.services import phone_number_sync

    phone_number_sync(phone_number=PhoneNumber.objects.get(pk=phone_number_id))


@shared_task
def group_operations_settle_stale_task() -> None:
    """Settle pending operations whose webhook is overdue (periodic; bounded batch of 50 per run)."""
    from groups.services import group_operations_settle_stale

    group_operations_settle_stale()
