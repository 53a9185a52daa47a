"""The Graph API client against Meta's request and response samples (spec §4), mocked at the HTTP layer."""

import io
import threading
from datetime import UTC, datetime
from http.client import RemoteDisconnected

import pytest
import requests
from PIL import Image
from responses import matchers
from urllib3.exceptions import ProtocolError

from groups.cloud_api import (
    CloudAPIBadResponse,
    CloudAPIConnectionLost,
    CloudAPIError,
    CloudAPITimeout,
    CloudAPIUnavailable,
    FailedJoinRequest,
    GroupSummary,
    ParticipantInfo,
    RetryClass,
    get_cloud_api_client,
)
from tests.spec import SPEC_G1, SPEC_G3, SPEC_PHONE_NUMBER_ID, graph_json

BASE = "https://graph.meta.test/v25.0"
GROUPS_URL = f"{BASE}/{SPEC_PHONE_NUMBER_ID}/groups"
MESSAGES_URL = f"{BASE}/{SPEC_PHONE_NUMBER_ID}/messages"
G1_URL = f"{BASE}/{SPEC_G1}"
ALL_INFO_FIELDS = (
    "subject,description,participants,join_approval_mode,suspended,creation_timestamp,total_participant_count"
)
WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def client():
    return get_cloud_api_client()


@pytest.fixture(autouse=True)
def every_call_is_authenticated_safely(graph):
    """After each test: every request carried the bearer token in its header and nowhere in its URL."""
    yield
    for call in graph.calls:
        scheme, token = call.request.headers["Authorization"].split(" ", 1)
        assert (scheme, len(token) >= 20) == ("Bearer", True)
        assert token not in call.request.url


# --- Transport: base URL, auth, timeouts, TLS, redirects --------------------------------------


def test_client_sends_bearer_header_to_versioned_base_url(graph, client, settings):
    # given
    graph.post(
        GROUPS_URL,
        json=graph_json("create_group.response"),
        match=[matchers.header_matcher({"Authorization": "Bearer test-access-token-0123456789"})],
    )
    # when
    client.create_group(phone_number_id=SPEC_PHONE_NUMBER_ID, subject="Order 48213 - delivery support")
    # then
    assert graph.calls[0].request.url == GROUPS_URL
    assert "access_token" not in graph.calls[0].request.url
    assert settings.WHATSAPP_ACCESS_TOKEN not in graph.calls[0].request.url


def test_client_passes_connect_and_read_timeouts_and_verifies_tls(graph, client):
    # given
    graph.get(f"{G1_URL}/invite_link", json=graph_json("get_invite_link.response"))
    # when
    client.get_invite_link(group_id=SPEC_G1)
    # then
    kwargs = graph.calls[0].request.req_kwargs
    assert kwargs["timeout"] == (3.0, 15.0)
    assert kwargs["verify"] not in (False, None)


def test_get_cloud_api_client_reads_settings_at_call_time(graph, settings):
    # given
    settings.WHATSAPP_API_BASE_URL = "https://other-graph.meta.test"
    settings.WHATSAPP_API_VERSION = "v99.0"
    settings.WHATSAPP_CONNECT_TIMEOUT = 1.5
    settings.WHATSAPP_READ_TIMEOUT = 7
    settings.WHATSAPP_ACCESS_TOKEN = "rotated-token-9876543210"
    graph.get(
        f"https://other-graph.meta.test/v99.0/{SPEC_G1}/invite_link",
        json=graph_json("get_invite_link.response"),
        match=[matchers.header_matcher({"Authorization": "Bearer rotated-token-9876543210"})],
    )
    # when
    get_cloud_api_client().get_invite_link(group_id=SPEC_G1)
    # then
    assert graph.calls[0].request.req_kwargs["timeout"] == (1.5, 7)


def test_get_cloud_api_client_is_one_client_per_process_until_settings_change(settings):
    # given: the client of the current settings
    first = get_cloud_api_client()
    # when / then: asked again, the same client (and session, with its open connections) comes back
    assert get_cloud_api_client() is first
    # when / then: a changed setting takes effect at once, with a client of its own, kept in turn
    settings.WHATSAPP_ACCESS_TOKEN = "rotated-token-9876543210"
    rotated = get_cloud_api_client()
    assert rotated is not first
    assert get_cloud_api_client() is rotated


def test_get_cloud_api_client_gives_each_thread_its_own_session():
    # given: a requests session is not thread-safe
    mine = get_cloud_api_client()
    theirs = []
    # when
    thread = threading.Thread(target=lambda: theirs.append(get_cloud_api_client()))
    thread.start()
    thread.join()
    # then
    assert theirs[0] is not mine


def test_client_does_not_follow_a_redirect(graph, client):
    # given: following it would hit an unregistered URL and fail differently (CloudAPIUnavailable).
    graph.get(f"{G1_URL}/invite_link", status=302, headers={"Location": "https://elsewhere.test/collect"})
    # when
    with pytest.raises(CloudAPIError) as caught:
        client.get_invite_link(group_id=SPEC_G1)
    # then
    assert type(caught.value) is CloudAPIError
    assert caught.value.http_status_from_meta == 302
    assert caught.value.retryable is False
    assert len(graph.calls) == 1


def test_connect_timeout_raises_unavailable_which_is_retryable(graph, client):
    # given
    graph.post(MESSAGES_URL, body=requests.ConnectTimeout("connect timed out"))
    # when
    with pytest.raises(CloudAPIUnavailable) as caught:
        client.send_message(phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": "hi"})
    # then
    assert caught.value.retry_class is RetryClass.BACK_OFF
    assert caught.value.retryable is True


def test_refused_connection_raises_unavailable(graph, client):
    # given
    graph.post(MESSAGES_URL, body=requests.ConnectionError("Failed to establish a new connection"))
    # when / then
    with pytest.raises(CloudAPIUnavailable):
        client.send_message(phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": "hi"})


def test_read_timeout_raises_timeout_with_unknown_outcome_never_retryable(graph, client):
    # given
    graph.post(MESSAGES_URL, body=requests.ReadTimeout("read timed out"))
    # when
    with pytest.raises(CloudAPITimeout) as caught:
        client.send_message(phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": "hi"})
    # then
    assert caught.value.retry_class is RetryClass.OUTCOME_UNKNOWN
    assert caught.value.retryable is False


def test_connection_dropped_after_sending_raises_outcome_unknown(graph, client):
    # given: what requests raises when the server closes the connection before answering.
    aborted = ProtocolError("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
    graph.post(GROUPS_URL, body=requests.ConnectionError(aborted))
    # when
    with pytest.raises(CloudAPIConnectionLost) as caught:
        client.create_group(phone_number_id=SPEC_PHONE_NUMBER_ID, subject="Premium onboarding - cohort 7")
    # then
    assert caught.value.retry_class is RetryClass.OUTCOME_UNKNOWN
    assert caught.value.retryable is False


# --- Group management ---------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["create_group.request", "create_group_approval_required.request"])
def test_create_group_posts_spec_request_and_returns_request_id(graph, client, sample):
    # given
    request = graph_json(sample)
    graph.post(GROUPS_URL, json=graph_json("create_group.response"), match=[matchers.json_params_matcher(request)])
    # when
    request_id = client.create_group(
        phone_number_id=SPEC_PHONE_NUMBER_ID,
        subject=request["subject"],
        description=request.get("description"),
        join_approval_mode=request.get("join_approval_mode"),
    )
    # then
    assert request_id == "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4"


def test_create_group_without_request_id_raises_outcome_unknown(graph, client):
    # given
    graph.post(GROUPS_URL, json={"messaging_product": "whatsapp"})
    # when
    with pytest.raises(CloudAPIBadResponse) as caught:
        client.create_group(phone_number_id=SPEC_PHONE_NUMBER_ID, subject="Order 48213 - delivery support")
    # then
    assert caught.value.retry_class is RetryClass.OUTCOME_UNKNOWN


def test_list_groups_parses_groups_under_data_and_the_next_cursor(graph, client):
    # given
    graph.get(GROUPS_URL, json=graph_json("list_groups.response"), match=[matchers.query_param_matcher({"limit": "2"})])
    # when
    page = client.list_groups(phone_number_id=SPEC_PHONE_NUMBER_ID, limit=2)
    # then
    assert page.groups == [
        GroupSummary(group_id=SPEC_G1, subject="Order 48213 - delivery support", created_at=at(1771320012)),
        GroupSummary(group_id=SPEC_G3, subject="Premium onboarding - cohort 7", created_at=at(1771320350)),
    ]
    assert page.after == "QVFIUlR0ZAXNfZAnJvdXBzOmFmdGVyZAW5kZAXgZD"


def test_list_groups_sends_cursor_and_ends_on_last_page(graph, client):
    # given: the last page has a previous link and no next link; created_at as an integer this time.
    body = graph_json("list_groups.response")
    body["data"]["groups"] = body["data"]["groups"][:1]
    body["data"]["groups"][0]["created_at"] = 1771320012
    body["paging"]["previous"] = body["paging"].pop("next")
    graph.get(GROUPS_URL, json=body, match=[matchers.query_param_matcher({"limit": "25", "after": "CURSOR1"})])
    # when
    page = client.list_groups(phone_number_id=SPEC_PHONE_NUMBER_ID, after="CURSOR1")
    # then
    assert page.groups[0].created_at == at(1771320012)
    assert page.after is None


def test_get_group_info_requests_every_field_and_parses_them(graph, client):
    # given
    graph.get(
        G1_URL,
        json=graph_json("get_group_info.response"),
        match=[matchers.query_param_matcher({"fields": ALL_INFO_FIELDS})],
    )
    # when
    info = client.get_group_info(group_id=SPEC_G1)
    # then
    assert info.group_id == SPEC_G1
    assert info.subject == "Order 48213 - delivery support"
    assert info.description.startswith("Support thread for order 48213.")
    assert info.join_approval_mode == "auto_approve"
    assert info.suspended is False
    assert info.created_at == at(1771320012)
    assert info.total_participant_count == 3
    assert [p.wa_id for p in info.participants] == ["16505551234", "447700900123", "5511987654321"]


def test_get_group_info_parses_quoted_values_leniently(graph, client):
    # given: Meta's prose sample quotes every value (spec §4.3).
    body = graph_json("get_group_info.response")
    body.update(suspended="true", total_participant_count="6", creation_timestamp="1771320012")
    graph.get(G1_URL, json=body)
    # when
    info = client.get_group_info(group_id=SPEC_G1)
    # then
    assert info.suspended is True
    assert info.total_participant_count == 6
    assert info.created_at == at(1771320012)


def test_get_group_info_bsuid_participants_may_lack_wa_id(graph, client):
    # given
    graph.get(
        G1_URL,
        json=graph_json("get_group_info_bsuid.response"),
        match=[matchers.query_param_matcher({"fields": "subject,participants"})],
    )
    # when
    info = client.get_group_info(group_id=SPEC_G1, fields=("subject", "participants"))
    # then
    assert info.participants == [
        ParticipantInfo(wa_id="16505551234", user_id="US.13491208655302741918"),
        ParticipantInfo(wa_id=None, user_id="GB.48810273365190042771", username="oliver.grant"),
    ]
    assert info.suspended is None
    assert info.total_participant_count is None


def test_get_group_info_without_fields_returns_only_the_id(graph, client):
    # given
    graph.get(G1_URL, json=graph_json("get_group_info_no_fields.response"), match=[matchers.query_param_matcher({})])
    # when
    info = client.get_group_info(group_id=SPEC_G1, fields=())
    # then
    assert info.group_id == SPEC_G1
    assert (info.subject, info.participants, info.suspended, info.created_at) == (None, None, None, None)


def test_update_group_settings_posts_spec_request(graph, client):
    # given
    request = graph_json("update_group_settings.request")
    graph.post(G1_URL, json={"success": True}, match=[matchers.json_params_matcher(request)])
    # when
    body = client.update_group_settings(
        group_id=SPEC_G1, subject=request["subject"], description=request["description"]
    )
    # then
    assert body == {"success": True}


def test_update_group_settings_omits_absent_keys(graph, client):
    # given
    expected = {"messaging_product": "whatsapp", "description": "New description"}
    graph.post(G1_URL, json={}, match=[matchers.json_params_matcher(expected)])
    # when / then
    assert client.update_group_settings(group_id=SPEC_G1, description="New description") == {}


def test_update_group_settings_needs_a_change(client):
    with pytest.raises(ValueError):
        client.update_group_settings(group_id=SPEC_G1)


def test_update_group_picture_uploads_multipart_jpeg(graph, client):
    # given: the field is named as in Meta's reference body table (Corrections C5), not `file` as its curl sample
    buffer = io.BytesIO()
    Image.new("RGB", (192, 192), "navy").save(buffer, format="JPEG")
    jpeg = buffer.getvalue()
    graph.post(
        G1_URL,
        json={"success": True},
        match=[
            matchers.multipart_matcher(
                files={"profile_picture_file": ("group-picture.jpg", jpeg, "image/jpeg")},
                data={"messaging_product": "whatsapp"},
            )
        ],
    )
    # when
    body = client.update_group_picture(group_id=SPEC_G1, jpeg=jpeg)
    # then
    assert body == {"success": True}
    assert graph.calls[0].request.headers["Content-Type"].startswith("multipart/form-data; boundary=")


def test_delete_group_sends_delete_without_body(graph, client):
    # given
    graph.delete(G1_URL, json=graph_json("delete_group.response"))
    # when
    body = client.delete_group(group_id=SPEC_G1)
    # then
    assert body == {"success": True}
    assert not graph.calls[0].request.body


def test_get_invite_link_returns_link(graph, client):
    # given
    graph.get(f"{G1_URL}/invite_link", json=graph_json("get_invite_link.response"))
    # when / then
    assert client.get_invite_link(group_id=SPEC_G1) == "https://chat.whatsapp.com/KxR4nQ7vLm2Bd9TfWc3HpZ"


def test_reset_invite_link_posts_spec_request_and_returns_new_link(graph, client):
    # given
    graph.post(
        f"{G1_URL}/invite_link",
        json=graph_json("reset_invite_link.response"),
        match=[matchers.json_params_matcher(graph_json("reset_invite_link.request"))],
    )
    # when / then
    assert client.reset_invite_link(group_id=SPEC_G1) == "https://chat.whatsapp.com/F8uYc2RbN6qJw4ZeT1kVsA"


@pytest.mark.parametrize("success", ["true", True])
def test_delete_invite_link_sends_delete_with_json_body(graph, client, success):
    # given
    graph.delete(
        f"{G1_URL}/invite_link",
        json={**graph_json("delete_invite_link.response"), "success": success},
        match=[matchers.json_params_matcher(graph_json("delete_invite_link.request"))],
    )
    # when / then
    assert client.delete_invite_link(group_id=SPEC_G1) is None


def test_delete_invite_link_reported_unsuccessful_raises(graph, client):
    # given
    graph.delete(f"{G1_URL}/invite_link", json={"messaging_product": "whatsapp", "success": "false"})
    # when / then
    with pytest.raises(CloudAPIError):
        client.delete_invite_link(group_id=SPEC_G1)


def test_list_join_requests_parses_items_and_cursor(graph, client):
    # given
    graph.get(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("get_join_requests.response"))
    # when
    page = client.list_join_requests(group_id=SPEC_G3)
    # then
    assert [(r.join_request_id, r.wa_id, r.created_at) for r in page.items] == [
        ("MTY1MDU1NTEyMzQ6MTIwMzYzNDA1MzA5OTU0ODEy", "16505551234", at(1771321200)),
        ("NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg", "447700900123", at(1771321260)),
    ]
    assert page.after == "eyJvZAmZAzZAXQiOjEsInZAlcnNpb25JZACI6IjE3NzEzMjEyNjAifQZDZD"


def test_list_join_requests_sends_cursor_and_ends_on_empty_page(graph, client):
    # given
    body = graph_json("get_join_requests.response")
    body["data"] = []
    graph.get(f"{BASE}/{SPEC_G3}/join_requests", json=body, match=[matchers.query_param_matcher({"after": "CURSOR2"})])
    # when
    page = client.list_join_requests(group_id=SPEC_G3, after="CURSOR2")
    # then
    assert page.items == []
    assert page.after is None


def test_approve_join_requests_posts_spec_request(graph, client):
    # given
    request = graph_json("approve_join_requests.request")
    graph.post(
        f"{BASE}/{SPEC_G3}/join_requests",
        json=graph_json("approve_join_requests.response"),
        match=[matchers.json_params_matcher(request)],
    )
    # when
    result = client.approve_join_requests(group_id=SPEC_G3, join_request_ids=request["join_requests"])
    # then
    assert result.succeeded == request["join_requests"]
    assert result.failed == []
    assert result.partial is False


def test_approve_join_requests_206_is_a_partial_result_not_an_error(graph, client):
    # given
    request = graph_json("approve_join_requests.request")
    graph.post(
        f"{BASE}/{SPEC_G3}/join_requests",
        status=206,
        json=graph_json("approve_join_requests.partial.response"),
        match=[matchers.json_params_matcher(request)],
    )
    # when
    result = client.approve_join_requests(group_id=SPEC_G3, join_request_ids=request["join_requests"])
    # then
    assert result.partial is True
    assert result.succeeded == ["MTY1MDU1NTEyMzQ6MTIwMzYzNDA1MzA5OTU0ODEy"]
    assert result.failed == [
        FailedJoinRequest(
            join_request_id="NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg",
            errors=[
                {
                    "code": 131203,
                    "title": "Unable to add participant to group",
                    "message": "(#131203) Recipient has not accepted our new Terms of Service and Privacy Policy.",
                    "details": "Recipient has not accepted our new Terms of Service and Privacy Policy.",
                }
            ],
        )
    ]
    assert [error["code"] for error in result.errors] == [131201]


def test_reject_join_requests_sends_delete_with_json_body(graph, client):
    # given
    request = graph_json("reject_join_requests.request")
    graph.delete(
        f"{BASE}/{SPEC_G3}/join_requests",
        json=graph_json("reject_join_requests.response"),
        match=[matchers.json_params_matcher(request)],
    )
    # when
    result = client.reject_join_requests(group_id=SPEC_G3, join_request_ids=request["join_requests"])
    # then
    assert result.succeeded == ["NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg"]
    assert result.partial is False


def test_remove_participants_sends_delete_with_json_body(graph, client):
    # given: Meta documents no response body for this call (spec §4.12).
    request = graph_json("remove_participants.request")
    graph.delete(f"{G1_URL}/participants", body="", match=[matchers.json_params_matcher(request)])
    # when
    body = client.remove_participants(group_id=SPEC_G1, users=["16505551234", "+447700900123"])
    # then
    assert body == {}


# --- Messages and pins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample", ["send_text_to_group.request", "send_image_to_group.request", "send_template_to_group.request"]
)
def test_send_message_posts_spec_request_and_returns_wamid(graph, client, sample):
    # given
    request = graph_json(sample)
    graph.post(
        MESSAGES_URL,
        json=graph_json("send_text_to_group.response"),
        match=[matchers.json_params_matcher(request)],
    )
    # when
    wamid = client.send_message(
        phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type=request["type"], content=request[request["type"]]
    )
    # then
    assert wamid == WAMID


def test_send_message_adds_callback_data_when_given(graph, client):
    # given
    request = graph_json("send_text_to_group.request")
    expected = {**request, "biz_opaque_callback_data": "groupdesk:message:42"}
    graph.post(
        MESSAGES_URL, json=graph_json("send_text_to_group.response"), match=[matchers.json_params_matcher(expected)]
    )
    # when
    wamid = client.send_message(
        phone_number_id=SPEC_PHONE_NUMBER_ID,
        group_id=SPEC_G1,
        type="text",
        content=request["text"],
        biz_opaque_callback_data="groupdesk:message:42",
    )
    # then
    assert wamid == WAMID


def test_send_message_accepted_without_wamid_raises_outcome_unknown(graph, client):
    # given
    graph.post(MESSAGES_URL, json={"messaging_product": "whatsapp", "messages": []})
    # when
    with pytest.raises(CloudAPIBadResponse) as caught:
        client.send_message(phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": "x"})
    # then
    assert caught.value.retryable is False


def test_non_json_success_body_raises_outcome_unknown(graph, client):
    # given
    graph.post(MESSAGES_URL, body="<html>ok</html>", content_type="text/html")
    # when / then
    with pytest.raises(CloudAPIBadResponse):
        client.send_message(phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": "x"})
