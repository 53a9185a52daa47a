"""One Meta error value, whatever carried it: a webhook item, a Graph error envelope, a stored row, an exception.

Every app reads errors through `MetaError.from_raw` (Meta's objects) or `MetaError.from_value` (what we stored or
raised), and stores them with `as_dict()`: the CONTRACT's `{code, title, message, details}` (plus `href`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any

# Meta's documented samples (and a sandbox that replays them) carry template words such as "<str>" or
# "(#<code>) <title>": words that say nothing to staff, so they are never shown as Meta's explanation.
_PLACEHOLDER = re.compile(r"<[a-z_]+>")


class RetryClass(enum.StrEnum):
    """What a caller should do about a failed call (spec §8 "Recommended retry classes")."""

    BACK_OFF = "back_off"  # Temporary: retry later, with exponential backoff.
    FIX_REQUEST = "fix_request"  # The request or the group's state is wrong: retrying changes nothing.
    REAUTHENTICATE = "reauthenticate"  # The token or its permissions are bad: an operator must act.
    OUTCOME_UNKNOWN = "outcome_unknown"  # Meta may have acted: never retry blindly (no idempotency key).


@dataclass(frozen=True)
class MetaError:
    """Meta's error (or one of ours, e.g. `outcome_unknown`): code, words, trace id and what to do about it."""

    code: int | str | None
    title: str = ""
    message: str = ""
    details: str = ""
    href: str = ""
    fbtrace_id: str | None = None
    retry_class: RetryClass | None = None

    @classmethod
    def from_raw(cls, raw: Any) -> MetaError:
        """Read Meta's error object (`{code, title, message, error_data: {details}, href}`), tolerating any shape."""
        if not isinstance(raw, dict):
            return cls(code=None, message="" if raw is None else str(raw))
        error_data = raw.get("error_data") if isinstance(raw.get("error_data"), dict) else {}
        return cls(
            code=read_int(raw.get("code")),
            title=read_text(raw.get("title")),
            message=read_text(raw.get("message")),
            details=read_text(error_data.get("details")),
            href=read_text(raw.get("href")),
            fbtrace_id=read_text(raw.get("fbtrace_id")) or None,
        )

    @classmethod
    def from_value(cls, value: Any) -> MetaError | None:
        """Read an error we stored (a dict), raised (anything with `as_meta_error()`) or wrote (text); None for none."""
        if value is None or isinstance(value, MetaError):
            return value
        if hasattr(value, "as_meta_error"):
            return value.as_meta_error()
        if not isinstance(value, dict):
            return cls(code=None, message=str(value))
        retry_class = value.get("retry_class")
        return cls(
            code=value.get("code"),
            title=str(value.get("title") or ""),
            message=str(value.get("message") or ""),
            details=str(value.get("details") or ""),
            href=str(value.get("href") or ""),
            fbtrace_id=value.get("fbtrace_id") or None,
            retry_class=RetryClass(retry_class) if retry_class in set(RetryClass) else None,
        )

    @property
    def text(self) -> str:
        """Return the most specific words Meta gave: the details, else the message; never template placeholders."""
        return next((words for words in (self.details, self.message) if words and not _PLACEHOLDER.search(words)),
                    "")

    @property
    def code_text(self) -> str:
        """Return the code as text ("" without one), as messages store and filter it."""
        return "" if self.code in (None, "") else str(self.code)

    def as_dict(self, *, with_href: bool = False) -> dict[str, Any]:
        """Return the stored and published shape; `href` when Meta gave one (always with `with_href`)."""
        error: dict[str, Any] = {"code": self.code, "title": self.title, "message": self.message,
                                 "details": self.details}
        if self.href or with_href:
            error["href"] = self.href
        return error


def read_int(value: Any) -> int | None:
    """Return an integer Meta sent as a number or text; None for anything else (booleans included)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def read_text(value: Any) -> str:
    """Return a value Meta sent as text, stripped; "" for absent or structured values."""
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()
