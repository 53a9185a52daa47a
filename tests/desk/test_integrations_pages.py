"""The webhook endpoint and delivery pages for people (desk.integrations_pages): times relative, ids shortened, the
body sent and each attempt as tables, an endpoint's deliveries linked by state."""

import re

import pytest

from integrations.models import Delivery
from tests.desk.seed import seed_integrations
from tests.desk.test_staff_pages import RAW, page_text
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def failing(superuser):
    """An endpoint whose delivery of a message read gave up after a timeout and two error answers."""
    message = OutboundMessageFactory(content={"body": "Your parcel left the depot"}, status="read")
    return seed_integrations(message=message, created_by=superuser)


def test_a_delivery_reads_as_what_went_where_with_its_attempts_and_body_as_tables(desk, failing):
    # given
    _endpoint, delivery = failing
    # when
    html = desk.get(f"/admin/integrations/delivery/{delivery.pk}/change/").text
    text = page_text(html)
    # then: named by what went where, the event's id shortened with a copy button
    assert "<h2>message.read to CRM (Parcels Leeds)</h2>" in html
    assert "\u203a message.read to CRM (Parcels Leeds)" in " ".join(text.split())  # The breadcrumb.
    event = html.split("field-event_shown", 1)[1].split("field-state", 1)[0]
    assert f'data-copy="{delivery.event_id}"' in event and f">{delivery.event_id}<" not in event
    # each attempt as a row: when, what came back, how long it took, the receiver's answer
    attempts = html.split('class="delivery-attempts', 1)[1].split("Body sent", 1)[0]
    assert "Timeout after 10 s" in attempts and "10.0 s" in attempts and "84 ms" in attempts
    assert "HTTP 503" in attempts and "HTTP 500" in attempts and "500 Internal Server Error" in attempts
    assert 'class="readable"' in attempts and "Retry after" in attempts  # The JSON answer as a table.
    # the body sent as a table, its times to the second, never JSON
    assert "Body sent" in text and "Your parcel left the depot" in text
    assert not RAW.findall(text) and not re.findall(r"\d{2}:\d{2}:\d{2}\.\d", text)
    assert 'class="inline-group"' not in html  # The stock inline (a row title per attempt, in UTC) is gone.


def test_an_endpoint_links_its_deliveries_by_state_and_says_who_created_it(desk, failing):
    # given
    endpoint, delivery = failing
    # when
    html = desk.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/").text
    # then
    link = re.search(r'<a href="([^"]+)">1 failed \(retries exhausted\)</a>', html)
    assert link is not None
    listed = desk.get(link.group(1).replace("&amp;", "&")).text
    assert f"/admin/integrations/delivery/{delivery.pk}/change/" in listed
    assert "<time " in html.split("Failing since", 1)[1][:400]
    assert "by admin" in html.split("Created", 1)[1][:400]


def test_an_endpoint_without_deliveries_says_so(desk, failing):
    endpoint, _delivery = failing
    Delivery.objects.all().delete()
    html = desk.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/").text
    assert "None yet." in html
