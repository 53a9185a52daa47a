"""The group workspace's regions are live (desk/live_workspace.py): each poll is 204 until its own rows change."""

import re

import pytest
from django.utils import timezone

from desk.live import VERSION_HEADER
from groups.models import Group, GroupEvent, JoinRequest
from messaging.models import InboundMessage, OutboundMessage
from tests.groups.factories import GroupFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

REGIONS = ("header", "conversation", "members", "timeline")


def _region_url(group: Group, region: str) -> str:
    return f"/admin/groups/group/{group.pk}/workspace/{region}/"


def _versions(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="workspace-(\w+)"[^>]* data-live-version="([^"]+)" data-live-merge="swap"', html))


@pytest.fixture
def viewer(client, user_with_perms):
    client.force_login(user_with_perms("groups.view_group", "messaging.view_outboundmessage", is_staff=True))
    return client


@pytest.fixture
def group():
    group = GroupFactory(subject="Parcels Leeds")
    ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel")
    OutboundMessageFactory(group=group, accepted=True, recipient_count=1)
    return group


def _becomes_active_and_suspended(group):
    Group.objects.filter(pk=group.pk).update(suspended=True, updated_at=timezone.now())


def _a_message_is_read(group):
    OutboundMessage.objects.filter(group=group).update(status="read", read_count=1, updated_at=timezone.now())


def _someone_writes(group):
    InboundMessage.objects.create(group=group, wamid="wamid.LIVE-INBOUND", from_wa_id="16505551234", type="text",
                                  text="Hello", content={}, timestamp=timezone.now())


def _someone_asks_to_join(group):
    JoinRequestFactory(group=group, state=JoinRequest.State.PENDING, wa_id="447700900555")


def _a_timeline_entry(group):
    GroupEvent.objects.create(group=group, type=GroupEvent.Type.CREATED, occurred_at=timezone.now(),
                              source="webhook")


@pytest.mark.parametrize("region, change, shows", [
    ("header", _becomes_active_and_suspended, "Suspended"),
    ("conversation", _a_message_is_read, "read 1/1"),
    ("conversation", _someone_writes, "Hello"),
    ("members", _someone_asks_to_join, "447700900555"),
    ("timeline", _a_timeline_entry, "Meta created the group"),
])
def test_a_region_poll_is_204_until_its_rows_change_then_the_region(viewer, group, region, change, shows):
    # given: the workspace, its four regions stamped with their versions
    versions = _versions(viewer.get(f"/admin/groups/group/{group.pk}/change/").text)
    assert set(versions) == set(REGIONS)
    url = _region_url(group, region)
    assert f'hx-get="{url}"' in viewer.get(f"/admin/groups/group/{group.pk}/change/").text
    unchanged = viewer.get(url, headers={VERSION_HEADER: versions[region]})
    assert (unchanged.status_code, unchanged.content) == (204, b"")
    # when
    change(group)
    # then
    changed = viewer.get(url, headers={VERSION_HEADER: versions[region]})
    assert changed.status_code == 200
    assert changed.headers[VERSION_HEADER] != versions[region]
    assert shows in changed.text


def test_a_region_poll_stays_204_when_another_regions_rows_change(viewer, group):
    # given
    versions = _versions(viewer.get(f"/admin/groups/group/{group.pk}/change/").text)
    # when: only the conversation's rows change
    _someone_writes(group)
    # then: the members and the timeline are not sent again
    for region in ("members", "timeline"):
        assert viewer.get(_region_url(group, region), headers={VERSION_HEADER: versions[region]}).status_code == 204


def test_a_region_poll_needs_the_group_view_permission(client, user_with_perms, group):
    # given
    client.force_login(user_with_perms("messaging.view_outboundmessage", is_staff=True))
    # when
    response = client.get(_region_url(group, "header"), headers={VERSION_HEADER: "x"})
    # then
    assert response.status_code == 403
    assert VERSION_HEADER not in response.headers
