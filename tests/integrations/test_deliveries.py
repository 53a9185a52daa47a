"""Deliveries: signed as Standard Webhooks says, logged per attempt, retried on a schedule, never inside a request."""

import json
import socket
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from config.celery import app
from core.due import due_work_run
from integrations.models import Delivery, DeliveryAttempt
from integrations.services.deliveries import deliveries_claim, deliveries_send_due, retry_delay
from integrations.services.endpoints import endpoint_secret_rotate
from integrations.tasks import deliveries_send_due_task
from outbox import event_types
from outbox.services import event_record
from tests.groups.factories import GroupFactory
from tests.integrations.factories import WebhookEndpointFactory
from tests.spec import webhook_body

pytestmark = pytest.mark.django_db


def record_event():
    with transaction.atomic():
        return event_record(type=event_types.GROUP_UPDATED, obj=GroupFactory(), detail={"updated": ["subject"]})


def test_a_delivery_verifies_with_the_standardwebhooks_library(receiver, endpoint):
    # given
    event = record_event()
    # when
    assert deliveries_send_due() == 1
    # then
    (request,) = receiver.received
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload == event.body()
    assert request.headers["webhook-id"] == event.event_id
    assert request.path == "/hooks/groupdesk"
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempt_count, delivery.last_status_code) == (Delivery.State.SUCCEEDED, 1, 200)
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded, attempt.response_body) == (200, True, "ok")


def test_a_wrong_secret_does_not_verify(receiver, endpoint):
    # given
    record_event()
    # when
    deliveries_send_due()
    # then
    (request,) = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(WebhookEndpointFactory.build().secret).verify(request.body, request.headers)


def test_both_secrets_sign_during_a_rotation(receiver, endpoint):
    # given
    old_secret = endpoint.secret
    new_secret = endpoint_secret_rotate(endpoint=endpoint).secret
    record_event()
    # when
    deliveries_send_due()
    # then
    (request,) = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(request.body, request.headers)


def test_the_previous_secret_stops_signing_after_the_overlap(receiver, endpoint):
    # given
    old_secret = endpoint.secret
    endpoint_secret_rotate(endpoint=endpoint, now=timezone.now() - timedelta(hours=25))
    record_event()
    # when
    deliveries_send_due()
    # then
    (request,) = receiver.received
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


def test_a_failed_attempt_is_logged_and_retried_after_5_seconds(receiver, endpoint):
    # given
    receiver.statuses = [503]
    receiver.answer_body = b"x" * 5000
    record_event()
    before = timezone.now()
    # when
    deliveries_send_due()
    # then
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.attempt_count, delivery.last_status_code) == (Delivery.State.PENDING, 1, 503)
    assert before + timedelta(seconds=4.5) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=5.5)
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.succeeded, len(attempt.response_body)) == (503, False, 2048)
    # and it is not due again before then
    assert deliveries_send_due() == 0


def test_a_retry_comes_when_due_with_the_same_webhook_id(receiver, endpoint):
    # given
    receiver.statuses = [500, 200]
    record_event()
    deliveries_send_due()
    # when
    deliveries_send_due(now=timezone.now() + timedelta(seconds=6))
    # then
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert Delivery.objects.get().state == Delivery.State.SUCCEEDED
    assert DeliveryAttempt.objects.count() == 2


def test_retry_delays_follow_the_schedule_with_jitter():
    expected = [5, 300, 1800, 7200, 18000, 36000, 43200, 43200]
    for attempt, seconds in enumerate(expected, start=1):
        delay = retry_delay(attempt).total_seconds()
        assert seconds * 0.9 <= delay <= seconds * 1.1, attempt


def test_retries_stop_after_three_days(receiver, endpoint):
    # given
    receiver.statuses = [500]
    record_event()
    Delivery.objects.update(retrying_since=timezone.now() - timedelta(hours=73))
    # when
    deliveries_send_due()
    # then
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.next_attempt_at) == (Delivery.State.FAILED, None)


def test_an_endpoint_failing_for_more_than_three_days_is_disabled(receiver, endpoint):
    # given
    receiver.statuses = [500]
    endpoint.failing_since = timezone.now() - timedelta(hours=73)
    endpoint.save()
    record_event()
    # when
    deliveries_send_due()
    # then
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert endpoint.disabled_at is not None and "failed" in endpoint.disabled_reason
    # and its deliveries wait: nothing more is sent to it
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert deliveries_send_due() == 0


def test_a_success_clears_the_failing_time(receiver, endpoint):
    # given
    endpoint.failing_since = timezone.now() - timedelta(hours=30)
    endpoint.save()
    record_event()
    # when
    deliveries_send_due()
    # then
    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.failing_since) == (True, None)


def test_the_first_failure_starts_the_failing_time(receiver, endpoint):
    # given
    receiver.statuses = [500]
    record_event()
    # when
    deliveries_send_due()
    # then
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is not None


def test_redirects_are_not_followed(receiver, endpoint):
    # given
    receiver.statuses = [302]
    receiver.extra_headers = {"Location": receiver.url + "/elsewhere"}
    record_event()
    # when
    deliveries_send_due()
    # then
    assert [r.path for r in receiver.received] == ["/hooks/groupdesk"]
    delivery = Delivery.objects.get()
    assert (delivery.state, delivery.last_status_code) == (Delivery.State.PENDING, 302)


def test_a_receiver_that_never_answers_times_out(settings):
    # given: a socket that accepts connections (the backlog) and never answers
    settings.INTEGRATIONS_READ_TIMEOUT = 0.2
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    WebhookEndpointFactory(url=f"http://127.0.0.1:{silent.getsockname()[1]}/")
    record_event()
    # when
    try:
        deliveries_send_due()
    finally:
        silent.close()
    # then
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.status_code, attempt.error) == (None, "Read timeout.")
    assert Delivery.objects.get().state == Delivery.State.PENDING


def test_a_worker_killed_during_delivery_leaves_it_to_be_sent_later(receiver, endpoint):
    # given: a worker claimed the delivery, then died before sending it
    record_event()
    now = timezone.now()
    assert len(deliveries_claim(now=now, limit=10)) == 1
    assert deliveries_send_due(now=now) == 0  # Held by the dead worker's lease...
    # when
    sent = deliveries_send_due(now=now + timedelta(minutes=2))  # ...until the lease ends.
    # then
    assert sent == 1
    assert len(receiver.received) == 1
    assert Delivery.objects.get().state == Delivery.State.SUCCEEDED


def test_a_webhook_request_records_the_delivery_without_sending_it(receiver, endpoint, post_webhook):
    # given: the embedded default, tasks eager
    assert app.conf.task_always_eager
    GroupFactory(spec_g1=True)
    # when
    response = post_webhook(webhook_body("messages.inbound_text"))
    # then: the request answered without calling the receiver; the periodic runner's due-work sweep sends it
    assert response.status_code == 200
    assert (receiver.received, Delivery.objects.get().state) == ([], Delivery.State.PENDING)
    due_work_run()
    assert [json.loads(r.body)["type"] for r in receiver.received] == [event_types.MESSAGE_INBOUND]


def test_a_due_delivery_is_sent_by_the_due_work_runner_and_one_not_yet_due_is_not(receiver, endpoint, settings):
    # given: one delivery due now, one whose retry is a minute away
    record_event()
    later = record_event()
    Delivery.objects.filter(event_id=later.event_id).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    # when
    started = due_work_run()
    # then: one way to run due work (no beat entry of its own); its task is on the integrations queue
    assert started["deliveries"] == 1
    assert len(receiver.received) == 1
    assert not any(e["task"] == deliveries_send_due_task.name for e in settings.CELERY_BEAT_SCHEDULE.values())
    assert app.amqp.router.route({}, deliveries_send_due_task.name)["queue"].name == "integrations"


def test_with_a_broker_the_sweep_starts_one_sender_for_all_due_deliveries_at_once(endpoint, monkeypatch, settings):
    # given: due deliveries, and no lost-task margin for them (a needless sender run costs one claim query)
    app.conf.task_always_eager = False  # Restored by the autouse celery_eager_unless_integration.
    settings.DUE_WORK_LOST_AFTER_SECONDS = 300
    started = []
    monkeypatch.setattr(deliveries_send_due_task, "delay", lambda *args: started.append(args))
    for _ in range(3):
        record_event()
    # when
    due_work_run()
    # then
    assert started == [()]


def test_with_a_broker_a_failed_batch_publishes_one_wake_up_for_its_soon_retries(
    receiver, endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    # given
    receiver.statuses = [503]
    for _ in range(3):
        record_event()
    app.conf.task_always_eager = False  # Restored by the autouse celery_eager_unless_integration.
    published = []
    monkeypatch.setattr(deliveries_send_due_task, "apply_async", lambda args, eta: published.append((args, eta)))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        deliveries_send_due()
    # then: one publish, when the last of the batch's retries (5 s +-10%) is due
    assert published == [([], max(Delivery.objects.values_list("next_attempt_at", flat=True)))]


def test_one_sender_thread_sends_the_whole_batch(receiver, endpoint, settings):
    # given
    settings.INTEGRATIONS_DELIVERY_CONCURRENCY = 1
    for _ in range(3):
        record_event()
    # when
    sent = deliveries_send_due()
    # then
    assert (sent, len(receiver.received)) == (3, 3)
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SUCCEEDED}


def test_parallel_senders_send_the_whole_batch_once(receiver, endpoint):
    # given
    for _ in range(20):
        record_event()
    # when
    assert deliveries_send_due() == 20
    # then
    assert len({r.headers["webhook-id"] for r in receiver.received}) == len(receiver.received) == 20
