"""Two retries of one failure asked at once (PostgreSQL: SQLite serialises every write anyway)."""

import threading

import pytest
from django.db import connection

from messaging.models import OutboundMessage
from messaging.services import message_retry
from messaging.tasks import message_send_task
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.messaging.group_lock import group_lock_held

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_two_retries_asked_at_once_queue_one_message(monkeypatch):
    # given: a failed message; its group held by another transaction while both retries are asked
    failed = OutboundMessageFactory(group=GroupFactory(), status="failed", error_code="131020")
    answers: list[int] = []
    # Sends are recorded, not published: the session's real worker (started by other tests) would send the retry
    # while this test's teardown truncates the tables. Sending is tested elsewhere; here, how many are queued.
    queued: list[int] = []
    monkeypatch.setattr(message_send_task, "delay", queued.append)

    def retry() -> None:
        try:
            answers.append(message_retry(message=OutboundMessage.objects.get(pk=failed.pk))[0].pk)
        finally:
            connection.close()

    clicks = [threading.Thread(target=retry) for _ in range(2)]
    # when: both wait on the group, then run one after the other
    with group_lock_held(failed.group_id):
        for click in clicks:
            click.start()
    for click in clicks:
        click.join(timeout=20)
    # then
    retries = list(OutboundMessage.objects.filter(retry_of=failed).values_list("pk", flat=True))
    assert len(retries) == 1
    assert answers == retries * 2
    assert queued == retries
