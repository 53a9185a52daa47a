"""Wake flags: at most one task on its way per slot, however many commits ask for one.

A flag in the shared cache (Redis) says "a worker is on its way for this slot": while it is set nobody publishes
another task, so a burst of N commits publishes O(1) tasks. The worker clears it before its last look for work, so
whatever commits after that look publishes again. The webhook drain (webhooks.services.wake) and the event senders
(integrations.services.wake) each keep one.
"""

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


class WakeFlag:
    def __init__(self, name: str, *, seconds: int = 30) -> None:
        self.name = name
        self.seconds = seconds  # A worker that died without clearing the flag delays the next one this long at most.

    def key(self, slot: int) -> str:
        return f"{self.name}:{slot}"

    @staticmethod
    def shared() -> bool:
        """The flag needs a cache every process shares (Redis); a per-process one would silence other processes."""
        return not settings.CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache"))

    def take(self, slot: int) -> bool:
        """Set the slot's flag; True when this caller set it and so must publish the task."""
        try:
            return cache.add(self.key(slot), 1, timeout=self.seconds)
        except Exception:  # Cache errors vary by backend; publishing one task too many is harmless.
            logger.warning("wake flag %s not read; publishing anyway", self.name, exc_info=True)
            return True

    def clear(self, slot: int) -> bool:
        """Let the next commit wake a worker for `slot`; False when there is no shared flag."""
        if not self.shared():
            return False
        try:
            cache.delete(self.key(slot))
        except Exception:  # The flag only saves publishes; a cache outage must not stop a worker.
            logger.warning("wake flag %s not cleared", self.name, exc_info=True)
        return True

    def publish(self, task, slot: int) -> None:
        """Publish `task` for `slot`. No publish retries: whoever committed must not wait on a dead broker; what the
        task would do stays on its rows, and the periodic sweep starts a worker later."""
        try:
            task.apply_async(kwargs={"slot": slot}, retry=False)
        except Exception:  # Broker errors vary by transport.
            logger.warning("%s: task not published; the periodic sweep starts one later", self.name, exc_info=True)
