"""Production settings pass Django's deployment checks; HTTPS, HSTS and cookies behave behind the proxy."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

ROOT = Path(__file__).resolve().parents[2]

# What docs/deployment.md tells an operator to set, with a real-looking secret key.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "groupdesk.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://groupdesk.example.com",
    "USE_X_FORWARDED_PROTO": "true",
    "USE_X_FORWARDED_FOR": "true",
    "WHATSAPP_ACCESS_TOKEN": "production-like-access-token-0123456789",
    "WHATSAPP_APP_SECRET": "production-like-app-secret-0123456789",
    "WHATSAPP_VERIFY_TOKEN": "production-like-verify-token-0123456789",
}
# Variables that would make the child differ from production; the rest of os.environ carries over.
UNSET = ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_COOKIES", "CACHE_URL")


def _run(args: list[str], **overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def _settings(*names: str, **overrides: str) -> dict:
    code = (
        "import django, json, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup();"
        f"from django.conf import settings; print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = _run(["-c", code], **overrides)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_production_settings():
    # when
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_when_https_cannot_be_told_apart():
    # given: production without the proxy header, so Django cannot redirect to HTTPS
    env = {**PRODUCTION_ENV, "USE_X_FORWARDED_PROTO": "false"}
    # when
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env)
    # then: the warning is not silenced
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_check_deploy_fails_with_a_short_secret_key():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                  **{**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_defaults():
    values = _settings("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                       "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
                       "SECURE_HSTS_PRELOAD", **PRODUCTION_ENV)
    assert values == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
    }


def test_the_proxy_header_is_trusted_only_when_configured():
    # when
    unset = _settings("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", **{**PRODUCTION_ENV,
                                                                           "USE_X_FORWARDED_PROTO": "false"})
    # then
    assert unset == {"SECURE_PROXY_SSL_HEADER": None, "SECURE_SSL_REDIRECT": False}


def test_hsts_options_come_from_the_environment():
    values = _settings("SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
                       **PRODUCTION_ENV, SECURE_HSTS_SECONDS="600", SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
                       SECURE_HSTS_PRELOAD="true")
    assert values == {"SECURE_HSTS_SECONDS": 600, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
                      "SECURE_HSTS_PRELOAD": True}


def test_development_sends_no_hsts():
    assert _settings("SECURE_HSTS_SECONDS", DEBUG="true")["SECURE_HSTS_SECONDS"] == 0


# --- The same, at the HTTP level (tests run with DEBUG off: production defaults) ----------------


def test_https_responses_carry_hsts_and_http_ones_do_not(client):
    # when
    secure = client.get("/healthz/", secure=True)
    plain = client.get("/healthz/")
    # then
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain


def test_a_forged_forwarded_proto_is_ignored_without_the_setting(client):
    response = client.get("/healthz/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response


@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"), SECURE_SSL_REDIRECT=True)
def test_behind_the_proxy_http_redirects_to_https_except_the_probes():
    # given: a fresh client, so the middleware reads the overridden settings
    client = Client()
    # when
    admin_http = client.get("/admin/login/")
    admin_https = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    probe = client.get("/healthz/")
    # then
    assert admin_http.status_code == 301
    assert admin_http["Location"].startswith("https://")
    assert admin_https.status_code == 200
    assert admin_https["Strict-Transport-Security"] == "max-age=31536000"
    assert probe.status_code == 200


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_secure_and_the_session_http_only(client, staff_user):
    # when
    page = client.get("/admin/login/")
    login = client.post("/admin/login/?next=/admin/", {"username": "staff", "password": "staff-password-1"},
                        secure=True)
    # then
    assert login.status_code == 302
    csrf = page.cookies["csrftoken"]
    session = login.cookies["sessionid"]
    assert csrf["secure"] and session["secure"]
    assert session["httponly"]
