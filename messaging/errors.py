"""Plain-language meaning of a message's error code, for staff: Meta's catalog plus Groupdesk's own codes."""

from dataclasses import dataclass

from groups.cloud_api import describe_error


@dataclass(frozen=True)
class ErrorExplanation:
    code: str
    title: str
    meaning: str
    action: str


OWN_CODES = {
    "outcome_unknown": ErrorExplanation(
        "outcome_unknown",
        "Outcome unknown",
        "The send call to Meta timed out after reaching it, and no status arrived within the configured time. "
        "The message may or may not have reached the group.",
        "Check the group (or ask a participant) before retrying: a retry may deliver the message twice.",
    ),
    "group_not_sendable": ErrorExplanation(
        "group_not_sendable",
        "Group cannot receive messages",
        "The group stopped being active, or was suspended, before the message was sent.",
        "Wait until the group is active and not suspended, then retry.",
    ),
}


def error_explain(code: str | int | None) -> ErrorExplanation | None:
    """Return what an error code means and what to do about it; None without a code."""
    if code in (None, ""):
        return None
    if str(code) in OWN_CODES:
        return OWN_CODES[str(code)]
    description = describe_error(code)
    return ErrorExplanation(str(code), description.title, description.meaning, description.action)
