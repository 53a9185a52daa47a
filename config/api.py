"""REST conventions shared by every app: permissions and pagination."""

from rest_framework import pagination, permissions


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
