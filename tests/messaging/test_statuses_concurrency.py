"""Status batches and other transactions on the same groups (PostgreSQL: SQLite serialises every write anyway)."""

import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import connection

from messaging.events import StatusEvent
from messaging.models import OutboundMessage
from messaging.services import StatusItem, message_statuses_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.messaging.group_lock import group_lock_held

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

    def apply_batch() -> None:
        try:
            message_statuses_apply([_delivered(held, held_wa_id), _delivered(free, free_wa_id)])
        finally:
            connection.close()

    batch = threading.Thread(target=apply_batch)
    try:
        with group_lock_held(held.group_id):
            # when: one batch names both messages
            batch.start()
            # then: the free group's status is applied and committed while the other stays held ...
            deadline = time.monotonic() + 10
            while _status(free) != "delivered" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _status(free) == "delivered"
            assert _status(held) == "sent"
    finally:
        batch.join(timeout=20)
    # ... and the held group's once it is free
    assert _status(held) == "delivered"
