"""The webhook endpoint: handshake, signature, store-first, size limits (CONTRACT §4)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.spec import sign, webhook_body, webhook_names
from webhooks.models import WebhookEvent
from webhooks.services import webhook_event_record

ROOT = Path(__file__).resolve().parents[2]
URL = "/webhooks/whatsapp/"
MIB = 1024 * 1024


# --- Handshake ---------------------------------------------------------------


def test_handshake_echoes_the_challenge_as_plain_text(client, settings):
    # when
    params = {"hub.mode": "subscribe", "hub.verify_token": settings.WHATSAPP_VERIFY_TOKEN, "hub.challenge": "11582"}
    response = client.get(URL, params)
    # then
    assert response.status_code == 200
    assert response.content == b"11582"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong-token", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token-0123456789", "hub.challenge": "1"},
        {"hub.verify_token": "test-verify-token-0123456789", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token-0123456789"},
        {},
    ],
    ids=["wrong-token", "wrong-mode", "no-mode", "no-token", "no-challenge", "nothing"],
)
def test_handshake_refuses_anything_else(client, params):
    assert client.get(URL, params).status_code == 403


@override_settings(WHATSAPP_VERIFY_TOKEN="")
def test_handshake_refuses_an_empty_token_when_none_is_configured(client):
    assert client.get(URL, {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 403


def test_other_methods_are_not_allowed(client):
    assert client.put(URL, data=b"{}", content_type="application/json").status_code == 405


# --- Signature ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", webhook_names())
def test_every_spec_sample_is_accepted_and_stored(post_webhook, name):
    # given
    body = webhook_body(name)
    # when
    response = post_webhook(body)
    # then
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert event.attempts == 1  # Processed in-process: no broker in tests.
    if event.state == WebhookEvent.State.PENDING:  # Alone, an item about an unknown group waits for it.
        assert event.item_counts["deferred"] > 0
    assert event.fields == [json.loads(body)["entry"][0]["changes"][0]["field"]]
    assert event.headers["X-Hub-Signature-256"] == sign(body)


@pytest.mark.django_db
def test_a_tampered_byte_is_refused_and_nothing_is_stored(post_webhook):
    # given
    body = webhook_body("messages.status_sent")
    signature = sign(body)
    tampered = body.replace(b'"sent"', b'"read"')
    # when
    response = post_webhook(tampered, signature=signature)
    # then
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature",
    [
        "",
        sign(webhook_body("messages.status_sent"), secret="some-other-secret"),
        "sha1=" + sign(webhook_body("messages.status_sent"))[7:],
        "sha256=not-hex",
        "sha256=é",
    ],
    ids=["empty", "wrong-secret", "wrong-scheme", "garbage", "non-ascii"],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(post_webhook, signature):
    # when
    response = post_webhook(webhook_body("messages.status_sent"), signature=signature)
    # then
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_missing_signature_header_is_refused(client):
    # when
    response = client.post(URL, data=webhook_body("messages.status_sent"), content_type="application/json")
    # then
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_a_refused_signature_is_logged_without_the_body(post_webhook, caplog):
    # when
    post_webhook(webhook_body("messages.inbound_text"), signature="sha256=00")
    # then
    assert "webhook signature rejected" in caplog.text
    assert all("Hello" not in record.getMessage() for record in caplog.records)
    assert "entry" not in caplog.text


@pytest.mark.django_db
@override_settings(WHATSAPP_APP_SECRET="the-new-secret-123", WHATSAPP_APP_SECRET_PREVIOUS="the-old-secret-123")
def test_during_a_rotation_both_secrets_are_accepted(post_webhook):
    # given
    old = webhook_body("messages.status_sent")
    new = webhook_body("messages.status_failed")
    # when
    responses = [
        post_webhook(old, signature=sign(old, secret="the-old-secret-123")),
        post_webhook(new, signature=sign(new, secret="the-new-secret-123")),
    ]
    # then
    assert [r.status_code for r in responses] == [200, 200]
    assert WebhookEvent.objects.count() == 2


@pytest.mark.django_db
@override_settings(WHATSAPP_APP_SECRET="")
def test_an_unconfigured_secret_accepts_nothing(post_webhook):
    body = webhook_body("messages.status_sent")
    assert post_webhook(body, signature=sign(body, secret="")).status_code == 403


# --- Store first -------------------------------------------------------------


@pytest.mark.django_db
def test_an_identical_redelivery_is_one_event(post_webhook):
    # given
    body = webhook_body("messages.status_delivered_single")
    # when
    first, second = post_webhook(body), post_webhook(body)
    # then
    assert (first.status_code, second.status_code) == (200, 200)
    event = WebhookEvent.objects.get()
    assert event.deliveries == 2
    assert event.attempts == 1


@pytest.mark.django_db
def test_a_recorded_event_is_the_row_save_would_store():
    # given: the endpoint's INSERT writes a few columns; the database's defaults must give the rest as save() does
    headers = {"X-Hub-Signature-256": "sha256=ab", "User-Agent": "facebookexternalua", "Content-Type": ""}
    recorded, created = webhook_event_record(body=b'{"a": 1}', headers=headers)
    saved = WebhookEvent(received_at=recorded.received_at, body=b'{"b": 2}', sha256="0" * 64, headers=recorded.headers)
    saved.save()

    def row(pk: int) -> dict:
        values = WebhookEvent.objects.filter(pk=pk).values().get()
        own = {"id", "body", "sha256", "created_at", "updated_at"}
        return {name: value for name, value in values.items() if name not in own}

    # then
    assert created
    assert row(recorded.pk) == row(saved.pk)
    assert row(recorded.pk)["headers"] == {"X-Hub-Signature-256": "sha256=ab", "User-Agent": "facebookexternalua"}
    assert WebhookEvent.objects.get(pk=recorded.pk).created_at >= recorded.received_at
    # The object returned holds what was stored, as after save().
    stored = WebhookEvent.objects.get(pk=recorded.pk)
    for field in WebhookEvent._meta.concrete_fields:
        if field.name != "body":
            assert getattr(recorded, field.attname) == getattr(stored, field.attname), field.name


@pytest.mark.django_db
def test_a_signed_body_that_is_not_json_is_stored_failed_and_answered_400(post_webhook):
    # given
    body = b"this is not json {"
    # when
    response = post_webhook(body)
    # then
    assert response.status_code == 400
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body
    assert event.state == WebhookEvent.State.FAILED
    assert "not JSON" in event.error


@pytest.mark.django_db
def test_a_signed_body_that_is_not_utf8_is_stored_failed(post_webhook):
    body = b"\xff\xfe\x00garbage"
    assert post_webhook(body).status_code == 400
    assert WebhookEvent.objects.get().state == WebhookEvent.State.FAILED


def _json_body_of(size: int) -> bytes:
    head = b'{"object": "whatsapp_business_account", "entry": [], "padding": "'
    tail = b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.django_db
def test_a_3_mib_body_is_accepted(post_webhook):
    # given
    body = _json_body_of(3 * MIB)
    # when
    response = post_webhook(body)
    # then
    assert response.status_code == 200
    assert len(bytes(WebhookEvent.objects.get().body)) == 3 * MIB


@pytest.mark.django_db
def test_a_4_mib_body_is_refused_with_413_and_not_stored(post_webhook):
    # when
    response = post_webhook(_json_body_of(4 * MIB))
    # then
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_database_unavailable_answers_5xx_so_meta_retries(tmp_path):
    # given: a database that cannot be opened, in a fresh process
    body = webhook_body("messages.status_sent").decode()
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); django.setup()\n"
        "from django.test import Client\n"
        "from tests.spec import sign\n"
        f"body = {body!r}.encode()\n"
        "r = Client().post('/webhooks/whatsapp/', data=body, content_type='application/json',"
        " HTTP_X_HUB_SIGNATURE_256=sign(body), HTTP_HOST='localhost')\n"
        "print(r.status_code)\n"
    )
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/missing/db.sqlite3"}
    # when
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    # then
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "503"
