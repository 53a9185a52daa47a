"""Browser tests: Debian's Chromium driven by Playwright against the live app, the sandbox and a worker."""

import os

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("GROUPDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def graph():
    """No HTTP mock here: the live server and the worker talk to the real sandbox."""
    yield None


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium (never a downloaded browser), for this module's tests only.

    Playwright's sync API runs an event loop in this thread while it is open, which makes Django
    refuse ORM calls here; the tests and the live server are synchronous, so allow them meanwhile.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def app_on_sandbox(settings, sandbox_url, celery_worker):
    """Point this process (the live server thread) at the sandbox too, as the worker already is."""
    settings.WHATSAPP_API_BASE_URL = sandbox_url
    return sandbox_url


@pytest.fixture
def admin_page(page, live_server, django_user_model, app_on_sandbox):
    """A page logged in to the admin as a superuser."""
    django_user_model.objects.create_superuser(username="e2e-admin", password="e2e-password-123")
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "e2e-admin")
    page.fill("#id_password", "e2e-password-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


@pytest.fixture
def logged_in(page, live_server, django_user_model):
    """A page at 1,400 px signed in as a superuser, and the user (no sandbox or worker: for pages that only read)."""
    user = django_user_model.objects.create_superuser(username="e2e-layout", password="e2e-password-123")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "e2e-layout")
    page.fill("#id_password", "e2e-password-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page, user
