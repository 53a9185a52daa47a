"""Compare the sandbox's output with the spec's samples: same keys, same envelope."""

from __future__ import annotations

import json

from tests.spec import graph_json, webhook_body


def sample(name: str) -> dict:
    return json.loads(webhook_body(name))


def sample_item(name: str) -> dict:
    """Return the first groups[] or statuses[] item of a webhook sample."""
    value = sample(name)["entry"][0]["changes"][0]["value"]
    return (value.get("groups") or value.get("statuses") or value.get("messages"))[0]


def envelope_shape(body: dict) -> tuple:
    """Return the key sets of every envelope level, leaving out the items themselves."""
    entry = body["entry"][0]
    change = entry["changes"][0]
    value = change["value"]
    return (set(body), set(entry), set(change), set(value), set(value["metadata"]))


def assert_error(response, sample_name: str, code: int | None = None, status: int | None = None) -> dict:
    """Check an error answer has the keys of graph/<sample_name>.json (and the code, status)."""
    expected = graph_json(sample_name)["error"]
    error = response.json()["error"]
    assert set(error) == set(expected), error
    if "error_data" in expected:
        assert set(error["error_data"]) == set(expected["error_data"])
    assert error["code"] == (code if code is not None else expected["code"])
    assert error["fbtrace_id"]
    if status is not None:
        assert response.status_code == status
    return error
