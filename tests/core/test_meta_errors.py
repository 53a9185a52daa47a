"""One Meta error value: read leniently from Meta's objects, our stored dicts and our exceptions alike."""

from core.meta_errors import MetaError, RetryClass
from groups.cloud_api import CloudAPIRateLimited


def test_meta_error_from_raw_reads_meta_quirks_quoted_codes_and_nested_details():
    # given: a webhook error with a quoted code and its details under error_data
    raw = {"code": "131026", "title": " Undeliverable ", "message": "m", "error_data": {"details": "d"}, "href": "h"}
    # when
    error = MetaError.from_raw(raw)
    # then
    assert (error.code, error.title, error.text, error.href) == (131026, "Undeliverable", "d", "h")
    assert error.as_dict() == {"code": 131026, "title": "Undeliverable", "message": "m", "details": "d", "href": "h"}


def test_meta_error_from_raw_tolerates_any_shape():
    assert MetaError.from_raw("boom") == MetaError(code=None, message="boom")
    assert MetaError.from_raw({"code": True, "title": {"x": 1}, "error_data": []}).as_dict() == {
        "code": None, "title": "", "message": "", "details": ""}
    assert MetaError.from_raw({}).as_dict(with_href=True)["href"] == ""


def test_meta_error_from_value_reads_stored_dicts_exceptions_and_nothing():
    # given
    exc = CloudAPIRateLimited("slow down", meta_code=130429, title="Rate limit", details="wait", fbtrace_id="Ab")
    stored = {"code": "outcome_unknown", "title": "Outcome unknown", "retry_class": "outcome_unknown"}
    # when / then
    assert MetaError.from_value(None) is None
    assert MetaError.from_value(exc) == MetaError(code=130429, title="Rate limit", message="slow down",
                                                  details="wait", fbtrace_id="Ab", retry_class=RetryClass.BACK_OFF)
    assert MetaError.from_value(exc).as_dict() == exc.as_error_dict()
    assert MetaError.from_value(stored).code_text == "outcome_unknown"
    assert MetaError.from_value(stored).retry_class is RetryClass.OUTCOME_UNKNOWN
    assert MetaError.from_value({"retry_class": "nonsense"}).retry_class is None


def test_meta_error_text_never_shows_template_placeholders():
    # given: Meta's documented samples say "(#<code>) <title>" and "<str>" where real errors have words
    placeholders = {"code": 131000, "message": "(#<code>) <title>", "error_data": {"details": "<str>"}}
    # when / then
    assert MetaError.from_raw(placeholders).text == ""
    assert MetaError.from_raw({"code": 1, "message": "(#1) Real words", "error_data": {"details": "<str>"}}).text == (
        "(#1) Real words")
