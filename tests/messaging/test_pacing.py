"""Pacing per phone number: slots shared through the database (or Redis), never faster than the rate."""

import os
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messaging.models import OutboundMessage, SendPace
from messaging.pacing import PACE_HEADROOM, pace_acquire, pace_phone_number, pacing_backend
from messaging.services import message_send
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json

TOLERANCE = timedelta(milliseconds=1)  # Rounding of the slot arithmetic, not time.

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"


def test_slots_are_spaced_by_the_rate(settings):
    # given: four sends asked for at the same instant, at 2 messages per second
    settings.MESSAGE_PACING_BACKEND = "database"
    # when
    decisions = [pace_acquire(key="phone:1", rate_per_second=2, max_wait=10, now=1000.0) for _ in range(4)]
    # then
    assert [d.wait for d in decisions] == [0.0, 0.5, 1.0, 1.5]
    assert all(d.acquired for d in decisions)


def test_a_slot_too_far_is_not_taken(settings):
    # given
    settings.MESSAGE_PACING_BACKEND = "database"
    for _ in range(3):
        pace_acquire(key="phone:1", rate_per_second=1, max_wait=5, now=1000.0)
    # when
    refused = pace_acquire(key="phone:1", rate_per_second=1, max_wait=1.5, now=1000.0)
    # then
    assert (refused.acquired, refused.wait) == (False, 3.0)
    assert SendPace.objects.get(key="phone:1").next_free_at == 1003.0  # Nothing reserved by the refusal.


def test_numbers_are_paced_independently(settings):
    settings.MESSAGE_PACING_BACKEND = "database"
    pace_acquire(key="phone:1", rate_per_second=1, max_wait=5, now=1000.0)
    other = pace_acquire(key="phone:2", rate_per_second=1, max_wait=5, now=1000.0)
    assert other.wait == 0.0


def test_an_idle_bucket_starts_from_now(settings):
    settings.MESSAGE_PACING_BACKEND = "database"
    pace_acquire(key="phone:1", rate_per_second=1, max_wait=5, now=1000.0)
    later = pace_acquire(key="phone:1", rate_per_second=1, max_wait=5, now=2000.0)
    assert later.wait == 0.0


def test_message_send_waits_for_its_numbers_slot(graph, settings, monkeypatch):
    # given: rate 4/s (less the headroom), so the third of three sends at once waits about half a second
    settings.MESSAGE_PACING_BACKEND = "database"
    settings.MESSAGE_SEND_RATE_PER_SECOND = 4
    slept: list[float] = []
    monkeypatch.setattr("messaging.pacing.time.sleep", slept.append)
    monkeypatch.setattr("messaging.pacing.time.time", lambda: 5000.0)
    group = GroupFactory()
    messages = [OutboundMessageFactory(group=group) for _ in range(3)]
    for n, _ in enumerate(messages):
        response = graph_json("send_text_to_group.response")
        response["messages"][0]["id"] += str(n)  # One wamid per message.
        graph.post(MESSAGES_URL, json=response)
    # when
    for message in messages:
        message_send(message_id=message.pk)
    # then
    interval = 1 / (4 * PACE_HEADROOM)
    assert slept == pytest.approx([interval, 2 * interval])


def test_message_send_waits_for_its_slot_after_claiming_the_message(graph, settings, monkeypatch):
    # given: the second send's slot is a quarter second away
    settings.MESSAGE_PACING_BACKEND = "database"
    settings.MESSAGE_SEND_RATE_PER_SECOND = 4
    monkeypatch.setattr("messaging.pacing.time.time", lambda: 5000.0)
    group = GroupFactory()
    first, second = OutboundMessageFactory(group=group), OutboundMessageFactory(group=group)
    for n in range(2):
        response = graph_json("send_text_to_group.response")
        response["messages"][0]["id"] += str(n)
        graph.post(MESSAGES_URL, json=response)
    status_while_waiting: list[str] = []
    monkeypatch.setattr(
        "messaging.pacing.time.sleep",
        lambda seconds: status_while_waiting.append(OutboundMessage.objects.get(pk=second.pk).status),
    )
    # when
    message_send(message_id=first.pk)
    message_send(message_id=second.pk)
    # then: the claim's database work is done during the wait, so the call leaves on its slot
    assert status_while_waiting == ["sending"]
    assert len(graph.calls) == 2


def test_paced_sends_never_exceed_the_ceiling_in_any_second(settings):
    # given: Meta's ceiling of 80/s and many sends asked for at once
    settings.MESSAGE_PACING_BACKEND = "database"
    settings.MESSAGE_SEND_RATE_PER_SECOND = 80
    settings.MESSAGE_PACE_MAX_WAIT_SECONDS = 100
    # when
    slots = [pace_phone_number(phone_number_id="1", rate_per_second=1000).at for _ in range(400)]
    # then: at most 80 in any 1 s window (leaving slack for late sends), and above 95% of 80/s
    busiest = max(sum(1 for other in slots if slot <= other < slot + 1) for slot in slots)
    rate = (len(slots) - 1) / (slots[-1] - slots[0])
    assert busiest < 80
    assert 0.95 * 80 <= rate < 80


@pytest.mark.parametrize("broker", [False, True])
def test_message_send_puts_off_a_send_whose_slot_is_too_far(
    graph, settings, monkeypatch, django_capture_on_commit_callbacks, broker
):
    # given
    from config.celery import app

    settings.MESSAGE_PACING_BACKEND = "database"
    settings.MESSAGE_SEND_RATE_PER_SECOND = 1
    settings.MESSAGE_PACE_MAX_WAIT_SECONDS = 0.5
    monkeypatch.setattr("messaging.pacing.time.time", lambda: 5000.0)
    app.conf.task_always_eager = not broker  # Restored by the autouse celery_eager_unless_integration.
    published = []
    monkeypatch.setattr(
        "messaging.tasks.message_send_task.apply_async", lambda args, eta: published.append((args, eta))
    )
    group = GroupFactory()
    first, second = OutboundMessageFactory(group=group), OutboundMessageFactory(group=group)
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    # when
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        message_send(message_id=first.pk)
        message_send(message_id=second.pk)
    # then: it waits for its slot on its row; a broker gets it for then, without one the due-work sweep runs it
    second.refresh_from_db()
    assert second.status == "queued"
    assert second.attempt_count == 0
    # The slot is computed on the frozen pacing clock; only the wall-clock moment of the call varies, so the wait is
    # bounded by the times read before and after it (never by how slow this machine is).
    after = timezone.now()
    slot = timedelta(seconds=1 / PACE_HEADROOM)
    assert before + slot - TOLERANCE <= second.next_attempt_at <= after + slot + TOLERANCE
    assert published == ([([second.pk], second.next_attempt_at)] if broker else [])


def test_backend_follows_the_broker(settings):
    settings.MESSAGE_PACING_BACKEND = "auto"
    settings.MESSAGE_PACING_REDIS_URL = "redis://127.0.0.1:6379/0"
    assert pacing_backend() == "redis"
    settings.MESSAGE_PACING_REDIS_URL = ""
    assert pacing_backend() == "database"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent row locks need PostgreSQL")
def test_concurrent_workers_never_share_a_slot(settings):
    # given
    settings.MESSAGE_PACING_BACKEND = "database"
    waits: list[float] = []

    def worker():
        for _ in range(10):
            waits.append(pace_acquire(key="phone:race", rate_per_second=10, max_wait=100, now=1000.0).wait)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert sorted(round(w, 6) for w in waits) == [round(n * 0.1, 6) for n in range(40)]


def _waits_of_four_processes(*args) -> tuple[list[int], list[float]]:
    """Run tests.messaging.pace_child in four spawned processes (as four Celery workers); return exit codes and waits.

    Spawned, not forked: a fork of this multi-threaded process (live server, worker pipes) can hang.
    """
    import multiprocessing

    from tests.messaging.pace_child import pace_in_a_process

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=pace_in_a_process, args=(results, 10, connection.settings_dict["NAME"], *args))
                 for _ in range(4)]
    for process in processes:
        process.start()
    waits = [wait for _ in processes for wait in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
    return [process.exitcode for process in processes], waits


@pytest.mark.integration
def test_redis_slots_are_never_shared_by_worker_processes():
    # given: four separate processes on one Redis, as the Celery workers of two instances are
    key = f"phone:processes-{os.getpid()}"
    # when
    exit_codes, waits = _waits_of_four_processes("redis", key, os.environ["CELERY_BROKER_URL"])
    # then: forty distinct slots, 0.1 s apart
    assert exit_codes == [0, 0, 0, 0]
    assert sorted(round(w, 6) for w in waits) == [round(n * 0.1, 6) for n in range(40)]


@pytest.mark.integration
def test_redis_backend_spaces_slots(settings):
    # given
    settings.MESSAGE_PACING_BACKEND = "redis"
    settings.MESSAGE_PACING_REDIS_URL = os.environ["CELERY_BROKER_URL"]
    key = f"phone:test-{os.getpid()}"
    # when
    decisions = [pace_acquire(key=key, rate_per_second=2, max_wait=1.2, now=1000.0) for _ in range(4)]
    # then
    assert [(d.acquired, d.wait) for d in decisions] == [(True, 0.0), (True, 0.5), (True, 1.0), (False, 1.5)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent row locks need PostgreSQL")
def test_worker_processes_never_share_a_slot(settings):
    # given: four separate processes, as four Celery workers would be
    settings.MESSAGE_PACING_BACKEND = "database"
    # when
    exit_codes, waits = _waits_of_four_processes()
    # then
    assert exit_codes == [0, 0, 0, 0]
    assert sorted(round(w, 6) for w in waits) == [round(n * 0.1, 6) for n in range(40)]
