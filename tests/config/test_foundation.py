"""The foundation: start-up checks, probes, schema and REST defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in env_overrides or env_overrides[k] is not None}
    env.update({k: v for k, v in env_overrides.items() if v is not None})
    for key in [k for k, v in env_overrides.items() if v is None]:
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


DJANGO_SETUP = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()"


def test_startup_fails_without_secret_key_when_debug_is_off():
    # when
    result = _run_python(DJANGO_SETUP, DEBUG="false", SECRET_KEY=None)
    # then
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_startup_succeeds_without_secrets_in_debug():
    # when
    result = _run_python(DJANGO_SETUP + "; print('ok')", DEBUG="true", SECRET_KEY=None, WHATSAPP_APP_SECRET=None)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_healthz_answers_200(client):
    assert client.get("/healthz/").status_code == 200


@pytest.mark.django_db
def test_readyz_answers_200_when_database_answers(client):
    # when
    response = client.get("/readyz/")
    # then
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert set(checks.values()) == {"ok"}


def test_readyz_answers_503_naming_the_database_when_it_is_unreachable(tmp_path):
    # given: a database path whose directory does not exist, so SQLite cannot open it
    code = (
        DJANGO_SETUP
        + "; from django.test import Client; r = Client().get('/readyz/', HTTP_HOST='localhost');"
        + " print(r.status_code, r.json()['failed'])"
    )
    # when
    result = _run_python(code, DATABASE_URL=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503 ['database']"


def test_openapi_schema_generates_without_warnings():
    # when
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    # then
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_schema_and_docs_are_served(client, django_user_model):
    # given: a signed-in user (tests run with DEBUG off, where the docs need authentication)
    client.force_login(django_user_model.objects.create_user(username="reader", password="pw-123456789"))
    # then
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_admin_is_titled_groupdesk(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b"Groupdesk" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["/api/v1/groups/not-a-number/", "/api/v1/no-such-resource/", "/api/v2/"])
def test_an_unknown_api_url_answers_json_404(admin_api, settings, debug, path):
    # With DEBUG (make run) Django answered its HTML debug page instead: handler404 serves only without DEBUG.
    # given
    settings.DEBUG = debug
    # when
    response = admin_api.get(path)
    # then
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_an_unknown_api_url_answers_json_404_to_a_session_write_without_csrf_token(superuser, method):
    # given: the admin session, as Swagger UI uses it, and no CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    # when
    response = getattr(client, method)("/api/v1/groups/null,null/", data="{}", content_type="application/json")
    # then
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_an_api_url_without_its_slash_still_redirects_to_it(admin_api):
    assert admin_api.get("/api/v1/groups")["Location"] == "/api/v1/groups/"


@pytest.mark.django_db
def test_options_answers_without_introspecting_serializers(admin_api):
    response = admin_api.options("/api/v1/pins/1/unpin/")
    assert response.status_code == 200
    assert response.json()["name"]


def test_every_operation_documents_the_error_body():
    # given
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    # then
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code in ("400", "401", "403", "404"):
                body = operation["responses"][code]["content"]["application/json"]["schema"]
                assert body == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, code)


def test_startup_refuses_the_sandbox_without_debug():
    # when: production settings, but the app told to trust the sandbox (whose secret is public)
    result = _run_python(DJANGO_SETUP, DEBUG="false", WHATSAPP_SANDBOX="true")
    # then
    assert result.returncode != 0
    assert "WHATSAPP_SANDBOX=true needs DEBUG=true" in result.stderr


@pytest.mark.parametrize("name", ["WHATSAPP_APP_SECRET", "WHATSAPP_APP_SECRET_PREVIOUS", "WHATSAPP_VERIFY_TOKEN"])
def test_startup_refuses_a_secret_shorter_than_16_characters(name):
    # when
    short = _run_python(DJANGO_SETUP, DEBUG="false", **{name: "fifteen-chars-x"})
    long_enough = _run_python(DJANGO_SETUP + "; print('ok')", DEBUG="false", **{name: "sixteen-chars-xy"})
    # then
    assert short.returncode != 0
    assert f"{name} is shorter than 16 characters" in short.stderr
    assert long_enough.returncode == 0, long_enough.stderr
