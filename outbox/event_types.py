"""Every event type integrators can receive (docs/events.md describes each with an example)."""

MESSAGE_QUEUED = "message.queued"
MESSAGE_SENT = "message.sent"
MESSAGE_DELIVERED = "message.delivered"
MESSAGE_READ = "message.read"
MESSAGE_FAILED = "message.failed"
MESSAGE_RECEIPT = "message.receipt"
MESSAGE_INBOUND = "message.inbound"
GROUP_CREATED = "group.created"
GROUP_CREATE_FAILED = "group.create_failed"
GROUP_UPDATED = "group.updated"
GROUP_DELETED = "group.deleted"
GROUP_SUSPENDED = "group.suspended"
GROUP_UNSUSPENDED = "group.unsuspended"
GROUP_PARTICIPANT_JOINED = "group.participant_joined"
GROUP_PARTICIPANT_LEFT = "group.participant_left"
GROUP_PARTICIPANT_REMOVED = "group.participant_removed"
GROUP_JOIN_REQUEST_CREATED = "group.join_request.created"
GROUP_JOIN_REQUEST_REVOKED = "group.join_request.revoked"
GROUP_JOIN_REQUEST_APPROVED = "group.join_request.approved"
GROUP_JOIN_REQUEST_REJECTED = "group.join_request.rejected"
GROUP_OPERATION_COMPLETED = "group.operation.completed"
PIN_ACTIVE = "pin.active"
PIN_EXPIRED = "pin.expired"
PIN_UNPINNED = "pin.unpinned"
PIN_REPLACED = "pin.replaced"
PIN_FAILED = "pin.failed"
# Sent only to the endpoint a "ping" names, never recorded by a change.
PING = "ping"

# What each type reports; endpoints filter on these names and the REST schema lists them.
DESCRIPTIONS: dict[str, str] = {
    MESSAGE_QUEUED: "An outbound message was queued (composed, retried or a pin action).",
    MESSAGE_SENT: "Meta reported an outbound message sent (status `sent`).",
    MESSAGE_DELIVERED: "An outbound message reached its first participant.",
    MESSAGE_READ: "An outbound message was read by its first participant.",
    MESSAGE_FAILED: "An outbound message failed; `data.error` says why.",
    MESSAGE_RECEIPT: "One participant's delivery or read of an outbound message; `detail.receipt` names them.",
    MESSAGE_INBOUND: "A participant wrote in a group.",
    GROUP_CREATED: "A group we asked Meta to create exists (or a sync adopted one).",
    GROUP_CREATE_FAILED: "Meta refused to create a group; `data.last_error` says why.",
    GROUP_UPDATED: ("A group's subject, description or picture changed at Meta (its webhook, or a sync reading new "
                    "texts)."),
    GROUP_DELETED: "A group was deleted; everyone in it is out (no participant event is sent for each).",
    GROUP_SUSPENDED: "WhatsApp suspended a group.",
    GROUP_UNSUSPENDED: "WhatsApp cleared a group's suspension.",
    GROUP_PARTICIPANT_JOINED: "Someone joined a group.",
    GROUP_PARTICIPANT_LEFT: "Someone left a group.",
    GROUP_PARTICIPANT_REMOVED: "The business removed someone from a group.",
    GROUP_JOIN_REQUEST_CREATED: "Someone asked to join an approval-required group.",
    GROUP_JOIN_REQUEST_REVOKED: "Someone withdrew their join request.",
    GROUP_JOIN_REQUEST_APPROVED: "A join request was approved.",
    GROUP_JOIN_REQUEST_REJECTED: "A join request was rejected.",
    GROUP_OPERATION_COMPLETED: "An asynchronous group operation settled (succeeded, partially failed or failed).",
    PIN_ACTIVE: "Meta accepted a pin.",
    PIN_EXPIRED: "A pin's time ran out.",
    PIN_UNPINNED: "A pin was unpinned.",
    PIN_REPLACED: "A fourth pin in the group pushed this one out.",
    PIN_FAILED: "Meta refused a pin; `data.error` says why.",
    PING: "A test event asked for from the admin or the REST API; it reports nothing.",
}

ALL: tuple[str, ...] = tuple(DESCRIPTIONS)
# What an endpoint can subscribe to: every type a change records.
SUBSCRIBABLE: tuple[str, ...] = tuple(t for t in ALL if t != PING)
