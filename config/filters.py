"""Filters shared by the REST API."""

from datetime import UTC

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField


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
