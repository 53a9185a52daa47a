"""Staff pages carry a Content-Security-Policy (issue 16 §5): scripts and style blocks run only from our origin or
with the response's nonce. tests/e2e/test_csp.py shows in a browser that the pages break none of it."""

import re

import pytest

pytestmark = pytest.mark.django_db

STAFF_PAGES = ("/admin/", "/admin/dashboard/", "/admin/messaging/outboundmessage/compose/",
               "/admin/webhooks/webhookevent/", "/api/docs/")


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_carry_a_content_security_policy(client, superuser, path):
    # given
    client.force_login(superuser)
    # when
    response = client.get(path)
    # then: no inline script or eval without the nonce, no framing, no plugins
    assert response.status_code == 200
    directives = _directives(response)
    assert directives["default-src"] == "default-src 'self'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["object-src"] == "object-src 'none'"


@pytest.mark.parametrize("path", ["/admin/dashboard/", "/admin/messaging/outboundmessage/compose/", "/api/docs/"])
def test_inline_scripts_and_styles_carry_the_nonce_of_the_header(client, superuser, path):
    # given
    client.force_login(superuser)
    # when
    response = client.get(path)
    # then: every inline <script> and <style> of the page has the header's nonce
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    html = response.content.decode()
    inline = re.findall(r"<(script|style)(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline
    assert all(f'nonce="{nonce}"' in attributes for _tag, attributes in inline)


def test_the_login_page_carries_it_too(client):
    assert "default-src 'self'" in client.get("/admin/login/")["Content-Security-Policy"]
