"""REST API of groups (CONTRACT §5): happy paths against the spec samples, every validation error, permissions."""

import io

import pytest
import requests
from django.utils import timezone
from PIL import Image
from responses import matchers

from core.due import due_work_run
from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, PhoneNumber
from groups.tasks import group_operation_send_task
from tests.groups.factories import (
    GroupFactory,
    GroupOperationFactory,
    JoinRequestFactory,
    ParticipantFactory,
    PhoneNumberFactory,
)
from tests.spec import SPEC_G1, SPEC_G3, SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"
GROUPS_URL = f"{BASE}/{SPEC_PHONE_NUMBER_ID}/groups"
OpState = GroupOperation.State


def jpeg(width: int = 200, height: int = 200, fmt: str = "JPEG") -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format=fmt)
    buffer.seek(0)
    buffer.name = "picture.jpg"
    return buffer


# --- Permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method,path", [("get", "/api/v1/groups/"), ("post", "/api/v1/groups/"),
                                         ("get", "/api/v1/phone-numbers/")])
def test_anonymous_gets_401(api_client, method, path):
    assert getattr(api_client, method)(path).status_code == 401


def test_user_without_model_permission_gets_403(api_client, user_with_perms):
    # given
    group = GroupFactory()
    api_client.force_authenticate(user_with_perms("groups.view_group"))
    # when
    listed = api_client.get("/api/v1/groups/")
    created = api_client.post("/api/v1/groups/", {"phone_number": group.phone_number_id, "subject": "x"})
    reset = api_client.post(f"/api/v1/groups/{group.pk}/invite-link/reset/")
    deleted = api_client.delete(f"/api/v1/groups/{group.pk}/")
    # then
    assert listed.status_code == 200
    assert (created.status_code, reset.status_code, deleted.status_code) == (403, 403, 403)


# --- Phone numbers -------------------------------------------------------------------------------


def test_phone_numbers_create_and_list(admin_api):
    # when
    created = admin_api.post("/api/v1/phone-numbers/", {"phone_number_id": "106540352242922",
                                                        "display_phone_number": "+15550783881",
                                                        "waba_id": "102290129340398", "label": "Main"})
    duplicate = admin_api.post("/api/v1/phone-numbers/", {"phone_number_id": "106540352242922",
                                                          "display_phone_number": "15550783881",
                                                          "waba_id": "102290129340398"})
    listed = admin_api.get("/api/v1/phone-numbers/")
    # then
    assert created.status_code == 201
    assert created.json()["display_phone_number"] == "15550783881"
    assert duplicate.status_code == 400 and "phone_number_id" in duplicate.json()["extra"]["fields"]
    assert [n["phone_number_id"] for n in listed.json()["results"]] == ["106540352242922"]


def test_phone_numbers_list_registers_the_configured_number(admin_api, settings):
    # given
    settings.WHATSAPP_PHONE_NUMBER_ID = "999000111"
    settings.WHATSAPP_WABA_ID = "888"
    settings.WHATSAPP_DISPLAY_PHONE_NUMBER = "+15550001111"
    # when
    response = admin_api.get("/api/v1/phone-numbers/")
    # then
    assert [n["phone_number_id"] for n in response.json()["results"]] == ["999000111"]
    assert PhoneNumber.objects.get().display_phone_number == "15550001111"


# --- Create --------------------------------------------------------------------------------------


def test_create_returns_202_creating_and_sends_the_spec_request(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    number = PhoneNumberFactory()
    graph.post(GROUPS_URL, json=graph_json("create_group.response"),
               match=[matchers.json_params_matcher(graph_json("create_group.request"))])
    body = graph_json("create_group.request")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": body["subject"],
                                                      "description": body["description"]}, format="json")
    # then
    assert response.status_code == 202
    assert response.json()["state"] == "creating" and response.json()["group_id"] is None
    operation = GroupOperation.objects.get()
    assert operation.request_id == "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4"
    assert operation.state == OpState.PENDING and operation.sent_at is not None


def test_create_approval_required_sends_no_description(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    number = PhoneNumberFactory()
    graph.post(GROUPS_URL, json=graph_json("create_group.response"),
               match=[matchers.json_params_matcher(graph_json("create_group_approval_required.request"))])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk,
                                                      "subject": "Premium onboarding - cohort 7",
                                                      "join_approval_mode": "approval_required"}, format="json")
    # then
    assert response.status_code == 202


@pytest.mark.parametrize("payload,field", [
    ({"subject": "x" * 129}, "subject"),
    ({"subject": "   "}, "subject"),
    ({}, "subject"),
    ({"subject": "ok", "description": "d" * 2049}, "description"),
    ({"subject": "ok", "join_approval_mode": "everyone"}, "join_approval_mode"),
    ({"subject": "ok", "phone_number": 999999}, "phone_number"),
])
def test_create_refuses_invalid_input_naming_the_field(admin_api, payload, field):
    # given
    number = PhoneNumberFactory()
    # when
    response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, **payload}, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not Group.objects.exists()


def test_create_after_a_read_timeout_is_not_retried(admin_api, graph, django_capture_on_commit_callbacks):
    # given: Meta may have created it; a second call could make a duplicate group
    number = PhoneNumberFactory()
    graph.post(GROUPS_URL, body=requests.ReadTimeout("read timed out"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "S"}, format="json")
    # then
    assert response.status_code == 202
    assert len(graph.calls) == 1
    operation = GroupOperation.objects.get()
    assert operation.state == OpState.PENDING
    assert operation.errors[0]["outcome_unknown"] is True
    assert Group.objects.get().state == Group.State.CREATING


def test_create_refused_by_meta_becomes_create_failed(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    number = PhoneNumberFactory()
    graph.post(GROUPS_URL, status=400, json=graph_json("error.group_create_limit_131211"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "S"}, format="json")
    # then
    group = Group.objects.get(pk=response.json()["id"])
    assert group.state == Group.State.CREATE_FAILED
    assert group.last_error["code"] == 131211
    assert admin_api.get(f"/api/v1/groups/{group.pk}/").json()["last_error"]["code"] == 131211


def test_create_rate_limited_is_put_off_and_sent_again_when_due(admin_api, graph, django_capture_on_commit_callbacks):
    # given: no broker (tasks run in-process); Meta refuses the first call with its group rate limit
    number = PhoneNumberFactory()
    graph.post(GROUPS_URL, status=429, json=graph_json("error.group_rate_limit_131208"))
    graph.post(GROUPS_URL, json=graph_json("create_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "S"}, format="json")
    operation = GroupOperation.objects.get()
    # then: answered at once; the retry waits on its row, not in the request
    assert response.status_code == 202
    assert (operation.state, operation.attempts, operation.claimed_at) == (GroupOperation.State.PENDING, 1, None)
    assert operation.next_attempt_at > timezone.now()
    assert len(graph.calls) == 1
    assert due_work_run()["group-operations"] == 0  # Not due yet: nothing is sent,
    group_operation_send_task.delay(operation.pk)  # not even by a task that comes early.
    assert len(graph.calls) == 1
    # when: its time comes, the periodic runner's sweep sends it again
    GroupOperation.objects.update(next_attempt_at=timezone.now())
    due_work_run()
    # then
    operation.refresh_from_db()
    assert (operation.attempts, operation.request_id) == (2, "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4")
    assert operation.next_attempt_at is None
    assert len(graph.calls) == 2


# --- List, detail, update, delete ----------------------------------------------------------------


def test_list_filters_by_state_suspended_phone_number_and_search(admin_api):
    # given
    active = GroupFactory(subject="Order 48213 - delivery")
    GroupFactory(subject="Order 1", suspended=True)
    GroupFactory(creating=True, subject="Other")
    other_number = GroupFactory(phone_number=PhoneNumberFactory(phone_number_id="42"), subject="Elsewhere")
    # when
    def ids(query):
        return {g["id"] for g in admin_api.get(f"/api/v1/groups/?{query}").json()["results"]}
    # then
    assert ids("state=active&suspended=false&phone_number=" + str(active.phone_number_id)) == {active.pk}
    assert ids("search=48213") == {active.pk}
    assert ids(f"phone_number={other_number.phone_number_id}") == {other_number.pk}
    assert admin_api.get("/api/v1/groups/?state=nonsense").status_code == 400


@pytest.mark.parametrize("value", ["maybe", "yes please", "2"])
def test_list_refuses_a_suspended_filter_that_is_not_a_boolean(admin_api, value):
    # given: without the check, an unreadable value was ignored and every group listed
    GroupFactory(suspended=True)
    GroupFactory()
    # when
    response = admin_api.get("/api/v1/groups/", {"suspended": value})
    # then
    assert response.status_code == 400
    assert "true" in response.json()["extra"]["fields"]["suspended"][0]


@pytest.mark.parametrize("value,expected", [("true", True), ("True", True), ("1", True), ("false", False),
                                            ("0", False)])
def test_list_filters_by_suspended_written_as_a_boolean(admin_api, value, expected):
    # given
    GroupFactory(suspended=True)
    GroupFactory()
    # when
    results = admin_api.get("/api/v1/groups/", {"suspended": value}).json()["results"]
    # then
    assert [group["suspended"] for group in results] == [expected]


def test_patch_queues_the_spec_settings_request(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1, subject="Old")
    request = graph_json("update_group_settings.request")
    graph.post(f"{BASE}/{SPEC_G1}", json={"success": True}, match=[matchers.json_params_matcher(request)])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(f"/api/v1/groups/{group.pk}/", {"subject": request["subject"],
                                                                   "description": request["description"]},
                                   format="json")
    # then
    assert response.status_code == 202
    assert response.json()["subject"] == "Old"  # Applied only when the webhook reports success.
    assert GroupOperation.objects.get().kind == GroupOperation.Kind.UPDATE_SETTINGS


@pytest.mark.parametrize("payload,field", [({}, "subject"), ({"subject": "x" * 129}, "subject"),
                                           ({"subject": ""}, "subject"), ({"description": "d" * 2049}, "description")])
def test_patch_refuses_invalid_input(admin_api, payload, field):
    group = GroupFactory()
    response = admin_api.patch(f"/api/v1/groups/{group.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]


@pytest.mark.parametrize("attrs,code", [({"suspended": True}, "group_suspended"),
                                        ({"state": Group.State.DELETING}, "group_not_active"),
                                        ({"state": Group.State.CREATING, "group_id": None}, "group_not_active")])
def test_a_suspended_or_inactive_group_refuses_changes(admin_api, attrs, code):
    # given
    group = GroupFactory(**attrs)
    # when
    responses_ = [
        admin_api.patch(f"/api/v1/groups/{group.pk}/", {"subject": "New"}, format="json"),
        admin_api.delete(f"/api/v1/groups/{group.pk}/"),
        admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": ["16505551234"]},
                       format="json"),
        admin_api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/"),
        admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg()}, format="multipart"),
    ]
    # then
    assert [(r.status_code, r.json()["code"]) for r in responses_] == [(409, code)] * 5
    assert not GroupOperation.objects.exists()


def test_delete_returns_202_deleting(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    graph.delete(f"{BASE}/{SPEC_G1}", json=graph_json("delete_group.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.delete(f"/api/v1/groups/{group.pk}/")
    # then
    assert (response.status_code, response.json()["state"]) == (202, "deleting")
    assert GroupOperation.objects.get().sent_at is not None


# --- Invite link, picture, participants ----------------------------------------------------------


def test_invite_link_read_and_reset(admin_api, graph):
    # given
    group = GroupFactory(group_id=SPEC_G1, invite_link="")
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("get_invite_link.response"))
    graph.post(f"{BASE}/{SPEC_G1}/invite_link", json=graph_json("reset_invite_link.response"),
               match=[matchers.json_params_matcher(graph_json("reset_invite_link.request"))])
    # when
    read = admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/")
    reset = admin_api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/")
    # then
    assert read.json() == {"invite_link": "https://chat.whatsapp.com/KxR4nQ7vLm2Bd9TfWc3HpZ"}
    assert reset.json() == {"invite_link": "https://chat.whatsapp.com/F8uYc2RbN6qJw4ZeT1kVsA"}
    group.refresh_from_db()
    assert group.invite_link == "https://chat.whatsapp.com/F8uYc2RbN6qJw4ZeT1kVsA"
    assert group.events.filter(type=GroupEvent.Type.INVITE_LINK_RESET).count() == 1


def test_invite_link_meta_error_is_502_with_meta_code(admin_api, graph):
    group = GroupFactory(group_id=SPEC_G1)
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", status=400, json=graph_json("error.group_not_found_131041"))
    response = admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/")
    assert response.status_code == 502
    assert response.json()["extra"]["meta_code"] == 131041


def test_picture_upload_is_queued_and_sent_multipart(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    graph.post(f"{BASE}/{SPEC_G1}", json={"success": True})
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg(192, 192)},
                                  format="multipart")
    # then
    assert response.status_code == 202
    assert graph.calls[0].request.headers["Content-Type"].startswith("multipart/form-data")
    operation = GroupOperation.objects.get()
    assert operation.kind == GroupOperation.Kind.UPDATE_PICTURE and operation.picture is None


@pytest.mark.parametrize("image", [lambda: jpeg(300, 200), lambda: jpeg(191, 191), lambda: jpeg(fmt="PNG"),
                                   lambda: io.BytesIO(b"not an image")])
def test_picture_refuses_anything_but_a_square_jpeg_of_192px(admin_api, image):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": image()}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["extra"]["fields"]
    assert not GroupOperation.objects.exists()


def test_participants_list(admin_api):
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel")
    response = admin_api.get(f"/api/v1/groups/{group.pk}/participants/")
    assert [(p["wa_id"], p["name"], p["state"]) for p in response.json()["results"]] == [
        ("16505551234", "Maya Patel", "active")]


def test_participants_and_join_requests_filter_by_state(admin_api):
    # given: one of each state that matters to someone deciding
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id="16505551234")
    ParticipantFactory(group=group, wa_id="16505550000", state="left")
    JoinRequestFactory(group=group, join_request_id="WAITING")
    JoinRequestFactory(group=group, join_request_id="DONE", state=JoinRequest.State.REJECTED)
    # when
    active = admin_api.get(f"/api/v1/groups/{group.pk}/participants/", {"state": "active"}).json()["results"]
    pending = admin_api.get(f"/api/v1/groups/{group.pk}/join-requests/", {"state": "pending"}).json()["results"]
    refused = admin_api.get(f"/api/v1/groups/{group.pk}/join-requests/", {"state": "waiting"})
    # then: a state that does not exist is a 400 naming the filter, not every row
    assert [p["wa_id"] for p in active] == ["16505551234"]
    assert [r["join_request_id"] for r in pending] == ["WAITING"]
    assert refused.status_code == 400 and "state" in refused.json()["extra"]["fields"]


def test_remove_participants_sends_the_spec_request(admin_api, graph, django_capture_on_commit_callbacks):
    # given
    group = GroupFactory(group_id=SPEC_G1)
    request = graph_json("remove_participants.request")
    graph.delete(f"{BASE}/{SPEC_G1}/participants", json={"success": True},
                 match=[matchers.json_params_matcher(request)])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/",
                                  {"participants": [p["user"] for p in request["participants"]]}, format="json")
    # then
    assert response.status_code == 202
    assert GroupOperation.objects.get().requested == {"participants": ["16505551234", "+447700900123"]}


@pytest.mark.parametrize("participants", [[], [str(16505551230 + i) for i in range(9)],
                                          ["16505551234", "+16505551234"], ["not-a-number"]])
def test_remove_participants_refuses_invalid_lists(admin_api, participants):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": participants},
                              format="json")
    assert response.status_code == 400
    assert "participants" in response.json()["extra"]["fields"]


# --- Join requests, events -----------------------------------------------------------------------


def test_join_requests_approve_partial_success(admin_api, graph):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    ids = graph_json("approve_join_requests.request")["join_requests"]
    for join_request_id in ids:
        JoinRequestFactory(group=group, join_request_id=join_request_id)
    graph.post(f"{BASE}/{SPEC_G3}/join_requests", status=206,
               json=graph_json("approve_join_requests.partial.response"),
               match=[matchers.json_params_matcher(graph_json("approve_join_requests.request"))])
    # when
    response = admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/approve/", {"join_request_ids": ids},
                              format="json")
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["approved"] == [ids[0]]
    assert body["failed"][0]["join_request_id"] == ids[1] and body["failed"][0]["error"]["code"] == 131203
    states = dict(JoinRequest.objects.values_list("join_request_id", "state"))
    assert states == {ids[0]: "approved", ids[1]: "pending"}
    timeline = [(e["type"], (e["detail"].get("error") or {}).get("code"))
                for e in admin_api.get(f"/api/v1/groups/{group.pk}/events/").json()["results"]]
    assert sorted(timeline, key=str) == sorted([("join_request_approved", None),
                                                ("join_request_approve_failed", 131203)], key=str)


def test_join_requests_reject_marks_them_rejected(admin_api, graph):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    request = graph_json("reject_join_requests.request")
    JoinRequestFactory(group=group, join_request_id=request["join_requests"][0])
    graph.delete(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("reject_join_requests.response"),
                 match=[matchers.json_params_matcher(request)])
    # when
    response = admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/reject/",
                              {"join_request_ids": request["join_requests"]}, format="json")
    listed = admin_api.get(f"/api/v1/groups/{group.pk}/join-requests/")
    # then
    assert response.json() == {"rejected": request["join_requests"], "failed": []}
    assert [j["state"] for j in listed.json()["results"]] == ["rejected"]


@pytest.mark.parametrize("ids,code", [([], "invalid"), (["unknown"], "invalid"), (["A", "A"], "invalid"),
                                      (["DONE"], "join_request_not_pending")])
def test_join_request_decisions_refuse_bad_ids(admin_api, ids, code):
    group = GroupFactory()
    JoinRequestFactory(group=group, join_request_id="A")
    JoinRequestFactory(group=group, join_request_id="DONE", state=JoinRequest.State.REJECTED)
    response = admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/approve/", {"join_request_ids": ids},
                              format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert "join_request_ids" in response.json()["extra"]["fields"]


def test_events_list_the_history(admin_api):
    group = GroupFactory()
    GroupOperationFactory(group=group)
    GroupEvent.objects.create(group=group, type=GroupEvent.Type.SUSPENDED, occurred_at="2026-02-17T10:00Z",
                              source="webhook")
    response = admin_api.get(f"/api/v1/groups/{group.pk}/events/")
    assert [(e["type"], e["occurred_at"]) for e in response.json()["results"]] == [
        ("suspended", "2026-02-17T10:00:00Z")]
