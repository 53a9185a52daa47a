"""Factories of pins and their action messages, with the identifiers of graph/pin.request.json."""

from datetime import timedelta

import factory
from django.utils import timezone

from messaging.models import OutboundMessage, Pin
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import SPEC_G1, graph_json

PIN_REQUEST = graph_json("pin.request")
SPEC_PINNED_WAMID = PIN_REQUEST["pin"]["message_id"]  # The message the samples pin and unpin.
SPEC_PIN_ACTION_WAMID = graph_json("pin.response")["messages"][0]["id"]  # The wamid of the pin action.
assert PIN_REQUEST["to"] == SPEC_G1  # The factories below rely on it.


class PinnableMessageFactory(OutboundMessageFactory):
    """A text message Meta accepted in the group: something to pin."""

    accepted = True


class PinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pin

    group = factory.SubFactory(GroupFactory)
    message_id = factory.Sequence(lambda n: f"wamid.PINNED{n:08d}")
    expiration_days = 7
    state = Pin.State.PENDING
    requested_at = factory.LazyFunction(timezone.now)
    pin_message = factory.SubFactory(
        OutboundMessageFactory,
        group=factory.SelfAttribute("..group"),
        type=OutboundMessage.Type.PIN,
        content=factory.LazyAttribute(
            lambda message: {
                "type": "pin",
                "message_id": message.factory_parent.message_id,
                "expiration_days": message.factory_parent.expiration_days,
            }
        ),
    )

    class Params:
        # Pinned `pinned_days_ago` days ago; Meta accepted its action message.
        pinned_days_ago = 1
        active = factory.Trait(
            state=Pin.State.ACTIVE,
            pinned_at=factory.LazyAttribute(lambda pin: timezone.now() - timedelta(days=pin.pinned_days_ago)),
            expires_at=factory.LazyAttribute(lambda pin: pin.pinned_at + timedelta(days=pin.expiration_days)),
            pin_message__status=OutboundMessage.Status.SENT,
            pin_message__wamid=factory.Sequence(lambda n: f"wamid.PINACTION{n:08d}"),
        )
