"""One example body per event type: published in the OpenAPI schema's components and in docs/events.md."""

import copy

from outbox import event_types as T

AT = "2026-03-02T09:15:27Z"

MESSAGE = {
    "id": 4182, "group": 57, "wamid": "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA=",
    "type": "text", "text": {"body": "Your order ships today.", "preview_url": False}, "status": "sent",
    "error": None, "recipient_count": 3, "delivered_count": 0, "read_count": 0, "retry_of": None,
    "created_at": "2026-03-02T09:15:20Z", "accepted_at": "2026-03-02T09:15:21Z", "sent_at": AT,
    "delivered_at": None, "read_at": None, "failed_at": None,
}
GROUP = {
    "id": 57, "phone_number": 1, "group_id": "Y2FwaV9ncm91cDoxNTU1MDc4Mzg4MToxMjAzNjM0MDUxMTgyNjM3NDUZD",
    "subject": "Order 48213 - delivery support", "description": "", "join_approval_mode": "auto_approve",
    "invite_link": "https://chat.whatsapp.com/KxR4nQ7vLm2Bd9TfWc3HpZ", "state": "active", "suspended": False,
    "participant_count": 3, "last_error": None, "created_at": "2026-03-01T16:02:11Z", "updated_at": AT,
}
PARTICIPANT = {"id": 311, "wa_id": "16505551234", "user_id": "US.13491208655302741918", "parent_user_id": "",
               "username": "", "name": "Maya Patel", "state": "active", "joined_at": AT, "left_at": None, "group": 57}
JOIN_REQUEST = {"id": 64, "join_request_id": "MTIwMzYzNDA1MzA5OTU0ODEyOjE2NTA1NTUxMjM0", "wa_id": "16505551234",
                "user_id": None, "parent_user_id": "", "username": "", "state": "pending", "created_at": AT,
                "group": 57}
OPERATION = {"id": 902, "group": 57, "kind": "update_settings", "state": "succeeded",
             "request_id": "7e1c55a0b3d94f0c8b6e2a1d4f9c3e70", "requested": {"subject": "Order 48213 - shipped"},
             "outcome": {"settings": {"subject": {"updated": True, "text": "Order 48213 - shipped"}}}, "errors": [],
             "created_at": "2026-03-02T09:14:02Z", "sent_at": "2026-03-02T09:14:03Z", "completed_at": AT}
PIN = {"id": 77, "group": 57, "message_id": MESSAGE["wamid"], "expiration_days": 7, "state": "active",
       "requested_at": "2026-03-02T09:15:00Z", "pinned_at": AT, "expires_at": "2026-03-09T09:15:27Z",
       "unpinned_at": None, "error": None, "pin_message": 4183, "unpin_message": None, "replaced_by": None}
INBOUND = {"id": 1204, "group": 57, "wamid": "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdCNUQ4RjJFMUM5MEI0NkE3OAA=",
           "from_wa_id": "16505551234", "from_user_id": "US.13491208655302741918", "contact_name": "Maya Patel",
           "type": "text", "text": "Thanks! Which courier?", "content": {"body": "Thanks! Which courier?"},
           "error": None, "timestamp": AT}
META_ERROR = {"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
              "details": "More than 24 hours have passed since the recipient last replied.",
              "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"}


def _with(base: dict, **changes) -> dict:
    return {**copy.deepcopy(base), **changes}


# Per event type: the object type, the object as shown (data) and the detail.
_EXAMPLES: dict[str, tuple[str, dict, dict]] = {
    T.MESSAGE_QUEUED: ("message", _with(MESSAGE, status="queued", wamid=None, accepted_at=None, sent_at=None,
                                        recipient_count=0), {}),
    T.MESSAGE_SENT: ("message", MESSAGE, {}),
    T.MESSAGE_DELIVERED: ("message", _with(MESSAGE, status="delivered", delivered_count=1, delivered_at=AT), {}),
    T.MESSAGE_READ: ("message", _with(MESSAGE, status="read", delivered_count=2, read_count=1, delivered_at=AT,
                                      read_at=AT), {}),
    T.MESSAGE_FAILED: ("message", _with(MESSAGE, status="failed", sent_at=None, error=META_ERROR, failed_at=AT), {}),
    T.MESSAGE_RECEIPT: ("message", _with(MESSAGE, status="delivered", delivered_count=1, delivered_at=AT), {
        "status": "delivered", "receipt": {"participant": 311, "participant_wa_id": "16505551234",
                                           "participant_user_id": "US.13491208655302741918",
                                           "delivered_at": AT, "read_at": None}}),
    T.MESSAGE_INBOUND: ("inbound_message", INBOUND, {}),
    T.GROUP_CREATED: ("group", GROUP, {}),
    T.GROUP_CREATE_FAILED: ("group", _with(GROUP, state="create_failed", group_id=None, invite_link="", last_error={
        "code": 131215, "title": "Group limit reached", "message": "The number reached its group limit.",
        "details": ""}), {}),
    T.GROUP_UPDATED: ("group", _with(GROUP, subject="Order 48213 - shipped"), {"updated": ["subject"]}),
    T.GROUP_DELETED: ("group", _with(GROUP, state="deleted", invite_link="", participant_count=0), {}),
    T.GROUP_SUSPENDED: ("group", _with(GROUP, suspended=True), {}),
    T.GROUP_UNSUSPENDED: ("group", GROUP, {}),
    T.GROUP_PARTICIPANT_JOINED: ("participant", PARTICIPANT, {}),
    T.GROUP_PARTICIPANT_LEFT: ("participant", _with(PARTICIPANT, state="left", left_at=AT), {}),
    T.GROUP_PARTICIPANT_REMOVED: ("participant", _with(PARTICIPANT, state="removed", left_at=AT), {}),
    T.GROUP_JOIN_REQUEST_CREATED: ("join_request", JOIN_REQUEST, {}),
    T.GROUP_JOIN_REQUEST_REVOKED: ("join_request", _with(JOIN_REQUEST, state="revoked"), {}),
    T.GROUP_JOIN_REQUEST_APPROVED: ("join_request", _with(JOIN_REQUEST, state="approved"), {}),
    T.GROUP_JOIN_REQUEST_REJECTED: ("join_request", _with(JOIN_REQUEST, state="rejected"), {}),
    T.GROUP_OPERATION_COMPLETED: ("group_operation", OPERATION, {}),
    T.PIN_ACTIVE: ("pin", PIN, {}),
    T.PIN_EXPIRED: ("pin", _with(PIN, state="expired", unpinned_at="2026-03-09T09:15:27Z"), {}),
    T.PIN_UNPINNED: ("pin", _with(PIN, state="unpinned", unpinned_at=AT, unpin_message=4190), {}),
    T.PIN_REPLACED: ("pin", _with(PIN, state="replaced", unpinned_at=AT, replaced_by=81), {}),
    T.PIN_FAILED: ("pin", _with(PIN, state="failed", pinned_at=None, expires_at=None, error=META_ERROR), {}),
    T.PING: ("webhook_endpoint", {"id": 3, "url": "https://crm.example.com/hooks/groupdesk"}, {}),
}


def event_example(type: str) -> dict:
    """Return an example body of `type`, shaped exactly as OutboxEvent.body() delivers it."""
    object_type, data, detail = _EXAMPLES[type]
    return {
        "id": "evt_5f0c7c1b2a8e4d6f9b3a1c2d4e5f6a7b", "type": type, "timestamp": AT, "sequence": 2,
        "object": {"type": object_type, "id": data.get("id", 0)}, "data": copy.deepcopy(data),
        "detail": copy.deepcopy(detail),
    }
