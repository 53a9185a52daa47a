"""Record what participants write in groups, and account-level errors Meta reports."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.meta_errors import MetaError
from groups.exceptions import GroupUnknown
from groups.models import PhoneNumber
from groups.selectors import lock_groups
from groups.services.participants import participant_get_or_create
from messaging.events import InboundEvent
from messaging.models import AccountError, InboundMessage
from outbox import event_types
from outbox.services import event_record


def inbound_message_record(
    *, event: InboundEvent, webhook_event_id: int | None = None, webhook_item: str = ""
) -> InboundMessage:
    """Store one inbound message once (keyed by wamid); unsupported content is kept with its error.

    Raises GroupUnknown if it names a group not known here yet (its create webhook may come later).
    """
    existing = InboundMessage.objects.filter(wamid=event.wamid).first()
    if existing is not None:
        return existing  # A redelivery or a replay: nothing new.
    with transaction.atomic():
        # Locked: the sender's participant row may be created or linked here (participants change under the group lock).
        group = lock_groups().filter(group_id=event.group_id).first() if event.group_id else None
        if event.group_id and group is None:
            raise GroupUnknown(f"No group with group_id {event.group_id} is known here (yet).")
        participant = None
        if group is not None and (event.from_wa_id or event.from_user_id):
            # Writing in the group proves they are in it: whether their join arrived first or not, the message names
            # the same participant row (the join still applies by its own time).
            participant, _ = participant_get_or_create(
                group=group, wa_id=event.from_wa_id, user_id=event.from_user_id,
                parent_user_id=event.from_parent_user_id, username=event.contact_username or None,
                name=event.contact_name or None, at=event.timestamp,
            )
        phone_number = (
            PhoneNumber.objects.filter(phone_number_id=event.phone_number_id).first() if event.phone_number_id else None
        )
        message, created = InboundMessage.objects.get_or_create(
            wamid=event.wamid,
            defaults={
                "group": group,
                "meta_group_id": event.group_id,
                "phone_number": phone_number,
                "participant": participant,
                "from_wa_id": event.from_wa_id or "",
                "from_user_id": event.from_user_id or "",
                "contact_name": event.contact_name[:256],
                "contact_username": event.contact_username[:128],
                "type": event.type[:40],
                "text": event.text,
                "content": event.content,
                "media_id": event.media_id[:255],
                "mime_type": event.mime_type[:128],
                "error": event.errors[0] if event.errors else None,
                "errors": event.errors,
                "timestamp": event.timestamp,
                "webhook_event_id": webhook_event_id,
                "webhook_item": webhook_item[:100],
            },
        )
        if created:
            event_record(type=event_types.MESSAGE_INBOUND, obj=message, occurred_at=message.timestamp)
    return message


def account_error_record(
    *,
    error: dict,
    phone_number_id: str = "",
    webhook_event_id: int | None = None,
    webhook_item: str = "",
    received_at: datetime | None = None,
) -> AccountError:
    """Store an account-level error (`messages` → `errors[]`) for staff; a replayed item writes nothing."""
    phone_number = PhoneNumber.objects.filter(phone_number_id=phone_number_id).first() if phone_number_id else None
    meta_error = MetaError.from_value(error)
    values = {
        "phone_number": phone_number,
        "meta_phone_number_id": phone_number_id,
        "code": meta_error.code,
        "title": meta_error.title[:255],
        "message": meta_error.message,
        "details": meta_error.details,
        "href": meta_error.href[:500],
        "received_at": received_at or timezone.now(),
    }
    if webhook_event_id is None:
        return AccountError.objects.create(**values, webhook_item=webhook_item[:100])
    with transaction.atomic():
        account_error, _ = AccountError.objects.get_or_create(
            webhook_event_id=webhook_event_id, webhook_item=webhook_item[:100], defaults=values
        )
    return account_error
