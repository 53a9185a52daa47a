"""Factories of the messaging tests (and the groups rows they need), with the spec's identifiers."""

import factory

from groups.models import Group, Participant, PhoneNumber
from messaging.models import OutboundMessage
from tests.spec import SPEC_DISPLAY_PHONE_NUMBER, SPEC_G1, SPEC_PHONE_NUMBER_ID, SPEC_WABA_ID


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber
        django_get_or_create = ("phone_number_id",)

    phone_number_id = SPEC_PHONE_NUMBER_ID
    display_phone_number = SPEC_DISPLAY_PHONE_NUMBER
    waba_id = SPEC_WABA_ID


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    phone_number = factory.SubFactory(PhoneNumberFactory)
    group_id = factory.Sequence(lambda n: f"Y2FwaV9ncm91cDp0ZXN0OnRlc3Q{n:06d}ZD")
    subject = factory.Sequence(lambda n: f"Support group {n}")
    state = Group.State.ACTIVE
    participant_count = 0

    class Params:
        spec_g1 = factory.Trait(group_id=SPEC_G1)
        suspended_trait = factory.Trait(suspended=True)


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    group = factory.SubFactory(GroupFactory)
    wa_id = factory.Sequence(lambda n: f"1555000{n:04d}")
    state = Participant.State.ACTIVE


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
