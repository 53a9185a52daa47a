"""Small immutable results of Graph calls, parsed leniently from Meta's JSON (spec §4, §6.7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.meta_errors import MetaError, read_int


@dataclass(frozen=True)
class GroupSummary:
    """One group of `GET /{phone_number_id}/groups`."""

    group_id: str
    subject: str
    created_at: datetime | None


@dataclass(frozen=True)
class GroupPage:
    """One page of groups; `after` is the cursor of the next page, None on the last one."""

    groups: list[GroupSummary]
    after: str | None = None


@dataclass(frozen=True)
class ParticipantInfo:
    """One participant of a group: phone (`wa_id`) and/or business-scoped user id (spec §5.7)."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class GroupInfo:
    """The fields of `GET /{group_id}?fields=...`; a field not requested or not returned is None."""

    group_id: str
    subject: str | None = None
    description: str | None = None
    join_approval_mode: str | None = None
    suspended: bool | None = None
    created_at: datetime | None = None
    participants: list[ParticipantInfo] | None = None
    total_participant_count: int | None = None


@dataclass(frozen=True)
class JoinRequestInfo:
    """One open join request of `GET /{group_id}/join_requests`."""

    join_request_id: str
    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class JoinRequestPage:
    """One page of open join requests; `after` is the next page's cursor, None on the last one."""

    items: list[JoinRequestInfo]
    after: str | None = None


@dataclass(frozen=True)
class FailedJoinRequest:
    """A join request Meta could not approve or reject; errors are `{code, title, message, details}`."""

    join_request_id: str
    errors: list[dict[str, Any]]


@dataclass(frozen=True)
class JoinRequestResult:
    """The outcome of approving or rejecting join requests (HTTP 200, or 206 when partial)."""

    succeeded: list[str]
    failed: list[FailedJoinRequest] = field(default_factory=list)
    partial: bool = False
    errors: list[dict[str, Any]] = field(default_factory=list)  # Top-level errors, e.g. 131201.


# --- Lenient readers: Meta quotes numbers and booleans in some samples (spec §4.3) ---------------


def read_str(value: Any) -> str | None:
    """Return a stripped string, or None for absent, empty or structured values."""
    if value is None or isinstance(value, dict | list | bool):
        return None
    text = str(value).strip()
    return text or None


def read_bool(value: Any) -> bool | None:
    """Return a bool from true/false or "true"/"false"; None when absent."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def read_timestamp(value: Any) -> datetime | None:
    """Return an aware datetime from Unix seconds as int or string; None when absent or invalid."""
    seconds = read_int(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def read_errors(raw: Any) -> list[dict[str, Any]]:
    """Return every error of an `errors` list; anything else gives none."""
    return [MetaError.from_raw(item).as_dict() for item in raw] if isinstance(raw, list) else []


def next_cursor(body: dict, *, count: int) -> str | None:
    """Return the cursor of the next page, or None when this page is the last.

    Graph marks a further page with `paging.next`. Some group listings give cursors without any
    links (spec §4.9), so then the `after` cursor is returned and the caller stops at an empty page.
    """
    paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    after = read_str(cursors.get("after"))
    if not count or after is None:
        return None
    if "next" in paging:
        return after
    return None if "previous" in paging else after
