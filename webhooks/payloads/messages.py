"""Readers of the `messages` field's group variants (spec §5.2, §5.3, §6.6): statuses, messages, errors."""

from typing import Any

from groups.identity import normalize_wa_id
from messaging.events import InboundEvent, MetaStatus, StatusEvent
from webhooks.payloads.common import (
    Contact,
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


def parse_status(item: Any, *, value: dict | None = None) -> StatusEvent:
    """Return one `statuses[]` item as a StatusEvent (both spellings of the participant key accepted).

    A BSUID-era delivered/read names its participant in the body's `contacts[]` too (C4): their name and username
    come from there. `recipient_identity_key_hash` and other extra keys are ignored (C9).
    """
    item = _object(item, "status")
    status = require_str(item, "status").strip().lower()
    parse_enum(MetaStatus, status, context="message status")  # Logs a value Meta added later.
    pricing = item.get("pricing")
    if not isinstance(pricing, dict):
        # Some of Meta's group samples nest pricing inside `conversation` (spec §5.4): take it from there.
        conversation = item.get("conversation")
        pricing = conversation.get("pricing") if isinstance(conversation, dict) else None
    # `participant_recipient_id` is a misspelling in some of Meta's samples (spec §6.7).
    given = optional_str(item, "recipient_participant_id") or optional_str(item, "participant_recipient_id")
    wa_id = normalize_wa_id(given)
    user_id = optional_str(item, "recipient_participant_user_id")
    if given and wa_id is None and user_id is None:
        # Names a participant, but by no phone we could store: not a group-level status either.
        raise PayloadError("recipient_participant_id is not a phone number (wa_id)")
    contact = _contact_for(value or {}, wa_id=wa_id, user_id=user_id, sole=False) if wa_id or user_id else Contact()
    return StatusEvent(
        wamid=require_str(item, "id"),
        status=status,
        timestamp=parse_timestamp(item.get("timestamp")),
        recipient_id=optional_str(item, "recipient_id") or "",
        participant_wa_id=wa_id,
        participant_user_id=user_id,
        participant_parent_user_id=optional_str(item, "recipient_participant_parent_user_id")
        or contact.parent_user_id,
        participant_name=contact.name,
        participant_username=contact.username,
        errors=[error.as_dict(with_href=True) for error in parse_errors(item.get("errors"))],
        pricing=pricing if isinstance(pricing, dict) else None,
        callback_data=optional_str(item, "biz_opaque_callback_data"),
    )


def _contact_for(value: dict, *, wa_id: str | None, user_id: str | None, sole: bool = True) -> Contact:
    """Return the `contacts[]` entry of the person a message or status names (with `sole`, the only entry)."""
    raw = value.get("contacts") if isinstance(value.get("contacts"), list) else []
    contacts = [Contact.from_raw(entry) for entry in raw if isinstance(entry, dict)]
    for contact in contacts:
        if (wa_id and contact.wa_id == wa_id) or (user_id and contact.user_id == user_id):
            return contact
    return contacts[0] if sole and len(contacts) == 1 else Contact()


def parse_inbound(item: Any, *, value: dict, phone_number_id: str = "") -> InboundEvent:
    """Return one `messages[]` item as an InboundEvent, with the writer's name from `contacts[]`."""
    item = _object(item, "message")
    message_type = require_str(item, "type").strip().lower()
    # Meta's reference shows `from` as `+16505551234` (C3): one normaliser makes it a wa_id.
    wa_id = normalize_wa_id(optional_str(item, "from"))
    user_id = optional_str(item, "from_user_id")
    contact = _contact_for(value, wa_id=wa_id, user_id=user_id)
    wa_id = wa_id or contact.wa_id
    user_id = user_id or contact.user_id
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
        from_parent_user_id=optional_str(item, "from_parent_user_id") or contact.parent_user_id,
        contact_name=contact.name or "",
        contact_username=contact.username or "",
        text=text,
        content=content,
        media_id=str(content.get("id") or "") if message_type in MEDIA_TYPES else "",
        mime_type=str(content.get("mime_type") or "") if message_type in MEDIA_TYPES else "",
        errors=[error.as_dict(with_href=True) for error in errors],
    )


def parse_account_error(item: Any) -> dict[str, Any]:
    """Return one `value.errors[]` item as `{code, title, message, details, href}`."""
    return MetaError.from_raw(_object(item, "error")).as_dict(with_href=True)
