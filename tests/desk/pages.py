"""Every staff page of the admin, for the page-wide tests (tests/desk/test_staff_pages.py, tests/e2e)."""

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse


def staff_pages(seeded: dict, *, superuser) -> list[str]:
    """Return the index, each changelist, each add form, each seeded object's page, the desk's own pages."""
    request = RequestFactory().get("/admin/")
    request.user = superuser
    pages = ["/admin/", reverse("desk-dashboard"), reverse("desk-dashboard") + "?period=30d",
             reverse("admin:messaging_failures"), reverse("admin:messaging_error_catalog"),
             reverse("admin:messaging_compose")]
    for model, model_admin in admin.site._registry.items():
        key = f"{model._meta.app_label}/{model._meta.model_name}"
        pages.append(f"/admin/{key}/")
        if model_admin.has_add_permission(request):
            pages.append(f"/admin/{key}/add/")
        if key in seeded:
            pages.append(f"/admin/{key}/{seeded[key].pk}/change/")
    if "groups/group" in seeded:  # The group's page is its workspace; its stock form is "Edit settings".
        pages.append(f"/admin/groups/group/{seeded['groups/group'].pk}/settings/")
    return pages
