"""App configuration: registers the messaging app's kinds and hooks with the apps below it."""

from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.due import DueWork, due_work_register
        from core.kinds import audit_actions, timeline_types
        from groups.services.participants import participant_identity_changed
        from messaging.models import MessagingAuditAction, MessagingTimelineType
        from messaging.selectors import message_ids_due
        from messaging.services.pins import register_pin_message_type
        from messaging.services.status_people import on_participant_identity_changed
        from messaging.tasks import message_send_task

        audit_actions.register(MessagingAuditAction)
        timeline_types.register(MessagingTimelineType)
        register_pin_message_type()
        # Receipts and status history are keyed by a person's identity: re-key them when groups links or merges it.
        participant_identity_changed.connect(on_participant_identity_changed, dispatch_uid="messaging-rekey")
        # Queued messages put off (a retry, a paced send) are started when due by the one due-work sweep.
        due_work_register(DueWork(name="outbound-messages", due_ids=message_ids_due, task=message_send_task))
        from messaging.event_payloads import register_event_renderers

        register_event_renderers()
