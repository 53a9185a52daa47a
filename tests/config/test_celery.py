"""Celery configuration: every beat entry names a real task, and tasks are routed to their queues."""

import pytest
from django.conf import settings

from config.celery import app


@pytest.fixture(scope="module", autouse=True)
def registered_tasks():
    app.loader.import_default_modules()


@pytest.mark.parametrize("entry", sorted(settings.CELERY_BEAT_SCHEDULE))
def test_every_beat_entry_names_a_registered_task(entry):
    assert settings.CELERY_BEAT_SCHEDULE[entry]["task"] in app.tasks


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("webhooks.tasks.webhook_events_drain_task", "webhooks"),
        ("groups.tasks.group_operation_send_task", "outbound"),
        ("messaging.tasks.message_send_task", "outbound"),
    ],
)
def test_tasks_are_routed_to_their_queue(task, queue):
    assert task in app.tasks
    route = app.amqp.router.route({}, task)
    assert route["queue"].name == queue


def test_tasks_are_json_acked_late_and_time_limited():
    conf = app.conf
    assert (conf.task_serializer, conf.accept_content) == ("json", ["json"])
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.task_soft_time_limit < conf.task_time_limit


@pytest.mark.django_db
def test_periodic_tasks_run_in_process_once(capsys):
    from django.core.management import call_command

    call_command("run_periodic_tasks", "--once")
