"""Every write of the groups app. Other apps import from here (`from groups.services import ...`)."""

from groups.services.common import (
    ParticipantRef,
    WebhookOrigin,
    error_dict,
    group_assert_accepts_changes,
    group_event_record,
    group_participant_count_refresh,
)
from groups.services.links import (
    JoinRequestDecision,
    group_invite_link_delete,
    group_invite_link_get,
    group_invite_link_reset,
    join_requests_approve,
    join_requests_reject,
    join_requests_sync,
)
from groups.services.operation_inputs import group_picture_validate
from groups.services.operations import (
    group_create,
    group_create_again,
    group_delete,
    group_operation_send,
    group_participants_remove,
    group_picture_update,
    group_settings_update,
    operation_finish,
)
from groups.services.participants import participant_get_or_create, participant_state_apply
from groups.services.phone_numbers import (
    phone_number_create,
    phone_number_for_webhook,
    phone_number_register_configured,
)
from groups.services.sync import group_operations_settle_stale, group_sync, phone_number_sync
from groups.services.webhook_apply import (
    SettingOutcome,
    group_create_apply,
    group_delete_apply,
    group_participants_add_apply,
    group_participants_remove_apply,
    group_settings_apply,
    group_suspension_apply,
    join_request_apply,
)

__all__ = [
    "JoinRequestDecision",
    "ParticipantRef",
    "SettingOutcome",
    "WebhookOrigin",
    "error_dict",
    "group_assert_accepts_changes",
    "group_create",
    "group_create_again",
    "group_create_apply",
    "group_delete",
    "group_delete_apply",
    "group_event_record",
    "group_invite_link_delete",
    "group_invite_link_get",
    "group_invite_link_reset",
    "group_operation_send",
    "group_operations_settle_stale",
    "group_participant_count_refresh",
    "group_participants_add_apply",
    "group_participants_remove",
    "group_participants_remove_apply",
    "group_picture_update",
    "group_picture_validate",
    "group_settings_apply",
    "group_settings_update",
    "group_suspension_apply",
    "group_sync",
    "join_request_apply",
    "join_requests_approve",
    "join_requests_reject",
    "join_requests_sync",
    "operation_finish",
    "participant_get_or_create",
    "participant_state_apply",
    "phone_number_create",
    "phone_number_for_webhook",
    "phone_number_register_configured",
    "phone_number_sync",
]
