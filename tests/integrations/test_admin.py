"""Admin of webhook endpoints and deliveries: the secret shown once and never again, ping, resend, success rate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, WebhookEndpoint
from integrations.selectors import endpoints_health
from integrations.services.deliveries import deliveries_send_due
from tests.integrations.factories import WebhookEndpointFactory
from tests.integrations.test_deliveries import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client, superuser):
    client.force_login(superuser)
    return client


def test_adding_an_endpoint_shows_its_secret_once(admin_client_logged_in, receiver):
    # when
    response = admin_client_logged_in.post("/admin/integrations/webhookendpoint/add/", {
        "url": receiver.url, "description": "CRM", "event_types": ["message.read"], "active": "on"})
    # then
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert endpoint.secret in response.content.decode()
    assert "docs/events.md" not in response.content.decode()  # A repo file staff cannot open.
    assert endpoint.event_types == ["message.read"]
    change_page = admin_client_logged_in.get(f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/")
    assert change_page.status_code == 200 and endpoint.secret not in change_page.content.decode()


def test_the_endpoint_form_says_what_each_event_type_reports_not_where_a_repo_file_is(admin_client_logged_in):
    # when
    page = admin_client_logged_in.get("/admin/integrations/webhookendpoint/add/").content.decode()
    # then: staff cannot open docs/events.md; the form itself says it
    assert "docs/events.md" not in page
    assert "None ticked: every type." in page
    assert "<code>pin.replaced</code> A fourth pin in the group pushed this one out." in page
    assert "<code>message.failed</code> An outbound message failed; data.error says why." in page


def test_adding_an_internal_url_is_refused_on_the_form(admin_client_logged_in, settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    response = admin_client_logged_in.post("/admin/integrations/webhookendpoint/add/", {
        "url": "https://127.0.0.1/hooks", "active": "on"})
    assert response.status_code == 200 and "loopback" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_rotate_action_shows_the_new_secret(admin_client_logged_in, endpoint):
    old = endpoint.secret
    response = admin_client_logged_in.post("/admin/integrations/webhookendpoint/", {
        "action": "rotate_secret", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()


def test_changelist_shows_the_success_rate(admin_client_logged_in, endpoint, receiver):
    receiver.statuses = [200, 500]
    record_event(), record_event()
    deliveries_send_due()
    page = admin_client_logged_in.get("/admin/integrations/webhookendpoint/").content.decode()
    assert "50% of 2 attempts" in page


def test_delivery_log_and_resend(admin_client_logged_in, endpoint, receiver):
    # given
    record_event()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    # when
    detail = admin_client_logged_in.get(f"/admin/integrations/delivery/{delivery.pk}/change/")
    admin_client_logged_in.post("/admin/integrations/delivery/", {"action": "resend",
                                                                   "_selected_action": [delivery.pk]})
    deliveries_send_due()
    # then
    assert detail.status_code == 200 and delivery.event.event_id in detail.content.decode()
    assert len(receiver.received) == 2
    assert endpoint.secret not in detail.content.decode()


def test_dashboard_shows_each_endpoint_s_success_rate_and_a_disabled_notice(admin_client_logged_in, receiver,
                                                                            endpoint):
    # given: one endpoint answering half its attempts, one disabled for failing too long
    receiver.statuses = [200, 500]
    record_event(), record_event()
    deliveries_send_due()
    disabled = WebhookEndpointFactory(description="Old CRM", active=False, disabled_at=timezone.now(),
                                      disabled_reason="Every delivery failed since 2026-03-01 09:00 UTC.")
    # when
    page = admin_client_logged_in.get("/admin/dashboard/").content.decode()
    # then
    assert 'id="endpoint-health"' in page and "50%" in page
    assert f'id="endpoint-disabled-{disabled.pk}"' in page and "Every delivery failed since" in page
    assert f'id="endpoint-disabled-{endpoint.pk}"' not in page


def test_endpoint_health_is_one_query_at_any_number_of_endpoints(receiver, endpoint, django_assert_num_queries):
    # given: the endpoint failed one attempt today and succeeded one 30 h ago; a second endpoint never tried
    receiver.statuses = [200, 500]
    record_event(), record_event()
    deliveries_send_due()
    idle = WebhookEndpointFactory(description="Idle CRM")
    since = timezone.now() - timedelta(hours=24)
    DeliveryAttempt.objects.update(attempted_at=timezone.now() - timedelta(hours=1))
    DeliveryAttempt.objects.filter(succeeded=True).update(attempted_at=timezone.now() - timedelta(hours=30))
    # when: the dashboard's read
    with django_assert_num_queries(1):
        health = {row.endpoint.pk: (row.succeeded, row.attempts) for row in endpoints_health(since=since)}
    # then
    assert health[idle.pk] == (0, 0)
    assert health[endpoint.pk] == (0, 1)


def test_the_ping_action_pings_active_endpoints_and_says_which_it_skipped(admin_client_logged_in, endpoint):
    # given
    off = WebhookEndpointFactory(description="Old CRM", active=False)
    # when
    page = admin_client_logged_in.post("/admin/integrations/webhookendpoint/", {
        "action": "ping", "_selected_action": [endpoint.pk, off.pk]}, follow=True).content.decode()
    # then
    assert "Queued a ping to 1 endpoint" in page and "Not pinged: 1 endpoint not active" in page
    assert list(Delivery.objects.values_list("endpoint_id", flat=True)) == [endpoint.pk]


def test_dashboard_says_when_an_endpoint_began_failing_and_was_disabled_as_the_desk_does(admin_client_logged_in):
    # given
    now = timezone.now()
    WebhookEndpointFactory(description="CRM", failing_since=now - timedelta(hours=5))
    WebhookEndpointFactory(description="Old CRM", active=False, disabled_at=now - timedelta(days=3),
                           disabled_reason="Every delivery failed for 72 hours.")
    # when
    page = admin_client_logged_in.get("/admin/dashboard/").content.decode()
    # then: relative times with the exact one on hover, not Django's "5\xa0hours" timesince
    assert "failing (first failure <time" in page and ">5 h ago</time>" in page
    assert ">3 days ago</time>:" in page
