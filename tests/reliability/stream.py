"""A realistic stream of webhook bodies for a few groups, the rows it needs, and a normalised dump of the result.

The stream has two parts:
- the spec samples themselves (exact bytes), which tell one coherent story per spec group: G1 is created,
  people join, write, leave, are removed, and its settings change; G2's delete fails then succeeds, it is
  suspended and its settings fail; G3 is created with approval required and a request is made, revoked
  and approved; another create fails; three of G1's messages get sent/delivered/read/failed statuses;
- bodies built with the sandbox's own shape builders (sandbox/events.py) for a fourth group: a rejoin,
  suspend/clear/suspend, two settings changes whose order matters, statuses of several messages (one out of
  order by construction, one for a wamid we never sent), pins whose action messages get statuses, inbound.

`seed_rows()` writes the rows Groupdesk holds before the stream (the operations and messages the webhooks
answer), and `normalised_tables()` dumps every table the webhooks write in a form that does not depend on
arrival order or primary keys (see its docstring for each normalisation and why).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import models

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant, PhoneNumber
from messaging.models import (
    InboundMessage,
    MessageReceipt,
    MessageStatusChange,
    OutboundMessage,
    Pin,
    PinStatusChange,
    UnmatchedStatus,
)
from sandbox import events as shapes
from sandbox import state as sandbox_state
from tests.spec import (
    SPEC_DISPLAY_PHONE_NUMBER,
    SPEC_G1,
    SPEC_G2,
    SPEC_G3,
    SPEC_PHONE_NUMBER_ID,
    SPEC_WABA_ID,
    webhook_body,
)
from webhooks.models import WebhookEvent

# A second `delivered` for a (message, participant) pair that already has one (the sample reuses the wamid of
# status_sent); Meta sends one per pair, so only the test that shows what arrival order does with it uses it.
REPEATED_DELIVERY = "messages.status_delivered_aggregated_bsuid"
# The spec samples in story order (their own timestamps agree with this order within each group).
SPEC_STREAM = [
    "group_lifecycle_update.create_succeeded",
    "group_lifecycle_update.create_failed",
    "group_lifecycle_update.create_succeeded_approval_required",
    "group_participants_update.joined_via_link",
    "group_participants_update.join_request_created",
    "group_participants_update.join_request_revoked",
    "group_participants_update.join_request_approved",
    "messages.status_sent",
    "messages.status_delivered_single",
    "messages.status_delivered_aggregated",
    "messages.status_read_aggregated",
    "messages.inbound_text",
    "messages.inbound_image",
    "messages.inbound_unsupported",
    "messages.status_delivered_multi_message_single_participant",
    "messages.status_failed",
    "group_participants_update.participant_left",
    "group_participants_update.remove_succeeded",
    "group_participants_update.remove_partially_failed",
    "group_participants_update.remove_failed",
    "group_status_update.suspended",
    "group_settings_update.succeeded",
    "group_settings_update.partially_failed",
    "group_settings_update.failed",
    "group_status_update.suspension_cleared",
    "group_lifecycle_update.delete_failed",
    "group_lifecycle_update.delete_succeeded",
    "group_participants_update.joined_via_link_bsuid",
    REPEATED_DELIVERY,
    "messages.inbound_text_bsuid",
]

# The spec's request ids (webhooks/*.json) and the operation each answers.
SPEC_OPERATIONS = {
    SPEC_G1: [
        (GroupOperation.Kind.CREATE, "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4"),
        (GroupOperation.Kind.REMOVE_PARTICIPANTS, "e16c0b4a9f3d4b78a2c5e9f1d0b7a384"),
        (GroupOperation.Kind.REMOVE_PARTICIPANTS, "2f8d4a6c1e9b4d07b3a5c8e2f6d1a9b0"),
        (GroupOperation.Kind.REMOVE_PARTICIPANTS, "9c3e7a1d5b2f4e86a0d4c7b9e3f1a528"),
        (GroupOperation.Kind.UPDATE_SETTINGS, "4a7b1e9c3d6f4a20b8e5d2c1f9a7e063"),
        (GroupOperation.Kind.UPDATE_SETTINGS, "d5e2c8a4f1b7493e8c6a0d3b5f9e2c71"),
    ],
    SPEC_G2: [
        (GroupOperation.Kind.UPDATE_SETTINGS, "81f6b3d9e2a54c7f9d0e4b8a2c6f1d35"),
        (GroupOperation.Kind.DELETE, "5b9f2d7e3a184c60a5e1d3f7b2c8e946"),
        (GroupOperation.Kind.DELETE, "a83e5c1f0d7b4e29b6c4f8a2e1d9c035"),
    ],
    SPEC_G3: [(GroupOperation.Kind.CREATE, "0b6e4d2a9c1f4e35a7d8c2b5e9f1a604")],
    "create-failed": [(GroupOperation.Kind.CREATE, "7d02e8b5a1c94f6e8b3d2a90f4c1e5b7")],
}
# The outbound messages of G1 the spec's statuses are about.
SPEC_WAMIDS = [
    "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA=",
    "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwN0Q1RTkyQzQxQTBGM0I2RAA=",
    "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQThDMzFGNkQyRTk0QjA3QwA=",
    "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwNTFBQkQ3RTM5QzA2RjJBOAA=",
]

G4 = "Y2FwaV9ncm91cDpyZWxpYWJpbGl0eS1zdHJlYW0tZ3JvdXAtNAZD"
G4_SETTINGS = ("rel-g4-settings-1", "rel-g4-settings-2")
G4_WAMIDS = [f"wamid.RELIABILITY.G4.M{n}" for n in range(1, 4)]
G4_PIN_WAMIDS = ["wamid.RELIABILITY.G4.PIN1", "wamid.RELIABILITY.G4.PIN2"]
UNKNOWN_WAMID = "wamid.RELIABILITY.NEVER.SENT"
T0 = 1772000000  # After every spec timestamp, so G4's story is the newest.


def spec_bodies(*, repeated_delivery: bool = True) -> list[bytes]:
    """Return the spec samples of the stream, exact bytes, in story order."""
    return [webhook_body(name) for name in SPEC_STREAM if repeated_delivery or name != REPEATED_DELIVERY]


def g4_bodies() -> list[bytes]:
    """Return G4's story, built with the sandbox's shape builders, in time order."""
    phone = sandbox_state.PhoneNumber(SPEC_PHONE_NUMBER_ID, SPEC_DISPLAY_PHONE_NUMBER, SPEC_WABA_ID)
    group = sandbox_state.Group(
        group_id=G4, phone_number_id=SPEC_PHONE_NUMBER_ID, subject="Reliability", description="",
        join_approval_mode="auto_approve", creation_timestamp=T0, request_id="",
    )
    ana, ben, cleo, dan = (sandbox_state.Person(wa_id, name) for wa_id, name in (
        ("4915100000001", "Ana"), ("4915100000002", "Ben"), ("4915100000003", "Cleo"), ("4915100000004", "Dan")))
    messages = [
        sandbox_state.Message(wamid=wamid, phone_number_id=SPEC_PHONE_NUMBER_ID, to=G4, recipient_type="group",
                              type="text", created_at=T0)
        for wamid in [*G4_WAMIDS, *G4_PIN_WAMIDS, UNKNOWN_WAMID]
    ]
    m1, m2, m3, pin1, pin2, unknown = messages
    free = shapes.FREE_SERVICE

    def groups(field: str, item: dict) -> dict:
        return shapes.groups_body(phone, field, item)

    def statuses(*items: dict) -> dict:
        return shapes.statuses_body(phone, list(items))

    def settings(request_id: str, ts: int, subject: str) -> dict:
        return groups("group_settings_update", shapes.settings_result(
            group, request_id, ts, {"group_subject": {"text": subject, "update_successful": True}}, None))

    failed = [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong",
               "error_data": {"details": "Message failed to send."}}]
    bodies = [
        groups("group_participants_update", shapes.joined_via_link(group, [ana, ben], T0 + 10)),
        groups("group_participants_update", shapes.joined_via_link(group, [cleo], T0 + 11)),
        groups("group_participants_update", shapes.participant_left(group, cleo, T0 + 20)),
        groups("group_participants_update", shapes.joined_via_link(group, [cleo, dan], T0 + 30)),
        groups("group_status_update", shapes.status_change(group, "group_suspend", T0 + 40)),
        groups("group_status_update", shapes.status_change(group, "group_suspend_cleared", T0 + 50)),
        settings(G4_SETTINGS[0], T0 + 60, "Reliability renamed once"),
        settings(G4_SETTINGS[1], T0 + 70, "Reliability renamed twice"),
        statuses(shapes.status(m1, "sent", T0 + 100)),
        statuses(*(shapes.status(m1, "delivered", T0 + 102, participant=p.wa_id, pricing=free) for p in (ana, ben))),
        statuses(*(shapes.status(m1, "delivered", T0 + 103, participant=p.wa_id, pricing=free) for p in (cleo, dan))),
        shapes.inbound_text(phone, group, ana, "wamid.RELIABILITY.IN.1", "Thanks!", T0 + 105),
        shapes.inbound_text(phone, group, ben, "wamid.RELIABILITY.IN.2", "Got it", T0 + 106),
        statuses(shapes.status(m1, "read", T0 + 110, participant=ana.wa_id),
                 shapes.status(m1, "read", T0 + 110, participant=cleo.wa_id)),
        statuses(shapes.status(m2, "sent", T0 + 120)),
        statuses(shapes.status(m2, "delivered", T0 + 121, participant=ana.wa_id, pricing=free)),
        statuses(shapes.status(m2, "failed", T0 + 125, errors=failed)),
        # Meta's own reordering: the delivered and read of m3 are sent before its sent.
        statuses(shapes.status(m3, "delivered", T0 + 131, participant=ben.wa_id, pricing=free)),
        statuses(shapes.status(m3, "read", T0 + 140, participant=ben.wa_id)),
        statuses(shapes.status(m3, "sent", T0 + 130)),
        statuses(shapes.status(unknown, "sent", T0 + 150)),
        statuses(shapes.status(pin1, "sent", T0 + 160)),
        statuses(shapes.status(pin1, "delivered", T0 + 161, participant=ana.wa_id, pricing=free)),
        statuses(shapes.status(pin2, "failed", T0 + 170, errors=failed)),
        groups("group_status_update", shapes.status_change(group, "group_suspend", T0 + 200)),
    ]
    return [json.dumps(body).encode() for body in bodies]


def stream_bodies(*, repeated_delivery: bool = False) -> list[bytes]:
    """Return every body of the stream once, in the right order."""
    return spec_bodies(repeated_delivery=repeated_delivery) + g4_bodies()


def seed_rows() -> dict[tuple[str, int], str]:
    """Write what Groupdesk holds before the stream; return a stable label for each seeded row's (model, pk)."""
    labels: dict[tuple[str, int], str] = {}
    phone = PhoneNumber.objects.create(
        phone_number_id=SPEC_PHONE_NUMBER_ID, display_phone_number=SPEC_DISPLAY_PHONE_NUMBER, waba_id=SPEC_WABA_ID
    )
    creating = {SPEC_G1: "Order 48213 - delivery support", SPEC_G3: "VIP customers",
                "create-failed": "Order 48377 - delivery support"}
    groups: dict[str, Group] = {}
    for key, operations in SPEC_OPERATIONS.items():
        if key in creating:
            group = Group.objects.create(phone_number=phone, subject=creating[key], state=Group.State.CREATING)
        else:
            group = Group.objects.create(phone_number=phone, subject="Spec G2", group_id=key,
                                         state=Group.State.DELETING, invite_link="https://chat.whatsapp.com/G2")
        groups[key] = group
        for kind, request_id in operations:
            GroupOperation.objects.create(group=group, kind=kind, request_id=request_id, sent_at=_SEEDED_AT)
    groups[G4] = Group.objects.create(phone_number=phone, subject="Reliability", group_id=G4,
                                      state=Group.State.ACTIVE, invite_link="https://chat.whatsapp.com/G4")
    for request_id, subject in zip(G4_SETTINGS, ("Reliability renamed once", "Reliability renamed twice"),
                                   strict=True):
        GroupOperation.objects.create(group=groups[G4], kind=GroupOperation.Kind.UPDATE_SETTINGS,
                                      request_id=request_id, requested={"subject": subject}, sent_at=_SEEDED_AT)
    for key, group in groups.items():
        labels[("group", group.pk)] = f"group:{key}"

    def accepted(group: Group, wamid: str, **extra: Any) -> OutboundMessage:
        message = OutboundMessage.objects.create(
            group=group, type=extra.pop("type", "text"), content=extra.pop("content", {"body": "Hello"}),
            status=OutboundMessage.Status.ACCEPTED, wamid=wamid, recipient_count=3, attempt_count=1,
            accepted_at=_SEEDED_AT, **extra)
        labels[("message", message.pk)] = f"message:{wamid}"
        return message

    for wamid in SPEC_WAMIDS:
        accepted(groups[SPEC_G1], wamid)
    for wamid in G4_WAMIDS:
        accepted(groups[G4], wamid)
    for n, wamid in enumerate(G4_PIN_WAMIDS):
        content = {"type": "pin", "message_id": G4_WAMIDS[n], "expiration_days": 7}
        action = accepted(groups[G4], wamid, type="pin", content=content)
        pin = Pin.objects.create(
            group=groups[G4], message_id=G4_WAMIDS[n], expiration_days=7, state=Pin.State.ACTIVE,
            pin_message=action, requested_at=_SEEDED_AT, pinned_at=_SEEDED_AT,
            expires_at=_SEEDED_AT + timedelta(days=7),
        )
        labels[("pin", pin.pk)] = f"pin:{wamid}"
    return labels


_SEEDED_AT = datetime(2026, 2, 1, tzinfo=UTC)

# What each compared table is keyed by once primary keys are dropped.
TABLES: list[type[models.Model]] = [
    Group, Participant, JoinRequest, GroupOperation, GroupEvent,
    OutboundMessage, MessageStatusChange, MessageReceipt, UnmatchedStatus, Pin, PinStatusChange, InboundMessage,
]
# Never compared: set by the database or by the clock when a row is written, so they differ between runs.
VOLATILE = {"id", "created_at", "updated_at"}
VOLATILE_BY_TABLE = {
    GroupOperation: {"completed_at"},  # Our clock when the outcome arrived.
    # What the message was when this event arrived (arrival order by definition); the history the
    # REST API shows is {status, participant, timestamp, error, received_at}, without them.
    # The same status item can come in two bodies (Meta sends one alone and again aggregated, as the spec's
    # status_delivered_single and status_delivered_aggregated do): the row names whichever arrived first.
    MessageStatusChange: {"from_status", "to_status", "webhook_event_id", "webhook_item"},
}
# Keys of a timeline entry's detail that say what arrival order did to it: an event older than the stored
# state is recorded with applied=false and why. The entry itself (type, occurred_at, the rest) must match.
ARRIVAL_DETAIL_KEYS = {"applied", "why"}


def normalised_tables(labels: dict[tuple[str, int], str]) -> dict[str, list[dict[str, Any]]]:
    """Dump every table the webhooks write, sorted, without anything arrival order or the clock decides.

    - `id`, `created_at`, `updated_at`: the database and the clock set them (CONTRACT's `received_at` of a
      status is its `created_at`: when it arrived, which is exactly what redelivery changes).
    - foreign keys: replaced by a label that is the same in every run (seeded rows: their Meta id; created
      rows: their natural key), since primary keys follow arrival order.
    - `GroupOperation.completed_at`, `MessageStatusChange.from_status/to_status` and the `applied`/`why`
      keys of a timeline entry's detail record when and onto what an event arrived (see VOLATILE_BY_TABLE).
    - ids inside a timeline entry (`detail.operation`, `detail.message`, a message entry's `dedupe_key`, hashed from
      the message's id): replaced by the same natural keys.
    - `webhook_event_id`: replaced by the sha256 of that event's body (dropped for status history: the same
      status item comes alone and aggregated, and the row names the body that arrived first).
    """
    participant_label = {p.pk: f"participant:{labels[('group', p.group_id)]}:{p.wa_id}:{p.user_id}"
                         for p in Participant.objects.all()}
    inbound_label = {m.pk: f"inbound:{m.wamid}" for m in InboundMessage.objects.all()}
    message_label = {pk: label for (kind, pk), label in labels.items() if kind == "message"}
    message_label.update({m.pk: f"message:{m.wamid}" for m in OutboundMessage.objects.all()})
    event_sha = dict(WebhookEvent.objects.values_list("pk", "sha256"))
    # Primary keys inside a timeline entry: its detail names an operation or a message by our id, and a message's
    # sent/failed entry is deduplicated on a key hashed from that id. Ids follow arrival order (and, on PostgreSQL,
    # sequences are not rolled back between runs): name them by their natural keys, exactly.
    operation_label = {op.pk: f"operation:{op.request_id}" for op in GroupOperation.objects.all()}
    dedupe_label = {
        hashlib.sha256(f"outbound_message:{pk}|{effect}".encode()).hexdigest(): f"{label}|{effect}"
        for pk, label in message_label.items() for effect in ("message_sent", "message_failed")
    }
    by_model = {
        Group: lambda pk: labels[("group", pk)],
        Participant: participant_label.get,
        OutboundMessage: message_label.get,
        InboundMessage: inbound_label.get,
        Pin: lambda pk: labels[("pin", pk)],
        PhoneNumber: lambda pk: "phone",
    }
    dump: dict[str, list[dict[str, Any]]] = {}
    for model in TABLES:
        rows = []
        for row in model.objects.all():
            data: dict[str, Any] = {}
            for field in model._meta.concrete_fields:
                if field.name in VOLATILE or field.name in VOLATILE_BY_TABLE.get(model, ()):
                    continue
                value = getattr(row, field.attname)
                if isinstance(field, models.ForeignKey) and value is not None:
                    related = field.related_model
                    value = by_model[related](value) if related in by_model else f"{related.__name__}:?"
                elif field.name == "webhook_event_id" and value is not None:
                    value = event_sha[value]
                elif model is GroupEvent and field.name == "detail":
                    value = {key: item for key, item in value.items() if key not in ARRIVAL_DETAIL_KEYS}
                    if isinstance(value.get("operation"), int):
                        value["operation"] = operation_label.get(value["operation"], "GroupOperation:?")
                    if isinstance(value.get("message"), int):
                        value["message"] = message_label.get(value["message"], "OutboundMessage:?")
                elif model is GroupEvent and field.name == "dedupe_key":
                    value = dedupe_label.get(value, value)
                data[field.name] = _plain(value)
            rows.append(data)
        rows.sort(key=lambda data: json.dumps(data, sort_keys=True))
        dump[model._meta.db_table] = rows
    return dump


def tables_hash(dump: dict[str, list[dict[str, Any]]]) -> str:
    """Return the sha256 of a normalised dump."""
    return hashlib.sha256(json.dumps(dump, sort_keys=True).encode()).hexdigest()


def describe_differences(expected: dict[str, list[dict]], actual: dict[str, list[dict]], *, limit: int = 6) -> str:
    """Return the rows only one of two dumps has, table by table (for assertion messages)."""
    lines = []
    for table in expected:
        want = [json.dumps(row, sort_keys=True) for row in expected[table]]
        got = [json.dumps(row, sort_keys=True) for row in actual.get(table, [])]
        missing = [row for row in want if row not in got]
        extra = [row for row in got if row not in want]
        if missing or extra:
            lines.append(f"{table}: {len(missing)} rows only in order, {len(extra)} only after redelivery")
            lines += [f"  - {row}" for row in missing[:limit]]
            lines += [f"  + {row}" for row in extra[:limit]]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return hashlib.sha256(bytes(value)).hexdigest()
    return value
