"""The due-work sweep (core/due.py): rows that wait for a time are started once due, never inside their caller."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app
from core.due import due_work_run, run_at
from messaging.models import OutboundMessage
from messaging.tasks import message_send_task
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db


def test_every_kind_of_row_that_can_wait_is_swept():
    assert set(due_work_run()) == {"outbound-messages", "group-operations", "deliveries"}


def test_without_a_broker_run_at_publishes_nothing_and_the_sweep_starts_the_row_once_due(monkeypatch):
    # given
    started = []
    monkeypatch.setattr(message_send_task, "delay", started.append)
    monkeypatch.setattr(message_send_task, "apply_async", lambda **kwargs: pytest.fail("published"))
    message = OutboundMessageFactory()
    at = timezone.now() + timedelta(seconds=30)
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=at)
    # when
    run_at(message_send_task, pk=message.pk, at=at)
    early = due_work_run(now=at - timedelta(seconds=1))
    due = due_work_run(now=at)
    # then
    assert (early["outbound-messages"], due["outbound-messages"]) == (0, 1)
    assert started == [message.pk]


def test_with_a_broker_the_row_is_published_for_its_time_and_swept_only_once_lost(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    # given
    app.conf.task_always_eager = False  # Restored by the autouse celery_eager_unless_integration.
    settings.DUE_WORK_LOST_AFTER_SECONDS = 300
    published, started = [], []
    monkeypatch.setattr(message_send_task, "apply_async", lambda args, eta: published.append((args, eta)))
    monkeypatch.setattr(message_send_task, "delay", started.append)
    message = OutboundMessageFactory()
    at = timezone.now() + timedelta(seconds=30)
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=at)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        run_at(message_send_task, pk=message.pk, at=at)
    on_time = due_work_run(now=at + timedelta(seconds=1))  # Its published task runs it; no second start.
    lost = due_work_run(now=at + timedelta(seconds=301))
    # then
    assert published == [([message.pk], at)]
    assert (on_time["outbound-messages"], lost["outbound-messages"]) == (0, 1)
    assert started == [message.pk]
