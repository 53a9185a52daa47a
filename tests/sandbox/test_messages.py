"""Sending to groups and pinning (spec §4.14-4.16), and the status webhooks that follow (spec §5.3)."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import Api
from tests.sandbox.helpers import assert_error, envelope_shape, sample, sample_item
from tests.spec import graph_json

PEOPLE = ["16505551234", "447700900123", "5511987654321", "919876543210", "34611222333"]


def group_with(api: Api, receiver, count: int, **extra) -> str:
    group_id = api.create_group(receiver, **extra)
    for wa_id in PEOPLE[:count]:
        api.join(group_id, wa_id=wa_id)
    return group_id


def statuses_of(receiver, wamid: str) -> list[dict]:
    return [s for s in receiver.items("messages") if s["id"] == wamid]


def wait_statuses(receiver, wamid: str, count: int) -> list[dict]:
    return receiver.wait_for(lambda _b: (lambda found: found if len(found) >= count else None)(
        statuses_of(receiver, wamid)))


def test_send_text_answers_sample_shape_then_sent_delivered_read(api, receiver):
    # given
    group_id = group_with(api, receiver, 3)
    request = graph_json("send_text_to_group.request") | {"to": group_id, "biz_opaque_callback_data": "msg-17"}
    # when
    response = api.call("POST", f"/{api.phone}/messages", json=request)
    # then
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == set(graph_json("send_text_to_group.response"))
    assert answer["contacts"] == [{"input": group_id, "wa_id": group_id}]
    wamid = answer["messages"][0]["id"]
    assert wamid.startswith("wamid.")
    found = wait_statuses(receiver, wamid, 1 + 3 + 3)
    sent = [s for s in found if s["status"] == "sent"]
    delivered = [s for s in found if s["status"] == "delivered"]
    read = [s for s in found if s["status"] == "read"]
    assert len(sent) == 1
    assert set(sent[0]) == set(sample_item("messages.status_sent")) | {"biz_opaque_callback_data"}
    assert sent[0]["biz_opaque_callback_data"] == "msg-17"
    delivered_keys = set(sample_item("messages.status_delivered_single")) | {"biz_opaque_callback_data"}
    assert all(set(s) == delivered_keys for s in delivered)
    assert sorted(s["recipient_participant_id"] for s in delivered) == sorted(PEOPLE[:3])
    assert delivered[0]["pricing"] == sample_item("messages.status_delivered_single")["pricing"]
    read_keys = set(sample_item("messages.status_read_aggregated")) | {"biz_opaque_callback_data"}
    assert all(set(s) == read_keys for s in read)
    assert sorted(s["recipient_participant_id"] for s in read) == sorted(PEOPLE[:3])
    status_body = next(b for b in receiver.bodies() if b["entry"][0]["changes"][0]["field"] == "messages")
    assert envelope_shape(status_body) == envelope_shape(sample("messages.status_sent"))


def test_statuses_are_aggregated_per_message_and_status(api, receiver):
    # given
    group_id = group_with(api, receiver, 5)
    # when
    wamids = [api.send_text(group_id, f"Message {n}").json()["messages"][0]["id"] for n in range(3)]
    for wamid in wamids:
        wait_statuses(receiver, wamid, 1 + 5 + 5)
    # then
    bodies = [b["entry"][0]["changes"][0]["value"]["statuses"] for b in receiver.bodies()
              if b["entry"][0]["changes"][0]["field"] == "messages"]
    for statuses in bodies:  # One message and one status type per body, as Meta aggregates.
        assert len({(s["id"], s["status"]) for s in statuses}) == 1
    assert max(len(statuses) for statuses in bodies) > 1


def test_some_participants_never_read(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(read_rate=0.0))
    group_id = group_with(api, receiver, 2)
    # when
    wamid = api.send_text(group_id).json()["messages"][0]["id"]
    wait_statuses(receiver, wamid, 3)
    api.sandbox.wait_idle()
    # then
    assert sorted(s["status"] for s in statuses_of(receiver, wamid)) == ["delivered", "delivered", "sent"]


def test_failsend_marker_gives_failed_status(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    # when
    wamid = api.send_text(group_id, "please FAILSEND this").json()["messages"][0]["id"]
    # then
    failed = wait_statuses(receiver, wamid, 1)[0]
    api.sandbox.wait_idle()
    assert set(failed) == set(sample_item("messages.status_failed"))
    assert set(failed["errors"][0]) == set(sample_item("messages.status_failed")["errors"][0])
    assert failed["errors"][0]["code"] == 131020
    assert [s["status"] for s in statuses_of(receiver, wamid)] == ["failed"]


def test_group_with_only_the_business_is_131020(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.send_text(group_id)
    # then
    assert_error(response, "error.bad_group_131020", status=400)


@pytest.mark.parametrize(
    ("recipient_type", "to"),
    [("group", "16505551234"), ("individual", "GROUP"), (None, "GROUP"), ("group", "US.13491208655302741918")],
)
def test_recipient_type_must_match_the_kind_of_to(api, receiver, recipient_type, to):
    # given
    group_id = group_with(api, receiver, 1)
    body = {"messaging_product": "whatsapp", "to": group_id if to == "GROUP" else to, "type": "text",
            "text": {"body": "hi"}}
    if recipient_type:
        body["recipient_type"] = recipient_type
    # when
    response = api.call("POST", f"/{api.phone}/messages", json=body)
    # then
    error = assert_error(response, "error.recipient_type_mismatch", status=400)
    assert error["error_data"]["details"] == graph_json("error.recipient_type_mismatch")["error"]["error_data"][
        "details"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ({"type": "interactive", "interactive": {"type": "button"}}, 131051),
        ({"type": "text", "text": {"body": ""}}, 100),
        ({"type": "image", "image": {"caption": "no media"}}, 100),
        ({"type": "template", "template": {"name": "t"}}, 100),
    ],
)
def test_send_checks_type_and_content(api, receiver, content, code):
    # given
    group_id = group_with(api, receiver, 1)
    # when
    response = api.call("POST", f"/{api.phone}/messages",
                        json={"messaging_product": "whatsapp", "recipient_type": "group", "to": group_id, **content})
    # then
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


def test_send_image_and_template_to_group_are_accepted(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    # when
    image = api.call("POST", f"/{api.phone}/messages",
                     json=graph_json("send_image_to_group.request") | {"to": group_id})
    template = api.call("POST", f"/{api.phone}/messages",
                        json=graph_json("send_template_to_group.request") | {"to": group_id})
    # then
    assert image.status_code == template.status_code == 200
    wamid = template.json()["messages"][0]["id"]
    delivered = [s for s in wait_statuses(receiver, wamid, 2) if s["status"] == "delivered"]
    assert delivered[0]["pricing"]["category"] == "group_marketing"


def test_invite_link_template_to_a_user(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    request = graph_json("send_invite_link_template.request")
    request["template"]["components"][0]["parameters"][0]["group_id"] = group_id
    # when
    response = api.call("POST", f"/{api.phone}/messages", json=request)
    # then
    assert response.status_code == 200
    assert set(response.json()["messages"][0]) == set(graph_json("send_invite_link_template.response")["messages"][0])
    assert response.json()["contacts"] == graph_json("send_invite_link_template.response")["contacts"]


def test_send_to_unknown_group_is_131041(api):
    # when
    response = api.send_text("Y2FwaV9ncm91cDpub3RoZXJlZAZD")
    # then
    assert_error(response, "error.group_not_found_131041", status=400)


def pin(api: Api, group_id: str, message_id: str, action: str = "pin", **extra):
    body = {"type": action, "message_id": message_id, **extra}
    return api.call("POST", f"/{api.phone}/messages", json={
        "messaging_product": "whatsapp", "recipient_type": "group", "to": group_id, "type": "pin", "pin": body})


def test_pin_answers_a_new_wamid_and_keeps_three_pins_at_most(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    wamids = [api.send_text(group_id, f"m{n}").json()["messages"][0]["id"] for n in range(4)]
    # when
    answers = [pin(api, group_id, wamid, expiration_days=7) for wamid in wamids]
    # then
    assert all(a.status_code == 200 for a in answers)
    assert set(answers[0].json()) == set(graph_json("pin.response"))
    pin_wamid = answers[0].json()["messages"][0]["id"]
    assert pin_wamid not in wamids
    state = api.control("GET", "state").json()
    pinned = [p["message_id"] for p in state["groups"][0]["pins"]]
    assert pinned == wamids[1:]  # The fourth pin replaced the oldest.
    statuses = wait_statuses(receiver, pin_wamid, 2)
    assert sorted(s["status"] for s in statuses) == ["delivered", "sent"]


def test_unpin_needs_a_pinned_message(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    wamid = api.send_text(group_id).json()["messages"][0]["id"]
    # when
    not_pinned = pin(api, group_id, wamid, action="unpin")
    pin(api, group_id, wamid, expiration_days=1)
    unpinned = api.call("POST", f"/{api.phone}/messages", json=graph_json("unpin.request") | {
        "to": group_id, "pin": {"type": "unpin", "message_id": wamid}})
    # then
    assert_error(not_pinned, "error.invalid_parameter_100", status=400)
    assert unpinned.status_code == 200
    assert api.control("GET", "state").json()["groups"][0]["pins"] == []


@pytest.mark.parametrize("days", [0, 31, "7", 2.5, None, True])
def test_pin_expiration_days_is_an_integer_from_1_to_30(api, receiver, days):
    # given
    group_id = group_with(api, receiver, 1)
    wamid = api.send_text(group_id).json()["messages"][0]["id"]
    extra = {} if days is None else {"expiration_days": days}
    # when
    response = pin(api, group_id, wamid, **extra)
    # then
    error = assert_error(response, "error.invalid_parameter_100", status=400)
    assert error["error_data"]["details"] == graph_json("error.invalid_parameter_100")["error"]["error_data"]["details"]


def test_pin_needs_a_message_of_that_group(api, receiver):
    # given
    group_id = group_with(api, receiver, 1)
    # when
    response = pin(api, group_id, "wamid.NOTHERE", expiration_days=3)
    # then
    assert_error(response, "error.invalid_parameter_100", status=400)
