"""Filters of the group list (CONTRACT §5: state, suspended, phone_number, search on the subject), and of a group's
participants and join requests by state (`?state=pending`: what an integrator deciding join requests asks first)."""

import django_filters

from config.filters import StrictBooleanFilter
from groups.models import Group, JoinRequest, Participant


class GroupFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="subject", lookup_expr="icontains", help_text="Part of the subject.")
    suspended = StrictBooleanFilter(help_text="`true` or `false`.")

    class Meta:
        model = Group
        fields = ["state", "suspended", "phone_number"]


class ParticipantFilter(django_filters.FilterSet):
    class Meta:
        model = Participant
        fields = ["state"]


class JoinRequestFilter(django_filters.FilterSet):
    class Meta:
        model = JoinRequest
        fields = ["state"]
