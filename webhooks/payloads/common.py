"""Lenient readers for Meta's quirks (spec §6.7): quoted numbers, string booleans, unknown enums."""

import enum
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from core.meta_errors import MetaError
from groups.identity import normalize_wa_id

logger = logging.getLogger(__name__)


class PayloadError(ValueError):
    """A webhook item lacks what its handler needs; the item fails, the rest of the body goes on."""


def parse_timestamp(value: Any, *, key: str = "timestamp") -> datetime:
    """Return an aware datetime from Unix seconds given as an int or a quoted string."""
    try:
        return datetime.fromtimestamp(int(str(value).strip()), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise PayloadError(f"{key}: expected Unix seconds, got {value!r}") from exc


def parse_bool(value: Any) -> bool:
    """Return a bool from true/false or their quoted forms ("true")."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def require_str(item: dict, key: str) -> str:
    """Return `item[key]` as a non-empty string, or raise PayloadError naming the key."""
    value = item.get(key)
    if value is None or (isinstance(value, str) and not value.strip()) or isinstance(value, dict | list):
        raise PayloadError(f"{key} is missing")
    return str(value)


def optional_str(item: dict, key: str) -> str | None:
    value = item.get(key)
    if value is None or isinstance(value, dict | list):
        return None
    value = str(value).strip()
    return value or None


def parse_errors(raw: Any) -> list[MetaError]:
    """Return every error of an `errors` list; anything else gives none."""
    return [MetaError.from_raw(error) for error in raw] if isinstance(raw, list) else []


E = TypeVar("E", bound=enum.Enum)


def parse_enum(enum_type: type[E], value: Any, *, context: str) -> E:
    """Return the member for `value`, or `UNKNOWN` (logged) for a value Meta added later."""
    try:
        return enum_type._value2member_map_[value]  # What enum_type(value) finds, for a tenth of its cost.
    except (KeyError, TypeError):  # TypeError: an unhashable value (a list or an object).
        logger.warning("webhook: unknown %s value", context, extra={"value": str(value)[:64]})
        return enum_type["UNKNOWN"]


@dataclass(frozen=True)
class Contact:
    """A person named in `contacts[]` or a participant list: phone and/or BSUID, and names.

    `wa_id` is only ever a phone as Meta's wa_id (digits): "" (hidden phone), a `+` or any other text is read
    through the one normaliser (C3). Extra keys (`country_code`, `identity_key_hash`, C9) are ignored.
    """

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    name: str | None = None
    input: str | None = None
    errors: list[MetaError] = field(default_factory=list)

    @classmethod
    def from_raw(cls, raw: Any) -> "Contact":
        if not isinstance(raw, dict):
            raise PayloadError(f"expected a participant object, got {type(raw).__name__}")
        profile = raw.get("profile") if isinstance(raw.get("profile"), dict) else {}
        return cls(
            wa_id=normalize_wa_id(optional_str(raw, "wa_id")),
            user_id=optional_str(raw, "user_id"),
            parent_user_id=optional_str(raw, "parent_user_id"),
            username=optional_str(raw, "username") or optional_str(profile, "username"),
            name=optional_str(profile, "name") or optional_str(raw, "name"),
            input=optional_str(raw, "input"),
            errors=parse_errors(raw.get("errors")),
        )
