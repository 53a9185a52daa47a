"""REST detail views of the groups app's list resources: each answers what its list shows for one row (issue 16 §2).

Same permissions as the list (the view's queryset names the model); a row of another group is 404.
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from core.api.details import ListRowDetailApi
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


class PhoneNumberDetailApi(ListRowDetailApi):
    queryset = PhoneNumber.objects.all()
    serializer_class = PhoneNumberOutputSerializer


class GroupParticipantDetailApi(ListRowDetailApi):
    queryset = Participant.objects.all()
    serializer_class = ParticipantOutputSerializer
    row_kwarg = "participant"

    def rows(self, *, pk: int) -> QuerySet:
        return selectors.participant_list(group=_group(pk))


class GroupJoinRequestDetailApi(ListRowDetailApi):
    queryset = JoinRequest.objects.all()
    serializer_class = JoinRequestOutputSerializer
    row_kwarg = "join_request"

    def rows(self, *, pk: int) -> QuerySet:
        return selectors.join_request_list(group=_group(pk))


class GroupEventDetailApi(ListRowDetailApi):
    queryset = GroupEvent.objects.all()
    serializer_class = GroupEventOutputSerializer
    row_kwarg = "event"

    def rows(self, *, pk: int) -> QuerySet:
        return selectors.group_event_list(group=_group(pk))
