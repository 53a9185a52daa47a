"""Retry a failed message from its page and from its bubble in the workspace: the messages list's action and its one
confirmation page (core.admin_confirm), leading back to where it was asked from."""

import pytest

from messaging.models import OutboundMessage
from tests.groups.factories import GroupFactory
from tests.messaging.factories import OutboundMessageFactory

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def failed():
    group = GroupFactory(subject="Parcels Leeds")
    OutboundMessageFactory(group=group, status=Status.READ, content={"body": "Delivered fine"})
    return OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026",
                                  content={"body": "Your parcel is late", "preview_url": False})


def _retry_forms(html: str) -> list[str]:
    return [chunk.split('"', 1)[0] for chunk in html.split('action="')[1:] if "/retry/" in chunk.split('"', 1)[0]]


def test_a_failed_bubble_in_the_workspace_retries_through_the_lists_confirmation(desk, failed,
                                                                                 django_capture_on_commit_callbacks):
    # given
    workspace = f"/admin/groups/group/{failed.group_id}/change/"
    retry_url = f"/admin/groups/group/{failed.group_id}/workspace/retry/{failed.pk}/"
    # when
    page = desk.get(workspace).content.decode()
    # then: the failed bubble offers "Retry…", the read one does not
    assert _retry_forms(page) == [retry_url]
    assert "Retry…" in page
    # when
    asked = desk.post(retry_url)
    # then: the list action's confirmation, pointed back at the workspace; nothing queued yet
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert "Retry this message?" in asked.text and 'name="action" value="retry_failed"' in asked.text
    assert f'href="{workspace}" class="button cancel-link"' in asked.text
    assert not OutboundMessage.objects.filter(retry_of=failed).exists()
    # when
    with django_capture_on_commit_callbacks(execute=False):
        done = desk.post(retry_url, {"post": "yes", "action": "retry_failed", "_selected_action": [failed.pk]},
                         follow=True)
    # then
    assert done.redirect_chain[-1][0] == f"{workspace}#workspace-conversation"
    assert OutboundMessage.objects.filter(retry_of=failed).count() == 1 and "Queued 1 retry." in done.text
    assert desk.get(retry_url).url == workspace


def test_a_failed_messages_page_retries_through_the_lists_confirmation(desk, failed,
                                                                       django_capture_on_commit_callbacks):
    # given
    page_url = f"/admin/messaging/outboundmessage/{failed.pk}/change/"
    retry_url = f"/admin/messaging/outboundmessage/{failed.pk}/retry/"
    read = OutboundMessage.objects.get(status=Status.READ)
    # when
    page = desk.get(page_url).content.decode()
    # then
    assert _retry_forms(page) == [retry_url]
    assert not _retry_forms(desk.get(f"/admin/messaging/outboundmessage/{read.pk}/change/").content.decode())
    # when
    asked = desk.post(retry_url)
    # then
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert "Retry this message?" in asked.text
    assert f'href="{page_url}" class="button cancel-link"' in asked.text
    assert not OutboundMessage.objects.filter(retry_of=failed).exists()
    # when
    with django_capture_on_commit_callbacks(execute=False):
        done = desk.post(retry_url, {"post": "yes", "action": "retry_failed", "_selected_action": [failed.pk]},
                         follow=True)
    # then: back on the failed message's page
    assert done.redirect_chain[-1][0] == page_url
    assert OutboundMessage.objects.filter(retry_of=failed).count() == 1 and "Queued 1 retry." in done.text


def test_retry_from_the_pages_needs_the_retry_permission(client, user_with_perms, failed):
    # given
    client.force_login(user_with_perms("groups.view_group", "messaging.view_outboundmessage", is_staff=True))
    # then
    assert not _retry_forms(client.get(f"/admin/messaging/outboundmessage/{failed.pk}/change/").content.decode())
    assert not _retry_forms(client.get(f"/admin/groups/group/{failed.group_id}/change/").content.decode())
    assert client.post(f"/admin/messaging/outboundmessage/{failed.pk}/retry/", {"post": "yes"}).status_code == 403
    workspace_retry = f"/admin/groups/group/{failed.group_id}/workspace/retry/{failed.pk}/"
    assert client.post(workspace_retry, {"post": "yes"}).status_code == 403
    assert not OutboundMessage.objects.filter(retry_of=failed).exists()
