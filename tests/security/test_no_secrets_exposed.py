"""No token, app secret or verify token in logs, error pages or admin pages, whatever happens.

Logs are captured raw (every logger at DEBUG, by a handler that runs before the redaction filter
rewrites the record) for ordinary work, so the code itself never logs a secret; and through the
production handler (JSON formatter with redaction) for the cases only the filter can catch: a crash
whose message quotes a secret, Django logging a request whose query string holds the verify token.
"""

import io
import logging

import pytest
import requests
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from config.logging import JsonFormatter, RedactSecretsFilter
from messaging.models import OutboundMessage
from tests.groups.factories import GroupFactory, ParticipantFactory
from tests.spec import SPEC_G1, SPEC_PHONE_NUMBER_ID, graph_json, sign, webhook_body

pytestmark = pytest.mark.django_db

BASE = "https://graph.meta.test/v25.0"
PREVIOUS_SECRET = "previous-app-secret-0123456789"
SECRET_SETTINGS = ("WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_APP_SECRET_PREVIOUS",
                   "WHATSAPP_VERIFY_TOKEN")


@pytest.fixture
def secrets(settings) -> dict[str, str]:
    """Every secret, each set to a distinctive value (the previous app secret too, mid-rotation)."""
    settings.WHATSAPP_APP_SECRET_PREVIOUS = PREVIOUS_SECRET
    values = {name: getattr(settings, name) for name in SECRET_SETTINGS}
    assert all(len(value) >= 20 for value in values.values())
    return values


class _RawTexts(logging.Handler):
    """Keep every text of each record as emitted, before any filter of a later handler redacts it."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(record.getMessage())
        self.texts.extend(str(value) for key, value in vars(record).items() if key not in ("msg", "args"))
        if record.exc_info:
            self.texts.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def raw_log(caplog):
    """Every logger at DEBUG (the quiet ones included), captured raw by the first root handler."""
    caplog.set_level(logging.DEBUG)
    for name in ("django.db.backends", "urllib3", "celery.app.trace", "django.request", "django.security", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    handler = _RawTexts()
    root = logging.getLogger()
    root.handlers.insert(0, handler)  # Handlers run in order: this one sees records before redaction.
    yield handler
    root.removeHandler(handler)


@pytest.fixture
def production_log():
    """The root logger's output as production writes it: JSON lines through the redaction filter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecretsFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def _leaks(texts: list[str], secrets: dict[str, str]) -> list[tuple[str, str]]:
    return [(name, text[:300]) for text in texts for name, value in secrets.items() if value in text]


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode(errors="replace")


def _admin_pages() -> list[str]:
    """Every admin page without kwargs, and each registered model's change page for its first object."""
    pages = []

    def walk(patterns, prefix):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and "<" not in str(pattern.pattern):
                pages.append("/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    pages = [page for page in pages if page.startswith("/admin/") and not page.endswith(("logout/", "jsi18n/"))]
    for model in admin.site._registry:
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{first.pk}/change/")
    return pages


def _do_typical_work(client: Client, api, graph, secrets: dict[str, str], post_webhook) -> list:
    """Handshakes, webhooks (good, forged, rotated), Graph calls that work and fail, an admin session."""
    responses = []
    group = GroupFactory(spec_g1=True)
    for wa_id in ("16505551234", "447700900123", "5511987654321"):
        ParticipantFactory(group=group, wa_id=wa_id)
    verify = secrets["WHATSAPP_VERIFY_TOKEN"]
    hub = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    responses.append(client.get("/webhooks/whatsapp/", {**hub, "hub.verify_token": verify}))
    responses.append(client.get("/webhooks/whatsapp/", {**hub, "hub.verify_token": verify[:-1] + "x"}))

    body = webhook_body("messages.status_sent")
    responses.append(post_webhook(body, signature="sha256=" + "0" * 64))  # A bad signature.
    responses.append(post_webhook(body, signature=sign(body, secret=PREVIOUS_SECRET)))  # Mid-rotation.
    responses.append(post_webhook(webhook_body("messages.inbound_text")))
    responses.append(post_webhook(b"not json", signature=sign(b"not json")))

    # Graph calls: one refused with an expired token, one that cannot connect, one that works.
    graph.get(f"{BASE}/{SPEC_G1}/invite_link", status=401, json=graph_json("error.access_token_expired_190"))
    responses.append(api.get(f"/api/v1/groups/{group.pk}/invite-link/"))
    graph.post(f"{BASE}/{SPEC_G1}/invite_link", body=requests.ConnectionError("connection refused"))
    responses.append(api.post(f"/api/v1/groups/{group.pk}/invite-link/reset/"))
    graph.post(f"{BASE}/{SPEC_PHONE_NUMBER_ID}/messages", status=400, json=graph_json("error.bad_group_131020"))
    responses.append(api.post("/api/v1/messages/", {"group": group.pk, "type": "text", "text": {"body": "Hi"}},
                              format="json"))

    responses.append(client.get("/no/such/page/"))
    responses.append(client.get("/api/v1/no-such-endpoint/"))
    responses.append(client.post("/admin/login/?next=/admin/", {"username": "admin", "password": verify}))
    responses.append(client.post("/admin/login/?next=/admin/", {"username": "admin",
                                                                "password": "admin-password-1"}))
    return responses


def test_ordinary_work_never_shows_a_secret_in_logs_responses_or_admin_pages(
    client, admin_api, superuser, graph, secrets, post_webhook, raw_log, production_log,
    django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        responses = _do_typical_work(client, admin_api, graph, secrets, post_webhook)
    pages = {page: client.get(page) for page in _admin_pages()}
    assert OutboundMessage.objects.get().status == "failed"  # Meta refused the send.
    # then
    assert responses[0].content == b"1158201444"  # The handshake really was answered...
    assert [r.status_code for r in responses[1:4]] == [403, 403, 200]  # ...and the forgery refused.
    assert responses[-1].status_code == 302  # Signed in, so the admin pages below are the real ones.
    assert len(pages) > 15
    broken = {page: response.status_code for page, response in pages.items() if response.status_code >= 500}
    assert not broken
    bodies = [_body(r) for r in [*responses, *pages.values()]]
    bodies += [str(dict(r.items())) for r in [*responses, *pages.values()]]  # Headers too.
    assert not _leaks(bodies, secrets)
    assert len(raw_log.texts) > 50, "hardly anything was logged: the capture is broken"
    assert not _leaks(raw_log.texts, secrets)
    assert not _leaks([production_log.getvalue()], secrets)


def test_a_crash_quoting_a_secret_shows_a_plain_500_page_and_redacted_logs(
    admin_api, secrets, monkeypatch, raw_log, production_log
):
    # given: a bug that puts the token in an exception message
    from groups.api import views

    token = secrets["WHATSAPP_ACCESS_TOKEN"]

    def broken(**kwargs):
        raise RuntimeError(f"Graph said no to Authorization: Bearer {token}")

    monkeypatch.setattr(views.services, "group_invite_link_get", broken)
    group = GroupFactory()
    admin_api.raise_request_exception = False
    # when
    response = admin_api.get(f"/api/v1/groups/{group.pk}/invite-link/")
    # then
    assert response.status_code == 500
    assert token not in response.content.decode()
    assert b"RuntimeError" not in response.content  # DEBUG is off: no traceback page.
    logged = production_log.getvalue()
    assert "Graph said no" in logged  # The crash is logged...
    assert token not in logged  # ...with the token redacted,
    assert "[redacted]" in logged
    assert _leaks(raw_log.texts, secrets)  # which only the filter did.


def test_a_logged_request_whose_query_holds_the_verify_token_is_redacted(client, secrets, raw_log, production_log):
    # given: a handshake with the right token but not a subscription (refused, and logged with its request)
    token = secrets["WHATSAPP_VERIFY_TOKEN"]
    # when
    response = client.get("/webhooks/whatsapp/", {"hub.mode": "unsubscribe", "hub.verify_token": token,
                                                  "hub.challenge": "1"})
    # then
    assert response.status_code == 403
    assert token not in response.content.decode()
    assert _leaks(raw_log.texts, secrets)  # Django's own log line quotes the request, query string and all...
    assert token not in production_log.getvalue()  # ...and production output redacts it.
