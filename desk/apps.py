"""The top app: what staff see across apps (dashboard, triage, charts) and the admin site, composed in one place."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DeskConfig(AppConfig):
    name = "desk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.admin_links import admin_link_register

        # The error catalog hangs under the messages admin; its URL name is the one it has always had.
        admin_link_register("error_catalog", "admin:messaging_error_catalog")


class DeskAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with the desk's site class (its index order and sections, desk.site)."""

    default = False  # "desk" alone names DeskConfig; settings name this one in full.
    default_site = "desk.site.DeskAdminSite"
