"""How the `ping` event shows an endpoint (never with its secrets)."""

from outbox.registry import renderer_register


def register_event_renderers() -> None:
    from integrations.models import WebhookEndpoint

    renderer_register(WebhookEndpoint, object_type="webhook_endpoint",
                      render=lambda endpoint: {"id": endpoint.pk, "url": endpoint.url})
