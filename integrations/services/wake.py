"""Waking a sender of the `integrations` queue: one wake-up on its way at a time, however many changes commit.

Every transaction that records deliveries asks for a sender when it commits. With a broker and a shared cache, a
flag per sender slot says "a sender is on its way": while it is set nobody publishes another, so a burst of N
transactions publishes O(1) tasks (as the webhook drain's flags do, webhooks/services/wake.py). Commits wake slot 0;
a sender that claims a full batch (a backlog) wakes the next slot, up to INTEGRATIONS_SENDERS. A sender clears its
flag before its last look for due deliveries, so a delivery committed after that look publishes a new wake-up.
"""

from core.wake import WakeFlag

WAKE_FLAG = "integrations:sender-wake"
# A sender that died without clearing the flag delays the next wake-up 30 s at most (the due-work sweep still starts
# a sender meanwhile).
_flag = WakeFlag(WAKE_FLAG)


def deliveries_wake(slot: int = 0) -> None:
    """Ask a worker of the `integrations` queue to send due deliveries now, unless one is already on its way.

    Only with a broker: without one a task would run inside the request or webhook that recorded the event, so
    the due-work sweep of the in-process periodic runner (run_periodic_tasks) starts due deliveries instead. With a
    broker the sweep does the same every minute, so a lost wake-up (broker down) only delays the delivery.
    """
    from config.celery import app

    if app.conf.task_always_eager:
        return
    if _flag.shared():
        if not _flag.take(slot):
            return  # A sender is on its way and will look after this commit.
    elif slot:
        return  # Without a shared flag every commit wakes a sender already.
    sender_publish(slot)


def sender_publish(slot: int = 0) -> None:
    """Publish a sender task (with a broker); if the broker is down the due-work sweep starts one later."""
    from config.celery import app
    from integrations.tasks import deliveries_send_due_task

    if app.conf.task_always_eager:
        return  # In-process: the due-work sweep's next run goes on.
    _flag.publish(deliveries_send_due_task, slot)


def wake_flag_clear(slot: int) -> bool:
    """Let the next commit (or full batch) wake a sender of `slot`; False when there is no shared flag."""
    return _flag.clear(slot)
