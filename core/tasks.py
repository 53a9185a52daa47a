"""Celery tasks of the core app: project-wide periodic work."""

from celery import shared_task


@shared_task(ignore_result=True)
def due_work_run_task() -> dict[str, int]:
    """Start every row whose time has come (periodic; core/due.py)."""
    from core.due import due_work_run

    return due_work_run()
