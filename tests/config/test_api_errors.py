"""REST errors from outside the views' own rules (issue 16 §5): hostile JSON and a locked database, in the envelope."""

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db

NEW_NUMBER = {"phone_number_id": "106540352242999", "display_phone_number": "15550783999", "waba_id": "102290129340398",
              "label": "Support"}


def test_json_nested_too_deeply_is_a_400_in_the_error_envelope(admin_api):
    # given
    body = '{"label": ' + "[" * 100_000 + "]" * 100_000 + "}"
    # when
    response = admin_api.post("/api/v1/phone-numbers/", data=body, content_type="application/json")
    # then
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"
    assert "nested too deeply" in response.json()["message"]


def test_a_write_while_the_database_is_locked_is_a_503_in_the_error_envelope(admin_api):
    # given: every write fails as SQLite's does once its lock timeout has passed
    def locked(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(locked):
        response = admin_api.post("/api/v1/phone-numbers/", data=NEW_NUMBER, format="json")
    # then
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"]
    assert response.json() == {"code": "database_unavailable", "extra": {},
                               "message": "The database is busy or unavailable; try again shortly."}
