"""A worker keeps its database connection across tasks, as a web process does across requests (issue 9, P6)."""

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import _close_old_connections, app
from messaging.tasks import message_send_task

# On PostgreSQL (`make test-services`): SQLite's in-memory test database is never closed.
pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),  # Outside a test transaction, as a worker runs its tasks.
]


def _run_a_task(fixup: DjangoWorkerFixup) -> None:
    """What a worker does around each task: Celery's Django fixup and our handlers, before and after."""
    fixup.on_task_prerun(sender=message_send_task)
    _close_old_connections(task=message_send_task)
    connection.ensure_connection()  # The task's own queries.
    fixup.on_task_postrun(sender=message_send_task)
    _close_old_connections(task=message_send_task)


def test_tasks_reuse_the_connection(settings):
    # given: a worker's fixup, and a connection younger than DATABASE_CONN_MAX_AGE
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    fixup = DjangoWorkerFixup(app)
    connection.close()
    connection.ensure_connection()
    opened = connection.connection
    # when: five tasks run (Celery's fixup alone closed it before and after each one)
    for _ in range(5):
        _run_a_task(fixup)
    # then
    assert connection.connection is opened


def test_a_broken_connection_is_replaced_before_the_next_task(settings):
    # given: the server dropped the connection (a PostgreSQL restart) and a query noticed it
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 60
    connection.close()
    connection.ensure_connection()
    broken = connection.connection
    broken.close()
    connection.errors_occurred = True
    # when
    _close_old_connections(task=message_send_task)
    connection.ensure_connection()
    # then: the next task works on a new connection
    assert connection.connection is not broken
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
