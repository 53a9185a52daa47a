"""Plain-language meaning of a message's error code, for staff: Meta's catalog plus Groupdesk's own codes."""

from dataclasses import dataclass

from groups.cloud_api import RetryClass, describe_error

# A failed message is final: Groupdesk has made its automatic retries (or none were due). The catalog's advice for
# temporary errors, "Groupdesk retries later", is untrue of it; this is what staff can do instead.
FINAL_FAILURE_ADVICE = ("Groupdesk already retried and stopped: this failure is final. Retry the message (it is "
                        "sent again as a new one) once the cause has passed.")


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


def error_explain(code: str | int | None, *, final: bool = False) -> ErrorExplanation | None:
    """Return what an error code means and what to do about it; None without a code.

    `final`: the error ended a message for good (a failed message), so advice to wait for our retries is replaced.
    """
    if code in (None, ""):
        return None
    if str(code) in OWN_CODES:
        return OWN_CODES[str(code)]
    description = describe_error(code)
    action = FINAL_FAILURE_ADVICE if final and description.retry_class == RetryClass.BACK_OFF else description.action
    return ErrorExplanation(str(code), description.title, description.meaning, action)
