"""Waking senders with a broker: a burst of recording transactions publishes one wake-up, and none is lost."""

import pytest
from django.core.cache import cache
from django.db import transaction

from config.celery import app
from integrations.models import Delivery
from integrations.services import deliveries, wake
from integrations.services.deliveries import deliveries_send_all_due
from integrations.tasks import deliveries_send_due_task
from outbox import event_types
from outbox.services import event_record
from tests.groups.factories import GroupFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(settings, tmp_path, monkeypatch):
    """A broker (tasks not eager) whose sender publishes are counted, and a cache every process shares."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(tmp_path)}}
    app.conf.task_always_eager = False  # Restored by the autouse celery_eager_unless_integration.
    calls = []
    monkeypatch.setattr(deliveries_send_due_task, "apply_async", lambda **kwargs: calls.append(kwargs))
    return calls


def commit_an_event(capture) -> None:
    """One recording transaction, committed (its on-commit wake-up runs)."""
    with capture(execute=True), transaction.atomic():
        event_record(type=event_types.GROUP_UPDATED, obj=GroupFactory(), detail={"updated": ["subject"]})


def test_a_burst_of_recording_transactions_publishes_one_wake_up(endpoint, published,
                                                                 django_capture_on_commit_callbacks):
    # when
    for _ in range(20):
        commit_an_event(django_capture_on_commit_callbacks)
    # then
    assert Delivery.objects.count() == 20
    assert len(published) == 1


def test_the_sender_clears_the_flag_so_the_next_commit_wakes_another(receiver, endpoint, published,
                                                                      django_capture_on_commit_callbacks):
    # given: a burst, and the sender it woke
    for _ in range(3):
        commit_an_event(django_capture_on_commit_callbacks)
    # when
    sent = deliveries_send_all_due(max_seconds=30)
    commit_an_event(django_capture_on_commit_callbacks)
    # then
    assert (sent, len(receiver.received)) == (3, 3)
    assert len(published) == 2


def test_a_delivery_committed_while_the_flag_is_still_set_is_sent_by_the_sender_s_last_look(
    receiver, endpoint, published, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a sender on its way (the flag set), whose first look finds nothing
    cache.add(f"{wake.WAKE_FLAG}:0", 1)
    looks = []
    send_due = deliveries.deliveries_send_due

    def a_commit_lands_after_the_first_look(**kwargs):
        looks.append(kwargs)
        if len(looks) == 1:
            commit_an_event(django_capture_on_commit_callbacks)  # The flag is set: it publishes nothing.
            return 0
        return send_due(**kwargs)

    monkeypatch.setattr(deliveries, "deliveries_send_due", a_commit_lands_after_the_first_look)
    # when
    sent = deliveries_send_all_due(max_seconds=30)
    # then: the sender cleared the flag and looked once more
    assert (sent, len(receiver.received), published) == (1, 1, [])
    assert cache.get(f"{wake.WAKE_FLAG}:0") is None


def test_a_sender_past_its_time_budget_hands_the_rest_to_a_fresh_task(receiver, endpoint, published, settings):
    # given: two batches due, one sender allowed
    settings.INTEGRATIONS_BATCH_SIZE, settings.INTEGRATIONS_SENDERS = 1, 1
    for _ in range(2):
        with transaction.atomic():
            event_record(type=event_types.GROUP_UPDATED, obj=GroupFactory(), detail={"updated": ["subject"]})
    # when
    sent = deliveries_send_all_due(max_seconds=0)
    # then
    assert (sent, len(receiver.received)) == (1, 1)
    assert [call["kwargs"] for call in published] == [{"slot": 0}]


def test_a_backlog_wakes_one_more_sender_per_slot(receiver, endpoint, published, settings):
    # given: a backlog of full batches, two senders allowed
    settings.INTEGRATIONS_BATCH_SIZE, settings.INTEGRATIONS_SENDERS = 2, 2
    for _ in range(6):
        with transaction.atomic():
            event_record(type=event_types.GROUP_UPDATED, obj=GroupFactory(), detail={"updated": ["subject"]})
    # when: the first sender sends it all (the second, woken, would share the work)
    sent = deliveries_send_all_due(max_seconds=30)
    # then: its three full batches woke the second slot once
    assert (sent, len(receiver.received)) == (6, 6)
    assert [call["kwargs"] for call in published] == [{"slot": 1}]
