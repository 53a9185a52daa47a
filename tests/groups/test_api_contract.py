"""REST API of groups against CONTRACT §5, route by route: auth, permissions, exact field names, refusals."""

import io
import json

import pytest
from django.db import connection
from PIL import Image

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory, PhoneNumberFactory
from tests.spec import SPEC_G3, SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

GROUP_FIELDS = {"id", "phone_number", "group_id", "subject", "description", "join_approval_mode", "invite_link",
                "state", "suspended", "participant_count", "last_error", "created_at", "updated_at"}

# Every route of CONTRACT §5 "Phone numbers" and "Groups", with the model permission it needs
# (destructive actions have their own, issue 8).
ROUTES = [
    ("get", "/api/v1/phone-numbers/", "groups.view_phonenumber"),
    ("post", "/api/v1/phone-numbers/", "groups.add_phonenumber"),
    ("get", "/api/v1/groups/", "groups.view_group"),
    ("post", "/api/v1/groups/", "groups.add_group"),
    ("get", "/api/v1/groups/{pk}/", "groups.view_group"),
    ("patch", "/api/v1/groups/{pk}/", "groups.change_group"),
    ("delete", "/api/v1/groups/{pk}/", "groups.delete_group_at_meta"),
    ("get", "/api/v1/groups/{pk}/invite-link/", "groups.view_group"),
    ("post", "/api/v1/groups/{pk}/invite-link/reset/", "groups.reset_invite_link"),
    ("post", "/api/v1/groups/{pk}/picture/", "groups.change_group"),
    ("get", "/api/v1/groups/{pk}/participants/", "groups.view_participant"),
    ("post", "/api/v1/groups/{pk}/participants/remove/", "groups.remove_participant"),
    ("get", "/api/v1/groups/{pk}/join-requests/", "groups.view_joinrequest"),
    ("post", "/api/v1/groups/{pk}/join-requests/approve/", "groups.decide_joinrequest"),
    ("post", "/api/v1/groups/{pk}/join-requests/reject/", "groups.decide_joinrequest"),
    ("get", "/api/v1/groups/{pk}/events/", "groups.view_groupevent"),
]
ROUTE_IDS = [f"{m} {p}" for m, p, _ in ROUTES]


def jpeg(width: int = 200, height: int = 200, *, pad_to: int = 0) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, format="JPEG")
    if pad_to:
        buffer.write(b"\0" * (pad_to - buffer.tell()))  # Bytes after the JPEG end marker: still a valid JPEG.
    buffer.seek(0)
    buffer.name = "picture.jpg"
    return buffer


def call(client, method: str, path: str, group: Group):
    # A group still creating: every changing route refuses it without calling Meta, so no mock is needed.
    fmt = "multipart" if path.endswith("/picture/") else "json"
    return getattr(client, method)(path.format(pk=group.pk), {}, format=fmt)


# --- Authentication and permissions --------------------------------------------------------------


@pytest.mark.parametrize("method,path,perm", ROUTES, ids=ROUTE_IDS)
def test_every_route_answers_401_to_anonymous(api_client, method, path, perm):
    # given
    group = GroupFactory(creating=True)
    # when
    response = call(api_client, method, path, group)
    # then
    assert response.status_code == 401
    assert Group.objects.count() == 1 and not GroupOperation.objects.exists()


@pytest.mark.parametrize("method,path,perm", ROUTES, ids=ROUTE_IDS)
def test_every_route_answers_403_without_its_model_permission(api_client, user_with_perms, method, path, perm):
    # given: a user holding every other groups permission of this route's kind, but not this one
    group = GroupFactory(creating=True)
    others = [p for _, _, p in ROUTES if p != perm]
    api_client.force_authenticate(user_with_perms(*sorted(set(others))))
    # when
    response = call(api_client, method, path, group)
    # then
    assert response.status_code == 403
    assert not GroupOperation.objects.exists()


@pytest.mark.parametrize("method,path,perm", ROUTES, ids=ROUTE_IDS)
def test_every_route_lets_a_user_with_its_model_permission_through(api_client, user_with_perms, method, path, perm):
    # given
    group = GroupFactory(creating=True)
    api_client.force_authenticate(user_with_perms(perm))
    # when
    response = call(api_client, method, path, group)
    # then: the request reached the view (a read, or a refusal of the input or of the group's state)
    assert response.status_code in (200, 400, 409)


# --- Exact field names ----------------------------------------------------------------------------


def test_group_fields_are_the_contract_names(admin_api):
    group = GroupFactory(last_error={"code": 131000, "title": "t", "message": "m", "details": "d"})
    body = admin_api.get(f"/api/v1/groups/{group.pk}/").json()
    assert set(body) == GROUP_FIELDS
    assert body["last_error"] == {"code": 131000, "title": "t", "message": "m", "details": "d"}
    assert body["phone_number"] == group.phone_number_id


def test_participant_fields_are_the_contract_names(admin_api):
    # given
    group = GroupFactory()
    ParticipantFactory(group=group, wa_id="16505551234", user_id="US.1234567890", name="Maya Patel",
                       state="left", joined_at="2026-02-17T10:00Z", left_at="2026-02-17T11:00Z")
    # when
    item = admin_api.get(f"/api/v1/groups/{group.pk}/participants/").json()["results"][0]
    # then
    assert {"wa_id", "user_id", "name", "state", "joined_at", "left_at"} <= set(item)
    assert (item["wa_id"], item["user_id"], item["name"], item["state"]) == (
        "16505551234", "US.1234567890", "Maya Patel", "left")
    assert (item["joined_at"], item["left_at"]) == ("2026-02-17T10:00:00Z", "2026-02-17T11:00:00Z")


def test_join_request_fields_are_the_contract_names(admin_api):
    # given
    group = GroupFactory()
    JoinRequestFactory(group=group, join_request_id="JR1", wa_id="16505551234", requested_at="2026-02-17T09:00Z")
    # when
    item = admin_api.get(f"/api/v1/groups/{group.pk}/join-requests/").json()["results"][0]
    # then
    assert {"join_request_id", "wa_id", "state", "created_at"} <= set(item)
    assert (item["join_request_id"], item["wa_id"], item["state"], item["created_at"]) == (
        "JR1", "16505551234", "pending", "2026-02-17T09:00:00Z")


def test_event_fields_are_the_contract_names(admin_api):
    group = GroupFactory()
    GroupEvent.objects.create(group=group, type=GroupEvent.Type.SETTINGS_UPDATED, occurred_at="2026-02-17T10:00Z",
                              source="webhook", detail={"settings": {"subject": {"updated": True}}})
    item = admin_api.get(f"/api/v1/groups/{group.pk}/events/").json()["results"][0]
    assert {"type", "occurred_at", "detail"} <= set(item)
    assert item["detail"] == {"settings": {"subject": {"updated": True}}}


def test_lists_are_objects_with_results_and_next(admin_api):
    group = GroupFactory()
    for path in ("/api/v1/groups/", "/api/v1/phone-numbers/", f"/api/v1/groups/{group.pk}/participants/",
                 f"/api/v1/groups/{group.pk}/join-requests/", f"/api/v1/groups/{group.pk}/events/"):
        body = admin_api.get(path).json()
        assert {"results", "next"} <= set(body), path


# --- 202 bodies -------------------------------------------------------------------------------------


def test_asynchronous_operations_answer_202_with_the_group(admin_api, graph):
    # given: Meta is never reached here, the on-commit tasks are not run
    group = GroupFactory(subject="Old")
    number = PhoneNumberFactory()
    # when
    answers = [
        admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "New group"}, format="json"),
        admin_api.patch(f"/api/v1/groups/{group.pk}/", {"subject": "New"}, format="json"),
        admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg()}, format="multipart"),
        admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": ["16505551234"]},
                       format="json"),
        admin_api.delete(f"/api/v1/groups/{group.pk}/"),
    ]
    # then
    assert [a.status_code for a in answers] == [202] * 5
    assert all(set(a.json()) == GROUP_FIELDS for a in answers)
    assert [a.json()["state"] for a in answers] == ["creating", "active", "active", "active", "deleting"]
    assert GroupOperation.objects.count() == 5


# --- Validation: every error names its field ----------------------------------------------------


def test_create_trims_the_subject_before_counting(admin_api):
    # given
    number = PhoneNumberFactory()
    # when
    padded = admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "  " + "s" * 128 + "  "},
                            format="json")
    # then
    assert padded.status_code == 202
    assert Group.objects.get().subject == "s" * 128


@pytest.mark.parametrize("payload,field", [
    ({"subject": None}, "subject"),
    ({"subject": 12 * [1]}, "subject"),
    ({"description": None}, "description"),
    ({"join_approval_mode": "approval_required"}, "join_approval_mode"),
    ({"subject": "ok", "join_approval_mode": "auto_approve"}, "join_approval_mode"),
])
def test_patch_refuses_more_invalid_input_naming_the_field(admin_api, payload, field):
    # given
    group = GroupFactory()
    # when
    response = admin_api.patch(f"/api/v1/groups/{group.pk}/", payload, format="json")
    # then
    assert response.status_code == 400
    assert field in response.json()["extra"]["fields"]
    assert not GroupOperation.objects.exists()


@pytest.mark.parametrize("payload", [{}, {"file": ""}, {"file": "text, not a file"}])
def test_picture_without_a_file_is_refused_naming_file(admin_api, payload):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/picture/", payload, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["extra"]["fields"]


def test_picture_over_5_mb_is_refused_naming_file(admin_api):
    # given: a valid square JPEG padded past 5 MB
    group = GroupFactory()
    # when
    response = admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg(pad_to=5 * 1024 * 1024 + 1)},
                              format="multipart")
    # then
    assert response.status_code == 400
    assert "5 MB" in response.json()["extra"]["fields"]["file"][0]
    assert not GroupOperation.objects.exists()


def test_picture_of_exactly_5_mb_is_accepted(admin_api):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg(pad_to=5 * 1024 * 1024)},
                              format="multipart")
    assert response.status_code == 202


@pytest.mark.parametrize("participants", [None, "16505551234", [{"wa_id": "16505551234"}], ["1" * 200], [""]])
def test_remove_participants_refuses_malformed_lists_naming_participants(admin_api, participants):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": participants},
                              format="json")
    assert response.status_code == 400
    assert "participants" in response.json()["extra"]["fields"]
    assert not GroupOperation.objects.exists()


@pytest.mark.parametrize("decision", ["approve", "reject"])
@pytest.mark.parametrize("payload", [{}, {"join_request_ids": "JR1"}, {"join_request_ids": [{"id": "JR1"}]}])
def test_join_request_decisions_refuse_malformed_bodies_naming_the_field(admin_api, decision, payload):
    group = GroupFactory()
    response = admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/{decision}/", payload, format="json")
    assert response.status_code == 400
    assert "join_request_ids" in response.json()["extra"]["fields"]


# --- A suspended or inactive group refuses every change ------------------------------------------


@pytest.mark.parametrize("attrs,code", [({"suspended": True}, "group_suspended"),
                                        ({"state": Group.State.DELETED}, "group_not_active"),
                                        ({"state": Group.State.CREATE_FAILED, "group_id": None}, "group_not_active")])
@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_join_request_decisions_refuse_a_suspended_or_inactive_group(admin_api, attrs, code, decision):
    # given
    group = GroupFactory(**attrs)
    JoinRequestFactory(group=group, join_request_id="JR1")
    # when
    response = admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/{decision}/",
                              {"join_request_ids": ["JR1"]}, format="json")
    # then
    assert (response.status_code, response.json()["code"]) == (409, code)
    assert response.json()["message"]
    assert list(response.json()["extra"]["fields"]) == (["suspended"] if code == "group_suspended" else ["state"])
    assert JoinRequest.objects.get().state == JoinRequest.State.PENDING


@pytest.mark.parametrize("state", [Group.State.DELETED, Group.State.CREATE_FAILED])
def test_a_deleted_or_failed_group_refuses_every_change(admin_api, state):
    # given
    group = GroupFactory(state=state)
    # when
    answers = [
        admin_api.patch(f"/api/v1/groups/{group.pk}/", {"subject": "New"}, format="json"),
        admin_api.delete(f"/api/v1/groups/{group.pk}/"),
        admin_api.post(f"/api/v1/groups/{group.pk}/participants/remove/", {"participants": ["16505551234"]},
                       format="json"),
        admin_api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/"),
        admin_api.post(f"/api/v1/groups/{group.pk}/picture/", {"file": jpeg()}, format="multipart"),
        admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/"),
    ]
    # then
    assert [(a.status_code, a.json()["code"]) for a in answers] == [(409, "group_not_active")] * 6
    assert all(list(a.json()["extra"]["fields"]) == ["state"] for a in answers)  # Which field, and why.
    group.refresh_from_db()
    assert group.state == state and not GroupOperation.objects.exists()


# --- Filters ------------------------------------------------------------------------------------------


def test_list_filters_each_on_its_own(admin_api):
    # given
    plain = GroupFactory(subject="Order 48213 - delivery")
    held = GroupFactory(subject="Order 1", suspended=True)
    creating = GroupFactory(creating=True, subject="Returns desk")
    elsewhere = GroupFactory(phone_number=PhoneNumberFactory(phone_number_id="42"), subject="Elsewhere")

    def ids(query: str) -> set[int]:
        return {g["id"] for g in admin_api.get(f"/api/v1/groups/?{query}").json()["results"]}

    # then
    assert ids("suspended=true") == {held.pk}
    assert ids("suspended=false") == {plain.pk, creating.pk, elsewhere.pk}
    assert ids("state=creating") == {creating.pk}
    assert ids(f"phone_number={plain.phone_number_id}") == {plain.pk, held.pk, creating.pk}
    assert ids("search=order") == {plain.pk, held.pk}
    assert ids("search=DESK") == {creating.pk}


# --- Meta is never called inside a transaction (STYLE §3) -------------------------------------------


def test_meta_is_called_outside_any_transaction(admin_api, graph, django_capture_on_commit_callbacks):
    # given: the test itself runs inside transactions; the depth at its start is "outside" for the code under test
    baseline = len(connection.atomic_blocks)
    depths = []

    def answer(body: dict, status: int = 200):
        def callback(request):
            depths.append((request.method, request.url.rsplit("/", 1)[-1], len(connection.atomic_blocks)))
            return status, {}, json.dumps(body)

        return callback

    group = GroupFactory(group_id=SPEC_G3)
    JoinRequestFactory(group=group, join_request_id="JRA")
    JoinRequestFactory(group=group, join_request_id="JRB")
    number = PhoneNumberFactory()
    base = "https://graph.meta.test/v25.0"
    graph.add_callback("GET", f"{base}/{SPEC_G3}/invite_link", callback=answer(graph_json("get_invite_link.response")))
    graph.add_callback("POST", f"{base}/{SPEC_G3}/invite_link",
                       callback=answer(graph_json("reset_invite_link.response")))
    graph.add_callback("POST", f"{base}/{SPEC_G3}/join_requests",
                       callback=answer({"messaging_product": "whatsapp", "join_requests": ["JRA"]}))
    graph.add_callback("DELETE", f"{base}/{SPEC_G3}/join_requests",
                       callback=answer({"messaging_product": "whatsapp", "join_requests": ["JRB"]}))
    graph.add_callback("POST", f"{base}/{SPEC_PHONE_NUMBER_ID}/groups",
                       callback=answer(graph_json("create_group.response")))
    # when
    admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/")
    admin_api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/")
    admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/approve/", {"join_request_ids": ["JRA"]}, format="json")
    admin_api.post(f"/api/v1/groups/{group.pk}/join-requests/reject/", {"join_request_ids": ["JRB"]}, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        admin_api.post("/api/v1/groups/", {"phone_number": number.pk, "subject": "S"}, format="json")
    # then
    assert len(depths) == 5
    assert [d for *_, d in depths] == [baseline] * 5, depths
