"""/api/docs/ in a real browser with every other host unreachable: Swagger UI comes from the app itself."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_with_the_network_to_other_hosts_blocked(page: Page, live_server, django_user_model):
    # given: a signed-in staff member, and a browser that can reach nothing but the app
    django_user_model.objects.create_user(username="docs-reader", password="docs-password-123", is_staff=True)
    app_host = urlsplit(live_server.url).netloc
    blocked: list[str] = []

    def only_the_app(route: Route) -> None:
        if urlsplit(route.request.url).netloc == app_host:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    page.goto(f"{live_server.url}/admin/login/?next=/api/docs/")
    page.fill("#id_username", "docs-reader")
    page.fill("#id_password", "docs-password-123")
    page.click("input[type=submit]")
    # when
    page.wait_for_url(f"{live_server.url}/api/docs/")
    # then: the operations list is drawn from the schema
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/groups/").first).to_be_visible()
    assert blocked == []
