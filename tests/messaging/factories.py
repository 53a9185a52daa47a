"""Factories of the messaging tests; the groups rows they need come from the groups factories."""

import factory

from messaging.models import OutboundMessage
from tests.groups.factories import GroupFactory, ParticipantFactory, PhoneNumberFactory

__all__ = ["GroupFactory", "OutboundMessageFactory", "ParticipantFactory", "PhoneNumberFactory"]


class OutboundMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundMessage

    group = factory.SubFactory(GroupFactory)
    type = "text"
    content = factory.LazyFunction(lambda: {"preview_url": False, "body": "Hello group"})
    status = OutboundMessage.Status.QUEUED

    class Params:
        accepted = factory.Trait(
            status=OutboundMessage.Status.ACCEPTED,
            wamid=factory.Sequence(lambda n: f"wamid.TEST{n:08d}"),
            recipient_count=3,
            attempt_count=1,
        )
