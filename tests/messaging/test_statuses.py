"""Status, inbound and error webhooks: every `messages.*` sample, through handlers and signed posts."""

import itertools
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messaging.events import StatusEvent
from messaging.models import AccountError, InboundMessage, MessageReceipt, OutboundMessage, UnmatchedStatus
from messaging.services import message_record_accepted, message_status_apply
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import SPEC_G1, SPEC_G3, webhook_body, webhook_names
from webhooks.handlers.messages import handle_account_error, handle_inbound_message, handle_message_status
from webhooks.registry import HANDLERS, ItemContext

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status
WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="
MAYA, OLIVER, LUCAS = "16505551234", "447700900123", "5511987654321"


@pytest.fixture
def group():
    group = GroupFactory(spec_g1=True, participant_count=3)
    ParticipantFactory(group=group, wa_id=MAYA, user_id="US.13491208655302741918", name="Maya Patel")
    ParticipantFactory(group=group, wa_id=OLIVER, name="Oliver Grant")
    ParticipantFactory(group=group, wa_id=LUCAS, name="Lucas Almeida")
    return group


@pytest.fixture
def message(group):
    return OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)


def _dispatch(name: str) -> None:
    """Run every item of a sample through its registered handler, as the pipeline does."""
    body = json.loads(webhook_body(name))
    for change in body["entry"][0]["changes"]:
        value = change["value"]
        for kind in ("statuses", "messages", "errors"):
            for index, item in enumerate(value.get(kind, [])):
                ctx = ItemContext(
                    event_id=1, field=change["field"], kind=kind, path=f"entry[0].changes[0].{kind}[{index}]",
                    phone_number_id=value["metadata"]["phone_number_id"], value=value,
                )
                HANDLERS[(change["field"], kind)](item, ctx)


def test_every_messages_sample_has_a_registered_handler():
    for name in webhook_names():
        if not name.startswith("messages."):
            continue
        body = json.loads(webhook_body(name))
        value = body["entry"][0]["changes"][0]["value"]
        kinds = [kind for kind in ("statuses", "messages", "errors") if kind in value]
        assert kinds, name
        for kind in kinds:
            assert ("messages", kind) in HANDLERS, (name, kind)
    assert HANDLERS[("messages", "statuses")] is handle_message_status
    assert HANDLERS[("messages", "messages")] is handle_inbound_message
    assert HANDLERS[("messages", "errors")] is handle_account_error


def test_status_sent_moves_an_accepted_message_to_sent(message):
    _dispatch("messages.status_sent")
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sent_at == datetime.fromtimestamp(1771322000, tz=UTC)


def test_status_delivered_single_creates_a_receipt_with_pricing(message):
    _dispatch("messages.status_delivered_single")
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert (message.delivered_count, message.read_count) == (1, 0)
    receipt = MessageReceipt.objects.get(message=message)
    assert receipt.participant.wa_id == MAYA
    assert receipt.delivered_at == datetime.fromtimestamp(1771322003, tz=UTC)
    change = message.status_changes.get(status="delivered")
    assert change.pricing["category"] == "group_service"
    assert change.webhook_item == "entry[0].changes[0].statuses[0]"


def test_status_delivered_aggregated_counts_every_participant(message):
    _dispatch("messages.status_delivered_aggregated")
    message.refresh_from_db()
    assert message.delivered_count == 3
    assert set(message.receipts.values_list("participant_wa_id", flat=True)) == {MAYA, OLIVER, LUCAS}


def test_status_read_aggregated_implies_delivered(message):
    _dispatch("messages.status_read_aggregated")
    message.refresh_from_db()
    assert message.status == Status.READ
    assert (message.delivered_count, message.read_count) == (2, 2)
    maya = message.receipts.get(participant_wa_id=MAYA)
    assert maya.delivered_at == maya.read_at == datetime.fromtimestamp(1771322060, tz=UTC)


def test_read_then_delivered_keeps_read_and_the_earlier_delivery_time(message):
    _dispatch("messages.status_read_aggregated")
    _dispatch("messages.status_delivered_aggregated")
    message.refresh_from_db()
    assert message.status == Status.READ
    assert (message.delivered_count, message.read_count) == (3, 2)
    maya = message.receipts.get(participant_wa_id=MAYA)
    assert maya.delivered_at == datetime.fromtimestamp(1771322003, tz=UTC)
    assert maya.read_at == datetime.fromtimestamp(1771322060, tz=UTC)


def test_status_delivered_multi_message_single_participant_updates_both_messages(group):
    body = json.loads(webhook_body("messages.status_delivered_multi_message_single_participant"))
    wamids = [item["id"] for item in body["entry"][0]["changes"][0]["value"]["statuses"]]
    messages = [OutboundMessageFactory(group=group, accepted=True, wamid=wamid) for wamid in wamids]
    _dispatch("messages.status_delivered_multi_message_single_participant")
    for message in messages:
        message.refresh_from_db()
        assert message.status == Status.DELIVERED
        assert message.receipts.get().participant_wa_id == OLIVER
        assert message.status_changes.get(status="delivered").pricing["type"] == "regular"


def test_status_delivered_bsuid_matches_participants_by_phone_or_bsuid(message, group):
    # given: Oliver is known here only by his BSUID, as the sample names him.
    oliver = group.participants.get(wa_id=OLIVER)
    oliver.user_id = "GB.48810273365190042771"
    oliver.save()
    # when
    _dispatch("messages.status_delivered_aggregated_bsuid")
    # then
    message.refresh_from_db()
    assert message.delivered_count == 2
    keys = set(message.receipts.values_list("participant_key", flat=True))
    assert keys == {f"wa:{MAYA}", f"wa:{OLIVER}"}  # Keyed by the phone we know, whatever the event named.
    assert message.receipts.get(participant_key=f"wa:{OLIVER}").participant_user_id == "GB.48810273365190042771"

BSUID_LINK_STORY = [
    "messages.status_delivered_aggregated",  # Oliver by phone, 1771322004
    "messages.status_delivered_aggregated_bsuid",  # Oliver by BSUID only, later (1775041004)
    "group_participants_update.joined_via_link_bsuid",  # links Oliver's phone and BSUID
]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_person_named_by_phone_and_by_bsuid_has_one_receipt_and_the_earliest_delivery_in_any_order(
    post_webhook, order
):
    # given: Oliver is not known here yet
    group = GroupFactory(spec_g1=True)
    message = OutboundMessageFactory(group=group, accepted=True, wamid=WAMID, recipient_count=3)
    # when
    for index in order:
        assert post_webhook(webhook_body(BSUID_LINK_STORY[index])).status_code == 200
    # then
    message.refresh_from_db()
    assert (message.delivered_count, message.receipts.count()) == (3, 3)
    oliver = message.receipts.get(participant_key=f"wa:{OLIVER}")
    assert oliver.participant == group.participants.get(wa_id=OLIVER, user_id="GB.48810273365190042771")
    assert oliver.participant_user_id == "GB.48810273365190042771"
    assert oliver.delivered_at == datetime.fromtimestamp(1771322004, tz=UTC)
    history = message.status_changes.get(status="delivered", participant_key=f"wa:{OLIVER}")
    assert (history.timestamp, history.participant_wa_id, history.participant_user_id) == (
        datetime.fromtimestamp(1771322004, tz=UTC), OLIVER, "")  # The earliest item, as it named him.
    assert message.status_changes.filter(status="delivered").count() == 3
    assert group.participants.count() == 3


@pytest.mark.parametrize("later_first", [False, True])
def test_of_two_deliveries_to_one_person_the_earliest_wins_whatever_arrives_first(message, later_first):
    # given
    early, late = (StatusEvent(wamid=WAMID, status="delivered", timestamp=datetime.fromtimestamp(ts, tz=UTC),
                               participant_wa_id=MAYA) for ts in (1771322003, 1771322100))
    # when
    for event in (late, early) if later_first else (early, late):
        message_status_apply(event=event)
    # then
    assert message.status_changes.get(status="delivered").timestamp == early.timestamp
    assert message.receipts.get().delivered_at == early.timestamp


def test_a_status_or_message_from_someone_unknown_makes_them_a_participant_the_join_then_times(post_webhook):
    # given
    group = GroupFactory(spec_g1=True)
    OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)
    # when: Maya writes and gets a delivery before her join arrives
    for name in ("messages.inbound_text", "messages.status_delivered_single",
                 "group_participants_update.joined_via_link"):
        assert post_webhook(webhook_body(name)).status_code == 200
    # then
    group.refresh_from_db()
    maya = group.participants.get()
    assert (maya.wa_id, maya.name, maya.state) == (MAYA, "Maya Patel", "active")
    assert maya.joined_at == datetime.fromtimestamp(1771320611, tz=UTC)
    assert group.participant_count == 1
    assert InboundMessage.objects.get().participant == maya
    assert MessageReceipt.objects.get().participant == maya


def test_status_with_the_misspelled_participant_key_is_per_participant(message):
    body = json.loads(webhook_body("messages.status_delivered_single"))
    item = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    item["participant_recipient_id"] = item.pop("recipient_participant_id")
    handle_message_status(item, ItemContext(event_id=1, field="messages", kind="statuses", path="p"))
    message.refresh_from_db()
    assert message.receipts.get().participant_wa_id == MAYA


def test_status_failed_fails_the_message_with_the_error():
    group = GroupFactory(group_id=SPEC_G3)
    message = OutboundMessageFactory(
        group=group, accepted=True, wamid="wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwNTFBQkQ3RTM5QzA2RjJBOAA="
    )
    _dispatch("messages.status_failed")
    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert message.error_code == "131020"
    assert message.error["title"] == "Bad Group"
    assert message.error["href"].startswith("https://")
    assert message.failed_at == datetime.fromtimestamp(1771320400, tz=UTC)


def test_statuses_for_an_unknown_wamid_are_kept_then_applied_when_it_is_known(group):
    # given: statuses beat the send response
    message = OutboundMessageFactory(group=group, status=Status.SENDING, attempt_count=1)
    _dispatch("messages.status_sent")
    _dispatch("messages.status_delivered_aggregated")
    assert UnmatchedStatus.objects.filter(applied_at__isnull=True).count() == 4
    # when
    message_record_accepted(message_id=message.pk, wamid=WAMID)
    # then
    message.refresh_from_db()
    assert message.status == Status.DELIVERED
    assert message.delivered_count == 3
    assert UnmatchedStatus.objects.filter(applied_at__isnull=True).count() == 0


def test_statuses_for_a_wamid_never_known_stay_visible_and_fail_nothing():
    _dispatch("messages.status_failed")
    kept = UnmatchedStatus.objects.get()
    assert kept.status == "failed"
    assert kept.item["errors"][0]["code"] == 131020
    assert OutboundMessage.objects.count() == 0


def test_duplicate_status_is_a_no_op(message):
    _dispatch("messages.status_delivered_aggregated")
    _dispatch("messages.status_delivered_aggregated")
    message.refresh_from_db()
    assert message.delivered_count == 3
    assert message.status_changes.filter(status="delivered").count() == 3


def test_inbound_text(group):
    _dispatch("messages.inbound_text")
    inbound = InboundMessage.objects.get()
    assert inbound.group == group
    assert (inbound.from_wa_id, inbound.contact_name, inbound.type) == (MAYA, "Maya Patel", "text")
    assert inbound.text.startswith("Hi, the courier")
    assert inbound.participant.wa_id == MAYA
    assert inbound.timestamp == datetime.fromtimestamp(1771322300, tz=UTC)


def _inbound_from_maya(*, wamid: str, name: str, timestamp: int, username: str | None = None) -> bytes:
    body = json.loads(webhook_body("messages.inbound_text"))
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["profile"] = {"name": name, **({"username": username} if username else {})}
    value["messages"][0].update(id=wamid, timestamp=str(timestamp))
    return json.dumps(body).encode()


@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in order", "newer first"])
def test_a_renamed_sender_keeps_the_newer_name_in_any_arrival_order(group, post_webhook, order):
    # given: Maya writes as "Maya P." and, a minute later, renamed, as "Maya Patel-Reyes" with a username
    bodies = [_inbound_from_maya(wamid="wamid.old", name="Maya P.", timestamp=1771322300, username="maya.p"),
              _inbound_from_maya(wamid="wamid.new", name="Maya Patel-Reyes", timestamp=1771322360)]
    # when
    for index in order:
        assert post_webhook(bodies[index]).status_code == 200
    # then: the newer name; the username only the older item gave is kept
    participant = group.participants.get(wa_id=MAYA)
    assert (participant.name, participant.username) == ("Maya Patel-Reyes", "maya.p")
    assert participant.profile_seen_at == datetime.fromtimestamp(1771322360, tz=UTC)
    assert list(InboundMessage.objects.order_by("wamid").values_list("contact_name", flat=True)) == [
        "Maya Patel-Reyes", "Maya P."]  # Each message keeps the name it was sent under.


def test_inbound_image_keeps_media_metadata(group):
    _dispatch("messages.inbound_image")
    inbound = InboundMessage.objects.get()
    assert (inbound.type, inbound.media_id, inbound.mime_type) == ("image", "1287364519876543", "image/jpeg")
    assert inbound.text == "Photo of the damaged box"
    assert inbound.content["sha256"].startswith("u4d7")


def test_inbound_unsupported_is_kept_with_its_error(group):
    _dispatch("messages.inbound_unsupported")
    inbound = InboundMessage.objects.get()
    assert inbound.type == "unsupported"
    assert inbound.error["code"] == 130501
    assert inbound.contact_name == "Oliver Grant"


def test_inbound_unknown_type_131051_is_kept_with_its_error_and_kind(group, post_webhook):
    # given: Meta's general form of unsupported content (spec §6.6): code 131051 and `unsupported.type`
    body = json.loads(webhook_body("messages.inbound_unsupported"))
    item = body["entry"][0]["changes"][0]["value"]["messages"][0]
    item["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                       "error_data": {"details": "Message type is currently not supported."}}]
    item["unsupported"] = {"type": "poll_creation"}
    # when
    response = post_webhook(json.dumps(body).encode())
    # then
    assert response.status_code == 200
    inbound = InboundMessage.objects.get()
    assert (inbound.type, inbound.group, inbound.contact_name) == ("unsupported", group, "Oliver Grant")
    assert inbound.error["code"] == 131051
    assert inbound.error["details"] == "Message type is currently not supported."
    assert inbound.content["unsupported"] == {"type": "poll_creation"}


def test_inbound_bsuid_has_no_phone(group):
    _dispatch("messages.inbound_text_bsuid")
    inbound = InboundMessage.objects.get()
    assert (inbound.from_wa_id, inbound.from_user_id) == ("", "GB.48810273365190042771")
    assert (inbound.contact_name, inbound.contact_username) == ("Oliver Grant", "oliver.grant")


def test_inbound_duplicate_is_stored_once(group):
    _dispatch("messages.inbound_text")
    _dispatch("messages.inbound_text")
    assert InboundMessage.objects.count() == 1


def test_account_error_is_recorded():
    _dispatch("messages.errors_rate_limit")
    error = AccountError.objects.get()
    assert (error.code, error.title, error.meta_phone_number_id) == (130429, "Rate limit hit", "106540352242922")
    assert error.details.startswith("Too many messages")


# --- The same samples as Meta sends them: signed POSTs through the whole pipeline ----------


@pytest.mark.parametrize("name", [n for n in webhook_names() if n.startswith("messages.")])
def test_every_messages_sample_posted_signed_is_processed(post_webhook, group, name):
    # given
    from webhooks.models import WebhookEvent

    body = webhook_body(name)
    for item in json.loads(body)["entry"][0]["changes"][0]["value"].get("statuses", []):
        if not OutboundMessage.objects.filter(wamid=item["id"]).exists() and item["recipient_id"] == SPEC_G1:
            OutboundMessageFactory(group=group, accepted=True, wamid=item["id"])
    # when
    first = post_webhook(body)
    again = post_webhook(body)
    # then
    assert (first.status_code, again.status_code) == (200, 200)
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED, event.item_failures
    if name.startswith("messages.inbound"):
        assert InboundMessage.objects.count() == 1
    if name.startswith("messages.errors"):
        assert AccountError.objects.count() == 1


def test_signed_statuses_out_of_order_and_twice_end_like_in_order(post_webhook, message):
    # given
    names = ["messages.status_read_aggregated", "messages.status_delivered_aggregated", "messages.status_sent"]
    # when
    for name in names + names:
        post_webhook(webhook_body(name))
    # then
    message.refresh_from_db()
    assert message.status == Status.READ
    assert (message.delivered_count, message.read_count) == (3, 2)
    assert message.status_changes.filter(source="webhook").count() == 6


# --- Any order, any repetition: the same end state and history ------------------------------

EVENTS = [
    ("sent", None, 100),
    ("delivered", MAYA, 101),
    ("delivered", OLIVER, 102),
    ("delivered", LUCAS, 103),
    ("read", MAYA, 110),
    ("read", OLIVER, 111),
    ("read", LUCAS, 112),
    ("failed", None, 105),
]


def _event(wamid: str, status: str, wa_id: str | None, ts: int) -> StatusEvent:
    errors = [{"code": 131026, "title": "Undeliverable", "message": "", "details": "", "href": ""}]
    return StatusEvent(
        wamid=wamid, status=status, timestamp=datetime.fromtimestamp(1771322000 + ts, tz=UTC),
        recipient_id=SPEC_G1, participant_wa_id=wa_id, errors=errors if status == "failed" else [],
    )


def _end_state(message: OutboundMessage) -> tuple:
    message.refresh_from_db()
    receipts = sorted(message.receipts.values_list("participant_key", "delivered_at", "read_at"))
    history = sorted(
        message.status_changes.filter(source="webhook").values_list("status", "participant_key", "timestamp")
    )
    return (
        message.status, message.error_code, message.sent_at, message.delivered_at, message.read_at,
        message.failed_at, message.delivered_count, message.read_count, tuple(receipts), tuple(history),
    )


def _expected(subset: list[tuple]) -> tuple:
    """The state a message must reach from these events, computed without the services."""
    def at(ts):
        return datetime.fromtimestamp(1771322000 + ts, tz=UTC)

    statuses = {s for s, _, _ in subset}
    rank = ["accepted", "sent", "delivered", "read"]
    status = "failed" if "failed" in statuses else max(
        ["accepted", *statuses], key=rank.index
    )
    receipts = {}
    for s, who, ts in subset:
        if who:
            delivered, read = receipts.get(who, (None, None))
            delivered = min(filter(None, [delivered, at(ts)]))
            read = min(filter(None, [read, at(ts)])) if s == "read" else read
            receipts[who] = (delivered, read)
    per = [ts for s, who, ts in subset if who]
    reads = [ts for s, who, ts in subset if s == "read"]
    return (
        status,
        "131026" if "failed" in statuses else "",
        at(100) if "sent" in statuses else None,
        at(min(per)) if per else None,
        at(min(reads)) if reads else None,
        at(105) if "failed" in statuses else None,
        len(receipts),
        sum(1 for _, r in receipts.values() if r),
        tuple(sorted((f"wa:{who}", d, r) for who, (d, r) in receipts.items())),
        tuple(sorted((s, f"wa:{who}" if who else "", at(ts)) for s, who, ts in subset)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_and_repetition_of_events_ends_in_the_same_state_and_history(group, data):
    # given: a subset of the events, shuffled, some repeated
    subset = data.draw(st.lists(st.sampled_from(EVENTS), min_size=1, max_size=8, unique=True))
    repeats = data.draw(st.lists(st.sampled_from(subset), max_size=6))
    order = data.draw(st.permutations(subset + repeats))
    message = OutboundMessageFactory(group=group, accepted=True)  # Examples share the database: a fresh wamid.
    # when
    for status, who, ts in order:
        message_status_apply(event=_event(message.wamid, status, who, ts))
    # then
    assert _end_state(message) == _expected(subset)
