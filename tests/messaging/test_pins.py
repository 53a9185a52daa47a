"""Pins: spec request bodies, validation before any call to Meta, three at most, expiry, unpin, failures."""

import json
import threading
import time
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from responses import matchers

from groups.models import Group
from messaging.exceptions import (
    GroupNotSendable,
    PinAlreadyActive,
    PinExpirationInvalid,
    PinNotActive,
    PinTargetInvalid,
)
from messaging.models import InboundMessage, OutboundMessage, Pin
from messaging.services.pins import pin_create, pin_unpin, pins_expire_due
from messaging.tasks import pins_expire_due_task
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.messaging.pin_factories import (
    SPEC_PIN_ACTION_WAMID,
    SPEC_PINNED_WAMID,
    PinFactory,
    PinnableMessageFactory,
)
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json, webhook_body

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
PINS_URL = "/api/v1/pins/"
PinState = Pin.State


def _expected(sample: str, message: OutboundMessage) -> dict:
    # Our id rides along in `biz_opaque_callback_data`, as on every message we send (DESIGN "Correlation").
    return {**graph_json(sample), "biz_opaque_callback_data": message.callback_data}


def _status_failed_body(wamid: str) -> bytes:
    body = json.loads(webhook_body("messages.status_failed"))
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = wamid
    return json.dumps(body).encode()


@pytest.fixture
def group():
    return GroupFactory(spec_g1=True)


@pytest.fixture
def target(group):
    return PinnableMessageFactory(group=group, wamid=SPEC_PINNED_WAMID)


@pytest.fixture
def pin_api(user_with_perms, api_client):
    api_client.force_authenticate(user_with_perms("messaging.add_pin", "messaging.view_pin", "messaging.change_pin"))
    return api_client


def _pin_sent(graph, django_capture_on_commit_callbacks, **kwargs) -> Pin:
    """Create a pin through the service and let the send task post the spec request."""
    with django_capture_on_commit_callbacks(execute=True):
        pin = pin_create(**kwargs)
        graph.post(
            MESSAGES_URL,
            json=graph_json("pin.response"),
            match=[matchers.json_params_matcher(_expected("pin.request", pin.pin_message))],
        )
    pin.refresh_from_db()
    return pin


# --- Pin -------------------------------------------------------------------------------------------


def test_pin_create_posts_the_spec_request_and_activates_on_acceptance(
    graph, group, target, django_capture_on_commit_callbacks
):
    # when
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    # then
    message = pin.pin_message
    message.refresh_from_db()
    assert len(graph.calls) == 1
    assert message.type == OutboundMessage.Type.PIN
    assert message.wamid == SPEC_PIN_ACTION_WAMID
    assert pin.state == PinState.ACTIVE
    assert pin.target_message == target
    assert pin.pinned_at == message.accepted_at
    assert pin.expires_at == message.accepted_at + timedelta(days=7)
    assert list(pin.status_changes.values_list("from_state", "to_state")) == [("", "pending"), ("pending", "active")]


def test_pin_api_answers_202_and_sends_the_spec_request(
    graph, group, target, pin_api, django_capture_on_commit_callbacks
):
    # given
    body = {"group": group.pk, "message_id": SPEC_PINNED_WAMID, "expiration_days": 7}
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = pin_api.post(PINS_URL, body, format="json")
    pin = Pin.objects.get()
    graph.post(
        MESSAGES_URL,
        json=graph_json("pin.response"),
        match=[matchers.json_params_matcher(_expected("pin.request", pin.pin_message))],
    )
    for callback in callbacks:
        callback()
    # then
    assert response.status_code == 202
    assert response.json()["state"] == "pending"
    assert response.json()["message_id"] == SPEC_PINNED_WAMID
    assert response.json()["group"] == group.pk
    assert set(response.json()) >= {
        "id", "group", "message_id", "expiration_days", "state", "requested_at", "pinned_at", "expires_at",
        "unpinned_at", "error",
    }
    detail = pin_api.get(PINS_URL, {"state": "active"}).json()["results"]
    assert [(item["id"], item["state"]) for item in detail] == [(pin.pk, "active")]


def test_pin_detail_answers_the_pin_with_its_state_history(
    graph, group, target, pin_api, django_capture_on_commit_callbacks
):
    # given: a pin Meta accepted, then unpinned by staff
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    with django_capture_on_commit_callbacks() as callbacks:
        pin_api.post(f"{PINS_URL}{pin.pk}/unpin/")
    # when
    response = pin_api.get(f"{PINS_URL}{pin.pk}/")
    missing = pin_api.get(f"{PINS_URL}{pin.pk + 1000}/")
    # then
    assert len(callbacks) == 1  # The unpin is queued, not sent: the pin stays active meanwhile.
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"], body["message_id"]) == (pin.pk, "active", SPEC_PINNED_WAMID)
    assert [(step["from_state"], step["state"], step["source"]) for step in body["history"]] == [
        (change.from_state, change.to_state, change.source) for change in pin.status_changes.order_by("pk")
    ]
    assert [step["state"] for step in body["history"]][:2] == ["pending", "active"]
    assert missing.status_code == 404


def test_pin_can_target_a_message_a_participant_wrote(graph, group, django_capture_on_commit_callbacks):
    # given
    inbound = InboundMessage.objects.create(
        group=group, wamid=SPEC_PINNED_WAMID, type="text", text="Hi", timestamp=timezone.now()
    )
    # when
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    # then
    assert pin.state == PinState.ACTIVE
    assert pin.target_inbound == inbound


@pytest.mark.parametrize(
    "days",
    [0, 31, -1, "7", 7.5, 7.0, True, None, [7], {"days": 7}, "missing"],
    ids=["0", "31", "-1", "str", "float", "float-whole", "bool", "null", "list", "object", "missing"],
)
def test_pin_api_rejects_bad_expiration_days_and_calls_nobody(graph, group, target, pin_api, days):
    # given
    body = {"group": group.pk, "message_id": SPEC_PINNED_WAMID, "expiration_days": days}
    if days == "missing":
        del body["expiration_days"]
    # when
    response = pin_api.post(PINS_URL, body, format="json")
    # then
    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["expiration_days"]
    assert not Pin.objects.exists()
    assert not OutboundMessage.objects.filter(type=OutboundMessage.Type.PIN).exists()
    assert len(graph.calls) == 0


@pytest.mark.parametrize("days", [0, 31, "7", 7.5, True, None])
def test_pin_create_service_rejects_bad_expiration_days(graph, group, target, days):
    with pytest.raises(PinExpirationInvalid) as excinfo:
        pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=days)
    assert excinfo.value.field == "expiration_days"
    assert not OutboundMessage.objects.filter(type=OutboundMessage.Type.PIN).exists()


@pytest.mark.parametrize("days", [1, 30])
def test_pin_accepts_the_bounds_of_expiration_days(graph, group, target, django_capture_on_commit_callbacks, days):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        pin = pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=days)
        expected = {**_expected("pin.request", pin.pin_message)}
        expected["pin"] = {**expected["pin"], "expiration_days": days}
        graph.post(MESSAGES_URL, json=graph_json("pin.response"), match=[matchers.json_params_matcher(expected)])
    # then
    pin.refresh_from_db()
    assert pin.expires_at - pin.pinned_at == timedelta(days=days)


@pytest.mark.parametrize("case", ["other_group", "unknown", "not_accepted", "failed", "pin_action", "other_inbound"])
def test_pin_rejects_a_target_that_is_not_a_message_of_the_group(graph, group, pin_api, case):
    # given
    other = GroupFactory()
    if case == "other_group":
        PinnableMessageFactory(group=other, wamid=SPEC_PINNED_WAMID)
    elif case == "not_accepted":
        OutboundMessageFactory(group=group, wamid=SPEC_PINNED_WAMID, status=OutboundMessage.Status.SENDING)
    elif case == "failed":
        OutboundMessageFactory(group=group, wamid=SPEC_PINNED_WAMID, status=OutboundMessage.Status.FAILED)
    elif case == "pin_action":
        PinFactory(group=group, active=True, pin_message__wamid=SPEC_PINNED_WAMID)
    elif case == "other_inbound":
        InboundMessage.objects.create(group=other, wamid=SPEC_PINNED_WAMID, type="text", timestamp=timezone.now())
    pins_before = Pin.objects.count()
    # when
    response = pin_api.post(
        PINS_URL, {"group": group.pk, "message_id": SPEC_PINNED_WAMID, "expiration_days": 7}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == "pin_target_invalid"
    assert list(response.json()["extra"]["fields"]) == ["message_id"]
    assert Pin.objects.count() == pins_before
    assert len(graph.calls) == 0


@pytest.mark.parametrize("change", [{"suspended": True}, {"state": Group.State.DELETING}])
def test_pin_refuses_a_group_that_cannot_receive_it(graph, group, target, pin_api, change):
    # given
    Group.objects.filter(pk=group.pk).update(**change)
    # when
    response = pin_api.post(
        PINS_URL, {"group": group.pk, "message_id": SPEC_PINNED_WAMID, "expiration_days": 7}, format="json"
    )
    # then
    assert response.status_code == 400
    assert response.json()["code"] == GroupNotSendable.code
    assert list(response.json()["extra"]["fields"]) == ["group"]
    assert not Pin.objects.exists()


def test_pin_refuses_a_message_already_pinned(graph, group, target):
    # given
    existing = PinFactory(group=group, message_id=SPEC_PINNED_WAMID, active=True)
    # when
    with pytest.raises(PinAlreadyActive) as excinfo:
        pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=7)
    # then
    assert excinfo.value.extra == {"pin_id": existing.pk}
    assert Pin.objects.count() == 1


def test_pin_refused_by_meta_fails_with_its_error(graph, group, target, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        pin = pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=7)
        graph.post(MESSAGES_URL, json=graph_json("error.bad_group_131020"), status=400)
    # then
    pin.refresh_from_db()
    assert pin.state == PinState.FAILED
    assert pin.error["code"] == 131020
    assert pin.pinned_at is None
    assert list(pin.status_changes.values_list("to_state", flat=True)) == ["pending", "failed"]


def test_a_retryable_refusal_leaves_the_pin_pending(graph, group, target, django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=False):
        pin = pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=7)
    graph.post(MESSAGES_URL, json=graph_json("error.rate_limit_130429"), status=400)
    # when
    from messaging.services import message_send

    message_send(message_id=pin.pin_message_id)
    # then
    pin.refresh_from_db()
    assert pin.state == PinState.PENDING
    assert pin.pin_message.status == OutboundMessage.Status.QUEUED


def test_a_failed_status_webhook_fails_the_pin(graph, group, target, post_webhook, django_capture_on_commit_callbacks):
    # given
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    body = _status_failed_body(SPEC_PIN_ACTION_WAMID)
    # when
    first = post_webhook(body)
    again = post_webhook(body)
    # then
    assert (first.status_code, again.status_code) == (200, 200)
    pin.refresh_from_db()
    assert pin.state == PinState.FAILED
    assert pin.error["code"] == 131020
    assert list(pin.status_changes.values_list("to_state", flat=True)) == ["pending", "active", "failed"]


def test_a_status_settles_a_pin_whose_send_timed_out(graph, group, target, post_webhook,
                                                    django_capture_on_commit_callbacks):
    # given
    graph.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    with django_capture_on_commit_callbacks(execute=True):
        pin = pin_create(group=group, message_id=SPEC_PINNED_WAMID, expiration_days=7)
    pin.refresh_from_db()
    assert pin.state == PinState.PENDING  # Meta may or may not have pinned it: never resent blindly.
    body = json.loads(webhook_body("messages.status_sent"))
    status = body["entry"][0]["changes"][0]["value"]["statuses"][0]
    status["id"] = SPEC_PIN_ACTION_WAMID
    status["biz_opaque_callback_data"] = pin.pin_message.callback_data
    # when
    response = post_webhook(json.dumps(body).encode())
    # then
    assert response.status_code == 200
    pin.refresh_from_db()
    assert pin.state == PinState.ACTIVE
    assert pin.pin_message.wamid == SPEC_PIN_ACTION_WAMID
    assert pin.expires_at == pin.pinned_at + timedelta(days=7)
    assert len(graph.calls) == 1


# --- Three at most ---------------------------------------------------------------------------------


def test_the_fourth_pin_replaces_the_oldest(graph, group, target, django_capture_on_commit_callbacks):
    # given
    oldest = PinFactory(group=group, active=True, pinned_days_ago=3)
    middle = PinFactory(group=group, active=True, pinned_days_ago=2)
    newest = PinFactory(group=group, active=True, pinned_days_ago=1)
    # when
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    # then
    oldest.refresh_from_db()
    assert pin.state == PinState.ACTIVE
    assert oldest.state == PinState.REPLACED
    assert oldest.replaced_by == pin
    assert oldest.unpinned_at == pin.pinned_at
    assert set(Pin.objects.filter(state=PinState.ACTIVE)) == {middle, newest, pin}
    assert oldest.status_changes.last().detail == {"replaced_by": pin.pk}


def test_a_failed_fourth_pin_gives_back_the_pin_it_seemed_to_replace(
    graph, group, target, post_webhook, django_capture_on_commit_callbacks
):
    # given
    oldest = PinFactory(group=group, active=True, pinned_days_ago=3)
    PinFactory(group=group, active=True, pinned_days_ago=2)
    PinFactory(group=group, active=True, pinned_days_ago=1)
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    # when
    post_webhook(_status_failed_body(SPEC_PIN_ACTION_WAMID))
    # then
    pin.refresh_from_db()
    oldest.refresh_from_db()
    assert pin.state == PinState.FAILED
    assert oldest.state == PinState.ACTIVE
    assert oldest.replaced_by is None
    assert Pin.objects.filter(state=PinState.ACTIVE).count() == 3


def test_three_pins_replace_nothing(graph, group, target, django_capture_on_commit_callbacks):
    # given
    pins = [PinFactory(group=group, active=True, pinned_days_ago=days) for days in (2, 1)]
    PinFactory(group=GroupFactory(), active=True, pinned_days_ago=5)  # Another group's pins do not count.
    PinFactory(group=GroupFactory(), active=True, pinned_days_ago=5)
    # when
    pin = _pin_sent(graph, django_capture_on_commit_callbacks, group=group, message_id=SPEC_PINNED_WAMID,
                    expiration_days=7)
    # then
    assert not Pin.objects.filter(state=PinState.REPLACED).exists()
    assert set(Pin.objects.filter(group=group, state=PinState.ACTIVE)) == {*pins, pin}


# --- Unpin -----------------------------------------------------------------------------------------


def test_unpin_posts_the_spec_request_and_unpins_on_acceptance(
    graph, group, pin_api, django_capture_on_commit_callbacks
):
    # given
    pin = PinFactory(group=group, message_id=SPEC_PINNED_WAMID, active=True)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        response = pin_api.post(reverse("messaging:pin-unpin", args=[pin.pk]))
    pin.refresh_from_db()
    graph.post(
        MESSAGES_URL,
        json=graph_json("pin.response"),
        match=[matchers.json_params_matcher(_expected("unpin.request", pin.unpin_message))],
    )
    for callback in callbacks:
        callback()
    # then
    assert response.status_code == 202
    assert response.json()["state"] == "active"
    assert response.json()["unpin_message"] == pin.unpin_message_id
    pin.refresh_from_db()
    assert pin.state == PinState.UNPINNED
    assert pin.unpinned_at == pin.unpin_message.accepted_at
    assert "expiration_days" not in pin.unpin_message.content
    assert list(pin.status_changes.values_list("to_state", flat=True))[-2:] == ["active", "unpinned"]


@pytest.mark.parametrize("state", [PinState.PENDING, PinState.EXPIRED, PinState.UNPINNED, PinState.REPLACED,
                                   PinState.FAILED])
def test_unpin_is_only_for_active_pins(graph, group, pin_api, state):
    # given
    pin = PinFactory(group=group, state=state)
    # when
    response = pin_api.post(reverse("messaging:pin-unpin", args=[pin.pk]))
    # then
    assert response.status_code == 409
    assert response.json()["code"] == PinNotActive.code
    assert list(response.json()["extra"]["fields"]) == ["state"]
    assert len(graph.calls) == 0


def test_unpin_twice_sends_one_unpin(graph, group, django_capture_on_commit_callbacks):
    # given
    pin = PinFactory(group=group, active=True)
    pin_unpin(pin=pin)
    # when / then
    with pytest.raises(PinNotActive):
        pin_unpin(pin=pin)
    assert OutboundMessage.objects.filter(type=OutboundMessage.Type.PIN, content__type="unpin").count() == 1


def test_a_refused_unpin_leaves_the_pin_active_and_unpinnable_again(
    graph, group, django_capture_on_commit_callbacks
):
    # given
    pin = PinFactory(group=group, active=True)
    graph.post(MESSAGES_URL, json=graph_json("error.group_not_found_131041"), status=400)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        pin_unpin(pin=pin)
    # then
    pin.refresh_from_db()
    assert pin.state == PinState.ACTIVE
    assert pin.unpin_message is None
    assert pin.error["code"] == 131041
    assert pin.status_changes.last().detail["event"] == "unpin_failed"


# --- Expiry ----------------------------------------------------------------------------------------


def test_pins_expire_due_expires_only_pins_past_their_time(graph, group):
    # given
    due = PinFactory(group=group, active=True, pinned_days_ago=8, expiration_days=7)
    fresh = PinFactory(group=group, active=True, pinned_days_ago=1, expiration_days=7)
    pending = PinFactory(group=group)
    # when
    expired = pins_expire_due()
    again = pins_expire_due()
    # then
    due.refresh_from_db()
    fresh.refresh_from_db()
    pending.refresh_from_db()
    assert (expired, again) == (1, 0)
    assert due.state == PinState.EXPIRED
    assert due.unpinned_at == due.expires_at
    assert fresh.state == PinState.ACTIVE
    assert pending.state == PinState.PENDING
    assert list(due.status_changes.values_list("from_state", "to_state", "source")) == [("active", "expired", "task")]


def test_pins_expire_due_works_in_bounded_batches(graph):
    # given
    pins = [PinFactory(active=True, pinned_days_ago=10, expiration_days=days) for days in (1, 2, 3)]
    # when
    counts = [pins_expire_due(limit=2), pins_expire_due(limit=2), pins_expire_due(limit=2)]
    # then
    assert counts == [2, 1, 0]
    assert {pin.state for pin in Pin.objects.filter(pk__in=[p.pk for p in pins])} == {PinState.EXPIRED}


def test_the_beat_task_expires_due_pins(graph, settings):
    # given
    pin = PinFactory(active=True, pinned_days_ago=31, expiration_days=30)
    # when
    result = pins_expire_due_task.delay()
    # then
    pin.refresh_from_db()
    assert result.get() == 1
    assert pin.state == PinState.EXPIRED
    assert settings.CELERY_BEAT_SCHEDULE["pins-expire-due"]["task"] == "messaging.tasks.pins_expire_due_task"


def test_an_expiry_that_meets_an_unpin_leaves_one_outcome(graph, group, django_capture_on_commit_callbacks):
    # given
    pin = PinFactory(group=group, active=True, pinned_days_ago=8, expiration_days=7)
    with django_capture_on_commit_callbacks() as callbacks:
        pin_unpin(pin=pin)
    # when
    pins_expire_due()
    graph.post(MESSAGES_URL, json=graph_json("pin.response"))
    for callback in callbacks:
        callback()  # Meta accepts the unpin after the pin expired.
    # then
    pin.refresh_from_db()
    assert pin.state == PinState.EXPIRED
    assert list(pin.status_changes.values_list("to_state", flat=True)) == ["active", "expired"]


# --- REST: list, filters, permissions --------------------------------------------------------------


def test_pin_list_filters_by_group_and_state(group, pin_api):
    # given
    active = PinFactory(group=group, active=True)
    PinFactory(group=group)
    PinFactory(active=True)
    # when
    results = pin_api.get(PINS_URL, {"group": group.pk, "state": "active"}).json()["results"]
    # then
    assert [item["id"] for item in results] == [active.pk]
    assert results[0]["expires_at"] is not None


def test_pins_need_authentication(api_client, group):
    # given
    pin = PinFactory(group=group, active=True)
    # when
    responses = [
        api_client.get(PINS_URL),
        api_client.post(PINS_URL, {"group": group.pk, "message_id": "x", "expiration_days": 7}, format="json"),
        api_client.post(reverse("messaging:pin-unpin", args=[pin.pk])),
    ]
    # then
    assert [response.status_code for response in responses] == [401, 401, 401]


def test_pins_need_the_model_permissions(graph, api_client, user_with_perms, group, target):
    # given
    pin = PinFactory(group=group, active=True)
    api_client.force_authenticate(user_with_perms("messaging.view_pin"))
    # when
    listed = api_client.get(PINS_URL)
    created = api_client.post(
        PINS_URL, {"group": group.pk, "message_id": SPEC_PINNED_WAMID, "expiration_days": 7}, format="json"
    )
    unpinned = api_client.post(reverse("messaging:pin-unpin", args=[pin.pk]))
    # then
    assert (listed.status_code, created.status_code, unpinned.status_code) == (200, 403, 403)
    assert Pin.objects.count() == 1
    assert len(graph.calls) == 0


def test_pins_list_needs_view_permission(api_client, user_with_perms):
    api_client.force_authenticate(user_with_perms())
    assert api_client.get(PINS_URL).status_code == 403


def test_pin_urls_have_the_contract_names():
    assert reverse("messaging:pin-list") == reverse("messaging:pin-create") == PINS_URL
    assert reverse("messaging:pin-unpin", args=[5]) == "/api/v1/pins/5/unpin/"


def test_pin_create_rejects_a_blank_message_id(graph, group):
    with pytest.raises(PinTargetInvalid):
        pin_create(group=group, message_id=" ", expiration_days=7)


# --- Concurrency (PostgreSQL: SQLite serialises every write anyway) --------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent row locks need PostgreSQL")
def test_two_pins_accepted_at_once_still_leave_three_pinned(graph, monkeypatch):
    # given: three active pins and two pending ones whose sends are both about to return
    from messaging.services import message_record_accepted
    from messaging.services import pins as pin_services

    group = GroupFactory()
    oldest, middle, newest = (PinFactory(group=group, active=True, pinned_days_ago=days) for days in (3, 2, 1))
    first, second = (
        PinFactory(group=group, pin_message__status=OutboundMessage.Status.SENDING) for _ in range(2)
    )
    first_active = threading.Event()
    activate = pin_services._pin_activate

    def slow_activate(pin, **kwargs):
        activate(pin, **kwargs)
        if pin.pk == first.pk:
            first_active.set()
            time.sleep(0.5)  # Hold the first acceptance's transaction open while the second one runs.

    monkeypatch.setattr(pin_services, "_pin_activate", slow_activate)

    def accept(pin: Pin, wait: threading.Event | None = None) -> None:
        try:
            if wait is not None:
                assert wait.wait(timeout=10)
            message_record_accepted(message_id=pin.pin_message_id, wamid=f"wamid.ACCEPTED{pin.pk}")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(first,)),
               threading.Thread(target=accept, args=(second, first_active))]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    # then: Meta keeps three, pushing out the two oldest, one per new pin
    states = dict(Pin.objects.filter(group=group).values_list("pk", "state"))
    assert states == {
        oldest.pk: PinState.REPLACED, middle.pk: PinState.REPLACED, newest.pk: PinState.ACTIVE,
        first.pk: PinState.ACTIVE, second.pk: PinState.ACTIVE,
    }
    assert Pin.objects.get(pk=middle.pk).replaced_by_id == second.pk
