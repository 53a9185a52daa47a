"""Apply Meta's group webhooks: settle operations and move groups, participants and join requests forward.

Every function runs inside the caller's transaction (one per webhook item), is idempotent (the same
item twice writes nothing new: events carry a dedupe key, operations settle once) and tolerates any
order (an event older than the stored state of what it would change only enters the timeline).
"""

from groups.services.operations import operation_finish
from groups.services.webhook_apply.lifecycle import group_create_apply, group_delete_apply
from groups.services.webhook_apply.membership import (
    group_participants_add_apply,
    group_participants_remove_apply,
    is_business_removal,
    join_request_apply,
)
from groups.services.webhook_apply.settings import SettingOutcome, group_settings_apply, group_suspension_apply
from groups.services.webhook_apply.settle import operation_match

__all__ = [
    "SettingOutcome",
    "group_create_apply",
    "group_delete_apply",
    "group_participants_add_apply",
    "group_participants_remove_apply",
    "group_settings_apply",
    "group_suspension_apply",
    "is_business_removal",
    "join_request_apply",
    "operation_finish",
    "operation_match",
]
