"""The sandbox's demo receiver at /_sandbox/events/: keeps the events the app pushes, checks their signatures."""

import io

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from integrations.models import WebhookEndpoint
from integrations.services.deliveries import deliveries_send_due
from integrations.signing import secret_new, signature_headers
from tests.integrations.test_deliveries import record_event


def test_the_inbox_shows_pushed_events_with_their_signature_checked(make_sandbox):
    # given
    sandbox = make_sandbox()


    secret = secret_new()
    requests.post(f"{sandbox.url}/_sandbox/events/secret", json={"secret": secret}, timeout=5).raise_for_status()
    body = '{"id":"evt_1","type":"group.updated","sequence":1,"object":{"type":"group","id":7}}'
    good = signature_headers(event_id="evt_1", body=body, signing_secrets=[secret], at=timezone.now())
    bad = signature_headers(event_id="evt_1", body=body, signing_secrets=[secret_new()], at=timezone.now())
    # when
    for headers in (good, bad):
        assert requests.post(f"{sandbox.url}/_sandbox/events/", data=body, headers=headers, timeout=5).ok
    # then
    events = requests.get(f"{sandbox.url}/_sandbox/events/", timeout=5).json()["events"]
    assert [(e["type"], e["verified"]) for e in events] == [("group.updated", False), ("group.updated", True)]
    page = requests.get(f"{sandbox.url}/_sandbox/events/", headers={"Accept": "text/html"}, timeout=5).text
    assert "group.updated" in page and "<table" in page


@pytest.mark.django_db
def test_make_run_registers_the_inbox_and_events_reach_it_verified(make_sandbox):
    # given: what sandbox/run_with_app.py does, through the command and the control API
    sandbox = make_sandbox()
    url = f"{sandbox.url}/_sandbox/events/"
    out = io.StringIO()
    call_command("demo_webhook_endpoint", "--url", url, stdout=out)
    requests.post(f"{sandbox.url}/_sandbox/events/secret", json={"secret": out.getvalue().strip()}, timeout=5)
    record_event()
    # when
    deliveries_send_due()
    # then
    (event,) = requests.get(url, timeout=5).json()["events"]
    assert (event["type"], event["verified"]) == ("group.updated", True)


@pytest.mark.django_db
def test_the_demo_command_is_idempotent_and_rotates_the_secret():
    first, second = io.StringIO(), io.StringIO()
    call_command("demo_webhook_endpoint", "--url", "http://127.0.0.1:8001/_sandbox/events/", stdout=first)
    call_command("demo_webhook_endpoint", "--url", "http://127.0.0.1:8001/_sandbox/events/", stdout=second)
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.secret, endpoint.previous_secret) == (second.getvalue().strip(), first.getvalue().strip())
