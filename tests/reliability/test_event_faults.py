"""Outbound events under faults, on a real deployment (bench/harness.py: gunicorn, a Celery worker consuming the
`integrations` queue, PostgreSQL, Redis). Run by `make fault-tests` (GROUPDESK_FAULT_TESTS=1).

The beat is not running here: where it would wake the sender every 2 s, the test queues the task itself.
"""

import os
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from bench.harness import Deployment, free_port, wait_for
from integrations.models import Delivery
from integrations.services.deliveries import deliveries_send_due
from integrations.tasks import deliveries_send_due_task
from messaging.events import StatusEvent
from messaging.services import message_status_apply
from outbox.models import OutboxEvent
from tests.integrations.factories import WebhookEndpointFactory
from tests.integrations.receiver import start_receiver
from tests.reliability.test_faults import PARTICIPANTS, _messages, _status_body
from tests.spec import sign

pytestmark = [
    pytest.mark.skipif(not os.environ.get("GROUPDESK_FAULT_TESTS"),
                       reason="kills and restarts servers for minutes: run by `make fault-tests`"),
    pytest.mark.django_db(transaction=True),
]

# Short timeouts keep a killed sender's lease (connect + read + 30 s) under a minute.
TIMEOUTS = {"INTEGRATIONS_CONNECT_TIMEOUT": "1", "INTEGRATIONS_READ_TIMEOUT": "2"}


@pytest.fixture
def deployment(django_db_blocker, graph, settings):
    graph.add_passthru("http://127.0.0.1")
    for name, value in TIMEOUTS.items():
        setattr(settings, name, float(value))
    with django_db_blocker.unblock():
        db = connection.settings_dict
    env = {**os.environ, **TIMEOUTS, "INTEGRATIONS_ALLOW_PRIVATE_URLS": "true", "DATABASE_CONN_MAX_AGE": "0",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    deployment = Deployment(env=env, web_workers=2)
    deployment.start_web()
    deployment.start_worker()
    yield deployment
    deployment.stop()


def _post_statuses(deployment: Deployment, count: int) -> None:
    """Post `count` signed per-participant `delivered` statuses through gunicorn (each a message.receipt)."""
    sent = 0
    for message, people in _messages(count // PARTICIPANTS + 1):
        for person in people:
            if sent == count:
                return
            body = _status_body(message.wamid, message.group.group_id, person, "delivered", 1771322000)
            assert deployment.post_webhook(body, sign(body)) == 200
            sent += 1


def _all_delivered() -> bool:
    deliveries_send_due_task.delay()  # What the due-work sweep starts when a delivery is due.
    return not Delivery.objects.exclude(state=Delivery.State.SUCCEEDED).exists() and Delivery.objects.exists()


def test_a_receiver_down_then_up_gets_every_event_once(deployment):
    # given: the endpoint's port has no receiver yet
    port = free_port()
    WebhookEndpointFactory(url=f"http://127.0.0.1:{port}/hooks")
    _post_statuses(deployment, 40)
    wait_for(lambda: Delivery.objects.filter(attempt_count__gte=1).count() >= OutboxEvent.objects.count() > 0,
             timeout=120, interval=0.5, what="first attempts refused")
    # when: the receiver comes up; retries come due (moved forward: the schedule's own 5 s, without the wait)
    receiver, server = start_receiver(port)
    try:
        Delivery.objects.update(next_attempt_at=timezone.now())
        wait_for(_all_delivered, timeout=120, interval=1, what="every event delivered")
    finally:
        server.shutdown()
        server.server_close()
    # then: every event arrived, and each exactly once (the refused attempts never reached it)
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(ids) == set(OutboxEvent.objects.values_list("event_id", flat=True))
    assert set(ids.values()) == {1}


def test_a_worker_killed_during_delivery_delivers_later(deployment):
    # given: a receiver that holds requests, and a worker in the middle of sending to it
    receiver, server = start_receiver()
    receiver.hang_seconds = 30
    WebhookEndpointFactory(url=receiver.url)
    _post_statuses(deployment, 1)  # A message's first delivery: message.delivered and message.receipt.
    wait_for(lambda: len(receiver.received) >= OutboxEvent.objects.count() > 0, timeout=60, interval=0.2,
             what="every POST in flight")
    # when: the worker dies mid-POST, and comes back
    deployment.kill_worker()
    receiver.hang_seconds = 0
    deployment.start_worker()
    try:
        wait_for(_all_delivered, timeout=120, interval=2, what="delivered after the lease ran out")
    finally:
        server.shutdown()
        server.server_close()
    # then: each event sent again (same webhook-id) and delivered; nothing else was sent
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert set(ids) == set(OutboxEvent.objects.values_list("event_id", flat=True))
    assert set(ids.values()) == {2}  # The killed attempt, then the delivered one.
    assert set(Delivery.objects.values_list("attempt_count", flat=True)) == {1}  # The killed one recorded nothing.


def test_a_rolled_back_change_sends_nothing(deployment):
    # given
    receiver, server = start_receiver()
    WebhookEndpointFactory(url=receiver.url)
    ((message, people),) = _messages(1)
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        message_status_apply(event=StatusEvent(wamid=message.wamid, status="delivered", timestamp=timezone.now(),
                                               participant_wa_id=people[0]))
        raise RuntimeError("rolled back after recording")
    deliveries_send_due(now=timezone.now() + timedelta(hours=1))
    server.shutdown()
    server.server_close()
    # then
    assert (OutboxEvent.objects.count(), Delivery.objects.count(), receiver.received) == (0, 0, [])
