"""The group's operations and timeline as sentences a person reads ("Alice removed 2 people: 1 failed, …").

Each row's stored detail (Meta's answers, what was asked) is read here and nowhere else on the workspace; people
are named from the group's participants when known, else by their phone number or BSUID.
"""

from collections.abc import Callable

from core.models import Source
from groups.admin_confirm import CREATE_FAILED_ADVICE, OPERATION_FAILED_ADVICE, meta_error_text
from groups.models import GroupEvent, GroupOperation, Participant

Kind = GroupOperation.Kind
OpState = GroupOperation.State


class People:
    """Names of the group's people by phone number and BSUID: "Maya Patel", else "+16505551234"."""

    def __init__(self, participants: list[Participant]):
        self._by_id: dict[str, Participant] = {}
        for participant in participants:
            for key in (participant.wa_id, participant.user_id, participant.parent_user_id):
                if key:
                    self._by_id[key] = participant

    def name(self, wa_id: str | None = None, user_id: str | None = None) -> str:
        known = self._by_id.get(wa_id or "") or self._by_id.get(user_id or "")
        if known is not None and known.name:
            return known.name
        return f"+{wa_id}" if wa_id and wa_id.isdigit() else (wa_id or user_id or "someone")

    def names(self, ids: list[str]) -> str:
        return _join([self.name(wa_id=i, user_id=i) for i in ids])


def _join(items: list[str], *, limit: int = 5) -> str:
    if len(items) > limit:
        items = [*items[:limit], f"{len(items) - limit} more"]
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _quoted(text: str, *, limit: int = 80) -> str:
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”"


def actor_name(user, source: str) -> str:
    """Return who did something: the staff user's name, else Meta (a webhook) or Groupdesk (a background task)."""
    if user is not None:
        return user.get_full_name() or user.get_username()
    return {Source.WEBHOOK: "Meta", Source.TASK: "Groupdesk"}.get(source, "Someone")


def _first_error(errors, *, final_advice: str = "") -> str:
    """Return the first error as staff read it; `final_advice` replaces "Groupdesk retries later" when it ended."""
    return meta_error_text(errors[0], final_advice=final_advice) if errors else "no reason given"


def _end(sentence: str) -> str:
    """Close a sentence with one full stop: Meta's own words often end with one already."""
    return sentence if sentence.endswith((".", "!", "?")) else f"{sentence}."


def _outcome_of_removal(operation: GroupOperation, people: People) -> str:
    outcome = (operation.outcome or {}).get("participants") or {}
    failed = {who: result for who, result in outcome.items() if not result.get("removed")}
    if not outcome:
        return ""
    parts = [f"{len(outcome) - len(failed)} removed"]
    if failed:
        parts.append(f"{len(failed)} failed ("
                     + "; ".join(f"{people.name(wa_id=w, user_id=w)}: {_first_error(r.get('errors'))}"
                                 for w, r in failed.items()) + ")")
    return ", ".join(parts)


def operation_sentence(operation: GroupOperation, people: People) -> str:
    """Return what was asked of Meta, by whom, and how it ended, as one sentence."""
    who = actor_name(operation.requested_by, operation.source)
    requested = operation.requested or {}
    asked = {
        Kind.CREATE: lambda: f"{who} created the group {_quoted(requested.get('subject', ''))}",
        Kind.DELETE: lambda: f"{who} deleted the group",
        Kind.UPDATE_SETTINGS: lambda: f"{who} changed " + _join(
            [f"the {name} to {_quoted(value)}" if value else f"the {name} to nothing"
             for name, value in requested.items()]),
        Kind.UPDATE_PICTURE: lambda: f"{who} changed the picture",
        Kind.REMOVE_PARTICIPANTS: lambda: f"{who} removed "
        + _count(len(requested.get("participants", [])), "person", "people")
        + f" ({people.names(requested.get('participants', []))})",
    }.get(operation.kind, lambda: f"{who}: {operation.get_kind_display()}")()
    if operation.state == OpState.PENDING:
        return f"{asked}: waiting for Meta."
    if operation.kind == Kind.REMOVE_PARTICIPANTS and (outcome := _outcome_of_removal(operation, people)):
        return f"{asked}: {outcome}."
    if operation.state == OpState.SUCCEEDED:
        return f"{asked}: done."
    # An operation that failed is final: Groupdesk does not retry it, whatever the catalog says of the code.
    final = (CREATE_FAILED_ADVICE if operation.kind == Kind.CREATE else OPERATION_FAILED_ADVICE) \
        if operation.state == OpState.FAILED else ""
    return _end(f"{asked}: {operation.get_state_display().lower()}, "
                f"{_first_error(operation.errors, final_advice=final)}")


def _person(detail: dict, people: People) -> str:
    return people.name(wa_id=detail.get("wa_id"), user_id=detail.get("user_id") or detail.get("parent_user_id"))


def _settings(detail: dict) -> str:
    changed = detail.get("settings") or {}
    texts = [f"the {name} to {_quoted(value['text'])}" if value.get("text") is not None else f"the {name}"
             for name, value in changed.items()]
    return _join(texts) or "the settings"


Sentence = Callable[[GroupEvent, str, People], str]

# One line per event type; each gets the event, who is behind it and the group's people.
SENTENCES: dict[str, Sentence] = {
    "create_requested": lambda e, who, p: f"{who} asked Meta to create the group",
    "created": lambda e, who, p: "Meta created the group",
    "create_failed": lambda e, who, p: "Meta could not create the group: "
    + _first_error(e.detail.get("errors"), final_advice=CREATE_FAILED_ADVICE),
    "delete_requested": lambda e, who, p: f"{who} asked Meta to delete the group",
    "deleted": lambda e, who, p: "The group was deleted",
    "delete_failed": lambda e, who, p: "Meta could not delete the group: "
    + _first_error(e.detail.get("errors"), final_advice=OPERATION_FAILED_ADVICE),
    "participant_joined": lambda e, who, p: f"{_person(e.detail, p)} joined"
    + (" after approval" if e.detail.get("via_join_request") else ""),
    "participant_left": lambda e, who, p: f"{_person(e.detail, p)} left",
    "participant_removed": lambda e, who, p: f"{_person(e.detail, p)} was removed",
    "remove_requested": lambda e, who, p: f"{who} asked Meta to remove {p.names(e.detail.get('participants', []))}",
    "remove_failed": lambda e, who, p: "Meta could not remove " + "; ".join(
        f"{p.name(wa_id=k, user_id=k)} ({_first_error(v.get('errors'))})"
        for k, v in (e.detail.get("failed") or {}).items()) if e.detail.get("failed")
    else f"Meta could not remove people: {_first_error(e.detail.get('errors'))}",
    "join_request_created": lambda e, who, p: f"{_person(e.detail, p)} asked to join",
    "join_request_revoked": lambda e, who, p: f"{_person(e.detail, p)}'s request to join was withdrawn",
    "join_request_approved": lambda e, who, p: f"{who} let {_person(e.detail, p)} in",
    "join_request_rejected": lambda e, who, p: f"{who} turned down {_person(e.detail, p)}'s request to join",
    "join_request_approve_failed": lambda e, who, p: f"{who} could not approve a request to join: "
    + _first_error([e.detail.get("error")] if e.detail.get("error") else []),
    "join_request_reject_failed": lambda e, who, p: f"{who} could not reject a request to join: "
    + _first_error([e.detail.get("error")] if e.detail.get("error") else []),
    "settings_requested": lambda e, who, p: f"{who} asked to change " + _join(
        [f"the {k} to {_quoted(v)}" if isinstance(v, str) else f"the {k}" for k, v in e.detail.items()
         if k != "reason"]),
    "settings_updated": lambda e, who, p: f"Meta changed {_settings(e.detail)}",
    "settings_failed": lambda e, who, p: f"Meta refused to change {_settings(e.detail)}: "
    + _first_error(e.detail.get("errors") or [v.get("errors", [None])[0] for v in
                                              (e.detail.get("settings") or {}).values() if v.get("errors")]),
    "invite_link_reset": lambda e, who, p: f"{who} reset the invite link",
    "invite_link_deleted": lambda e, who, p: f"{who} deleted the invite link",
    "suspended": lambda e, who, p: "WhatsApp suspended the group",
    "suspension_cleared": lambda e, who, p: "WhatsApp lifted the suspension",
    "synced": lambda e, who, p: "Synced from Meta"
    + (f": {_count(e.detail['participants'], 'participant')}" if isinstance(e.detail.get("participants"), int)
       else ""),
    "message_sent": lambda e, who, p: f"{who} sent a {e.detail.get('type', '')} message".replace("  ", " "),
    "message_failed": lambda e, who, p: f"A {e.detail.get('type', '')} message failed: "
    + _first_error([e.detail["error"]] if e.detail.get("error") else []),
    "pinned": lambda e, who, p: f"{who} pinned a message for {_count(e.detail.get('expiration_days', 0), 'day')}",
    "unpinned": lambda e, who, p: f"{who} unpinned a message",
    "pin_expired": lambda e, who, p: "A pin expired",
    "pin_replaced": lambda e, who, p: "A pin was replaced by a newer one",
}


# Meta's own `reason` on joins and join requests (spec §6.3), as opposed to the reason staff give.
META_REASONS = {"invite_link": " through the invite link", "admin_approval": " (an admin approves each request)"}


def event_sentence(event: GroupEvent, people: People) -> str:
    """Return one timeline entry as a sentence, with the reason given and whether it was applied."""
    who = actor_name(event.actor, event.source)
    detail = event.detail or {}
    sentence = SENTENCES.get(event.type, lambda e, w, p: f"{e.get_type_display()}")(event, who, people)
    reason = detail.get("reason")
    if reason and event.source == Source.WEBHOOK:
        sentence += META_REASONS.get(reason, f" ({reason})")
    elif reason:
        sentence += f", because {_quoted(reason)}"
    if detail.get("applied") is False:
        sentence += " (older than what was already known, so nothing changed)"
    return _end(sentence)
