"""Factories of the groups app, with the spec's identifiers where tests match samples."""

import factory
from factory.django import DjangoModelFactory

from groups.models import Group, GroupOperation, JoinRequest, Participant, PhoneNumber
from tests.spec import SPEC_DISPLAY_PHONE_NUMBER, SPEC_G1, SPEC_PHONE_NUMBER_ID, SPEC_WABA_ID


class PhoneNumberFactory(DjangoModelFactory):
    class Meta:
        model = PhoneNumber
        django_get_or_create = ("phone_number_id",)

    phone_number_id = SPEC_PHONE_NUMBER_ID
    display_phone_number = SPEC_DISPLAY_PHONE_NUMBER
    waba_id = SPEC_WABA_ID
    label = "Support"


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group

    phone_number = factory.SubFactory(PhoneNumberFactory)
    group_id = factory.Sequence(lambda n: f"Y2FwaV9ncm91cDp0ZXN0{n:08d}ZD")
    subject = factory.Sequence(lambda n: f"Group {n}")
    state = Group.State.ACTIVE
    invite_link = "https://chat.whatsapp.com/OldLink123"

    class Params:
        creating = factory.Trait(state=Group.State.CREATING, group_id=None, invite_link="")
        suspended_trait = factory.Trait(suspended=True)
        spec_g1 = factory.Trait(group_id=SPEC_G1)  # The group of the spec's message samples.


class ParticipantFactory(DjangoModelFactory):
    class Meta:
        model = Participant

    group = factory.SubFactory(GroupFactory)
    wa_id = factory.Sequence(lambda n: f"1555000{n:04d}")
    state = Participant.State.ACTIVE


class JoinRequestFactory(DjangoModelFactory):
    class Meta:
        model = JoinRequest

    group = factory.SubFactory(GroupFactory, join_approval_mode=Group.JoinApprovalMode.APPROVAL_REQUIRED)
    join_request_id = factory.Sequence(lambda n: f"JR{n:010d}")
    wa_id = factory.Sequence(lambda n: f"1666000{n:04d}")
    state = JoinRequest.State.PENDING


class GroupOperationFactory(DjangoModelFactory):
    class Meta:
        model = GroupOperation

    group = factory.SubFactory(GroupFactory)
    kind = GroupOperation.Kind.UPDATE_SETTINGS
    state = GroupOperation.State.PENDING
