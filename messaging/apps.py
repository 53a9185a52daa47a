"""App configuration."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The admin autodiscovers every app's admin.py before any ready() runs, so the groups admin is
        # registered by now: hang the "Send a message" action on it from here, keeping groups unaware of us.
        from messaging.admin import register_group_actions

        register_group_actions()
        # Receipts and status history are keyed by a person's identity: re-key them when groups links or merges it.
        from groups.services.participants import participant_identity_changed
        from messaging.services.statuses import _on_participant_identity_changed

        participant_identity_changed.connect(_on_participant_identity_changed, dispatch_uid="messaging-rekey")
        from messaging.event_payloads import register_event_renderers

        register_event_renderers()
