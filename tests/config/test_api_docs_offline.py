"""/api/docs/ works with no internet: Swagger UI comes from the installed package, never a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db

ASSET_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def _docs_html(client, staff_user) -> str:
    client.force_login(staff_user)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_docs_page_names_no_other_host(client, staff_user):
    # when
    html = _docs_html(client, staff_user)
    # then: no absolute URL anywhere (attributes or inline script), so nothing loads from elsewhere
    assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, flags=re.IGNORECASE) == []
    assert "swagger-ui-bundle.js" in html


def test_every_asset_the_docs_page_loads_is_served_by_the_app(client, staff_user):
    # given
    assets = ASSET_REFERENCE.findall(_docs_html(client, staff_user))
    # when
    answers = {asset: client.get(asset).status_code for asset in assets}
    # then
    assert assets, "the page references its stylesheet and scripts"
    assert all(asset.startswith("/static/") for asset in assets), assets
    assert answers == dict.fromkeys(assets, 200)
