"""The drain's wake flag: a webhook publishes a drain task only when none is on its way for the slot."""

import time

from core.wake import WakeFlag

# The flag (one per drain slot) says "a drainer is on its way": while set, nobody publishes another for the slot.
WAKE_FLAG = "webhooks:drain-wake"
_flag = WakeFlag(WAKE_FLAG)
# A process that saw the flag set trusts it this long without asking Redis again (a burst of webhooks asks once
# per process and period, not once per request). A drainer waits as long between clearing the flag and its last
# look, so an event stored by a process that skipped the check is still claimed (see webhook_events_drain).
WAKE_FLAG_TRUST_SECONDS = 0.05
_wake_flag_seen_at: dict[int, float] = {}  # slot -> time.monotonic() just before this process saw the flag set


def wake_drainer(slot: int = 0) -> None:
    """Make sure a drainer will look at the pending events: publish a drain task unless one is on its way."""
    if _flag.shared():
        # Taken before asking: the drainer that clears the flag later waits WAKE_FLAG_TRUST_SECONDS from then.
        now = time.monotonic()
        seen_at = _wake_flag_seen_at.get(slot)
        if seen_at is not None and now - seen_at < WAKE_FLAG_TRUST_SECONDS:
            return
        woken = _flag.take(slot)
        _wake_flag_seen_at[slot] = now  # Set now, by us or by whoever woke the drainer on its way.
        if not woken:
            return
    elif slot:
        return  # Without a shared cache every webhook publishes its own drain already.
    publish_drain(slot)


def publish_drain(slot: int = 0) -> None:
    """Queue a drain; if the broker is down the events stay pending and the sweep wakes a drainer later."""
    from webhooks.tasks import webhook_events_drain_task

    _flag.publish(webhook_events_drain_task, slot)


def wake_flag_clear(slot: int) -> bool:
    """Clear the slot's flag; False when there is no shared flag."""
    return _flag.clear(slot)
