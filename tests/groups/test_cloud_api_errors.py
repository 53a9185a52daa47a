"""Every Graph error sample maps to the right class, code and retry class; the catalog covers the spec."""

import logging
import pickle
import re

import pytest
from django.conf import settings

from groups.cloud_api import (
    AccountRestricted,
    BadGroup,
    CloudAPIAuthError,
    CloudAPIError,
    CloudAPIRateLimited,
    CloudAPIServerError,
    CloudAPIUnavailable,
    GroupNotFound,
    GroupSuspended,
    InvalidCursor,
    InvalidGroupPicture,
    InvalidRequest,
    JoinRequestNotFound,
    ParticipantError,
    RetryClass,
    describe_error,
    error_catalog,
    get_cloud_api_client,
)
from tests.spec import SPEC_DIR, SPEC_G1, SPEC_PHONE_NUMBER_ID, graph_json, graph_names

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
G1_URL = f"https://graph.meta.test/v25.0/{SPEC_G1}"
BACK_OFF, FIX, REAUTH = RetryClass.BACK_OFF, RetryClass.FIX_REQUEST, RetryClass.REAUTHENTICATE

# sample → (class, retry class). HTTP statuses per spec §12 ("HTTP statuses for the error files").
EXPECTED = {
    "error.access_token_expired_190": (CloudAPIAuthError, REAUTH),
    "error.bad_group_131020": (BadGroup, FIX),
    "error.duplicate_participant_131202": (ParticipantError, FIX),
    "error.group_create_limit_131211": (AccountRestricted, FIX),
    "error.group_creation_disabled_131214": (AccountRestricted, FIX),
    "error.group_not_found_131041": (GroupNotFound, FIX),
    "error.group_rate_limit_131208": (CloudAPIRateLimited, BACK_OFF),
    "error.group_suspended_131207": (GroupSuspended, FIX),
    "error.invalid_cursor_131059": (InvalidCursor, FIX),
    "error.invalid_parameter_100": (InvalidRequest, FIX),
    "error.join_request_not_found_131213": (JoinRequestNotFound, FIX),
    "error.not_eligible_131215": (AccountRestricted, FIX),
    "error.pair_rate_limit_131056": (CloudAPIRateLimited, BACK_OFF),
    "error.participant_not_in_group_131212": (ParticipantError, FIX),
    "error.participant_overlimit_131204": (ParticipantError, FIX),
    "error.profile_picture_aspect_ratio_131209": (InvalidGroupPicture, FIX),
    "error.profile_picture_too_small_131210": (InvalidGroupPicture, FIX),
    "error.rate_limit_130429": (CloudAPIRateLimited, BACK_OFF),
    "error.recipient_type_mismatch": (InvalidRequest, FIX),
    "error.spam_rate_limit_131048": (AccountRestricted, FIX),
}
HTTP_STATUS = {131207: 403, 131208: 429, 190: 401}


def http_status_for(sample: dict) -> int:
    return HTTP_STATUS.get(sample["error"]["code"], 400)


def send_text(body: str = "Your parcel is on its way") -> str:
    return get_cloud_api_client().send_message(
        phone_number_id=SPEC_PHONE_NUMBER_ID, group_id=SPEC_G1, type="text", content={"body": body}
    )


def spec_section(start: str, end: str) -> str:
    text = (SPEC_DIR / "groups-api.md").read_text()
    return text[text.index(start) : text.index(end)]


DASHES = "\u2013-"  # The spec writes ranges with an en dash ("200\u2013299").


def codes_in(text: str) -> set[int]:
    """Return every code named in `text`: numbers and ranges written with a dash, as the spec does."""
    codes: set[int] = set()
    for low, high in re.findall(rf"`?(\d+)`?\s*[{DASHES}]\s*`?(\d+)`?", text):
        if int(high) > int(low) and int(high) - int(low) < 1000:
            codes.update(range(int(low), int(high) + 1))
    codes.update(int(number) for number in re.findall(r"\d+", text))
    return codes


def test_every_error_sample_has_an_expectation():
    assert set(EXPECTED) == set(graph_names("error."))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_error_sample_maps_to_class_code_retry_class_and_trace_id(graph, name):
    # given
    sample = graph_json(name)
    error_class, retry_class = EXPECTED[name]
    graph.post(MESSAGES_URL, status=http_status_for(sample), json=sample)
    # when
    with pytest.raises(CloudAPIError) as caught:
        send_text()
    # then
    error = caught.value
    envelope = sample["error"]
    assert type(error) is error_class
    assert error.meta_code == envelope["code"]
    assert error.retry_class is retry_class
    assert error.retryable is (retry_class is BACK_OFF)
    assert error.fbtrace_id == envelope["fbtrace_id"]
    assert error.subcode == envelope.get("error_subcode")
    assert error.http_status_from_meta == http_status_for(sample)
    assert error.details == envelope.get("error_data", {}).get("details", "")
    assert error.as_error_dict() == {
        "code": envelope["code"],
        "title": error.title,
        "message": envelope["message"],
        "details": error.details,
    }
    assert error.title  # From the catalog when Meta gives no user title.


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_error_is_logged_with_trace_id_and_never_token_or_message_body(graph, caplog, name):
    # given
    sample = graph_json(name)
    graph.post(MESSAGES_URL, status=http_status_for(sample), json=sample)
    caplog.set_level(logging.DEBUG)
    # when
    with pytest.raises(CloudAPIError):
        send_text(body="Private words for the group only")
    # then
    records = [r for r in caplog.records if r.name == "groups.cloud_api"]
    assert [r.fbtrace_id for r in records] == [sample["error"]["fbtrace_id"]]
    for record in caplog.records:
        logged = record.getMessage() + repr(vars(record))
        assert settings.WHATSAPP_ACCESS_TOKEN not in logged
        assert "Private words" not in logged


def test_transport_error_log_never_holds_token(graph, caplog):
    # given: nothing registered for the URL, so the mock refuses the connection.
    caplog.set_level(logging.DEBUG)
    # when
    with pytest.raises(CloudAPIUnavailable) as caught:
        get_cloud_api_client().get_invite_link(group_id=SPEC_G1)
    # then
    assert any(r.name == "groups.cloud_api" for r in caplog.records)
    assert settings.WHATSAPP_ACCESS_TOKEN not in caplog.text
    assert settings.WHATSAPP_ACCESS_TOKEN not in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_without_envelope_is_a_retryable_server_error(graph, status):
    # given
    graph.post(MESSAGES_URL, status=status, body="<html>Bad gateway</html>", content_type="text/html")
    # when
    with pytest.raises(CloudAPIServerError) as caught:
        send_text()
    # then
    assert caught.value.retry_class is BACK_OFF
    assert caught.value.http_status_from_meta == status
    assert caught.value.meta_code is None


def test_429_without_envelope_is_rate_limited(graph):
    graph.post(MESSAGES_URL, status=429, body="")
    with pytest.raises(CloudAPIRateLimited):
        send_text()


def test_4xx_without_envelope_is_a_request_to_fix(graph):
    graph.post(MESSAGES_URL, status=404, body="Not found")
    with pytest.raises(CloudAPIError) as caught:
        send_text()
    assert type(caught.value) is CloudAPIError
    assert caught.value.retry_class is FIX


@pytest.mark.parametrize(
    ("status", "is_transient", "retry_class", "error_class"),
    [
        (400, None, FIX, CloudAPIError),
        (400, True, BACK_OFF, CloudAPIError),
        (500, None, BACK_OFF, CloudAPIServerError),
    ],
)
def test_unknown_code_takes_retry_class_from_http_status(graph, status, is_transient, retry_class, error_class):
    # given
    envelope = {"message": "(#999001) Something new", "type": "OAuthException", "code": 999001, "fbtrace_id": "T1"}
    if is_transient is not None:
        envelope["is_transient"] = is_transient
    graph.post(MESSAGES_URL, status=status, json={"error": envelope})
    # when
    with pytest.raises(CloudAPIError) as caught:
        send_text()
    # then
    assert type(caught.value) is error_class
    assert caught.value.retry_class is retry_class
    assert caught.value.meta_code == 999001


def test_quoted_code_is_read_as_a_number(graph):
    # given
    sample = graph_json("error.group_not_found_131041")
    sample["error"]["code"] = "131041"
    graph.get(f"{G1_URL}/invite_link", status=400, json=sample)
    # when / then
    with pytest.raises(GroupNotFound):
        get_cloud_api_client().get_invite_link(group_id=SPEC_G1)


def test_error_becomes_rest_body_with_502_and_meta_code(graph):
    # given
    graph.post(MESSAGES_URL, status=403, json=graph_json("error.group_suspended_131207"))
    # when
    with pytest.raises(CloudAPIError) as caught:
        send_text()
    # then
    error = caught.value
    assert error.http_status == 502
    body = error.as_body()
    assert body["code"] == "meta_error"
    assert body["extra"]["meta_code"] == 131207
    assert body["extra"]["fbtrace_id"] == "DrZ7t0VpS4yNm9Xb3eJo6Ac"
    assert "131207" in body["message"]


def test_error_survives_pickling_with_its_attributes(graph):
    # given: Celery pickles exceptions; keyword-only attributes must survive.
    graph.post(MESSAGES_URL, status=400, json=graph_json("error.rate_limit_130429"))
    with pytest.raises(CloudAPIError) as caught:
        send_text()
    # when
    copy = pickle.loads(pickle.dumps(caught.value))
    # then
    assert type(copy) is CloudAPIRateLimited
    assert (copy.meta_code, copy.subcode, copy.fbtrace_id, copy.retry_class) == (
        130429,
        2494055,
        "Az8or2yhqkZfEZ-_4Qn_Bam",
        BACK_OFF,
    )


# --- The catalog against the spec -----------------------------------------------------------------


def test_catalog_covers_every_code_of_spec_sections_9_3_and_9_5():
    # given: the first column of each table, plus the codes named below the §9.3 table.
    groups_codes = spec_section("### 9.3", "### 9.4")
    other_codes = spec_section("### 9.5", "## 10.")
    table_cells = re.findall(rf"^\| ([\d /{DASHES}]+) \|", groups_codes + other_codes, flags=re.M)
    expected = set().union(*(codes_in(cell) for cell in table_cells))
    expected |= {int(code) for code in re.findall(r"^- `(\d+)`", groups_codes, flags=re.M)}
    assert {131020, 131215, 130501, 131203, 0, 250, 131053, 135000} <= expected  # the parse found them
    # when
    unknown = {code for code in expected if describe_error(code).error_class == "CloudAPIError"}
    # then
    assert unknown == set()


@pytest.mark.parametrize(
    ("label", "retry_class"),
    [("**Back off and retry:**", BACK_OFF), ("**Fix the request", FIX), ("**Re-authenticate:**", REAUTH)],
)
def test_catalog_retry_classes_follow_spec_section_8(label, retry_class):
    # given
    section = spec_section("Recommended retry classes", "## 9.")
    line = next(line for line in section.splitlines() if label in line)
    codes = codes_in(line.split(":**", 1)[1])
    assert codes
    # when
    wrong = {
        code: describe_error(code).retry_class for code in codes if describe_error(code).retry_class != retry_class
    }
    # then
    assert wrong == {}


def test_describe_error_gives_plain_meaning_and_action():
    # when
    description = describe_error(131207)
    # then
    assert description.code == 131207
    assert description.title == "Group suspended"
    assert "suspended" in description.meaning
    assert description.action
    assert description.retry_class is FIX
    assert description.error_class == "GroupSuspended"


def test_describe_error_of_a_range_code_and_of_an_unknown_code():
    assert describe_error(250).codes == "200-299"
    assert describe_error("190").error_class == "CloudAPIAuthError"
    unknown = describe_error(999001)
    assert (unknown.code, unknown.retry_class, unknown.error_class) == (999001, FIX, "CloudAPIError")


def test_error_catalog_lists_each_entry_once_with_text():
    # when
    catalog = error_catalog()
    # then
    labels = [entry.codes for entry in catalog]
    assert len(labels) == len(set(labels))
    assert "131208" in labels and "200-299" in labels
    assert all(entry.title and entry.meaning and entry.action for entry in catalog)
    assert [entry.code for entry in catalog] == sorted(entry.code for entry in catalog)
