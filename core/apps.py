"""The bottom app: what every app shares (time stamps, sources, the audit log, Meta errors, people, kinds)."""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from config.lookups import register_lookups

        register_lookups()  # `field__any` (the drain's batch statements use it), registered here and not on import.
