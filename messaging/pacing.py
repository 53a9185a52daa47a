"""Pace sends per phone number across every worker and process (README "Sending pace").

A bucket per phone number holds the time of its next free send slot; each send takes the slot
`max(next_free, now)` and moves it on by `1 / rate`. A send whose slot is due within `max_wait`
seconds keeps it and waits for it (`pace_wait`, just before the call to Meta, so the work in
between overlaps the wait); anything later is told to come back (the task re-queues itself), so the
number never sends faster than its rate, however many workers run. The slot lives in the
database (a locked row) or, with a Redis broker, in Redis (one atomic script): both are shared by
all processes, neither by process memory.
"""

import os
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from messaging.models import SendPace

# Slots are handed out a little under the ceiling: a send leaves a few ms after its slot (a database
# commit, the scheduler), so a late send and an on-time one can fall in the same second. 3% of 80/s is
# 2.4 sends of slack per second, and the paced rate (77.6/s) stays above 95% of the ceiling.
PACE_HEADROOM = 0.97

# The slot is advanced and read back in one step, so two workers can never take the same slot.
_REDIS_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(next_free, now)
if slot - now > max_wait then
  return {0, tostring(slot - now)}
end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', math.ceil((slot + interval - now) * 1000) + 60000)
return {1, tostring(slot - now)}
"""


@dataclass(frozen=True)
class PaceDecision:
    """Whether a slot was taken, how many seconds from now it is (or would be), and its time (`time.time()`)."""

    acquired: bool
    wait: float
    at: float = 0.0


def _database_acquire(*, key: str, interval: float, now: float, max_wait: float) -> PaceDecision:
    with transaction.atomic():
        SendPace.objects.get_or_create(key=key)
        bucket = SendPace.objects.select_for_update().get(key=key)
        slot = max(bucket.next_free_at, now)
        if slot - now > max_wait:
            return PaceDecision(acquired=False, wait=slot - now, at=slot)
        bucket.next_free_at = slot + interval
        bucket.save(update_fields=["next_free_at"])
    return PaceDecision(acquired=True, wait=slot - now, at=slot)


# One client per process and URL: a client (and its sockets) made before a fork must not be shared.
_redis_clients: dict[tuple[int, str], object] = {}


def _redis_client():
    url = settings.MESSAGE_PACING_REDIS_URL
    key = (os.getpid(), url)
    client = _redis_clients.get(key)
    if client is None:
        import redis

        _redis_clients.clear()
        client = _redis_clients[key] = redis.Redis.from_url(url, socket_timeout=2)
    return client


def _redis_acquire(*, key: str, interval: float, now: float, max_wait: float) -> PaceDecision:
    acquired, wait = _redis_client().eval(_REDIS_SCRIPT, 1, f"groupdesk:pace:{key}", now, interval, max_wait)
    return PaceDecision(acquired=bool(int(acquired)), wait=float(wait), at=now + float(wait))


def pacing_backend() -> str:
    """Return "redis" or "database": the setting, or Redis whenever the broker is Redis."""
    backend = settings.MESSAGE_PACING_BACKEND
    if backend == "auto":
        return "redis" if settings.MESSAGE_PACING_REDIS_URL.startswith(("redis://", "rediss://")) else "database"
    return backend


def pace_acquire(*, key: str, rate_per_second: float, max_wait: float, now: float | None = None) -> PaceDecision:
    """Take the next send slot of `key` if it is due within `max_wait` seconds."""
    interval = 1.0 / max(rate_per_second, 0.001)
    now = time.time() if now is None else now
    acquire = _redis_acquire if pacing_backend() == "redis" else _database_acquire
    return acquire(key=key, interval=interval, now=now, max_wait=max_wait)


def pace_phone_number(*, phone_number_id: str, rate_per_second: float) -> PaceDecision:
    """Take this number's next send slot if it is close enough; `pace_wait()` it before calling Meta."""
    rate = min(rate_per_second, settings.MESSAGE_SEND_RATE_PER_SECOND) or 1
    return pace_acquire(
        key=f"phone:{phone_number_id}",
        rate_per_second=rate * PACE_HEADROOM,
        max_wait=settings.MESSAGE_PACE_MAX_WAIT_SECONDS,
    )


def pace_wait(decision: PaceDecision) -> None:
    """Sleep until the slot of `decision` is due (at once if it already is)."""
    remaining = decision.at - time.time()
    if decision.acquired and remaining > 0:
        time.sleep(remaining)
