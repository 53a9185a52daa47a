"""The Celery app; every option lives in settings under the CELERY_ namespace."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("groupdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Keep a worker's database connections as Django keeps a web process's (CELERY_DB_REUSE_MAX in settings).

    Closed when older than DATABASE_CONN_MAX_AGE, or unusable after an error (PostgreSQL restarted), so the next
    task connects afresh. An eager task runs inside its caller's request or transaction: left alone.
    """
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
