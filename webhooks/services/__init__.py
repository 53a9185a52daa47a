"""Webhook events: record first, then process each item once, replay and clean up.

record (the ingest path) -> wake (the drain's flag) -> drain (claims) -> process (handlers) -> outcome (per event);
replay holds replay, the sweep and retention.
"""

from webhooks.services.drain import (
    CLAIM_LEASE,
    DRAIN_BATCH_SIZE,
    MAX_UNFINISHED_ATTEMPTS,
    webhook_event_process,
    webhook_events_drain,
)
from webhooks.services.record import (
    KEPT_HEADERS,
    RECORDED_FIELDS,
    ReceiveOutcome,
    webhook_event_receive,
    webhook_event_record,
)
from webhooks.services.replay import (
    MIN_RETENTION_DAYS,
    REPLAYABLE_STATES,
    EventNotReplayable,
    webhook_event_reprocess,
    webhook_events_delete_old,
    webhook_events_reprocess,
    webhook_events_sweep_pending,
)
from webhooks.services.wake import WAKE_FLAG, _wake_flag_seen_at

__all__ = [
    "CLAIM_LEASE",
    "DRAIN_BATCH_SIZE",
    "KEPT_HEADERS",
    "MAX_UNFINISHED_ATTEMPTS",
    "MIN_RETENTION_DAYS",
    "RECORDED_FIELDS",
    "REPLAYABLE_STATES",
    "WAKE_FLAG",
    "EventNotReplayable",
    "ReceiveOutcome",
    "_wake_flag_seen_at",
    "webhook_event_process",
    "webhook_event_receive",
    "webhook_event_record",
    "webhook_event_reprocess",
    "webhook_events_delete_old",
    "webhook_events_drain",
    "webhook_events_reprocess",
    "webhook_events_sweep_pending",
]
