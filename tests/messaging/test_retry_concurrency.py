"""Two retries of one failure asked at once (PostgreSQL: SQLite serialises every write anyway)."""

import threading

import pytest
from django.db import connection, transaction

from groups.selectors import lock_groups
from messaging.models import OutboundMessage
from messaging.services import message_retry
from messaging.tasks import message_send_task
from tests.messaging.factories import GroupFactory, OutboundMessageFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def test_two_retries_asked_at_once_queue_one_message(monkeypatch):
    # given: a failed message; its group held by another transaction while both retries are asked
    failed = OutboundMessageFactory(group=GroupFactory(), status="failed", error_code="131020")
    holding, release = threading.Event(), threading.Event()
    answers: list[int] = []
    # Sends are recorded, not published: the session's real worker (started by other tests) would send the retry
    # while this test's teardown truncates the tables. Sending is tested elsewhere; here, how many are queued.
    queued: list[int] = []
    monkeypatch.setattr(message_send_task, "delay", queued.append)

    def hold_group() -> None:
        try:
            with transaction.atomic():
                list(lock_groups().filter(pk=failed.group_id))
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def retry() -> None:
        try:
            answers.append(message_retry(message=OutboundMessage.objects.get(pk=failed.pk))[0].pk)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_group)
    holder.start()
    assert holding.wait(timeout=10)
    clicks = [threading.Thread(target=retry) for _ in range(2)]
    # when: both wait on the group, then run one after the other
    for click in clicks:
        click.start()
    release.set()
    for thread in [holder, *clicks]:
        thread.join(timeout=20)
    # then
    retries = list(OutboundMessage.objects.filter(retry_of=failed).values_list("pk", flat=True))
    assert len(retries) == 1
    assert answers == retries * 2
    assert queued == retries
