"""The sandbox sends BSUID-era shapes as Meta documents them (spec §5.7, Corrections C1-C5): people with BSUIDs,
parent BSUIDs and hidden phones, removals by parent BSUID, leaves with a request_id, `from` with a `+`."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import sample, sample_item

MAYA = {"wa_id": "16505551234", "user_id": "US.13491208655302741918", "parent_user_id": "US.ENT.11815799212886844830",
        "username": "maya.p", "name": "Maya Patel"}
OLIVER = {"wa_id": "447700900123", "user_id": "GB.48810273365190042771", "username": "oliver.grant",
          "phone_hidden": True}


@pytest.fixture
def group_id(api, receiver) -> str:
    group_id = api.create_group(receiver)
    api.join(group_id, **MAYA)
    api.join(group_id, **OLIVER)
    return group_id


def _participants_items(receiver, kind: str, count: int) -> list[dict]:
    return receiver.wait_items("group_participants_update", kind, count=count)


def test_a_join_names_bsuids_and_hides_a_hidden_phone(group_id, receiver):
    added = _participants_items(receiver, "group_participants_add", 2)
    maya, oliver = (item["added_participants"][0] for item in added)
    published = sample_item("group_participants_update.joined_via_link_bsuid")["added_participants"][0]
    assert set(published) <= set(maya)
    assert maya == {k: MAYA[k] for k in ("wa_id", "user_id", "parent_user_id", "username")}
    assert oliver == {"user_id": OLIVER["user_id"], "username": "oliver.grant"}  # Hidden phone: no wa_id.


def test_a_removal_by_parent_bsuid_echoes_it_and_removes_the_person(api, receiver, group_id):
    # when
    body = {"messaging_product": "whatsapp", "participants": [{"user": MAYA["parent_user_id"]}]}
    assert api.call("DELETE", f"/{group_id}/participants", json=body).status_code == 200
    # then
    [item] = _participants_items(receiver, "group_participants_remove", 1)
    assert set(item) == set(sample_item("group_participants_update.remove_succeeded_parent_bsuid"))
    assert item["removed_participants"] == [{"input": MAYA["parent_user_id"]}]
    info = api.call("GET", f"/{group_id}", params={"fields": "participants"}).json()
    assert MAYA["wa_id"] not in [p.get("wa_id") for p in info["participants"]]


def test_a_leave_can_carry_a_request_id_and_no_initiated_by(api, receiver, group_id):
    # when
    assert api.control("POST", f"groups/{group_id}/leave", json={"wa_id": MAYA["wa_id"],
                                                                  "with_request_id": True}).status_code == 200
    # then
    [item] = _participants_items(receiver, "group_participants_remove", 1)
    assert set(item) == set(sample_item("group_participants_update.participant_left_bsuid"))
    assert item["removed_participants"][0]["user_id"] == MAYA["user_id"]


def test_an_inbound_from_can_be_written_with_a_plus(api, receiver, group_id):
    # when
    api.control("POST", f"groups/{group_id}/inbound", json={"wa_id": MAYA["wa_id"], "from_plus": True})
    # then
    body = receiver.wait_for(
        lambda found: next((b for b in found if "messages" in b["entry"][0]["changes"][0]["value"]), None))
    [item] = body["entry"][0]["changes"][0]["value"]["messages"]
    assert item["from"] == "+16505551234"
    assert set(item) == set(sample_item("messages.inbound_text_plus_from")) | {"from_user_id"}


def test_delivered_and_read_statuses_name_their_people_in_contacts(api, receiver, group_id):
    # when
    wamid = api.send_text(group_id).json()["messages"][0]["id"]
    # then
    bodies = receiver.wait_for(lambda found: (lambda per: per if len(per) >= 3 else None)([
        body for body in found if body["entry"][0]["changes"][0]["field"] == "messages"
        and any(s.get("recipient_participant_user_id") for s in body["entry"][0]["changes"][0]["value"]
                .get("statuses", []) if s["id"] == wamid)]))
    value = bodies[0]["entry"][0]["changes"][0]["value"]
    expected = sample("messages.status_read_bsuid_parent")["entry"][0]["changes"][0]["value"]
    assert set(value) == set(expected)
    by_user = {c["user_id"]: c for body in bodies for c in body["entry"][0]["changes"][0]["value"]["contacts"]}
    assert by_user[OLIVER["user_id"]]["profile"]["username"] == "oliver.grant"
    assert "wa_id" not in by_user[OLIVER["user_id"]]
    statuses = [s for body in bodies for s in body["entry"][0]["changes"][0]["value"]["statuses"]]
    maya = next(s for s in statuses if s.get("recipient_participant_user_id") == MAYA["user_id"])
    assert maya["recipient_participant_parent_user_id"] == MAYA["parent_user_id"]
    assert maya["recipient_participant_id"] == MAYA["wa_id"]
