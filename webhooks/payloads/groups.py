"""Typed objects for the `groups[]` items of the four group fields (spec §6.2-6.5)."""

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from groups.services import ParticipantRef, SettingOutcome
from webhooks.payloads.common import (
    Contact,
    MetaError,
    PayloadError,
    optional_str,
    parse_bool,
    parse_enum,
    parse_errors,
    parse_timestamp,
    require_str,
)


def item_key(field_name: str, item: dict) -> str:
    """Return a content hash of an item: the same item in another delivery gives the same key."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{field_name}|{canonical}".encode()).hexdigest()


def _error_dicts(errors: list[MetaError]) -> list[dict]:
    return [e.as_dict() for e in errors]


def _participants(raw: object, key: str) -> list[ParticipantRef]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PayloadError(f"{key}: expected a list")
    refs = []
    for entry in raw:
        contact = Contact.from_raw(entry)
        refs.append(
            ParticipantRef(
                wa_id=contact.wa_id, user_id=contact.user_id, parent_user_id=contact.parent_user_id,
                username=contact.username, name=contact.name, input=contact.input,
                errors=_error_dicts(contact.errors),
            )
        )
    return refs


class InitiatedBy(enum.StrEnum):
    BUSINESS = "business"
    PARTICIPANT = "participant"
    UNKNOWN = "unknown"


class AddReason(enum.StrEnum):
    """Why people were added (spec §6.3): only `invite_link` is documented."""

    INVITE_LINK = "invite_link"
    UNKNOWN = "unknown"


class JoinRequestReason(enum.StrEnum):
    """The optional `reason` of a join request: undocumented; one BSP sample shows `admin_approval` (spec §6.3)."""

    ADMIN_APPROVAL = "admin_approval"
    INVITE_LINK = "invite_link"
    UNKNOWN = "unknown"


class JoinApprovalMode(enum.StrEnum):
    AUTO_APPROVE = "auto_approve"
    APPROVAL_REQUIRED = "approval_required"
    UNKNOWN = "unknown"


def _optional_enum(item: dict, key: str, enum_type: type[enum.StrEnum]) -> tuple[str | None, bool]:
    """Return (the raw value, whether it is a known member); an unknown value is logged, never fatal."""
    raw = optional_str(item, key)
    if raw is None:
        return None, False
    return raw, parse_enum(enum_type, raw, context=key) != enum_type["UNKNOWN"]


@dataclass(frozen=True)
class LifecycleItem:
    """A `group_create` or `group_delete` outcome."""

    at: datetime
    request_id: str | None
    group_id: str | None
    subject: str | None
    invite_link: str | None
    join_approval_mode: str | None
    errors: list[dict]

    @classmethod
    def from_item(cls, item: dict) -> "LifecycleItem":
        # An unknown mode is dropped (the group keeps the one it asked for), never stored.
        mode, known_mode = _optional_enum(item, "join_approval_mode", JoinApprovalMode)
        return cls(
            at=parse_timestamp(item.get("timestamp")),
            request_id=optional_str(item, "request_id"),
            group_id=optional_str(item, "group_id"),
            subject=optional_str(item, "subject"),
            invite_link=optional_str(item, "invite_link"),
            join_approval_mode=mode if known_mode else None,
            errors=_error_dicts(parse_errors(item.get("errors"))),
        )


@dataclass(frozen=True)
class ParticipantsAddItem:
    at: datetime
    group_id: str
    reason: str | None
    added: list[ParticipantRef]

    @classmethod
    def from_item(cls, item: dict) -> "ParticipantsAddItem":
        reason, _known = _optional_enum(item, "reason", AddReason)  # Kept as sent: it goes into the timeline.
        return cls(
            at=parse_timestamp(item.get("timestamp")),
            group_id=require_str(item, "group_id"),
            reason=reason,
            added=_participants(item.get("added_participants"), "added_participants"),
        )


@dataclass(frozen=True)
class ParticipantsRemoveItem:
    at: datetime
    group_id: str
    request_id: str | None
    initiated_by: str | None  # None when absent (Meta's samples misplace it, spec §6.3).
    removed: list[ParticipantRef]
    failed: list[ParticipantRef]
    errors: list[dict] = field(default_factory=list)

    @classmethod
    def from_item(cls, item: dict) -> "ParticipantsRemoveItem":
        raw_initiated = optional_str(item, "initiated_by")
        initiated = parse_enum(InitiatedBy, raw_initiated, context="initiated_by") if raw_initiated else None
        return cls(
            at=parse_timestamp(item.get("timestamp")),
            group_id=require_str(item, "group_id"),
            request_id=optional_str(item, "request_id"),
            initiated_by=None if initiated in (None, InitiatedBy.UNKNOWN) else initiated.value,
            removed=_participants(item.get("removed_participants"), "removed_participants"),
            failed=_participants(item.get("failed_participants"), "failed_participants"),
            errors=_error_dicts(parse_errors(item.get("errors"))),
        )


@dataclass(frozen=True)
class JoinRequestItem:
    at: datetime
    group_id: str
    join_request_id: str
    person: ParticipantRef
    reason: str | None = None

    @classmethod
    def from_item(cls, item: dict) -> "JoinRequestItem":
        contact = Contact.from_raw(item)
        reason, _known = _optional_enum(item, "reason", JoinRequestReason)
        return cls(
            reason=reason,
            at=parse_timestamp(item.get("timestamp")),
            group_id=require_str(item, "group_id"),
            join_request_id=require_str(item, "join_request_id"),
            person=ParticipantRef(wa_id=contact.wa_id, user_id=contact.user_id,
                                  parent_user_id=contact.parent_user_id, username=contact.username),
        )


def _setting(raw: object, *, text_key: str | None) -> SettingOutcome | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise PayloadError("a setting outcome must be an object")
    return SettingOutcome(
        succeeded=parse_bool(raw.get("update_successful")),
        text=raw.get(text_key) if text_key and isinstance(raw.get(text_key), str) else None,
        sha256=optional_str(raw, "sha256"),
        errors=_error_dicts(parse_errors(raw.get("errors"))),
    )


@dataclass(frozen=True)
class SettingsItem:
    at: datetime
    group_id: str
    request_id: str | None
    subject: SettingOutcome | None
    description: SettingOutcome | None
    picture: SettingOutcome | None
    errors: list[dict]

    @classmethod
    def from_item(cls, item: dict) -> "SettingsItem":
        return cls(
            at=parse_timestamp(item.get("timestamp")),
            group_id=require_str(item, "group_id"),
            request_id=optional_str(item, "request_id"),
            subject=_setting(item.get("group_subject"), text_key="text"),
            description=_setting(item.get("group_description"), text_key="text"),
            picture=_setting(item.get("profile_picture"), text_key=None),
            errors=_error_dicts(parse_errors(item.get("errors"))),
        )


@dataclass(frozen=True)
class StatusItem:
    at: datetime
    group_id: str

    @classmethod
    def from_item(cls, item: dict) -> "StatusItem":
        return cls(at=parse_timestamp(item.get("timestamp")), group_id=require_str(item, "group_id"))
