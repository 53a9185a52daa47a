"""Receipts keep room on their pages: a `read` rewrites its receipt in place (issue 9, P3)."""

from datetime import UTC, datetime

import pytest
from django.db import connection

from messaging.events import StatusEvent
from messaging.models import MessageReceipt
from messaging.services import StatusItem, message_statuses_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory

# PostgreSQL's storage: run by `make test-services`.
pytestmark = [pytest.mark.django_db, pytest.mark.integration]

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _hot_updates() -> int:
    with connection.cursor() as cursor:  # This transaction's own counts (the test runs in one).
        cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('messaging_messagereceipt'::regclass)")
        return cursor.fetchone()[0]


def test_reads_rewrite_the_receipts_their_deliveries_wrote_in_place():
    group = GroupFactory()
    people = [ParticipantFactory(group=group).wa_id for _ in range(5)]
    messages = [OutboundMessageFactory(group=group, accepted=True, recipient_count=5) for _ in range(60)]

    def statuses(status: str, second: int) -> list[StatusItem]:
        return [StatusItem(event=StatusEvent(wamid=message.wamid, status=status, timestamp=AT.replace(second=second),
                                             participant_wa_id=wa_id))
                for message in messages for wa_id in people]

    message_statuses_apply(statuses("delivered", 1))  # 300 receipts, written together: several pages
    before = _hot_updates()
    message_statuses_apply(statuses("read", 2))

    assert MessageReceipt.objects.filter(read_at__isnull=False).count() == 300
    assert _hot_updates() - before == 300
