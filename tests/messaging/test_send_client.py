"""The send pipeline uses get_cloud_api_client: one session per worker thread, rebuilt when its settings change."""

import pytest
import requests

from messaging.services import message_send
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"


def _answer(graph, count: int) -> None:
    for n in range(count):
        response = graph_json("send_text_to_group.response")
        response["messages"][0]["id"] += str(n)  # One wamid per message.
        graph.post(MESSAGES_URL, json=response)


def _count_sessions(monkeypatch) -> list:
    made = []

    class CountingSession(requests.Session):
        def __init__(self):
            made.append(self)
            super().__init__()

    monkeypatch.setattr("groups.cloud_api.client.requests.Session", CountingSession)
    return made


def test_message_send_reuses_one_http_session(graph, settings, monkeypatch):
    # given: settings no earlier test used, so this thread has no client for them yet
    settings.WHATSAPP_READ_TIMEOUT = 14.5
    sessions = _count_sessions(monkeypatch)
    group = GroupFactory()
    messages = [OutboundMessageFactory(group=group) for _ in range(3)]
    _answer(graph, 3)
    # when
    for message in messages:
        message_send(message_id=message.pk)
    # then: one session, so one kept-alive connection, for every send
    assert len(sessions) == 1
    assert len(graph.calls) == 3


def test_message_send_uses_a_changed_token_at_once(graph, settings):
    # given
    group = GroupFactory()
    first, second = OutboundMessageFactory(group=group), OutboundMessageFactory(group=group)
    _answer(graph, 2)
    message_send(message_id=first.pk)
    # when
    settings.WHATSAPP_ACCESS_TOKEN = "rotated-access-token-0123456789"
    message_send(message_id=second.pk)
    # then
    assert graph.calls[0].request.headers["Authorization"] == "Bearer test-access-token-0123456789"
    assert graph.calls[1].request.headers["Authorization"] == "Bearer rotated-access-token-0123456789"
