"""Endpoint URLs cannot reach internal services: https only, no loopback, private or link-local address."""

import socket

import pytest

from integrations.exceptions import EndpointUrlRefused
from integrations.http import post, url_check
from integrations.models import Delivery, DeliveryAttempt
from integrations.services.deliveries import deliveries_send_due
from integrations.services.endpoints import endpoint_create
from tests.integrations.factories import WebhookEndpointFactory
from tests.integrations.test_deliveries import record_event

pytestmark = pytest.mark.django_db

REFUSED = [
    "http://hooks.example.com/",  # not https
    "https://127.0.0.1/hooks",
    "https://localhost:8443/hooks",
    "https://10.1.2.3/",
    "https://192.168.0.10/",
    "https://172.16.5.4/",
    "https://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "https://[::1]/",
    "https://[fe80::1]/",
    "https://[::ffff:127.0.0.1]/",
    "https://0.0.0.0/",
    "https://user:pw@hooks.example.com/",
    "ftp://hooks.example.com/",
]


@pytest.fixture
def strict(settings):
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize("url", REFUSED)
def test_url_check_refuses_internal_and_non_https_urls(strict, url):
    with pytest.raises(EndpointUrlRefused) as refused:
        url_check(url)
    assert refused.value.field == "url"


def test_a_name_resolving_to_any_private_address_is_refused(strict, monkeypatch):
    # given: one public and one private address (a rebinding trick needs only one)
    def resolve(host, port, **kwargs):
        addresses = ("93.184.216.34", "10.0.0.7")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    # when / then
    with pytest.raises(EndpointUrlRefused, match=r"10\.0\.0\.7"):
        url_check("https://hooks.example.com/")


def test_a_public_name_connects_to_the_checked_address(strict, monkeypatch):
    # given
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))])
    # when
    target = url_check("https://hooks.example.com/in?x=1")
    # then
    assert (target.address, target.host, target.port, target.path) == ("93.184.216.34", "hooks.example.com", 443,
                                                                        "/in?x=1")


def test_creating_an_endpoint_to_loopback_is_refused(strict):
    with pytest.raises(EndpointUrlRefused):
        endpoint_create(url="https://127.0.0.1:9000/hooks")


def test_a_delivery_to_a_private_address_is_refused_without_connecting(strict, receiver):
    # given: an endpoint saved while private addresses were allowed (or whose name now resolves inside)
    WebhookEndpointFactory(url=receiver.url.replace("http://", "https://"))
    record_event()
    # when
    deliveries_send_due()
    # then
    assert receiver.received == []
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "loopback" in attempt.error
    assert Delivery.objects.get().state == Delivery.State.PENDING


def test_the_setting_allows_local_receivers(receiver):
    answer = post(receiver.url, body=b"{}", headers={"content-type": "application/json"})
    assert answer.status == 200
