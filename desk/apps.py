"""The top app: what staff see across apps (dashboard, triage, charts) and the admin site, composed in one place."""

from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "desk"
    default_auto_field = "django.db.models.BigAutoField"
