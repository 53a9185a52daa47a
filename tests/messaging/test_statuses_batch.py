"""Many statuses applied together (message_statuses_apply) end as they would one at a time."""

from datetime import UTC, datetime

import pytest

from messaging.events import StatusEvent
from messaging.models import MessageReceipt
from messaging.services import StatusItem, message_statuses_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

PHONE, BSUID = "447700900123", "GB.48810273365190042771"
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _status(wamid: str, status: str, *, wa_id: str | None = None, user_id: str | None = None, second: int = 0):
    event = StatusEvent(wamid=wamid, status=status, timestamp=AT.replace(second=second),
                        participant_wa_id=wa_id, participant_user_id=user_id)
    return StatusItem(event=event)


def test_a_count_the_linking_of_a_person_rewrote_is_not_overwritten_by_the_same_batch():
    # given: one person known twice (by phone, and by BSUID), each row with a delivery of message A
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id=PHONE, user_id=None)
    ParticipantFactory(group=group, wa_id=None, user_id=BSUID)
    first, second = (OutboundMessageFactory(group=group, accepted=True) for _ in range(2))
    message_statuses_apply([_status(first.wamid, "delivered", wa_id=PHONE, second=1),
                            _status(first.wamid, "delivered", user_id=BSUID, second=2)])
    first.refresh_from_db()
    assert first.delivered_count == 2
    # when: one batch says A was sent, and names the person by both (the two rows become one, A's receipts too)
    message_statuses_apply([_status(first.wamid, "sent"),
                            _status(second.wamid, "delivered", wa_id=PHONE, user_id=BSUID, second=3)])
    # then: A counts the one person once, as its receipts do
    first.refresh_from_db()
    assert MessageReceipt.objects.filter(message=first, delivered_at__isnull=False).count() == 1
    assert (first.status, first.delivered_count) == ("delivered", 1)
