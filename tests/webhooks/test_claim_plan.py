"""The drain's claim reads its first events from an index in claim order: no sort of the whole backlog (issue 9)."""

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
        # As on a table of millions of rows, where reading it whole is never the cheaper plan.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {claims[0]}")
        nodes = _plan_nodes(cursor.fetchone()[0][0]["Plan"])

    assert "Index Scan" in nodes
    assert not {"Sort", "Incremental Sort"} & set(nodes), nodes
