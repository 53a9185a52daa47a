"""Webhook ingest (issue 9's P1) does the same work whether or not an endpoint subscribes (issue 19)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from outbox.models import OutboxEvent
from tests.integrations.factories import WebhookEndpointFactory
from tests.spec import webhook_body
from webhooks.services import record

pytestmark = pytest.mark.django_db


def ingest_statements(post_webhook, body: bytes) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert post_webhook(body).status_code == 200
    # Savepoint names differ per call, and the values per body: the statements run inside are what counts.
    return [query["sql"].split(" VALUES ")[0] for query in queries.captured_queries
            if "SAVEPOINT" not in query["sql"]]


def test_ingest_runs_the_same_statements_with_an_endpoint_subscribed(post_webhook, monkeypatch):
    # given: ingest alone (the drain that applies the body, and records events, runs later in a worker)
    monkeypatch.setattr(record, "wake_drainer", lambda *args: None)
    without = ingest_statements(post_webhook, webhook_body("messages.status_sent"))
    WebhookEndpointFactory()  # Every event type.
    # when
    with_endpoint = ingest_statements(post_webhook, webhook_body("messages.status_delivered_single"))
    # then: one INSERT of the raw body either way; no endpoint read, no event
    assert with_endpoint == without
    assert len(without) == 1 and without[0].startswith('INSERT INTO "webhooks_webhookevent"')
    assert not OutboxEvent.objects.exists()
