"""The one shape of a list resource's detail view: answer the row the list shows, or 404 (issue 16 §2)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response


class ListRowDetailApi(GenericAPIView):
    """GET one row of a list resource under the list's own permissions.

    A subclass sets `queryset` to the model whose permissions the list checks (`view_<model>`; it also names the
    path ids in the OpenAPI schema), `serializer_class` to the list's row serializer, `row_kwarg` to the path's id
    of the row, and overrides `rows()` when the list is scoped by a parent in the path (a group, a message): a row
    of another parent is then 404, as a missing parent is.
    """

    row_kwarg = "pk"

    def rows(self, **parent_ids: int) -> QuerySet:
        # A top-level list shows every row of its model.
        return self.get_queryset()

    def get(self, request, **path_ids: int):
        # No docstring here: drf-spectacular would publish it as every subclass's description in the schema.
        row_id = path_ids.pop(self.row_kwarg)
        found = get_object_or_404(self.rows(**path_ids), pk=row_id)
        return Response(self.serializer_class(found).data)
