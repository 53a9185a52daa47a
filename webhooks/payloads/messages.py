"""Readers of the `messages` field's group variants (spec §5.2, §5.3, §6.6): statuses, messages, errors."""

from typing import Any

from messaging.events import InboundEvent, MetaStatus, StatusEvent
from webhooks.payloads.common import (
    MetaError,
    PayloadError,
    optional_str,
    parse_enum,
    parse_errors,
    parse_timestamp,
    require_str,
)

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def _object(item: Any, what: str) -> dict:
    if not isinstance(item, dict):
        raise PayloadError(f"expected a {what} object, got {type(item).__name__}")
    return item


def parse_status(item: Any) -> StatusEvent:
    """Return one `statuses[]` item as a StatusEvent (both spellings of the participant key accepted)."""
    item = _object(item, "status")
    status = require_str(item, "status").strip().lower()
    parse_enum(MetaStatus, status, context="message status")  # Logs a value Meta added later.
    pricing = item.get("pricing")
    if not isinstance(pricing, dict):
        # Some of Meta's group samples nest pricing inside `conversation` (spec §5.4): take it from there.
        conversation = item.get("conversation")
        pricing = conversation.get("pricing") if isinstance(conversation, dict) else None
    return StatusEvent(
        wamid=require_str(item, "id"),
        status=status,
        timestamp=parse_timestamp(item.get("timestamp")),
        recipient_id=optional_str(item, "recipient_id") or "",
        # `participant_recipient_id` is a misspelling in some of Meta's samples (spec §6.7).
        participant_wa_id=(optional_str(item, "recipient_participant_id")
                           or optional_str(item, "participant_recipient_id")),
        participant_user_id=optional_str(item, "recipient_participant_user_id"),
        errors=[error.as_dict(with_href=True) for error in parse_errors(item.get("errors"))],
        pricing=pricing if isinstance(pricing, dict) else None,
        callback_data=optional_str(item, "biz_opaque_callback_data"),
    )


def _contact_for(value: dict, *, wa_id: str | None, user_id: str | None) -> dict:
    contacts = value.get("contacts") if isinstance(value.get("contacts"), list) else []
    for contact in contacts:
        if not isinstance(contact, dict):
            continue
        if (wa_id and contact.get("wa_id") == wa_id) or (user_id and contact.get("user_id") == user_id):
            return contact
    return contacts[0] if len(contacts) == 1 and isinstance(contacts[0], dict) else {}


def parse_inbound(item: Any, *, value: dict, phone_number_id: str = "") -> InboundEvent:
    """Return one `messages[]` item as an InboundEvent, with the writer's name from `contacts[]`."""
    item = _object(item, "message")
    message_type = require_str(item, "type").strip().lower()
    wa_id = optional_str(item, "from")
    user_id = optional_str(item, "from_user_id")
    contact = _contact_for(value, wa_id=wa_id, user_id=user_id)
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    wa_id = wa_id or optional_str(contact, "wa_id")
    user_id = user_id or optional_str(contact, "user_id")
    content = item.get(message_type) if isinstance(item.get(message_type), dict) else {}
    text = ""
    if message_type == "text":
        text = str(content.get("body") or "")
    elif isinstance(content.get("caption"), str):
        text = content["caption"]
    errors: list[MetaError] = parse_errors(item.get("errors"))
    if isinstance(item.get("unsupported"), dict):
        content = {**content, "unsupported": item["unsupported"]}  # 131051's `{type: <kind>}`.
    return InboundEvent(
        wamid=require_str(item, "id"),
        type=message_type,
        timestamp=parse_timestamp(item.get("timestamp")),
        group_id=optional_str(item, "group_id") or "",
        phone_number_id=phone_number_id,
        from_wa_id=wa_id,
        from_user_id=user_id,
        contact_name=optional_str(profile, "name") or "",
        contact_username=optional_str(profile, "username") or "",
        text=text,
        content=content,
        media_id=str(content.get("id") or "") if message_type in MEDIA_TYPES else "",
        mime_type=str(content.get("mime_type") or "") if message_type in MEDIA_TYPES else "",
        errors=[error.as_dict(with_href=True) for error in errors],
    )


def parse_account_error(item: Any) -> dict[str, Any]:
    """Return one `value.errors[]` item as `{code, title, message, details, href}`."""
    return MetaError.from_raw(_object(item, "error")).as_dict(with_href=True)
