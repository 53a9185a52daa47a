"""The top app: what staff see across apps (dashboard, triage, charts) and the admin site, composed in one place."""

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.admin_links import admin_link_register

        # The error catalog hangs under the messages admin; its URL name is the one it has always had.
        admin_link_register("error_catalog", "admin:messaging_error_catalog")
