"""Every admin page has the Groupdesk favicon, /favicon.ico answers, and no "View site" link leads to a 404."""

import re

import pytest

pytestmark = pytest.mark.django_db

FAVICON = "/static/groupdesk/favicon.svg"


def _icon_links(html: str) -> list[str]:
    return re.findall(r'<link rel="icon"[^>]*href="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/admin/login/", "/admin/", "/admin/groups/group/", "/admin/groups/group/add/",
                                  "/admin/dashboard/"])
def test_admin_pages_link_the_favicon(client, superuser, path):
    # given
    if path != "/admin/login/":
        client.force_login(superuser)
    # when
    response = client.get(path)
    # then
    assert response.status_code == 200
    assert _icon_links(response.content.decode()) == [FAVICON]


def test_the_favicon_is_served(client):
    # when
    response = client.get(FAVICON)
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")


def test_favicon_ico_leads_to_the_favicon_instead_of_a_404(client):
    # when
    response = client.get("/favicon.ico", follow=True)
    # then
    assert response.redirect_chain == [(FAVICON, 301)]
    assert response.status_code == 200


def test_the_admin_has_no_view_site_link(client, superuser):
    # given: there is no public site for it to lead to
    client.force_login(superuser)
    # when
    html = client.get("/admin/").content.decode()
    # then
    assert "View site" not in html
    assert 'href="/"' not in html
