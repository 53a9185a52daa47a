"""Retries in the embedded default (no broker, tasks in-process): never inside the caller, run by the periodic runner.

Issue 16 §1: a retryable refusal used to re-enqueue the send with a countdown that eager Celery ignores, so
the task recursed inside the request (500 after a RecursionError). Here Meta refuses twice with 130429, then
accepts; the clock is moved on, never slept.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from messaging.models import OutboundMessage
from tests.messaging.factories import GroupFactory, ParticipantFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
COMPOSE = "/admin/messaging/outboundmessage/compose/"


class Clock:
    """`timezone.now()` for everything that asks, moved on by hand."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def pass_(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django.utils.timezone.now", clock)
    return clock


@pytest.fixture
def group():
    group = GroupFactory(spec_g1=True)
    ParticipantFactory(group=group, wa_id="16505551234")
    return group


@pytest.fixture
def meta_refuses_twice_then_accepts(graph):
    for _ in range(2):
        graph.post(MESSAGES_URL, status=429, json=graph_json("error.rate_limit_130429"))
    graph.post(MESSAGES_URL, json=graph_json("send_text_to_group.response"))
    return graph


def _run_periodic_tasks_until_settled(message: OutboundMessage, clock: Clock, graph) -> None:
    """Run the periodic runner as `make run` does: before each retry is due (nothing is sent), then once due."""
    for calls_so_far in (1, 2):
        message.refresh_from_db()
        assert (message.status, len(graph.calls)) == ("queued", calls_so_far)
        assert message.next_attempt_at > clock.now
        call_command("run_periodic_tasks", "--once")
        assert len(graph.calls) == calls_so_far  # Not due yet.
        clock.now = message.next_attempt_at
        call_command("run_periodic_tasks", "--once")
    message.refresh_from_db()


def _assert_accepted_after_three_calls(message: OutboundMessage, graph) -> None:
    assert message.status == "accepted"
    assert message.attempt_count == 3
    assert len(graph.calls) == 3
    assert list(message.status_changes.order_by("pk").values_list("status", flat=True)) == [
        "queued", "sending", "retry_scheduled", "sending", "retry_scheduled", "sending", "accepted",
    ]


def test_rest_send_refused_twice_answers_202_at_once_and_is_accepted_by_the_periodic_runner(
    admin_api, group, clock, meta_refuses_twice_then_accepts, django_capture_on_commit_callbacks
):
    # given
    graph = meta_refuses_twice_then_accepts
    # when: the send runs in-process on commit, as without a broker
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "Hi"}}, format="json"
        )
    # then: answered at once, one call made, the retry waiting on the row
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    message = OutboundMessage.objects.get(pk=response.json()["id"])
    assert len(graph.calls) == 1
    # when
    _run_periodic_tasks_until_settled(message, clock, graph)
    # then
    _assert_accepted_after_three_calls(message, graph)


def test_admin_compose_send_refused_twice_is_accepted_by_the_periodic_runner(
    client, superuser, group, clock, meta_refuses_twice_then_accepts, django_capture_on_commit_callbacks
):
    # given
    graph = meta_refuses_twice_then_accepts
    client.force_login(superuser)
    form = {"groups": [group.pk], "type": "text", "body": "Parcel on its way", "token": "t1", "_send": "Send"}
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(COMPOSE, form)
    # then
    assert response.status_code == 302
    message = OutboundMessage.objects.get()
    assert len(graph.calls) == 1
    # when
    _run_periodic_tasks_until_settled(message, clock, graph)
    # then
    _assert_accepted_after_three_calls(message, graph)


def test_a_message_whose_retries_are_spent_fails_with_metas_code(
    admin_api, group, clock, graph, settings, django_capture_on_commit_callbacks
):
    # given
    settings.META_RETRY_MAX_ATTEMPTS = 2
    for _ in range(2):
        graph.post(MESSAGES_URL, status=429, json=graph_json("error.rate_limit_130429"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(
            "/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "Hi"}}, format="json"
        )
    message = OutboundMessage.objects.get(pk=response.json()["id"])
    clock.now = message.next_attempt_at
    call_command("run_periodic_tasks", "--once")
    # then
    message.refresh_from_db()
    assert (response.status_code, message.status, message.error_code) == (202, "failed", "130429")
    assert len(graph.calls) == 2
