"""The drain's claim: its first events read in index order, its rows rewritten in place (issue 9, P3)."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from webhooks.services import webhook_event_record, webhook_events_drain

# PostgreSQL's planner: run by `make test-services`.
pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def _plan_nodes(plan: dict) -> list[str]:
    return [plan["Node Type"], *(node for child in plan.get("Plans", []) for node in _plan_nodes(child))]


def test_a_claim_reads_pending_events_in_order_without_sorting_them():
    """Sorting every pending event (bodies and all) made each claim cost as much as the backlog: 37 ms at 20,000."""
    for number in range(30):
        webhook_event_record(body=json.dumps({"object": "whatsapp_business_account", "n": number}).encode(),
                             headers={})
    with CaptureQueriesContext(connection) as queries:
        webhook_events_drain(batch_size=10)
    claims = [query["sql"] for query in queries.captured_queries if "FOR UPDATE SKIP LOCKED" in query["sql"]]
    assert claims

    with transaction.atomic(), connection.cursor() as cursor:
        # As on a table of millions of rows, where reading it whole is never the cheaper plan: the planner avoids
        # what is off unless nothing else answers, so a Sort below means no index gives the claim's order.
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {claims[0]}")
        nodes = _plan_nodes(cursor.fetchone()[0][0]["Plan"])

    assert "Index Scan" in nodes
    assert not {"Sort", "Incremental Sort"} & set(nodes), nodes


def test_a_claim_rewrites_its_events_in_place():
    """Pages of events keep room for their claimed versions: a claim then writes no index entry (a HOT update)."""
    with connection.cursor() as cursor:
        # Fresh pages, as the table's fillfactor makes them: earlier tests' rolled-back rows leave dead tuples in the
        # pages this test would fill, and how much of that room PostgreSQL has pruned depends on the test order.
        # TRUNCATE is transactional here: the test's rollback restores the table.
        cursor.execute("TRUNCATE webhooks_webhookevent CASCADE")
    for number in range(60):
        webhook_event_record(body=json.dumps({"object": "whatsapp_business_account", "n": number}).encode(),
                             headers={})

    def hot_updates() -> int:
        with connection.cursor() as cursor:  # This transaction's own counts (the test runs in one).
            cursor.execute("SELECT pg_stat_get_xact_tuples_hot_updated('webhooks_webhookevent'::regclass)")
            return cursor.fetchone()[0]

    before = hot_updates()
    drained = webhook_events_drain(batch_size=60)

    assert drained == 60
    # The claims; recording each outcome changes `state`, which an index holds, so that one cannot be in place.
    assert hot_updates() - before == 60
