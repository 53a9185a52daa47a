"""Handlers of the `messages` field: statuses of our messages, inbound group messages, account errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from messaging.services import (
    StatusItem,
    account_error_record,
    inbound_message_record,
    message_status_apply,
    message_statuses_apply,
)
from webhooks.payloads.messages import parse_account_error, parse_inbound, parse_status

if TYPE_CHECKING:  # The registry imports this module: no runtime import back.
    from webhooks.registry import ItemContext


def handle_message_status(item: dict, ctx: ItemContext) -> None:
    """Apply one status of an outbound message (kept for later if its wamid is not known yet)."""
    event = parse_status(item, value=ctx.value)
    message_status_apply(event=event, webhook_event_id=ctx.event_id, webhook_item=ctx.path, raw=item)


def handle_message_statuses(items: list[tuple[dict, ItemContext]]) -> list[Exception | None]:
    """Apply many statuses at once (the batch form of handle_message_status); an item that does not parse fails."""
    outcomes: list[Exception | None] = [None] * len(items)
    parsed = []
    for index, (item, ctx) in enumerate(items):
        try:
            parsed.append(StatusItem(event=parse_status(item, value=ctx.value), webhook_event_id=ctx.event_id,
                                     webhook_item=ctx.path, raw=item))
        except Exception as exc:  # PayloadError and whatever else a malformed item raises: that item only.
            outcomes[index] = exc
    message_statuses_apply(parsed)
    return outcomes


handle_message_status.batch = handle_message_statuses


def handle_inbound_message(item: dict, ctx: ItemContext) -> None:
    """Record one message a participant wrote in a group."""
    event = parse_inbound(item, value=ctx.value, phone_number_id=ctx.phone_number_id)
    inbound_message_record(event=event, webhook_event_id=ctx.event_id, webhook_item=ctx.path)


def handle_account_error(item: dict, ctx: ItemContext) -> None:
    """Record an account-level error (e.g. 130429) so staff can see it."""
    account_error_record(
        error=parse_account_error(item),
        phone_number_id=ctx.phone_number_id,
        webhook_event_id=ctx.event_id,
        webhook_item=ctx.path,
    )
