"""Status batches and other transactions on the same groups (PostgreSQL: SQLite serialises every write anyway)."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction

from groups.selectors import lock_groups
from messaging.events import StatusEvent
from messaging.models import OutboundMessage
from messaging.services import StatusItem, message_statuses_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _delivered(message: OutboundMessage, wa_id: str) -> StatusItem:
    return StatusItem(event=StatusEvent(wamid=message.wamid, status="delivered", timestamp=AT, participant_wa_id=wa_id))


def _status(message: OutboundMessage) -> str:
    return OutboundMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def test_a_batch_applies_the_groups_it_can_take_without_waiting_for_one_another_transaction_holds():
    # given: two groups with a sent message each; another transaction (another drain's batch) holds the first group
    made = []
    for _ in range(2):
        group = GroupFactory()
        wa_id = ParticipantFactory(group=group).wa_id
        made.append((OutboundMessageFactory(group=group, accepted=True, status="sent"), wa_id))
    (held, held_wa_id), (free, free_wa_id) = made
    holding, release = threading.Event(), threading.Event()

    def hold_first_group() -> None:
        try:
            with transaction.atomic():
                list(lock_groups().filter(pk=held.group_id))
                holding.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    def apply_batch() -> None:
        try:
            message_statuses_apply([_delivered(held, held_wa_id), _delivered(free, free_wa_id)])
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first_group)
    holder.start()
    assert holding.wait(timeout=10)
    batch = threading.Thread(target=apply_batch)
    # when: one batch names both messages
    batch.start()
    try:
        # then: the free group's status is applied and committed while the other stays held ...
        deadline = time.monotonic() + 10
        while _status(free) != "delivered" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _status(free) == "delivered"
        assert _status(held) == "sent"
    finally:
        release.set()
        holder.join(timeout=20)
        batch.join(timeout=20)
    # ... and the held group's once it is free
    assert _status(held) == "delivered"
