"""REST detail views of the groups app's list resources: each answers what its list shows for one row (issue 16 §2).

Same permissions as the list (the view's queryset names the model); a row of another group is 404.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from groups import selectors
from groups.api.serializers import (
    GroupEventOutputSerializer,
    JoinRequestOutputSerializer,
    ParticipantOutputSerializer,
    PhoneNumberOutputSerializer,
)
from groups.models import Group, GroupEvent, JoinRequest, Participant, PhoneNumber


def _group(pk: int) -> Group:
    return get_object_or_404(selectors.group_list(), pk=pk)


class PhoneNumberDetailApi(GenericAPIView):
    queryset = PhoneNumber.objects.all()
    serializer_class = PhoneNumberOutputSerializer

    @extend_schema(operation_id="phone_numbers_retrieve", responses=PhoneNumberOutputSerializer)
    def get(self, request, pk: int):
        return Response(PhoneNumberOutputSerializer(get_object_or_404(PhoneNumber, pk=pk)).data)


class GroupParticipantDetailApi(GenericAPIView):
    queryset = Participant.objects.all()
    serializer_class = ParticipantOutputSerializer

    @extend_schema(operation_id="groups_participants_retrieve", responses=ParticipantOutputSerializer)
    def get(self, request, pk: int, participant: int):
        found = get_object_or_404(selectors.participant_list(group=_group(pk)), pk=participant)
        return Response(ParticipantOutputSerializer(found).data)


class GroupJoinRequestDetailApi(GenericAPIView):
    queryset = JoinRequest.objects.all()
    serializer_class = JoinRequestOutputSerializer

    @extend_schema(operation_id="groups_join_requests_retrieve", responses=JoinRequestOutputSerializer)
    def get(self, request, pk: int, join_request: int):
        found = get_object_or_404(selectors.join_request_list(group=_group(pk)), pk=join_request)
        return Response(JoinRequestOutputSerializer(found).data)


class GroupEventDetailApi(GenericAPIView):
    queryset = GroupEvent.objects.all()
    serializer_class = GroupEventOutputSerializer

    @extend_schema(operation_id="groups_events_retrieve", responses=GroupEventOutputSerializer)
    def get(self, request, pk: int, event: int):
        found = get_object_or_404(selectors.group_event_list(group=_group(pk)), pk=event)
        return Response(GroupEventOutputSerializer(found).data)
