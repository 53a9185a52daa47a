"""Waking a sender of the `integrations` queue: one wake-up on its way at a time, however many changes commit.

Every transaction that records deliveries asks for a sender when it commits. With a broker and a shared cache, a
flag says "a sender is on its way": while it is set nobody publishes another, so a burst of N transactions publishes
O(1) tasks (as the webhook drain's flag does, webhooks/services/wake.py). The sender clears the flag before its last
look for due deliveries, so a delivery committed after that look publishes a new wake-up.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

WAKE_FLAG = "integrations:sender-wake"
# A sender that died without clearing the flag delays the next wake-up this long at most (the due-work sweep still
# starts a sender meanwhile).
WAKE_FLAG_SECONDS = 30


def deliveries_wake() -> None:
    """Ask a worker of the `integrations` queue to send due deliveries now, unless one is already on its way.

    Only with a broker: without one a task would run inside the request or webhook that recorded the event, so
    the due-work sweep of the in-process periodic runner (run_periodic_tasks) starts due deliveries instead. With a
    broker the sweep does the same every minute, so a lost wake-up (broker down) only delays the delivery.
    """
    from config.celery import app

    if app.conf.task_always_eager:
        return
    if _flag_shared():
        try:
            if not cache.add(WAKE_FLAG, 1, timeout=WAKE_FLAG_SECONDS):
                return  # A sender is on its way and will look after this commit.
        except Exception:  # Cache errors vary by backend; waking one sender too many is harmless.
            logger.warning("integrations: sender wake flag not read; waking a sender anyway", exc_info=True)
    sender_publish()


def sender_publish() -> None:
    """Publish a sender task (with a broker); if the broker is down the due-work sweep starts one later."""
    from config.celery import app
    from integrations.tasks import deliveries_send_due_task

    if app.conf.task_always_eager:
        return  # In-process: the due-work sweep's next run goes on.
    try:
        deliveries_send_due_task.apply_async(retry=False)  # The committing request must not wait on a dead broker.
    except Exception:  # Broker errors vary by transport; the deliveries stay due on their rows.
        logger.warning("integrations: could not wake a sender; the due-work sweep sends the deliveries")


def wake_flag_clear() -> bool:
    """Let the next commit wake a sender; False when there is no shared flag."""
    if not _flag_shared():
        return False
    try:
        cache.delete(WAKE_FLAG)
    except Exception:  # The flag only saves publishes; a cache outage must not stop a sender.
        logger.warning("integrations: sender wake flag not cleared", exc_info=True)
    return True


def _flag_shared() -> bool:
    """The flag needs a cache every process shares (Redis); a per-process one would silence the other processes."""
    return not settings.CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))
