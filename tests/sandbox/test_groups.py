"""The Graph side for groups (spec §4.1-4.13) and the webhooks that follow, against the spec's samples."""

from __future__ import annotations

import struct

import pytest
import requests

from tests.sandbox.conftest import valid_signature
from tests.sandbox.helpers import assert_error, envelope_shape, sample, sample_item
from tests.spec import graph_json


def jpeg(width: int, height: int) -> bytes:
    """Return the smallest bytes the sandbox reads as a JPEG of that size (SOI, SOF0 header, EOI)."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9"


def test_create_group_answers_request_id_then_signed_create_webhook(api, receiver):
    # when
    response = api.call("POST", f"/{api.phone}/groups", json=graph_json("create_group.request"))
    # then
    assert response.status_code == 200
    assert set(response.json()) == set(graph_json("create_group.response"))
    item = receiver.wait_items("group_lifecycle_update", "group_create")[0]
    assert set(item) == set(sample_item("group_lifecycle_update.create_succeeded"))
    assert item["request_id"] == response.json()["request_id"]
    assert item["invite_link"].startswith("https://chat.whatsapp.com/")
    assert item["join_approval_mode"] == "auto_approve"
    body = receiver.bodies()[0]
    assert envelope_shape(body) == envelope_shape(sample("group_lifecycle_update.create_succeeded"))
    assert body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] == api.phone
    assert all(valid_signature(headers, raw) for headers, raw in receiver.posts)


def test_create_group_with_marker_word_fails_in_webhook(api, receiver):
    # when
    api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", "subject": "FAILME please",
                                                  "description": "x"})
    # then
    item = receiver.wait_items("group_lifecycle_update", "group_create")[0]
    assert set(item) == set(sample_item("group_lifecycle_update.create_failed"))
    assert item["errors"][0]["code"] == 131000
    assert set(item["errors"][0]) == set(sample_item("group_lifecycle_update.create_failed")["errors"][0])


@pytest.mark.parametrize(
    "body",
    [
        {"subject": "x" * 129},
        {"subject": "   "},
        {"subject": "ok", "description": "d" * 2049},
        {"subject": "ok", "join_approval_mode": "sometimes"},
        {"subject": 5},
    ],
)
def test_create_group_checks_limits(api, body):
    # when
    response = api.call("POST", f"/{api.phone}/groups", json={"messaging_product": "whatsapp", **body})
    # then
    assert_error(response, "error.invalid_parameter_100", status=400)
    assert api.sandbox.world.pending_creates == {}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", "Basic abc"])
def test_every_call_needs_the_configured_bearer_token(api, header):
    # given
    headers = {"Authorization": header} if header else {}
    # when
    response = requests.post(f"{api.base}/{api.phone}/groups", json=graph_json("create_group.request"),
                             headers=headers, timeout=5)
    # then
    assert_error(response, "error.access_token_expired_190", status=401)
    assert api.sandbox.world.pending_creates == {}


def test_subject_of_128_characters_is_accepted_and_trimmed(api, receiver):
    # when
    group_id = api.create_group(receiver, subject="  " + "s" * 128 + " ")
    # then
    info = api.call("GET", f"/{group_id}", params={"fields": "subject"}).json()
    assert info["subject"] == "s" * 128


def test_unknown_group_is_131041_and_unknown_path_is_refused(api):
    # when
    response = api.call("GET", "/Y2FwaV9ncm91cDpub3RoZXJlZAZD", params={"fields": "subject"})
    wrong_version = requests.get(f"{api.sandbox.url}/v1.0/{api.phone}/groups", timeout=5,
                                 headers={"Authorization": "Bearer x"})
    # then
    assert_error(response, "error.group_not_found_131041", status=400)
    assert wrong_version.status_code == 400


def test_get_info_answers_requested_fields_in_sample_shape(api, receiver):
    # given
    group_id = api.create_group(receiver, **{"description": "Desc"})
    api.join(group_id, wa_id="16505551234")
    fields = "subject,description,participants,join_approval_mode,suspended,creation_timestamp,total_participant_count"
    # when
    full = api.call("GET", f"/{group_id}", params={"fields": fields}).json()
    bare = api.call("GET", f"/{group_id}").json()
    bad = api.call("GET", f"/{group_id}", params={"fields": "subject,owner"})
    # then
    assert set(full) == set(graph_json("get_group_info.response"))
    assert full["participants"] == [{"wa_id": "16505551234"}]
    assert full["total_participant_count"] == 1
    assert full["suspended"] is False
    assert bare == {"messaging_product": "whatsapp", "id": group_id}
    assert_error(bad, "error.invalid_parameter_100")


def test_list_groups_pages_with_cursors(api, receiver):
    # given
    ids = [api.create_group(receiver, subject=f"Group {n}") for n in range(3)]
    # when
    first = api.call("GET", f"/{api.phone}/groups", params={"limit": 2}).json()
    second = api.call("GET", f"/{api.phone}/groups",
                      params={"limit": 2, "after": first["paging"]["cursors"]["after"]}).json()
    bad = api.call("GET", f"/{api.phone}/groups", params={"after": "bm9wZQ"})
    # then
    expected = graph_json("list_groups.response")
    assert set(first) == set(expected)
    assert set(first["paging"]) == set(expected["paging"])
    assert set(first["data"]["groups"][0]) == set(expected["data"]["groups"][0])
    assert [g["id"] for g in first["data"]["groups"] + second["data"]["groups"]] == ids
    assert isinstance(first["data"]["groups"][0]["created_at"], str)
    assert "next" not in second["paging"]
    assert_error(bad, "error.invalid_cursor_131059")


def test_update_settings_json_then_settings_webhook_applies_them(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("POST", f"/{group_id}", json=graph_json("update_group_settings.request"))
    # then
    assert response.status_code == 200
    item = receiver.wait_items("group_settings_update")[0]
    assert item["group_subject"] == {"text": "Order 48213 - delivery and returns", "update_successful": True}
    assert item["group_description"]["update_successful"] is True
    assert "errors" not in item
    info = api.call("GET", f"/{group_id}", params={"fields": "subject"}).json()
    assert info["subject"] == "Order 48213 - delivery and returns"


# Meta's reference body table names the field profile_picture_file, its curl sample file (Corrections C5).
@pytest.mark.parametrize("field", ["profile_picture_file", "file"])
def test_update_settings_multipart_with_all_three_matches_success_sample(api, receiver, field):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("POST", f"/{group_id}", data={"messaging_product": "whatsapp", "subject": "New",
                                                      "description": "New desc"},
                        files={field: ("picture.jpg", jpeg(640, 640), "image/jpeg")})
    # then
    assert response.status_code == 200
    item = receiver.wait_items("group_settings_update")[0]
    expected = sample_item("group_settings_update.succeeded")
    assert set(item) == set(expected)
    for key in ("profile_picture", "group_subject", "group_description"):
        assert set(item[key]) == set(expected[key])
    assert len(item["profile_picture"]["sha256"]) == 64


def test_update_settings_marker_and_bad_picture_fail_partially(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    api.call("POST", f"/{group_id}", data={"messaging_product": "whatsapp", "subject": "FAILSETTINGS here",
                                           "description": "Fine"},
             files={"file": ("picture.jpg", jpeg(640, 480), "image/jpeg")})
    # then
    item = receiver.wait_items("group_settings_update")[0]
    expected = sample_item("group_settings_update.partially_failed")
    assert set(item) == set(expected)
    assert item["profile_picture"]["errors"][0]["code"] == 131209
    assert item["group_subject"]["update_successful"] is False
    assert item["group_description"] == {"text": "Fine", "update_successful": True}
    assert set(item["errors"][0]) == set(expected["errors"][0])
    info = api.call("GET", f"/{group_id}", params={"fields": "subject,description"}).json()
    assert (info["subject"], info["description"]) == ("Order 1 - support", "Fine")


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"messaging_product": "whatsapp"}, {"file": ("p.png", b"\x89PNG\r\n", "image/png")}),
        ({"messaging_product": "whatsapp", "subject": ""}, None),
        ({"messaging_product": "whatsapp"}, None),
    ],
)
def test_update_settings_refuses_bad_input_at_once(api, receiver, data, files):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("POST", f"/{group_id}", data=data, files=files) if files else \
        api.call("POST", f"/{group_id}", json=data)
    # then
    assert_error(response, "error.invalid_parameter_100", status=400)


def test_suspend_marker_suspends_then_control_clears_and_calls_get_131207_meanwhile(api, receiver):
    # given
    group_id = api.create_group(receiver, subject="SUSPENDME group")
    api.join(group_id)
    # when
    suspended = receiver.wait_items("group_status_update", "group_suspend")[0]
    refused = api.send_text(group_id)
    settings = api.call("POST", f"/{group_id}", json={"messaging_product": "whatsapp", "subject": "x"})
    info = api.call("GET", f"/{group_id}", params={"fields": "suspended"}).json()
    api.control("POST", f"groups/{group_id}/unsuspend")
    cleared = receiver.wait_items("group_status_update", "group_suspend_cleared")[0]
    # then
    assert set(suspended) == set(sample_item("group_status_update.suspended"))
    assert set(cleared) == set(sample_item("group_status_update.suspension_cleared"))
    assert_error(refused, "error.group_suspended_131207", status=403)
    assert_error(settings, "error.group_suspended_131207", status=403)
    assert info["suspended"] is True
    assert api.send_text(group_id).status_code == 200


def test_invite_link_get_reset_delete(api, receiver):
    # given
    group_id = api.create_group(receiver)
    created_link = receiver.items("group_lifecycle_update", "group_create")[0]["invite_link"]
    # when
    got = api.call("GET", f"/{group_id}/invite_link").json()
    reset = api.call("POST", f"/{group_id}/invite_link", json=graph_json("reset_invite_link.request")).json()
    deleted = api.call("DELETE", f"/{group_id}/invite_link", json=graph_json("delete_invite_link.request")).json()
    after_delete = api.call("GET", f"/{group_id}/invite_link")
    join_after_delete = api.control("POST", f"groups/{group_id}/join", json={})
    # then
    assert got == {"messaging_product": "whatsapp", "invite_link": created_link}
    assert set(reset) == set(graph_json("reset_invite_link.response"))
    assert reset["invite_link"] != created_link
    assert deleted == graph_json("delete_invite_link.response")
    assert_error(after_delete, "error.invalid_parameter_100")
    assert join_after_delete.status_code == 409


def test_join_requests_list_approve_reject_with_webhooks(api, receiver):
    # given
    group_id = api.create_group(receiver, join_approval_mode="approval_required")
    created = receiver.items("group_lifecycle_update", "group_create")[0]
    maya = api.join(group_id, wa_id="16505551234")["join_request_id"]
    oliver = api.join(group_id, wa_id="447700900123", accepts_terms=False)["join_request_id"]
    lucas = api.join(group_id, wa_id="5511987654321")["join_request_id"]
    # when
    listed = api.call("GET", f"/{group_id}/join_requests").json()
    partial = api.call("POST", f"/{group_id}/join_requests",
                       json={"messaging_product": "whatsapp", "join_requests": [maya, oliver]})
    rejected = api.call("DELETE", f"/{group_id}/join_requests",
                        json={"messaging_product": "whatsapp", "join_requests": [lucas]})
    again = api.call("POST", f"/{group_id}/join_requests",
                     json={"messaging_product": "whatsapp", "join_requests": [lucas]})
    # then
    assert set(created) == set(sample_item("group_lifecycle_update.create_succeeded_approval_required"))
    requested = receiver.wait_items("group_participants_update", "group_join_request_created", count=3)
    assert set(requested[0]) == set(sample_item("group_participants_update.join_request_created"))
    expected_list = graph_json("get_join_requests.response")
    assert set(listed) == set(expected_list)
    assert set(listed["data"][0]) == set(expected_list["data"][0])
    assert [item["join_request_id"] for item in listed["data"]] == [maya, oliver, lucas]
    assert partial.status_code == 206
    expected_partial = graph_json("approve_join_requests.partial.response")
    assert set(partial.json()) == set(expected_partial)
    assert partial.json()["approved_join_requests"] == [maya]
    failed = partial.json()["failed_join_requests"][0]
    assert set(failed["errors"][0]) == set(expected_partial["failed_join_requests"][0]["errors"][0])
    assert failed["errors"][0]["code"] == 131203
    assert partial.json()["errors"][0]["code"] == 131201
    assert rejected.json() == {"messaging_product": "whatsapp", "rejected_join_requests": [lucas]}
    assert_error(again, "error.join_request_not_found_131213", status=400)
    added = receiver.wait_items("group_participants_update", "group_participants_add")[0]
    assert set(added) == set(sample_item("group_participants_update.join_request_approved"))
    assert added["added_participants"] == [{"input": "16505551234", "wa_id": "16505551234"}]


def test_approve_all_answers_200_in_sample_shape(api, receiver):
    # given
    group_id = api.create_group(receiver, join_approval_mode="approval_required")
    ids = [api.join(group_id)["join_request_id"] for _ in range(2)]
    # when
    response = api.call("POST", f"/{group_id}/join_requests",
                        json={"messaging_product": "whatsapp", "join_requests": ids})
    # then
    assert response.status_code == 200
    assert response.json() == {"messaging_product": "whatsapp", "approved_join_requests": ids}


def test_remove_participants_succeeded_partial_and_failed_webhooks(api, receiver):
    # given
    group_id = api.create_group(receiver)
    for wa_id in ("16505551234", "447700900123", "5511987654321"):
        api.join(group_id, wa_id=wa_id)

    def remove(*users):
        body = {"messaging_product": "whatsapp", "participants": [{"user": u} for u in users]}
        assert api.call("DELETE", f"/{group_id}/participants", json=body).status_code == 200
        return receiver.wait_for(lambda _b: (lambda items: items[-1] if len(items) == remove.count + 1 else None)(
            receiver.items("group_participants_update", "group_participants_remove")))

    remove.count = 0
    # when
    succeeded = remove("16505551234", "+447700900123")
    remove.count = 1
    partial = remove("5511987654321", "919876543210")
    remove.count = 2
    failed = remove("919876543210")
    rejoin = api.control("POST", f"groups/{group_id}/join", json={"wa_id": "16505551234"})
    # then
    assert set(succeeded) == set(sample_item("group_participants_update.remove_succeeded"))
    assert succeeded["removed_participants"] == [{"input": "16505551234"}, {"input": "+447700900123"}]
    assert set(partial) == set(sample_item("group_participants_update.remove_partially_failed"))
    assert partial["failed_participants"][0]["errors"][0]["code"] == 131212
    assert set(failed) == set(sample_item("group_participants_update.remove_failed"))
    assert rejoin.status_code == 409  # Removed people cannot come back by the link.


@pytest.mark.parametrize(
    ("users", "sample_name"),
    [
        (["16505551234", "+16505551234"], "error.duplicate_participant_131202"),
        ([str(n) * 6 for n in range(1, 10)], "error.invalid_parameter_100"),
        ([], "error.invalid_parameter_100"),
    ],
)
def test_remove_participants_checks_input(api, receiver, users, sample_name):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("DELETE", f"/{group_id}/participants",
                        json={"messaging_product": "whatsapp", "participants": [{"user": u} for u in users]})
    # then
    assert_error(response, sample_name, status=400)


def test_add_participants_is_refused(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("POST", f"/{group_id}/participants",
                        json={"messaging_product": "whatsapp", "participants": [{"user": "16505551234"}]})
    # then
    assert_error(response, "error.invalid_parameter_100", status=400)


def test_delete_group_then_it_is_unknown(api, receiver):
    # given
    group_id = api.create_group(receiver)
    # when
    response = api.call("DELETE", f"/{group_id}")
    after = api.call("GET", f"/{group_id}/invite_link")
    # then
    assert response.json() == graph_json("delete_group.response")
    item = receiver.wait_items("group_lifecycle_update", "group_delete")[0]
    assert set(item) == set(sample_item("group_lifecycle_update.delete_succeeded"))
    assert_error(after, "error.group_not_found_131041")
    listed = api.call("GET", f"/{api.phone}/groups").json()
    assert listed["data"]["groups"] == []


def test_delete_group_with_marker_word_fails_and_group_stays(api, receiver):
    # given
    group_id = api.create_group(receiver, subject="FAILDELETE me")
    # when
    api.call("DELETE", f"/{group_id}")
    # then
    item = receiver.wait_items("group_lifecycle_update", "group_delete")[0]
    assert set(item) == set(sample_item("group_lifecycle_update.delete_failed"))
    assert api.call("GET", f"/{group_id}").status_code == 200
