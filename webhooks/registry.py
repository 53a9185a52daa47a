"""The one explicit registry of webhook item handlers, keyed by (field, kind).

The kind is the `type` of each `groups[]` item, or, under `messages`, the name of
the list the item came from (`statuses`, `messages`, `errors`). Every handled
variant of ../shared/spec/webhooks/ has one line here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webhooks.handlers.groups import (
    handle_group_created,
    handle_group_deleted,
    handle_group_join_request_created,
    handle_group_join_request_revoked,
    handle_group_participants_added,
    handle_group_participants_removed,
    handle_group_settings_updated,
    handle_group_suspended,
    handle_group_suspension_cleared,
)
from webhooks.handlers.messages import handle_account_error, handle_inbound_message, handle_message_status


@dataclass(frozen=True)
class ItemContext:
    """Where an item came from: its event, position and the envelope around it."""

    event_id: int
    field: str
    kind: str
    path: str  # e.g. "entry[0].changes[1].statuses[3]": names the item in errors and history.
    waba_id: str = ""
    phone_number_id: str = ""
    display_phone_number: str = ""
    value: dict[str, Any] = field(default_factory=dict)  # The whole change value (e.g. its contacts[]).


ItemHandler = Callable[[dict, ItemContext], None]
BatchHandler = Callable[[list[tuple[dict, ItemContext]]], list[Exception | None]]

HANDLERS: dict[tuple[str, str], ItemHandler] = {
    ("messages", "statuses"): handle_message_status,
    ("messages", "messages"): handle_inbound_message,
    ("messages", "errors"): handle_account_error,
    ("group_lifecycle_update", "group_create"): handle_group_created,
    ("group_lifecycle_update", "group_delete"): handle_group_deleted,
    ("group_participants_update", "group_participants_add"): handle_group_participants_added,
    ("group_participants_update", "group_participants_remove"): handle_group_participants_removed,
    ("group_participants_update", "group_join_request_created"): handle_group_join_request_created,
    ("group_participants_update", "group_join_request_revoked"): handle_group_join_request_revoked,
    ("group_settings_update", "group_settings_update"): handle_group_settings_updated,
    ("group_status_update", "group_suspend"): handle_group_suspended,
    ("group_status_update", "group_suspend_cleared"): handle_group_suspension_cleared,
}


def handler_for(field_name: str, kind: str) -> ItemHandler | None:
    """Return the handler of (field, kind), or None when Groupdesk does not handle it."""
    return HANDLERS.get((field_name, kind))


def handled_fields() -> set[str]:
    """Return the change fields that have at least one handler."""
    return {field_name for field_name, _kind in HANDLERS}


def batch_form(handler: ItemHandler) -> BatchHandler | None:
    """Return the batch form of a handler, or None when its items are applied one at a time."""
    return getattr(handler, "batch", None)
