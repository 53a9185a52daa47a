"""The periodic tasks (CELERY_BEAT_SCHEDULE): what runs when, in one table."""

from datetime import timedelta

from celery.schedules import crontab


def beat_schedule(*, group_operation_stale_minutes: int, tasks_in_process: bool) -> dict:
    """Return the schedule; stale operations are looked for twice per staleness period."""
    return {
        "webhooks-sweep-pending": {
            "task": "webhooks.tasks.webhook_events_sweep_pending_task",
            "schedule": timedelta(minutes=1),
        },
        "groups-settle-stale-operations": {
            "task": "groups.tasks.group_operations_settle_stale_task",
            "schedule": timedelta(minutes=max(1, group_operation_stale_minutes // 2)),
        },
        "webhooks-delete-old": {
            "task": "webhooks.tasks.webhook_events_delete_old_task",
            "schedule": crontab(minute=17, hour=3),
        },
        "messages-fail-outcome-unknown": {
            "task": "messaging.tasks.messages_fail_outcome_unknown_task",
            "schedule": timedelta(minutes=1),
        },
        "due-work": {
            "task": "core.tasks.due_work_run_task",
            # Without a broker this is how retries and outbound-event deliveries run (core/due.py), so soon after
            # they are due, outside any request; with one, a backstop for lost tasks, and how deliveries whose
            # retry is minutes or more away are started (at most this period late).
            "schedule": timedelta(seconds=2 if tasks_in_process else 60),
        },
        "messages-apply-unmatched-statuses": {
            "task": "messaging.tasks.unmatched_statuses_apply_known_task",
            "schedule": timedelta(minutes=1),
        },
        # The dashboard's hourly counts (messaging.services.rollups): recent closed hours every 5 minutes, so its
        # numbers lag at most that; every hour a dashboard shows once a night, for statuses that came days late.
        "messages-roll-up-recent-hours": {
            "task": "messaging.tasks.message_counts_roll_up_task",
            "schedule": timedelta(minutes=5),
        },
        "messages-roll-up-all-hours": {
            "task": "messaging.tasks.message_counts_roll_up_task",
            "schedule": crontab(minute=41, hour=2),
            "kwargs": {"hours": 31 * 24},
        },
        "pins-expire-due": {
            "task": "messaging.tasks.pins_expire_due_task",
            "schedule": timedelta(minutes=1),  # Pins expire by the day; a minute late is invisible.
        },
    }
