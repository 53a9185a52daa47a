"""The admin index and sidebar: the desk's pages first, then the WhatsApp sections, and access control under one
heading (desk.site.DeskAdminSite)."""

import re

import pytest

pytestmark = pytest.mark.django_db


def _section_names(html: str) -> list[str]:
    return re.findall(r'<caption>\s*<a href="[^"]*" class="section"[^>]*>([^<]+)</a>', html)


def _section_rows(html: str, name: str) -> list[str]:
    section = html.split(f'class="section" title="Models in the {name} application">{name}</a>', 1)[1]
    section = section.split("</table>", 1)[0]
    return re.findall(r'<th scope="row"[^>]*>\s*<a href="[^"]*"[^>]*>([^<]+)</a>', section)


def test_index_shows_the_desk_then_whatsapp_sections_then_access(client, superuser):
    # given
    client.force_login(superuser)
    # when
    html = client.get("/admin/").content.decode()
    # then
    assert _section_names(html) == ["Support desk", "WhatsApp groups", "Messages", "Webhooks", "Integrations",
                                      "Access"]
    assert _section_rows(html, "Support desk")[0] == "Dashboard"
    assert _section_rows(html, "WhatsApp groups")[0] == "Groups"
    assert _section_rows(html, "Messages")[:3] == ["Outbound messages", "Pins", "Inbound messages"]
    assert _section_rows(html, "Access") == ["Users", "Staff roles (user groups)", "Tokens", "Access attempts",
                                             "Access failures", "Access logs"]


def test_the_sidebar_has_the_same_order(client, superuser):
    # given
    client.force_login(superuser)
    # when
    html = client.get("/admin/groups/group/").content.decode()
    # then
    sidebar = html.split('id="nav-sidebar"', 1)[1]
    assert _section_names(sidebar)[:2] == ["Support desk", "WhatsApp groups"]
    assert _section_names(sidebar)[-1] == "Access"


@pytest.mark.parametrize("app_label", ["auth", "authtoken", "axes"])
def test_each_access_app_page_shows_the_whole_access_section(client, superuser, app_label):
    # given
    client.force_login(superuser)
    # when
    response = client.get(f"/admin/{app_label}/")
    # then
    assert response.status_code == 200
    main = response.content.decode().split('id="content-main"', 1)[1]
    assert _section_names(main) == ["Access"]
    assert {"Users", "Tokens", "Access attempts"} <= set(_section_rows(main, "Access"))


def test_agent_without_message_access_sees_no_desk_section(client, user_with_perms):
    # given
    agent = user_with_perms("groups.view_group", is_staff=True)
    client.force_login(agent)
    # when
    html = client.get("/admin/").content.decode()
    # then
    assert _section_names(html) == ["WhatsApp groups"]
