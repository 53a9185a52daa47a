"""Live model admins: a changelist whose cells, and a change page whose read-only values, follow the database.

The protocol (versions, 204 when unchanged, how the browser merges) is desk/live.py. A screen becomes live by
mixing `LiveAdminMixin` in where the admin site is composed (desk/admin.py); its own templates stay the pages'
base, the desk's templates (templates/admin/desk/) only wrap the regions.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.loader import select_template

from desk.live import is_live_poll, live_answer, live_unchanged, live_version


def rows_version(rows) -> str:
    """Return the version of a page of rows: each row's id and last update, in order."""
    return live_version(*[(row.pk, row.updated_at) for row in rows])


class LiveAdminMixin:
    """Mixed in before a `ModelAdmin`: its list and change page are live regions (merge `rows` and `fields`)."""

    def __init__(self, model, admin_site) -> None:
        super().__init__(model, admin_site)
        # The screen's own templates (or Django's usual lookup) become the parents of the desk's wrappers.
        self.live_change_list_parent = self.change_list_template
        self.live_change_form_parent = self.change_form_template
        self.change_list_template = "admin/desk/live_change_list.html"
        self.change_form_template = "admin/desk/live_change_form.html"

    def live_object_version(self, pk) -> str:
        """Return the version of what the change page shows, in one query; screens showing other rows add theirs."""
        return live_version(self.model._default_manager.filter(pk=pk).values_list("updated_at", flat=True).first())

    def _live_parent(self, configured: str | None, page: str):
        opts = self.model._meta
        names = [configured] if configured else [
            f"admin/{opts.app_label}/{opts.model_name}/{page}", f"admin/{opts.app_label}/{page}", f"admin/{page}",
        ]
        return select_template(names)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if is_live_poll(request):
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            version = rows_version(self.get_changelist_instance(request).result_list)
            if unchanged := live_unchanged(request, version):
                return unchanged
        parent = self._live_parent(self.live_change_list_parent, "change_list.html")
        response = super().changelist_view(request, {**(extra_context or {}), "live_parent": parent})
        return live_answer(request, response, version) if is_live_poll(request) else response

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        context = {**(extra_context or {}),
                   "live_parent": self._live_parent(self.live_change_form_parent, "change_form.html")}
        return super().add_view(request, form_url, context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        context = {**(extra_context or {}),
                   "live_parent": self._live_parent(self.live_change_form_parent, "change_form.html")}
        pk = self._live_pk(object_id) if request.method == "GET" else None
        if pk is None:  # A POST, or an id that is no id: Django's own answer.
            return super().change_view(request, object_id, form_url, context)
        # The model's permission first: a poll answered 204 must not tell anyone what they may not see. (None of
        # the live screens has per-object permissions; Django checks the object itself when it renders.)
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        version = self.live_object_version(pk)
        if is_live_poll(request) and (unchanged := live_unchanged(request, version)):
            return unchanged
        response = super().change_view(request, object_id, form_url, {**context, "live_version": version})
        return live_answer(request, response, version)

    def _live_pk(self, object_id: str):
        try:
            return self.model._meta.pk.to_python(unquote(object_id))
        except ValidationError:
            return None
