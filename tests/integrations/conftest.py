"""Fixtures of the integrations tests: a local receiver, and endpoints pointing at it."""

import pytest

from tests.integrations.factories import WebhookEndpointFactory
from tests.integrations.receiver import start_receiver


@pytest.fixture
def receiver():
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpointFactory(url=receiver.url)
