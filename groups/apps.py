"""App configuration: registers the groups app's kinds, and the configured phone number once the tables exist."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _register_configured_phone_number(sender, **kwargs) -> None:
    """Register WHATSAPP_PHONE_NUMBER_ID after migrate, so a one-number deployment needs no further step."""
    from groups.services import phone_number_register_configured

    phone_number_register_configured()


class GroupsConfig(AppConfig):
    name = "groups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.due import DueWork, due_work_register
        from core.kinds import audit_actions, timeline_types
        from groups.models import GroupAuditAction, GroupEvent
        from groups.selectors import group_operation_ids_due
        from groups.tasks import group_operation_send_task

        audit_actions.register(GroupAuditAction)
        timeline_types.register(GroupEvent.Type)
        # After migrate (start-up in `make run` and deployments); webhooks and the API also register it
        # lazily, for processes started against an already-migrated database with a new setting.
        post_migrate.connect(_register_configured_phone_number, sender=self, dispatch_uid="groups-register-number")
        # Operations put off by a temporary error are started when due by the one due-work sweep.
        due_work_register(DueWork(name="group-operations", due_ids=group_operation_ids_due,
                                  task=group_operation_send_task))
        from groups.event_payloads import register_event_renderers

        register_event_renderers()
