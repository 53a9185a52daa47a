"""R2/R3: each event delivered 1-5 times, in any order, leaves the same tables as each once in order.

The stream (tests/reliability/stream.py) is posted signed through the real endpoint and processed eagerly;
the tables are then dumped without what arrival order and the clock decide (documented there) and hashed.
"""

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.reliability.stream import (
    describe_differences,
    normalised_tables,
    seed_rows,
    stream_bodies,
    tables_hash,
)
from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_record, webhook_events_drain, webhook_events_sweep_pending

pytestmark = pytest.mark.django_db

SEEDS = [1, 2, 3, 5, 8, 13]


def _deliver(post_webhook, bodies: list[bytes]) -> dict:
    """Seed, post every body (signed, processed eagerly), dump the tables, then roll it all back."""
    with transaction.atomic():
        labels = seed_rows()
        for body in bodies:
            response = post_webhook(body)
            assert response.status_code == 200, response.content
        _run_the_sweep_until_settled()
        dump = normalised_tables(labels)
        transaction.set_rollback(True)
    return dump


def _deliver_as_backlog(bodies: list[bytes], *, batch_size: int) -> dict:
    """Seed, store every body unprocessed (as while no worker ran), drain them in batches, dump, roll back."""
    with transaction.atomic():
        labels = seed_rows()
        for body in bodies:
            webhook_event_record(body=body, headers={})
        webhook_events_drain(batch_size=batch_size)
        _run_the_sweep_until_settled()
        dump = normalised_tables(labels)
        transaction.set_rollback(True)
    return dump


def _run_the_sweep_until_settled() -> None:
    """Let the periodic sweep retry events waiting for something that arrived later, as time passes."""
    for _ in range(10):
        waiting = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING)
        if not waiting.exists():
            return
        waiting.update(claimed_until=timezone.now() - timedelta(seconds=1))  # Their retry time has come.
        webhook_events_sweep_pending()


def _redeliveries(bodies: list[bytes], rng: random.Random) -> list[bytes]:
    """Return every body 1-5 times, shuffled."""
    copies = [body for body in bodies for _ in range(rng.randint(1, 5))]
    rng.shuffle(copies)
    return copies


def _assert_same_tables(expected: dict, actual: dict) -> None:
    assert tables_hash(actual) == tables_hash(expected), describe_differences(expected, actual)


def _duplicated_in_first_arrival_order(bodies: list[bytes], rng: random.Random) -> list[bytes]:
    """Return every body 1-5 times: the first copies in order, each repeat anywhere after its first copy."""
    deliveries = list(bodies)
    for body in bodies:
        first = deliveries.index(body)
        for _ in range(rng.randint(0, 4)):
            deliveries.insert(rng.randint(first + 1, len(deliveries)), body)
    return deliveries


def _is_message_level(body: bytes) -> bool:
    return b'"field": "messages"' in body


@pytest.mark.parametrize("seed", SEEDS)
def test_each_event_delivered_one_to_five_times_leaves_the_same_tables(post_webhook, seed):
    # given
    bodies = stream_bodies()
    expected = _deliver(post_webhook, bodies)
    # when
    actual = _deliver(post_webhook, _duplicated_in_first_arrival_order(bodies, random.Random(seed)))
    # then
    _assert_same_tables(expected, actual)


@pytest.mark.parametrize("seed", SEEDS)
def test_message_events_in_any_order_after_the_group_events_leave_the_same_tables(post_webhook, seed):
    """Statuses and inbound messages 1-5 times in any order, once the groups and participants they name exist."""
    # given
    bodies = stream_bodies()
    group_level = [body for body in bodies if not _is_message_level(body)]
    message_level = [body for body in bodies if _is_message_level(body)]
    rng = random.Random(seed)
    expected = _deliver(post_webhook, group_level + message_level)
    # when
    actual = _deliver(post_webhook, _duplicated_in_first_arrival_order(group_level, rng)
                      + _redeliveries(message_level, rng))
    # then
    _assert_same_tables(expected, actual)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_each_event_one_to_five_times_in_any_order_leaves_the_same_tables(post_webhook, seed):
    # given
    bodies = stream_bodies(repeated_delivery=True)
    expected = _deliver(post_webhook, bodies)
    # when
    actual = _deliver(post_webhook, _redeliveries(bodies, random.Random(seed)))
    # then
    _assert_same_tables(expected, actual)


@pytest.mark.parametrize(("seed", "batch_size"), [(1, 500), (2, 7), (3, 1)])
def test_a_backlog_drained_in_batches_leaves_the_same_tables(post_webhook, seed, batch_size):
    """Statuses of many events applied together (one batch) end as each event applied alone, in order."""
    # given
    bodies = stream_bodies(repeated_delivery=True)
    expected = _deliver(post_webhook, bodies)
    # when
    actual = _deliver_as_backlog(_redeliveries(bodies, random.Random(seed)), batch_size=batch_size)
    # then
    _assert_same_tables(expected, actual)


def test_the_stream_changes_every_compared_table(post_webhook):
    """The comparison would pass on an empty stream: check the stream really writes each table."""
    before = _deliver(post_webhook, [])
    after = _deliver(post_webhook, stream_bodies())
    assert [table for table in after if after[table] == before[table]] == []


def test_the_comparison_sees_a_lost_event(post_webhook):
    """The comparison can fail: leaving out one status body changes the hash."""
    bodies = stream_bodies()
    dropped = next(body for body in bodies if b'"status": "read"' in body)
    assert tables_hash(_deliver(post_webhook, bodies)) != tables_hash(
        _deliver(post_webhook, [body for body in bodies if body is not dropped]))
