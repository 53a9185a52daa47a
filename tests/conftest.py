"""Fixtures shared by every test: users, API clients and Meta mocked at the HTTP layer."""

import os

import pytest
import responses
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.spec import sign

SERVICES_MARKERS = ("integration", "e2e")


def pytest_collection_modifyitems(config, items):
    """Leave out tests that need real services unless `make test-services` started them."""
    if os.environ.get("GROUPDESK_TEST_SERVICES"):
        return
    selected, deselected = [], []
    for item in items:
        (deselected if any(item.get_closest_marker(m) for m in SERVICES_MARKERS) else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(autouse=True)
def celery_eager_unless_integration(request):
    """Run tasks in-process, except in tests that need the real broker and worker.

    Under `make test-services` the broker is set, so the ordinary suite would otherwise
    queue tasks that no worker of its database runs.
    """
    from config.celery import app

    real = any(request.node.get_closest_marker(m) for m in SERVICES_MARKERS)
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = not real
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def clear_cache():
    """Start each test with empty throttle counters (the cache outlives the test's transaction), and with a
    process that has not seen a drain's wake flag yet."""
    from django.core.cache import cache

    from webhooks.services import _wake_flag_seen_at

    cache.clear()
    _wake_flag_seen_at.clear()
    yield


@pytest.fixture(autouse=True)
def graph():
    """Mock Meta's Graph API; any request no test registered raises, so nothing reaches the network."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="staff", password="staff-password-1", is_staff=True
    )


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser(username="admin", password="admin-password-1")


@pytest.fixture
def user_with_perms(django_user_model):
    """Return a factory of active users holding exactly the named permissions ("app.codename")."""

    def make(*perms: str, is_staff: bool = False, username: str = "agent"):
        user = django_user_model.objects.create_user(username=username, password="pw-123456789", is_staff=is_staff)
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        return django_user_model.objects.get(pk=user.pk)  # Fresh: permission cache empty.

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def admin_api(superuser):
    client = APIClient()
    client.force_authenticate(superuser)
    return client


@pytest.fixture
def post_webhook(client):
    """Post raw bytes to the webhook endpoint, signed as Meta would unless told otherwise."""

    def post(body: bytes, *, signature: str | None = None, headers: dict | None = None):
        extra = {"HTTP_X_HUB_SIGNATURE_256": signature if signature is not None else sign(body)}
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        return client.post("/webhooks/whatsapp/", data=body, content_type="application/json", **extra)

    return post


# --- Real processes (tests marked integration or e2e, under `make test-services`) ----------


@pytest.fixture(scope="session")
def sandbox_url(live_server):
    """Start the sandbox playing Meta, posting its webhooks to the live test server."""
    from django.conf import settings

    from tests.processes import free_port, start_sandbox, stop

    port = free_port()
    process = start_sandbox(
        port=port,
        webhook_url=f"{live_server.url}/webhooks/whatsapp/",
        access_token=settings.WHATSAPP_ACCESS_TOKEN,
        app_secret=settings.WHATSAPP_APP_SECRET,
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, sandbox_url):
    """Start a real worker on the real broker, sharing the test database and calling the sandbox."""
    from django.db import connection

    from tests.processes import start_worker, stop

    with django_db_blocker.unblock():
        db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DATABASE_CONN_MAX_AGE": "0",
        "WHATSAPP_API_BASE_URL": sandbox_url,
    }
    process = start_worker(env=env)
    yield process
    stop(process)
