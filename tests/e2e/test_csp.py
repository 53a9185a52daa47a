"""In a real browser, the staff pages break nothing of their Content-Security-Policy (issue 16 §5)."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def staff_page(page: Page, live_server, django_user_model):
    """A page logged in as a superuser that records every CSP violation (console and event)."""
    django_user_model.objects.create_superuser(username="csp-admin", password="csp-password-123")
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "csp-admin")
    page.fill("#id_password", "csp-password-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.console_lines = console
    return page


def _violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations") + [
        line for line in page.console_lines if "Content Security Policy" in line]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", ["/admin/", "/admin/dashboard/", "/admin/messaging/outboundmessage/compose/"])
def test_staff_pages_have_no_csp_violation(staff_page: Page, live_server, path, scheme):
    # when: in the browser's colour scheme and with the admin's theme toggle set to it
    staff_page.emulate_media(color_scheme=scheme)
    staff_page.add_init_script(f"localStorage.setItem('theme', '{scheme}')")
    staff_page.goto(f"{live_server.url}{path}")
    staff_page.wait_for_load_state("networkidle")
    # then
    assert _violations(staff_page) == []


def test_the_compose_page_script_still_runs_under_the_policy(staff_page: Page, live_server):
    # when: the page's script (static/messaging/compose.js) shows only the fields of the chosen type
    staff_page.goto(f"{live_server.url}/admin/messaging/outboundmessage/compose/")
    staff_page.select_option("#id_type", "image")
    # then
    assert staff_page.locator(".compose-type[data-types~='image']").first.is_visible()
    assert not staff_page.locator(".compose-type[data-types='text']").first.is_visible()
    assert _violations(staff_page) == []


def test_the_group_workspace_runs_under_the_policy(staff_page: Page, live_server):
    # given
    from tests.groups.factories import GroupFactory

    group = GroupFactory(subject="CSP workspace")
    # when: the composer's type is changed and the invite link's copy button clicked
    staff_page.goto(f"{live_server.url}/admin/groups/group/{group.pk}/change/")
    staff_page.select_option("#id_type", "template")
    staff_page.locator("#workspace-header .copy-button").first.click()
    # then: both scripts ran (static files) and nothing was blocked
    assert staff_page.locator(".compose-type[data-types='template']").first.is_visible()
    assert not staff_page.locator(".compose-type[data-types='text']").first.is_visible()
    expect(staff_page.locator("#workspace-header .copy-button").first).to_have_text(re.compile(r"Copied|Press Ctrl"))
    assert _violations(staff_page) == []
