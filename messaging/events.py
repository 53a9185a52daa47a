"""What the messaging services take from a webhook, already parsed (webhooks/payloads reads the raw keys)."""

import enum
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class MetaStatus(enum.StrEnum):
    """Status values Meta sends in `statuses[]` (spec §5.3); UNKNOWN for any it adds later."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    PLAYED = "played"
    UNKNOWN = "unknown"


def participant_key(*, wa_id: str | None, user_id: str | None) -> str:
    """Return the key a participant's events share: the phone when known, else the BSUID."""
    if wa_id:
        return f"wa:{wa_id}"
    if user_id:
        return f"user:{user_id}"
    return ""


@dataclass(frozen=True)
class StatusEvent:
    """One item of `statuses[]`: a group-level `sent`/`failed` or a per-participant `delivered`/`read`."""

    wamid: str
    status: str  # Meta's value as sent (an unknown one is kept, never applied).
    timestamp: datetime
    recipient_id: str = ""
    participant_wa_id: str | None = None
    participant_user_id: str | None = None
    participant_parent_user_id: str | None = None
    # What the body's `contacts[]` says of the participant (BSUID-era delivered/read, C4).
    participant_name: str | None = None
    participant_username: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)  # Each {code, title, message, details, href}.
    pricing: dict[str, Any] | None = None
    callback_data: str | None = None

    @property
    def participant_key(self) -> str:
        return participant_key(wa_id=self.participant_wa_id, user_id=self.participant_user_id)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StatusEvent":
        return cls(**{**data, "timestamp": datetime.fromisoformat(data["timestamp"])})


@dataclass(frozen=True)
class InboundEvent:
    """One item of `messages[]`: what a participant wrote in a group."""

    wamid: str
    type: str
    timestamp: datetime
    group_id: str = ""
    phone_number_id: str = ""
    from_wa_id: str | None = None
    from_user_id: str | None = None
    from_parent_user_id: str | None = None
    contact_name: str = ""
    contact_username: str = ""
    text: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    media_id: str = ""
    mime_type: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
