"""REST at /api/v1/webhook-endpoints/: endpoints, secrets shown once, rotate, ping, the delivery log, resend."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from integrations.models import Delivery, WebhookEndpoint
from integrations.services.deliveries import deliveries_send_due
from outbox import event_types
from tests.integrations.factories import WebhookEndpointFactory
from tests.integrations.test_deliveries import record_event

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhook-endpoints/"


def test_create_shows_the_secret_once(admin_api, receiver):
    # when
    response = admin_api.post(URL, {"url": receiver.url, "description": "CRM", "event_types": [
        event_types.MESSAGE_READ, event_types.GROUP_CREATED]}, format="json")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["event_types"] == [event_types.MESSAGE_READ, event_types.GROUP_CREATED]
    assert "secret" not in admin_api.get(f"{URL}{body['id']}/").json()
    assert all("secret" not in row for row in admin_api.get(URL).json()["results"])
    assert WebhookEndpoint.objects.get().secret == body["secret"]


def test_create_refuses_an_internal_url_naming_the_field(admin_api, settings):
    # given
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    # when
    response = admin_api.post(URL, {"url": "https://169.254.169.254/latest/"}, format="json")
    # then
    assert response.status_code == 400
    assert "url" in response.json()["extra"]["fields"]
    assert WebhookEndpoint.objects.count() == 0


def test_create_refuses_an_unknown_event_type_naming_the_field(admin_api, receiver):
    response = admin_api.post(URL, {"url": receiver.url, "event_types": ["message.exploded"]}, format="json")
    assert response.status_code == 400
    assert "event_types" in response.json()["extra"]["fields"]


def test_patch_changes_the_filter_and_reenables(admin_api, endpoint):
    # given
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_at=timezone.now(),
                                                          disabled_reason="Every delivery failed")
    # when
    response = admin_api.patch(f"{URL}{endpoint.pk}/", {"active": True, "event_types": [event_types.PIN_ACTIVE]},
                               format="json")
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["active"], response.json()["disabled_at"], response.json()["event_types"]) == (
        True, None, [event_types.PIN_ACTIVE])


def test_delete_removes_the_endpoint(admin_api, endpoint):
    assert admin_api.delete(f"{URL}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_rotate_shows_the_new_secret_and_both_sign(admin_api, endpoint, receiver):
    # given
    old = endpoint.secret
    # when
    response = admin_api.post(f"{URL}{endpoint.pk}/rotate-secret/")
    # then
    assert response.status_code == 200
    new = response.json()["secret"]
    assert new != old and response.json()["previous_secret_expires_at"]
    record_event()
    deliveries_send_due()
    (request,) = receiver.received
    for secret in (old, new):
        Webhook(secret).verify(request.body, request.headers)


def test_ping_reaches_only_that_endpoint_and_its_log_shows_the_attempt(admin_api, endpoint, receiver):
    # given
    WebhookEndpointFactory(url=receiver.url + "/other")
    # when
    response = admin_api.post(f"{URL}{endpoint.pk}/ping/")
    deliveries_send_due()
    # then
    assert response.status_code == 202
    assert [r.path for r in receiver.received] == ["/hooks/groupdesk"]
    detail = admin_api.get(f"{URL}{endpoint.pk}/deliveries/{response.json()['id']}/").json()
    assert (detail["event_type"], detail["state"], detail["event"]["type"]) == ("ping", "succeeded", "ping")
    (attempt,) = detail["attempts"]
    assert (attempt["status_code"], attempt["succeeded"], attempt["response_body"]) == (200, True, "ok")


def test_deliveries_list_filters_by_state(admin_api, endpoint, receiver):
    # given
    receiver.statuses = [500]
    record_event()
    deliveries_send_due()
    # when
    pending = admin_api.get(f"{URL}{endpoint.pk}/deliveries/?state=pending").json()["results"]
    succeeded = admin_api.get(f"{URL}{endpoint.pk}/deliveries/?state=succeeded").json()["results"]
    # then
    assert [(d["event_type"], d["attempt_count"], d["last_status_code"]) for d in pending] == [
        (event_types.GROUP_UPDATED, 1, 500)]
    assert succeeded == []


def test_resend_one_delivery_sends_the_same_event_again(admin_api, endpoint, receiver):
    # given
    record_event()
    deliveries_send_due()
    delivery = Delivery.objects.get()
    # when
    response = admin_api.post(f"{URL}{endpoint.pk}/deliveries/{delivery.pk}/resend/")
    deliveries_send_due()
    # then
    assert response.status_code == 202
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_resend_failed_since_a_time(admin_api, endpoint, receiver):
    # given: two deliveries that gave up, one of an event before `since`
    old, new = record_event(), record_event()
    Delivery.objects.update(state=Delivery.State.FAILED, next_attempt_at=None)
    type(old).objects.filter(event_id=old.event_id).update(occurred_at=timezone.now() - timedelta(days=5))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    # when
    response = admin_api.post(f"{URL}{endpoint.pk}/deliveries/resend-failed/", {"since": since}, format="json")
    deliveries_send_due()
    # then
    assert response.json() == {"resent": 1}
    assert [r.headers["webhook-id"] for r in receiver.received] == [new.event_id]


def test_resend_failed_with_none_names_the_field(admin_api, endpoint):
    response = admin_api.post(f"{URL}{endpoint.pk}/deliveries/resend-failed/",
                              {"since": timezone.now().isoformat()}, format="json")
    assert response.status_code == 400
    assert "since" in response.json()["extra"]["fields"]


def test_anonymous_and_unpermitted_users_are_refused(api_client, user_with_perms, endpoint):
    # given
    viewer = user_with_perms("integrations.view_webhookendpoint")
    # when / then
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(viewer)
    assert api_client.get(URL).status_code == 200
    assert api_client.get(f"{URL}{endpoint.pk}/deliveries/").status_code == 403  # The log needs view_delivery.
    assert api_client.post(f"{URL}{endpoint.pk}/rotate-secret/").status_code == 403
    assert api_client.post(URL, {"url": "https://example.com/"}, format="json").status_code == 403


def test_a_ping_to_an_inactive_endpoint_is_a_409_naming_active_and_queues_nothing(admin_api, endpoint):
    # given: an endpoint staff turned off (nothing is sent to it, so its ping would have waited, pending, forever)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    # when
    response = admin_api.post(f"{URL}{endpoint.pk}/ping/")
    # then
    assert response.status_code == 409
    assert "active" in response.json()["extra"]["fields"]
    assert not Delivery.objects.filter(endpoint=endpoint).exists()
