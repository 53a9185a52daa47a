"""Logs are one JSON object per line and never carry a configured secret."""

import json
import logging

from config.logging import JsonFormatter, RedactSecretsFilter


def _format(record: logging.LogRecord) -> str:
    RedactSecretsFilter().filter(record)
    return JsonFormatter().format(record)


def _record(msg: str, *args, **extra) -> logging.LogRecord:
    record = logging.LogRecord("groups.cloud_api", logging.WARNING, __file__, 1, msg, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_log_line_is_one_json_object_with_the_extras():
    # when
    line = _format(_record("graph call failed: %s", "rate limited", fbtrace_id="Az8or2", meta_code=130429))
    # then
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "graph call failed: rate limited"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "groups.cloud_api"
    assert (entry["fbtrace_id"], entry["meta_code"]) == ("Az8or2", 130429)


def test_configured_secrets_are_redacted_from_messages_and_extras(settings):
    # given
    token = settings.WHATSAPP_ACCESS_TOKEN
    # when
    line = _format(_record("GET /v25.0/x?access_token=%s", token, header=f"Bearer {token}"))
    # then
    assert token not in line
    assert settings.WHATSAPP_ACCESS_TOKEN not in line
    entry = json.loads(line)
    assert entry["message"] == "GET /v25.0/x?access_token=[redacted]"
    assert entry["header"] == "Bearer [redacted]"


def test_secrets_in_exception_text_are_redacted(settings):
    # given
    secret = settings.WHATSAPP_APP_SECRET
    try:
        raise RuntimeError(f"failed with key {secret}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    # when
    line = _format(record)
    # then
    assert secret not in line
    assert "[redacted]" in json.loads(line)["exception"]
