"""REST conventions shared by every app: permissions, pagination and fast list output."""

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import ISO_8601, exceptions, metadata, pagination, parsers, permissions, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users with the model permission; reads need `view_<model>` too."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, with JSON nested deeper than Python's parser recurses answered 400 (it raised a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from exc


class CursorPagination(pagination.CursorPagination):
    """Newest first, stable under inserts, and no COUNT(*) on large tables.

    Bad paging is a 400 naming `cursor` or `page_size`: DRF's own answers a cursor it cannot read with a 404
    naming nothing, a readable one whose position is not of the ordering's kind with a 500, and an unreadable
    page size with the default size (one over the maximum with the maximum), without a word.
    """

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_cursor_message = "Not a cursor of this list: pass the `next` or `previous` link of a page as it is."

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model  # For decode_cursor, which sees only the request.
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request) -> int:
        value = request.query_params.get(self.page_size_query_param)
        if value in (None, ""):
            return self.page_size
        try:
            size = int(value)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Must be an integer from 1 to {self.max_page_size}."]})
        return size

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
            if cursor is not None and cursor.position is not None:
                name = self.ordering[0].lstrip("-")
                meta = self._model._meta
                (meta.pk if name == "pk" else meta.get_field(name)).to_python(cursor.position)
        except (exceptions.NotFound, DjangoValidationError) as exc:
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor_message]}) from exc
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class Metadata(metadata.SimpleMetadata):
    """Answer OPTIONS with names and media types only: the OpenAPI schema documents the fields.

    DRF's default also introspects each view's serializer, which fails on views without one.
    """

    def determine_metadata(self, request, view):
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }


def datetime_iso(value: datetime, output_timezone: tzinfo) -> str:
    """Return an aware datetime as DRF's ISO 8601 DateTimeField writes it in `output_timezone`."""
    text = value.astimezone(output_timezone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# Serialize rows without DRF's per-field dispatch, for lists of hundreds of rows (issue 9, P8).
# The output is exactly DRF's. A field whose source is one attribute (and whose class keeps DRF's
# `get_attribute`) is read with getattr and given to its own `to_representation`; an ISO 8601
# DateTimeField is formatted here with the current timezone looked up once per serializer, where DRF
# looks it up per value through asgiref (the largest per-row cost measured). Other fields (relations,
# method fields, dotted sources) take DRF's path. Declared fields are unchanged, and so is the schema.
# No docstring on purpose: drf-spectacular would publish it as every serializer's description.
class FastOutputMixin:
    @cached_property
    def _fast_fields(self) -> list[tuple[serializers.Field, str | None, bool]]:
        """Return (field, attribute read directly or None, formatted here as ISO 8601) per readable field."""
        plan = []
        for field in self._readable_fields:
            direct = len(field.source_attrs) == 1 and type(field).get_attribute is serializers.Field.get_attribute
            iso = (
                isinstance(field, serializers.DateTimeField)
                and type(field).to_representation is serializers.DateTimeField.to_representation
                and not hasattr(field, "timezone")  # A field-specific timezone: DRF's own path.
                and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
            )
            plan.append((field, field.source_attrs[0] if direct else None, iso))
        return plan

    @cached_property
    def _output_timezone(self):
        # A serializer lives for one request, within one activated timezone.
        return timezone.get_current_timezone() if settings.USE_TZ else None

    def to_representation(self, instance) -> dict:
        if isinstance(instance, Mapping):
            return super().to_representation(instance)
        output_timezone = self._output_timezone
        data = {}
        for field, attribute, iso in self._fast_fields:
            if attribute is not None:
                value = getattr(instance, attribute)
                if callable(value):  # DRF calls a method named as the source.
                    value = field.get_attribute(instance)
            else:
                try:
                    value = field.get_attribute(instance)
                except SkipField:
                    continue
            if value is None or (isinstance(value, PKOnlyObject) and value.pk is None):
                data[field.field_name] = None
            elif iso and output_timezone is not None and isinstance(value, datetime) and timezone.is_aware(value):
                data[field.field_name] = datetime_iso(value, output_timezone)
            else:
                data[field.field_name] = field.to_representation(value)
        return data
