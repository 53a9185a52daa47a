"""Factories of the integrations app."""

import factory
from factory.django import DjangoModelFactory

from integrations.models import WebhookEndpoint
from integrations.signing import secret_new


class WebhookEndpointFactory(DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks.example.com/groupdesk/{n}")
    description = factory.Sequence(lambda n: f"Integrator {n}")
    secret = factory.LazyFunction(secret_new)
    event_types = factory.LazyFunction(list)
