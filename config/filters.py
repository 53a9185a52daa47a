"""Filters shared by the REST API."""

from datetime import UTC

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field


class UTCIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime, converted to UTC before it reaches the database.

    PostgreSQL refuses offsets beyond ±15:59 (Python accepts up to ±23:59), so an unconverted
    `+23:15` would be a server error instead of a plain filter.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("Enter a date and time within the supported range.", code="invalid") from exc


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictBooleanField(forms.Field):
    """`true`/`false` (also `1`/`0`, any case); anything else is an error naming the filter.

    django-filter's BooleanFilter reads its select widget's codes: an unknown value such as `maybe` silently
    meant "no filter", and `2` meant true.
    """

    TRUE, FALSE = {"true", "1"}, {"false", "0"}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().lower()
        if text in self.TRUE | self.FALSE:
            return text in self.TRUE
        raise ValidationError("Must be `true` or `false`.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(django_filters.NumberFilter):
    """One of our ids (a positive 64-bit integer), matched without reading the row it names.

    NumberFilter takes any decimal: 2.5 matched nothing, and a number past 64 bits reached the database
    and failed there (a 500).
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)
