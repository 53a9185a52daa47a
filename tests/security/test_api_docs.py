"""The OpenAPI schema and its docs page need a signed-in user in production (tests run with DEBUG off)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("/api/schema/", "/api/docs/")


@pytest.mark.parametrize("path", DOCS)
def test_anonymous_is_refused_with_401(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert b"Groupdesk API" not in response.content


@pytest.mark.parametrize("path", DOCS)
def test_a_wrong_token_is_refused(api_client, path):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api_client.get(path).status_code == 401


@pytest.mark.parametrize("path", DOCS)
def test_a_token_opens_them(api_client, user_with_perms, path):
    # given: any active user; the schema describes the API, each operation still checks its permission
    token = Token.objects.create(user=user_with_perms())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    # when
    response = api_client.get(path)
    # then
    assert response.status_code == 200


def test_the_admin_session_opens_the_docs_page(client, staff_user):
    # given
    client.post("/admin/login/", {"username": "staff", "password": "staff-password-1"})
    # when
    page = client.get("/api/docs/")
    schema = client.get("/api/schema/")
    # then
    assert page.status_code == 200
    assert b"swagger" in page.content.lower()
    assert schema.status_code == 200
    assert b"Groupdesk API" in schema.content


def test_in_development_they_are_open():
    # when
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
            "from django.conf import settings; print(settings.SPECTACULAR_SETTINGS['SERVE_PERMISSIONS'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "DEBUG": "true"},
                            capture_output=True, text=True, timeout=60)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['rest_framework.permissions.AllowAny']"
