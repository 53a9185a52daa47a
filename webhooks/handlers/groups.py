"""Handlers of the four group fields: parse the item, call one groups service (spec §6.2-6.5)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from groups.models import JoinRequest
from groups.services import (
    WebhookOrigin,
    group_create_apply,
    group_delete_apply,
    group_participants_add_apply,
    group_participants_remove_apply,
    group_settings_apply,
    group_suspension_apply,
    join_request_apply,
)
from webhooks.payloads.common import PayloadError
from webhooks.payloads.groups import (
    JoinRequestItem,
    LifecycleItem,
    ParticipantsAddItem,
    ParticipantsRemoveItem,
    SettingsItem,
    StatusItem,
    item_key,
)

if TYPE_CHECKING:  # The registry imports this module: no runtime import back.
    from webhooks.registry import ItemContext


def _origin(item: dict, ctx: ItemContext) -> WebhookOrigin:
    return WebhookOrigin(event_id=ctx.event_id, item=ctx.path, key=item_key(ctx.field, item))


def handle_group_created(item: dict, ctx: ItemContext) -> None:
    """Finish a group create (success with group_id and link, or failure) matched by request_id."""
    event = LifecycleItem.from_item(item)
    group_create_apply(
        phone_number_id=ctx.phone_number_id, request_id=event.request_id, group_id=event.group_id,
        subject=event.subject, invite_link=event.invite_link, join_approval_mode=event.join_approval_mode,
        errors=event.errors, at=event.at, origin=_origin(item, ctx),
    )


def handle_group_deleted(item: dict, ctx: ItemContext) -> None:
    """Finish a group delete (deleted, or back to active with the error)."""
    event = LifecycleItem.from_item(item)
    if not event.group_id:
        raise PayloadError("group_id is missing")
    group_delete_apply(group_id=event.group_id, request_id=event.request_id, errors=event.errors, at=event.at,
                       origin=_origin(item, ctx))


def handle_group_participants_added(item: dict, ctx: ItemContext) -> None:
    """Make people who joined by link (or by an approved request) active participants."""
    event = ParticipantsAddItem.from_item(item)
    group_participants_add_apply(group_id=event.group_id, participants=event.added, reason=event.reason,
                                 at=event.at, origin=_origin(item, ctx))


def handle_group_participants_removed(item: dict, ctx: ItemContext) -> None:
    """Apply a leave, or our removal's outcome per participant."""
    event = ParticipantsRemoveItem.from_item(item)
    # Meta's samples put initiated_by beside the group object (spec §6.7): read it there too.
    initiated_by = event.initiated_by or (ctx.value.get("initiated_by") if isinstance(ctx.value, dict) else None)
    group_participants_remove_apply(
        group_id=event.group_id, request_id=event.request_id, initiated_by=initiated_by, removed=event.removed,
        failed=event.failed, errors=event.errors, at=event.at, origin=_origin(item, ctx),
    )


def handle_group_join_request_created(item: dict, ctx: ItemContext) -> None:
    """Record a new join request (pending)."""
    event = JoinRequestItem.from_item(item)
    join_request_apply(group_id=event.group_id, join_request_id=event.join_request_id, ref=event.person,
                       state=JoinRequest.State.PENDING, at=event.at, reason=event.reason, origin=_origin(item, ctx))


def handle_group_join_request_revoked(item: dict, ctx: ItemContext) -> None:
    """Record a join request the user withdrew (revoked)."""
    event = JoinRequestItem.from_item(item)
    join_request_apply(group_id=event.group_id, join_request_id=event.join_request_id, ref=event.person,
                       state=JoinRequest.State.REVOKED, at=event.at, reason=event.reason, origin=_origin(item, ctx))


def handle_group_settings_updated(item: dict, ctx: ItemContext) -> None:
    """Apply each setting Meta updated; record failures per setting."""
    event = SettingsItem.from_item(item)
    group_settings_apply(
        group_id=event.group_id, request_id=event.request_id, subject=event.subject, description=event.description,
        picture=event.picture, errors=event.errors, at=event.at, origin=_origin(item, ctx),
    )


def handle_group_suspended(item: dict, ctx: ItemContext) -> None:
    """Mark a group suspended by WhatsApp."""
    event = StatusItem.from_item(item)
    group_suspension_apply(group_id=event.group_id, suspended=True, at=event.at, origin=_origin(item, ctx))


def handle_group_suspension_cleared(item: dict, ctx: ItemContext) -> None:
    """Clear a group's suspension."""
    event = StatusItem.from_item(item)
    group_suspension_apply(group_id=event.group_id, suspended=False, at=event.at, origin=_origin(item, ctx))
