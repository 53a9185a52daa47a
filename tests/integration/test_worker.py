"""Tasks make a round trip through the real Redis broker and a real worker process."""

import pytest
from django.conf import settings

from tests.processes import wait_for
from tests.spec import webhook_body
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_tasks_go_through_the_broker_not_in_process():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


def test_a_stored_webhook_is_processed_by_the_worker(celery_worker, post_webhook):
    # given
    body = webhook_body("messages.status_sent")
    # when
    response = post_webhook(body)
    # then: answered at once, processed by the other process through Redis
    assert response.status_code == 200
    event = WebhookEvent.objects.get()

    def processed():
        event.refresh_from_db()
        return event.state != WebhookEvent.State.PENDING

    wait_for(processed)
    assert event.attempts == 1
    assert event.fields == ["messages"]


def test_the_readiness_probe_checks_the_broker(client):
    response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}
