"""Live regions (desk/live.py): a poll with an unchanged version costs a 204; a change gets the page with it."""

from datetime import UTC, datetime

import pytest
from django.contrib import messages as django_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from desk.live import VERSION_HEADER
from groups.models import Group
from messaging.events import StatusEvent
from messaging.models import Pin
from messaging.services import StatusItem, message_statuses_apply
from tests.groups.factories import GroupFactory
from tests.messaging.factories import OutboundMessageFactory, ParticipantFactory
from tests.messaging.pin_factories import PinFactory

pytestmark = pytest.mark.django_db

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MESSAGE_VIEWER = "messaging.view_outboundmessage"


def _poll(client, url: str, version: str):
    return client.get(url, headers={VERSION_HEADER: version})


def _version(response) -> str:
    return response.headers[VERSION_HEADER]


def _read_by(message, wa_id: str, *, second: int) -> None:
    event = StatusEvent(wamid=message.wamid, status="read", timestamp=AT.replace(second=second),
                        participant_wa_id=wa_id, participant_user_id=None)
    message_statuses_apply([StatusItem(event=event)])


@pytest.fixture
def message():
    message = OutboundMessageFactory(accepted=True)
    for wa_id in ("447700900001", "447700900002", "447700900003"):
        ParticipantFactory(group=message.group, wa_id=wa_id, user_id=None)
    return message


@pytest.fixture
def viewer(client, user_with_perms):
    client.force_login(user_with_perms(MESSAGE_VIEWER, "groups.view_group", "messaging.view_pin", is_staff=True))
    return client


def test_the_message_page_is_a_live_region_stamped_with_its_version(viewer, message):
    # when
    response = viewer.get(reverse("admin:messaging_outboundmessage_change", args=[message.pk]))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="live-fields" hx-get="/admin/messaging/outboundmessage/{message.pk}/change/"' in html
    assert f'data-live-version="{_version(response)}" data-live-merge="fields"' in html
    assert "django_htmx/htmx-2.min.js" in html and "groupdesk/live.js" in html


def test_a_message_page_poll_is_204_until_a_receipt_arrives_then_shows_it(viewer, message):
    # given
    url = reverse("admin:messaging_outboundmessage_change", args=[message.pk])
    version = _version(viewer.get(url))
    # when: nothing changed
    unchanged = _poll(viewer, url, version)
    # then: nothing to send
    assert (unchanged.status_code, unchanged.content) == (204, b"")
    # when: a participant reads it
    _read_by(message, "447700900002", second=5)
    changed = _poll(viewer, url, version)
    # then: the page, with the new count, and a new version
    assert changed.status_code == 200
    assert _version(changed) != version
    assert "read 1/3" in changed.content.decode()
    assert _poll(viewer, url, _version(changed)).status_code == 204


def test_a_message_page_poll_sees_a_members_name_learnt(viewer, message):
    # given
    url = reverse("admin:messaging_outboundmessage_change", args=[message.pk])
    version = _version(viewer.get(url))
    # when: the people's rows change (a name learnt), not the message's
    ParticipantFactory._meta.model.objects.filter(wa_id="447700900001").update(name="Alice", updated_at=timezone.now())
    # then
    assert _poll(viewer, url, version).status_code == 200


def test_the_messages_list_poll_is_204_until_a_row_on_the_page_changes(viewer, message):
    # given
    url = reverse("admin:messaging_outboundmessage_changelist") + "?type=text"
    page = viewer.get(url)
    version = _version_in_page(page.content.decode(), "live-rows")
    assert 'data-live-merge="rows"' in page.content.decode()
    # when / then
    assert _poll(viewer, url, version).status_code == 204
    _read_by(message, "447700900001", second=7)
    changed = _poll(viewer, url, version)
    assert changed.status_code == 200
    assert "1/3" in changed.content.decode()


def test_the_groups_list_shows_a_group_becoming_active_at_the_next_poll(viewer):
    # given
    group = GroupFactory(creating=True, subject="Order 48213")
    url = reverse("admin:groups_group_changelist")
    version = _version_in_page(viewer.get(url).content.decode(), "live-rows")
    assert _poll(viewer, url, version).status_code == 204
    # when
    Group.objects.filter(pk=group.pk).update(state=Group.State.ACTIVE, updated_at=AT)
    # then
    changed = _poll(viewer, url, version)
    assert changed.status_code == 200
    assert "Active" in changed.content.decode()


def test_the_pins_list_and_page_are_live(viewer):
    # given
    pin = PinFactory()
    list_url, page_url = reverse("admin:messaging_pin_changelist"), reverse("admin:messaging_pin_change", args=[pin.pk])
    list_version = _version_in_page(viewer.get(list_url).content.decode(), "live-rows")
    page_version = _version(viewer.get(page_url))
    # when
    Pin.objects.filter(pk=pin.pk).update(state=Pin.State.ACTIVE, updated_at=AT)
    # then
    assert _poll(viewer, list_url, list_version).status_code == 200
    assert _poll(viewer, page_url, page_version).status_code == 200


@pytest.mark.parametrize("perms, staff, expected", [
    ((), False, 302),  # not staff: the login page, which live.js takes as "stop"
    (("groups.view_group",), True, 403),  # staff, but may not see messages
])
def test_polls_need_a_staff_user_who_may_view_messages(client, user_with_perms, message, perms, staff, expected):
    # given
    client.force_login(user_with_perms(*perms, is_staff=staff))
    # when
    responses = [_poll(client, reverse("admin:messaging_outboundmessage_change", args=[message.pk]), "x"),
                 _poll(client, reverse("admin:messaging_outboundmessage_changelist"), "x")]
    # then
    assert [r.status_code for r in responses] == [expected, expected]
    assert all(VERSION_HEADER not in r.headers for r in responses)


def test_the_group_add_form_still_renders(client, superuser):
    # given
    client.force_login(superuser)
    # when
    response = client.get(reverse("admin:groups_group_add"))
    # then: no live region on a form for a row that does not exist yet
    assert response.status_code == 200
    assert "live-fields" not in response.content.decode()


def _version_in_page(html: str, region_id: str) -> str:
    start = html.index(f'id="{region_id}"')
    marker = 'data-live-version="'
    at = html.index(marker, start) + len(marker)
    return html[at:html.index('"', at)]


def test_the_dashboard_poll_is_204_until_a_message_changes(viewer, message, monkeypatch):
    # given: the clock stands still (the dashboard's version also moves each minute, for its ages)
    still = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: still)
    url = reverse("desk-dashboard") + "?period=24h"
    page = viewer.get(url)
    version = _version(page)
    assert f'id="content-main" class="desk-dashboard" hx-get="{url}"' in page.content.decode()
    assert _poll(viewer, url, version).status_code == 204
    # when
    _read_by(message, "447700900003", second=9)
    # then
    changed = _poll(viewer, url, version)
    assert changed.status_code == 200
    assert _version(changed) != version


def test_the_dashboard_poll_needs_the_dashboards_permission(client, user_with_perms):
    # given
    client.force_login(user_with_perms("groups.view_group", is_staff=True))
    # when
    response = _poll(client, reverse("desk-dashboard"), "x")
    # then
    assert response.status_code == 403


def test_a_poll_leaves_the_flash_message_for_the_page_it_is_meant_for(viewer, message):
    # given: "Queued 1 message." waits for the next page (another tab just sent one)
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(django_messages.SUCCESS, "Queued 1 message.")
    carrier = HttpResponse()
    storage.update(carrier)
    viewer.cookies["messages"] = carrier.cookies["messages"].value
    url = reverse("admin:messaging_outboundmessage_changelist")
    # when: a region of this tab polls and gets the whole page, then the other tab's page loads
    assert _poll(viewer, url, "an older version").status_code == 200
    page = viewer.get(url)
    # then
    assert "Queued 1 message." in page.content.decode()
