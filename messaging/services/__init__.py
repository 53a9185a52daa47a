"""Every write of the messaging app (STYLE §3): compose and send, statuses, inbound messages."""

from messaging.services.compose import group_assert_sendable, message_create, message_retry
from messaging.services.history import message_transition
from messaging.services.inbound import account_error_record, inbound_message_record
from messaging.services.send import (
    OUTCOME_UNKNOWN_ERROR,
    message_record_accepted,
    message_send,
    messages_fail_outcome_unknown,
)
from messaging.services.statuses import (
    StatusItem,
    message_apply_unmatched,
    message_status_apply,
    message_statuses_apply,
    unmatched_statuses_apply_known,
)

__all__ = [
    "OUTCOME_UNKNOWN_ERROR",
    "StatusItem",
    "account_error_record",
    "group_assert_sendable",
    "inbound_message_record",
    "message_apply_unmatched",
    "message_create",
    "message_record_accepted",
    "message_retry",
    "message_send",
    "message_status_apply",
    "message_statuses_apply",
    "message_transition",
    "messages_fail_outcome_unknown",
    "unmatched_statuses_apply_known",
]
