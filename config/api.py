"""REST conventions shared by every app: permissions and pagination."""

from rest_framework import metadata, pagination, permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Authenticated users with the model permission; reads need `view_<model>` too."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class CursorPagination(pagination.CursorPagination):
    """Newest first, stable under inserts, and no COUNT(*) on large tables."""

    ordering = "-pk"
    page_size_query_param = "page_size"
    max_page_size = 500


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
