"""How outbound events show messaging's objects: as the REST API does (registered with the outbox at start-up)."""

from outbox.registry import renderer_register


def register_event_renderers() -> None:
    """Register the REST representation of messages, inbound messages and pins with the outbox."""
    from messaging.api.pins import PinOutputSerializer
    from messaging.api.serializers import InboundMessageOutputSerializer, MessageOutputSerializer
    from messaging.models import InboundMessage, OutboundMessage, Pin

    renderer_register(OutboundMessage, object_type="message", render=MessageOutputSerializer().to_representation)
    renderer_register(InboundMessage, object_type="inbound_message",
                      render=InboundMessageOutputSerializer().to_representation)
    renderer_register(Pin, object_type="pin", render=PinOutputSerializer().to_representation)
