"""Celery tasks of the messaging app: thin wrappers that load by id and call one service."""

from celery import shared_task


@shared_task(ignore_result=True)
def message_send_task(message_id: int) -> None:
    """Send one queued message; the service claims it, paces it and schedules its own retries."""
    from messaging.services import message_send

    message_send(message_id=message_id)


@shared_task(ignore_result=True)
def messages_fail_outcome_unknown_task() -> int:
    """Fail messages whose send outcome stayed unknown too long."""
    from messaging.services import messages_fail_outcome_unknown

    return messages_fail_outcome_unknown()


@shared_task(ignore_result=True)
def unmatched_statuses_apply_known_task() -> int:
    """Apply kept statuses whose wamid is now known."""
    from messaging.services import unmatched_statuses_apply_known

    return unmatched_statuses_apply_known()


@shared_task(ignore_result=True)
def pins_expire_due_task() -> int:
    """Turn pins past their `expires_at` into `expired`, one bounded batch per run."""
    from messaging.services.pins import pins_expire_due

    return pins_expire_due()


@shared_task(ignore_result=True)
def message_counts_roll_up_task(hours: int | None = None) -> int:
    """Count again the dashboard's recent closed hours (or the last `hours`) into the hourly roll-up."""
    from django.utils import timezone

    from messaging.services.rollups import ROLLUP_RECENT_HOURS, message_counts_roll_up

    return message_counts_roll_up(now=timezone.now(), hours=hours or ROLLUP_RECENT_HOURS)
