"""Hold a group's row lock in another transaction, as a concurrent drain or request would (PostgreSQL tests)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from groups.selectors import lock_groups


@contextmanager
def group_lock_held(group_id: int) -> Iterator[None]:
    """Hold the group's lock from another thread's transaction for the duration of the block."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(lock_groups().filter(pk=group_id))
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join(timeout=20)
