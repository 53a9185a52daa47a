"""A timer thread that runs small jobs at their due time, in due order (ties in submission order)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger("sandbox")


class Scheduler:
    """Run `fn()` after a delay on one background thread; jobs must be quick (HTTP goes to a pool)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._running = False
        self._busy = 0
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            if self._running:
                return
            self._running = True
        self._thread = threading.Thread(target=self._run, name="sandbox-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), fn))
            self._cond.notify()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()

    @property
    def pending(self) -> int:
        """Jobs waiting or running now."""
        with self._cond:
            return len(self._heap) + self._busy

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._running and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if not self._running:
                    return
                _due, _seq, fn = heapq.heappop(self._heap)
                self._busy += 1
            try:
                fn()
            except Exception:  # One broken job must not stop the simulated world.
                logger.exception("sandbox job failed")
            finally:
                with self._cond:
                    self._busy -= 1
