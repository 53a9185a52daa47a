"""Work that waits for a time kept on its row (a retry, a paced send): one registry, one sweep (README "Retries").

An app registers what of its rows can fall due (`due_work_register`, from its `AppConfig.ready`) and, when it
puts a row off, calls `run_at`. With a broker the row's task is published for that time, and the sweep only
restarts rows whose task was lost. Without one (the embedded default, tasks eager) nothing is published: an
eager task ignores its countdown and would run at once inside the caller, so the periodic runner's sweep
(`run_periodic_tasks`, entry "due-work", core/tasks.py) starts each row once its time has come.

A batched kind (integrations' deliveries) has a task that takes no id and claims every due row itself: the sweep
starts it once whenever a row is due, with or without a broker.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

# Rows started per kind per sweep: one run of the runner stays short; the next takes the rest.
DUE_WORK_BATCH = 500


@dataclass(frozen=True)
class DueWork:
    """A kind of row that can wait for a time: how to list the due ones, and the task that takes one id."""

    name: str
    due_ids: Callable[..., list[int]]  # (*, due_before: datetime, limit: int) -> ids, oldest first
    task: Any  # A Celery task taking the row's id; a batched kind's takes none.
    # The task claims and runs every due row itself (many rows at once, e.g. POSTs in parallel). The sweep starts it
    # when any row is due, without waiting for a lost task's margin: a needless run costs one claim query.
    batched: bool = False


_registry: dict[str, DueWork] = {}

# A task published for a time may start a moment before it (the hosts' clocks differ): within this, it is due.
EARLY_TOLERANCE = timedelta(seconds=1)


def is_due(at: datetime | None) -> bool:
    """Return whether work put off until `at` may run now (None: it was never put off)."""
    return at is None or at <= timezone.now() + EARLY_TOLERANCE


def due_work_register(work: DueWork) -> None:
    """Make the sweep look for rows of `work` (idempotent: registering again replaces it)."""
    _registry[work.name] = work


def _tasks_run_in_process() -> bool:
    from config.celery import app

    return bool(app.conf.task_always_eager)


def run_at(task, *, at: datetime, pk: int | None = None) -> None:
    """Have `task(pk)` (a batched kind's `task()`) run at `at`, never inside the caller.

    The row must already hold `at`, for the sweep.
    """
    if _tasks_run_in_process():
        return  # The sweep starts it once due.
    args = [] if pk is None else [pk]
    transaction.on_commit(lambda: task.apply_async(args=args, eta=at))


def due_work_run(*, now: datetime | None = None, limit: int = DUE_WORK_BATCH) -> dict[str, int]:
    """Start the task of every registered row whose time has come; return how many were started per kind."""
    now = now or timezone.now()
    # With a broker each row's task is already on its way: only rows past their time by a margin were lost.
    grace = 0 if _tasks_run_in_process() else settings.DUE_WORK_LOST_AFTER_SECONDS
    due_before = now - timedelta(seconds=grace)
    started = {}
    for work in _registry.values():
        if work.batched:
            due = work.due_ids(due_before=now, limit=1)
            if due:
                _start(work)
            started[work.name] = len(due)
            continue
        ids = work.due_ids(due_before=due_before, limit=limit)
        for pk in ids:
            _start(work, pk)
        started[work.name] = len(ids)
    return started


def _start(work: DueWork, *args: int) -> None:
    try:
        work.task.delay(*args)  # In-process without a broker; the task's claim makes a duplicate harmless.
    except Exception:  # One broken row must not keep the others waiting; it is listed again next time.
        logger.exception("due work failed", extra={"kind": work.name, "id": args[0] if args else None})
