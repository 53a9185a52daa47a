"""Webhook delivery as Meta does it: signed bytes, retries on non-200, duplicates, disorder, simulated people."""

from __future__ import annotations

import hashlib
import hmac
import json

from tests.sandbox.conftest import SECRET, Api, valid_signature
from tests.sandbox.helpers import sample_item


def test_signature_is_hmac_of_the_exact_bytes(api, receiver):
    # given
    api.create_group(receiver)
    headers, raw = receiver.posts[0]
    # then
    assert headers["x-hub-signature-256"] == "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    assert headers["content-type"] == "application/json"
    assert not valid_signature(headers, raw + b" ")


def test_non_200_answers_are_retried_until_200(api, receiver):
    # given
    receiver.statuses = [500, 403]
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "Retry"})
    receiver.wait_for(lambda _b: len(receiver.posts) >= 3)
    api.sandbox.wait_idle()
    # then
    raws = [raw for _h, raw in receiver.posts]
    assert len(raws) == 3
    assert raws[0] == raws[1] == raws[2]
    delivery = api.control("GET", "webhooks").json()["deliveries"][0]
    assert [a["status"] for a in delivery["attempts"]] == [500, 403, 200]
    assert delivery["delivered"] is True


def test_retries_are_bounded(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(webhook_retries=2))
    receiver.always = 503
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "Never"})
    receiver.wait_for(lambda _b: len(receiver.posts) >= 3)
    assert api.sandbox.wait_idle()
    # then
    assert len(receiver.posts) == 3
    assert api.control("GET", "webhooks").json()["deliveries"][0]["delivered"] is False


def test_unreachable_app_is_retried_then_dropped(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(webhook_retries=1, webhook_url="http://127.0.0.1:9/nothing/"))
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "Nobody"})
    # then
    assert api.sandbox.wait_idle()
    attempts = api.control("GET", "webhooks").json()["deliveries"][0]["attempts"]
    assert len(attempts) == 2
    assert all("error" in attempt for attempt in attempts)


def test_duplicates_are_sent_now_and_then(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(duplicate_rate=1.0))
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "Twice"})
    receiver.wait_for(lambda _b: len(receiver.posts) >= 2)
    api.sandbox.wait_idle()
    # then
    assert len(receiver.posts) == 2
    assert receiver.posts[0][1] == receiver.posts[1][1]


def test_sent_may_arrive_after_delivered(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(reorder_rate=1.0))
    group_id = api.create_group(receiver)
    api.join(group_id, wa_id="16505551234")
    # when
    wamid = api.send_text(group_id).json()["messages"][0]["id"]
    receiver.wait_for(lambda _b: len([s for s in receiver.items("messages") if s["id"] == wamid]) >= 3)
    # then
    order = [s["status"] for s in receiver.items("messages") if s["id"] == wamid]
    assert order.index("delivered") < order.index("sent")


def test_simulated_people_join_and_leave_on_their_own(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(auto_join=2, leave_rate=1.0))
    # when
    group_id = api.create_group(receiver)
    joined = receiver.wait_items("group_participants_update", "group_participants_add", count=2)
    left = receiver.wait_items("group_participants_update", "group_participants_remove", count=2)
    # then
    assert set(joined[0]) == set(sample_item("group_participants_update.joined_via_link"))
    assert set(left[0]) == set(sample_item("group_participants_update.participant_left"))
    assert {j["group_id"] for j in joined + left} == {group_id}
    info = api.call("GET", f"/{group_id}", params={"fields": "total_participant_count"}).json()
    assert info["total_participant_count"] == 0


def test_simulated_people_ask_to_join_approval_groups(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(auto_join=3))
    # when
    group_id = api.create_group(receiver, join_approval_mode="approval_required")
    asked = receiver.wait_items("group_participants_update", "group_join_request_created", count=3)
    # then
    listed = api.call("GET", f"/{group_id}/join_requests").json()["data"]
    assert {a["join_request_id"] for a in asked} == {item["join_request_id"] for item in listed}
    assert receiver.items("group_participants_update", "group_participants_add") == []


def test_realistic_delays_hold_webhooks_back(make_sandbox, receiver):
    # given
    api = Api(make_sandbox(delay_scale=1.0))
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "Later"})
    # then
    assert api.sandbox.pending >= 1
    assert receiver.posts == []
    body = json.loads(json.dumps(api.control("GET", "state").json()))
    assert len(body["pending_creates"]) == 1
    api.control("POST", "reset")
    assert api.sandbox.wait_idle(timeout=1)
    assert api.control("GET", "state").json()["pending_creates"] == []
