"""Filters of the group list (CONTRACT §5: state, suspended, phone_number, search on the subject)."""

import django_filters

from config.filters import StrictBooleanFilter
from groups.models import Group


class GroupFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="subject", lookup_expr="icontains", help_text="Part of the subject.")
    suspended = StrictBooleanFilter(help_text="`true` or `false`.")

    class Meta:
        model = Group
        fields = ["state", "suspended", "phone_number"]
