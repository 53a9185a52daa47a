"""The shapes of a person's identifiers in Meta's payloads: the one place they are defined (spec §1.5, §5.7, C1, C3).

A phone (`wa_id`) is digits only, at most 15, never a `+`; a BSUID (`user_id`) is a country code, a dot and up to
128 alphanumerics; a parent (enterprise) BSUID has `ENT` between the two: `US.ENT.11815799212886844830`.
"""

import re
from typing import NamedTuple

WA_ID_MAX_DIGITS = 15  # E.164 (spec C3).
WA_ID_RE = re.compile(rf"^\d{{1,{WA_ID_MAX_DIGITS}}}$")
# What staff may type as a phone: a wa_id, with or without Meta's `+` (request bodies accept both, spec §1.5).
PHONE_INPUT_RE = re.compile(rf"^\+?\d{{6,{WA_ID_MAX_DIGITS}}}$")
BSUID_RE = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9]{1,128}$")
PARENT_BSUID_RE = re.compile(r"^[A-Z]{2}\.ENT\.\d{1,128}$")


class Identity(NamedTuple):
    """Who a value names: a phone, a BSUID or a parent BSUID (at most one of them is set by one value)."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None


def normalize_wa_id(value: object) -> str | None:
    """Return a phone as Meta's wa_id (digits only, no `+`, at most 15), or None for anything else.

    Meta's reference shows `from` as `+16505551234` (C3); a hidden phone is omitted or "". A BSUID, a
    placeholder or any other text is not a wa_id and is never stored as one.
    """
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    digits = str(value).strip().removeprefix("+")
    return digits if WA_ID_RE.match(digits) else None


def is_bsuid(value: object) -> bool:
    return isinstance(value, str) and bool(BSUID_RE.match(value.strip()))


def is_parent_bsuid(value: object) -> bool:
    return isinstance(value, str) and bool(PARENT_BSUID_RE.match(value.strip()))


def identity_from_input(value: str) -> Identity:
    """Return whom a removal `input` names: a phone (with or without `+`), a BSUID or a parent BSUID.

    `removed_participants[].input` echoes what the business sent, any of the three (C1). Anything else
    names nobody.
    """
    value = (value or "").strip()
    if is_parent_bsuid(value):
        return Identity(parent_user_id=value)
    if is_bsuid(value):
        return Identity(user_id=value)
    return Identity(wa_id=normalize_wa_id(value) if PHONE_INPUT_RE.match(value) else None)


def is_participant_input(value: str) -> bool:
    """Return True when staff may name a participant by `value` in a removal (phone, BSUID or parent BSUID)."""
    return any(identity_from_input(value))
