"""R4 and R1: the webhook under a real deployment (bench/harness.py) while PostgreSQL, Redis, gunicorn
workers and the Celery worker fail. Run by `make fault-tests` (GROUPDESK_FAULT_TESTS=1); they take minutes.
"""

import json
import os
import random
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from bench.harness import Deployment, wait_for
from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import SPEC_DISPLAY_PHONE_NUMBER, SPEC_PHONE_NUMBER_ID, SPEC_WABA_ID, sign
from webhooks.models import WebhookEvent
from webhooks.services import webhook_events_sweep_pending

pytestmark = [
    pytest.mark.skipif(not os.environ.get("GROUPDESK_FAULT_TESTS"),
                       reason="kills and restarts servers for minutes: run by `make fault-tests`"),
    pytest.mark.django_db(transaction=True),
]

REPLAY_EVENTS = int(os.environ.get("FAULT_REPLAY_EVENTS", "10000"))
PARTICIPANTS = 8


@pytest.fixture
def deployment(django_db_blocker, graph):
    """gunicorn + a Celery worker on the test database (already migrated by pytest-django)."""
    graph.add_passthru("http://127.0.0.1")
    with django_db_blocker.unblock():
        db = connection.settings_dict
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "DATABASE_CONN_MAX_AGE": "0"}
    deployment = Deployment(env=env, web_workers=3)
    deployment.start_web()
    deployment.start_worker()
    yield deployment
    deployment.stop()


def _status_body(wamid: str, group_id: str, participant: str, status: str, ts: int) -> bytes:
    item = {"id": wamid, "status": status, "timestamp": str(ts), "recipient_id": group_id,
            "recipient_type": "group", "recipient_participant_id": participant}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": SPEC_WABA_ID, "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {
            "display_phone_number": SPEC_DISPLAY_PHONE_NUMBER, "phone_number_id": SPEC_PHONE_NUMBER_ID},
            "statuses": [item]}}]}]}).encode()


def _messages(count: int) -> list[tuple[OutboundMessage, list[str]]]:
    group = GroupFactory()
    people = [ParticipantFactory(group=group).wa_id for _ in range(PARTICIPANTS)]
    return [(OutboundMessageFactory(group=group, accepted=True, recipient_count=PARTICIPANTS), people)
            for _ in range(count)]


def _bodies(messages) -> list[bytes]:
    """One status per body: delivered and read for each participant of each message."""
    return [_status_body(message.wamid, message.group.group_id, person, status, 1772000000 + n)
            for message, people in messages for n, person in enumerate(people) for status in ("delivered", "read")]


def _settle(*, timeout: float) -> None:
    """Sweep pending events (as beat would, with expired leases) until none is left."""
    def done() -> bool:
        connection.close()
        later = timezone.now() + timedelta(hours=1)
        WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING, claimed_until__lt=timezone.now()).update(
            claimed_until=None)
        if not WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists():
            return True
        webhook_events_sweep_pending(now=later)
        return False

    wait_for(done, timeout=timeout, interval=2, what="every event processed")


def _reconnect() -> None:
    connection.close()


def test_postgres_down_answers_5xx_within_a_second_and_recovers_by_itself(deployment):
    # given
    [(message, people)] = _messages(1)
    body = _status_body(message.wamid, message.group.group_id, people[0], "delivered", 1772000000)
    assert deployment.post_webhook(body, sign(body)) == 200
    # when
    deployment.stop_postgres()
    try:
        other = _status_body(message.wamid, message.group.group_id, people[1], "delivered", 1772000001)
        started = time.monotonic()
        status = deployment.post_webhook(other, sign(other), timeout=5)
        elapsed = time.monotonic() - started
    finally:
        deployment.start_postgres()
    # then
    assert status is not None and status >= 500, status
    assert elapsed < 1.0, elapsed
    wait_for(lambda: deployment.post_webhook(other, sign(other)) == 200, timeout=30, what="recovery")
    _reconnect()
    _settle(timeout=60)
    assert MessageReceipt.objects.filter(message=message).count() == 2


def test_redis_down_still_answers_200_and_catches_up(deployment):
    # given
    [(message, people)] = _messages(1)
    bodies = [_status_body(message.wamid, message.group.group_id, p, "delivered", 1772000000 + n)
              for n, p in enumerate(people)]
    # when
    deployment.stop_redis()
    try:
        timings = []
        for body in bodies:
            started = time.monotonic()
            assert deployment.post_webhook(body, sign(body)) == 200
            timings.append(time.monotonic() - started)
        assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == len(bodies)
    finally:
        deployment.start_redis()
    # then: publishing never hung, and the sweep catches up once Redis is back
    assert max(timings) < 1.0, timings
    _settle(timeout=120)
    message.refresh_from_db()
    assert message.delivered_count == len(people)


def test_a_worker_killed_mid_batch_is_processed_again_without_duplicates(deployment):
    # given: one body of 1,000 statuses (125 messages x 8 participants)
    messages = _messages(125)
    items = [json.loads(_status_body(m.wamid, m.group.group_id, p, "delivered", 1772000000))["entry"][0]["changes"][0]
             ["value"]["statuses"][0] for m, people in messages for p in people]
    body = json.loads(_status_body("x", "x", "x", "delivered", 0))
    body["entry"][0]["changes"][0]["value"]["statuses"] = items
    raw = json.dumps(body).encode()
    # when: the worker dies while the event is being processed
    assert deployment.post_webhook(raw, sign(raw)) == 200
    # A drain claims the event, then applies its 1,000 statuses in one transaction: kill it once claimed.
    wait_for(lambda: WebhookEvent.objects.exclude(claimed_by="").exists(), timeout=60, interval=0.01,
             what="processing started")
    deployment.kill_worker()
    partial = MessageStatusChange.objects.filter(status="delivered").count()
    deployment.start_worker()
    # then: the lease ends (forced here rather than waiting CLAIM_LEASE) and the sweep runs it again
    WebhookEvent.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))
    _settle(timeout=180)
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED
    assert partial < len(items), "the kill came too late to test anything"
    assert event.attempts >= 2
    assert MessageStatusChange.objects.filter(status="delivered").count() == len(items)
    assert MessageReceipt.objects.count() == len(items)
    assert all(m.delivered_count == PARTICIPANTS for m in OutboundMessage.objects.all())


@pytest.mark.timeout(1800)  # Thousands of posts under faults, then the sweep catching up: minutes.
def test_replay_under_worker_kills_and_postgres_restarts_loses_nothing(deployment):
    # given
    per_message = PARTICIPANTS * 2
    messages = _messages(max(1, REPLAY_EVENTS // per_message))
    bodies = _bodies(messages)
    acknowledged: set[int] = set()
    stop = threading.Event()
    rng = random.Random(20260)
    faults = {"web_kills": 0, "pg_restarts": 0}

    def chaos():
        while not stop.wait(rng.uniform(0.5, 2.0)):
            if rng.random() < 0.7:
                pids = deployment.web_worker_pids()
                if pids:
                    deployment.kill_web_worker(rng.choice(pids))
                    faults["web_kills"] += 1
            else:
                deployment.stop_postgres()
                time.sleep(rng.uniform(0.2, 1.5))
                deployment.start_postgres()
                faults["pg_restarts"] += 1

    def send(indexes: list[int]) -> None:
        for index in indexes:
            if deployment.post_webhook(bodies[index], sign(bodies[index]), timeout=10) == 200:
                acknowledged.add(index)

    # when: every body once under faults, then (like Meta) redeliver what got no 200, in bounded rounds
    chaos_thread = threading.Thread(target=chaos, daemon=True)
    chaos_thread.start()
    try:
        senders = [threading.Thread(target=send, args=(list(range(n, len(bodies), 4)),)) for n in range(4)]
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join(timeout=1200)
    finally:
        stop.set()
        chaos_thread.join(timeout=30)
    first_round = len(acknowledged)
    for _ in range(10):
        missing = [n for n in range(len(bodies)) if n not in acknowledged]
        if not missing:
            break
        send(missing)
    # then
    assert len(acknowledged) == len(bodies)
    assert faults["web_kills"] and faults["pg_restarts"], faults
    _reconnect()
    _settle(timeout=600)
    print(f"R1: {len(bodies)} events, {first_round} acknowledged in the first round, faults {faults}")
    unprocessed = list(WebhookEvent.objects.exclude(state=WebhookEvent.State.PROCESSED).values("pk", "state", "error"))
    assert not unprocessed, unprocessed
    assert WebhookEvent.objects.count() == len(bodies)
    assert MessageStatusChange.objects.exclude(event_key=None).count() == len(bodies)
    assert MessageReceipt.objects.filter(read_at__isnull=False).count() == len(messages) * PARTICIPANTS
    assert set(OutboundMessage.objects.values_list("status", "delivered_count", "read_count")) == {
        ("read", PARTICIPANTS, PARTICIPANTS)}
