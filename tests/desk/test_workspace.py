"""The group workspace (the group's admin page): each region's content, its fragments, permissions, query bound."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import Group, GroupEvent, GroupOperation, JoinRequest, Participant
from messaging.models import InboundMessage, MessageReceipt, OutboundMessage, Pin
from tests.groups.factories import GroupFactory, GroupOperationFactory, JoinRequestFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory
from tests.spec import SPEC_G3, graph_json

BASE = "https://graph.meta.test/v25.0"

pytestmark = pytest.mark.django_db

Status = OutboundMessage.Status


def page_of(group: Group) -> str:
    return f"/admin/groups/group/{group.pk}/change/"


def region_of(group: Group, region: str) -> str:
    return f"/admin/groups/group/{group.pk}/workspace/{region}/"


def assert_nothing_raw(html: str) -> None:
    """No Python dict or JSON object on the page (inline style/script excluded: there is none)."""
    assert "{'" not in html and '{"' not in html, re.findall(r".{60}\{['\"].{60}", html)


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def group():
    """An active group of three people (one left), with a read message, an inbound photo and a template."""
    group = GroupFactory(subject="Parcels Leeds", participant_count=2, group_id="Y2FwaV9ncm91cDpMRUVEUzEyMzQ1Njc4OQ")
    now = timezone.now()
    maya = ParticipantFactory(group=group, wa_id="16505551234", name="Maya Patel", joined_at=now - timedelta(days=2))
    oliver = ParticipantFactory(group=group, wa_id="447700900123", name="Oliver Grant",
                                joined_at=now - timedelta(days=2))
    ParticipantFactory(group=group, wa_id=None, user_id="US.1349120865530274", state=Participant.State.LEFT,
                       joined_at=now - timedelta(days=3), left_at=now - timedelta(days=1))
    read = OutboundMessageFactory(
        group=group, content={"body": "Your parcel left the depot", "preview_url": False}, status=Status.READ,
        wamid="wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1QjJGRkQ2RTk2QjY3QTQ1MzQA", recipient_count=2, delivered_count=2,
        read_count=1, accepted_at=now - timedelta(hours=1),
    )
    OutboundMessage.objects.filter(pk=read.pk).update(created_at=now - timedelta(hours=1))
    for person, read_at in ((maya, now), (oliver, None)):
        MessageReceipt.objects.create(message=read, participant=person, participant_key=f"wa:{person.wa_id}",
                                      participant_wa_id=person.wa_id, delivered_at=now, read_at=read_at)
    InboundMessage.objects.create(
        group=group, wamid="wamid.INBOUNDPHOTO1", participant=maya, from_wa_id="16505551234", type="image",
        text="The box is damaged", content={"id": "1234567890123456", "mime_type": "image/jpeg"},
        timestamp=now - timedelta(minutes=30),
    )
    OutboundMessageFactory(
        group=group, type="template", status=Status.QUEUED,
        content={"name": "delivery_update", "language": {"code": "en_US"},
                 "components": [{"type": "body", "parameters": [{"type": "text", "text": "Maya"}]}]},
    )
    return group


# --- Regions ----------------------------------------------------------------------------------------------------


def test_header_shows_subject_state_members_and_the_invite_link_to_copy(desk, group):
    html = desk.get(page_of(group)).text
    header = html.split('id="workspace-header"', 1)[1].split("</section>", 1)[0]
    assert "Parcels Leeds" in header and 'id="group-state">Active<' in header
    assert ">2/8<" in header
    assert 'data-copy="https://chat.whatsapp.com/OldLink123"' in header
    assert "suspended-banner" not in header  # Only when suspended.
    assert 'title="Y2FwaV9ncm91cDpMRUVEUzEyMzQ1Njc4OQ"' in header  # The group id shortened, whole on hover.
    assert_nothing_raw(html)


def test_header_of_a_suspended_group_has_the_banner_and_no_composer(desk, group):
    Group.objects.filter(pk=group.pk).update(suspended=True)
    html = desk.get(page_of(group)).text
    assert 'id="suspended-banner"' in html
    assert 'id="compose-form"' not in html and "cannot receive messages while it is suspended" in html


def test_conversation_shows_bubbles_in_time_order_with_senders_receipts_and_who_has_not_read(desk, group):
    html = desk.get(page_of(group)).text
    conversation = html.split('id="workspace-conversation"', 1)[1].split("</section>", 1)[0]
    # ours, then the participant's photo, then the queued template: time order
    positions = [conversation.index(text) for text in ("Your parcel left the depot", "The box is damaged",
                                                        "delivery_update")]
    assert positions == sorted(positions)
    assert "delivered 2/2, read 1/2" in conversation
    not_read = conversation.split('class="ws-not-read"', 1)[1].split("</div>", 1)[0]
    assert "Oliver Grant" in not_read and "Maya Patel" not in not_read
    assert "US.1349120865530274" not in not_read  # Left before it was sent: never got it.
    photo = conversation.split('class="ws-card ws-card-image"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Image" in photo and "image/jpeg" in photo
    assert '<span class="person-name">Maya Patel</span> <span class="person-id">+16505551234</span>' in conversation
    assert "Template" in conversation and "Body: Maya" in conversation
    read = OutboundMessage.objects.get(status=Status.READ)
    assert f'href="/admin/messaging/outboundmessage/{read.pk}/change/"' in conversation
    assert "<time datetime=" in conversation and "ago" in conversation
    assert_nothing_raw(html)


def test_conversation_shows_current_pins_on_top_with_time_left_and_an_unpin(desk, group):
    message = OutboundMessage.objects.get(status=Status.READ)
    now = timezone.now()
    PinFactory(group=group, message_id=message.wamid, target_message=message, state=Pin.State.ACTIVE,
               pinned_at=now, expires_at=now + timedelta(days=7))
    PinFactory(group=group, message_id="wamid.OLDPIN", state=Pin.State.EXPIRED)
    html = desk.get(page_of(group)).text
    pins = html.split('id="workspace-pins"', 1)[1].split("</div>", 1)[0]
    assert "Current pins" in html and "Your parcel left the depot" in pins and "6\xa0days" in pins
    assert "Unpin…" in pins and "wamid.OLDPIN" not in html
    bubble = html.split(f'id="bubble-out-{message.pk}"', 1)[1].split("</li>", 1)[0]
    assert "Pinned, 6\xa0days" in bubble and "Unpin…" in bubble and "Pin…" not in bubble


def test_conversation_shows_the_newest_fifty_and_links_older(desk, group):
    start = timezone.now() - timedelta(days=1)
    for n in range(55):
        message = OutboundMessageFactory(group=group, content={"body": f"Update number {n:02d}"})
        OutboundMessage.objects.filter(pk=message.pk).update(created_at=start + timedelta(minutes=n))
    html = desk.get(page_of(group)).text
    # the newest 50: the fixture's 3 (an hour old), then 54 down to 08
    assert "Update number 54" in html and "Update number 08" in html and "Update number 07" not in html
    older = re.search(r'href="(\?before=[^"#]+)#workspace-conversation" id="older-messages"', html).group(1)
    older_page = desk.get(page_of(group) + older.replace("&amp;", "&")).text
    assert "Update number 00" in older_page and "Update number 07" in older_page
    assert "Update number 08" not in older_page
    assert 'id="newest-messages"' in older_page
    region_url = re.search(r'id="workspace-conversation" data-region="conversation" data-region-url="([^"]+)"',
                           older_page).group(1).replace("&amp;", "&")
    refreshed = desk.get(region_url).text  # A live refresh of the older page stays on it.
    assert "Update number 07" in refreshed and "Update number 54" not in refreshed


def test_a_failed_message_says_its_error_and_links_the_catalog(desk, group):
    OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026",
                           error={"code": 131026, "title": "Message undeliverable"}, failed_at=timezone.now())
    conversation = desk.get(region_of(group, "conversation")).text
    assert 'href="/admin/messaging/outboundmessage/error-codes/#code-131026"' in conversation
    assert ">Failed<" in conversation and "131026</a> Message undeliverable" in conversation


def test_members_show_names_first_state_and_join_requests_to_decide(desk, group):
    JoinRequestFactory(group=group, join_request_id="JRVISIBLE01", wa_id="5511987654321", username="lucas")
    html = desk.get(page_of(group)).text
    members = html.split('id="workspace-members"', 1)[1].split("</section>", 1)[0]
    assert members.index("Maya Patel") < members.index("US.1349120865530274")  # Active first.
    assert "Left" in members and "joined" in members
    assert "lucas" in members and "+5511987654321" in members and "1 waiting" in members
    assert "Approve…" in members and "Reject…" in members
    assert_nothing_raw(html)


def test_operations_and_timeline_read_as_sentences(desk, group, superuser):
    superuser.first_name, superuser.last_name = "Alice", "Moreau"
    superuser.save()
    GroupOperation.objects.create(
        group=group, kind=GroupOperation.Kind.REMOVE_PARTICIPANTS, state=GroupOperation.State.PARTIALLY_FAILED,
        request_id="REQ-5f0c2e1d9a8b7c6d5e4f3a2b1c0d", requested_by=superuser, source="admin",
        requested={"participants": ["16505551234", "13105550000"]},
        outcome={"participants": {"16505551234": {"removed": True},
                                  "13105550000": {"removed": False, "errors": [{"code": 131212, "title": "x"}]}}},
    )
    GroupEvent.objects.create(group=group, type="participant_joined", source="webhook", occurred_at=timezone.now(),
                              detail={"wa_id": "447700900123", "user_id": None, "reason": "invite_link"})
    GroupEvent.objects.create(group=group, type="remove_failed", source="webhook", occurred_at=timezone.now(),
                              detail={"failed": {"13105550000": {"removed": False, "errors": [{"code": 131212}]}},
                                      "errors": [], "operation": 1})
    ParticipantFactory(group=group, wa_id=None, user_id="US.CHILD1", parent_user_id="US.PARENT1", name="Lucas Silva",
                       state=Participant.State.REMOVED)
    GroupEvent.objects.create(group=group, type="participant_removed", source="webhook", occurred_at=timezone.now(),
                              detail={"wa_id": None, "user_id": None, "parent_user_id": "US.PARENT1"})
    html = desk.get(page_of(group)).text
    timeline = html.split('id="workspace-timeline"', 1)[1].split("</section>", 1)[0]
    assert "Lucas Silva was removed." in timeline  # Named by the parent BSUID the item gave.
    assert "Alice Moreau removed 2 people (Maya Patel and +13105550000): 1 removed, 1 failed (+13105550000: " \
           "Meta error 131212" in timeline
    assert 'title="REQ-5f0c2e1d9a8b7c6d5e4f3a2b1c0d"' in timeline
    assert "Oliver Grant joined through the invite link." in timeline
    assert "Meta could not remove +13105550000 (Meta error 131212" in timeline
    assert_nothing_raw(html)


# --- Fragments, permissions, queries ----------------------------------------------------------------------------


@pytest.mark.parametrize("region,shows", [("header", "Parcels Leeds"), ("conversation", "Your parcel left the depot"),
                                          ("members", "Oliver Grant"), ("timeline", "Operations")])
def test_each_region_is_served_alone(desk, group, region, shows):
    response = desk.get(region_of(group, region))
    assert response.status_code == 200
    assert shows in response.text and "<html" not in response.text
    assert f'id="workspace-{region}"' in response.text


def test_unknown_region_group_or_cursor_is_handled(desk, group):
    assert desk.get(region_of(group, "secrets")).status_code == 404
    assert desk.get("/admin/groups/group/abc/change/").status_code == 404
    assert desk.get("/admin/groups/group/999999/change/").status_code == 404
    assert desk.get(page_of(group) + "?before=yesterday").status_code == 200  # Not a time: the newest page.


def test_workspace_needs_the_view_group_permission(client, user_with_perms, group):
    client.force_login(user_with_perms("messaging.view_outboundmessage", is_staff=True))
    assert client.get(page_of(group)).status_code == 403
    assert client.get(region_of(group, "conversation")).status_code == 403


def test_a_viewer_sees_but_cannot_send_pin_or_decide(client, user_with_perms, group):
    JoinRequestFactory(group=group)
    client.force_login(user_with_perms("groups.view_group", "messaging.view_outboundmessage", is_staff=True))
    html = client.get(page_of(group)).text
    assert "Your parcel left the depot" in html
    assert 'id="compose-form"' not in html and "Pin…" not in html and "Approve…" not in html
    assert "Edit settings" not in html
    sent = client.post(f"/admin/groups/group/{group.pk}/workspace/send/", {"type": "text", "body": "Hi",
                                                                          "_send": "1"})
    assert sent.status_code == 403 and OutboundMessage.objects.filter(content__body="Hi").count() == 0


def test_without_the_messages_permission_the_conversation_is_hidden(client, user_with_perms, group):
    client.force_login(user_with_perms("groups.view_group", is_staff=True))
    html = client.get(page_of(group)).text
    assert "Your parcel left the depot" not in html and "You may not see this group's messages" in html


def _many_messages(group: Group, count: int) -> None:
    people = list(group.participants.filter(state=Participant.State.ACTIVE))
    for n in range(count):
        message = OutboundMessageFactory(group=group, status=Status.DELIVERED, wamid=f"wamid.MANY{n:05d}",
                                         recipient_count=2, delivered_count=2, accepted_at=timezone.now())
        for person in people:
            MessageReceipt.objects.create(message=message, participant=person, participant_key=f"wa:{person.wa_id}",
                                          participant_wa_id=person.wa_id, delivered_at=timezone.now())
        InboundMessage.objects.create(group=group, wamid=f"wamid.IN{n:05d}", participant=people[0], type="text",
                                      from_wa_id=people[0].wa_id, text=f"Reply {n}", timestamp=timezone.now())
        GroupEvent.objects.create(group=group, type="participant_joined", source="webhook",
                                  occurred_at=timezone.now(), detail={"wa_id": people[0].wa_id})
        GroupOperationFactory(group=group, requested_by=None)
        JoinRequestFactory(group=group)


def test_the_page_makes_the_same_few_queries_for_three_messages_or_a_hundred(desk, group,
                                                                            django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        desk.get(page_of(group))
    _many_messages(group, 100)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = desk.get(page_of(group))
    assert response.status_code == 200 and "Reply 99" in response.text
    assert len(few.captured_queries) <= 12  # Session, user, group, then one per kind of row.


# --- Actions from the workspace -------------------------------------------------------------------------------


def test_compose_in_place_previews_then_sends_to_this_group_only(desk, group, django_capture_on_commit_callbacks):
    other = GroupFactory(subject="Another group")
    url = f"/admin/groups/group/{group.pk}/workspace/send/"
    form = {"type": "text", "body": "Van arrives at 3pm", "token": "tok-1", "groups": [other.pk]}
    preview = desk.post(url, {**form, "_preview": "Preview"})
    assert preview.status_code == 200 and 'id="compose-preview"' in preview.text
    assert 'id="compose-send"' in preview.text
    assert not OutboundMessage.objects.filter(content__body="Van arrives at 3pm").exists()
    sent = desk.post(url, {**form, "_send": "Send"}, follow=True)
    assert sent.redirect_chain[-1][0] == f"/admin/groups/group/{group.pk}/change/#workspace-compose"
    message = OutboundMessage.objects.get(content__body="Van arrives at 3pm")
    assert message.group == group and message.source == "admin"
    assert "Queued 1 message" in sent.text and "Van arrives at 3pm" in sent.text
    desk.post(url, {**form, "_send": "Send"})  # A double submit sends once.
    assert OutboundMessage.objects.filter(content__body="Van arrives at 3pm").count() == 1


def test_compose_in_place_shows_the_form_errors(desk, group):
    response = desk.post(f"/admin/groups/group/{group.pk}/workspace/send/", {"type": "image", "_preview": "1"})
    assert response.status_code == 200 and "Give exactly one of" in response.text
    assert 'id="compose-preview"' not in response.text


def test_pin_from_the_workspace_uses_the_pin_confirmation(desk, group, django_capture_on_commit_callbacks):
    message = OutboundMessage.objects.get(status=Status.READ)
    url = f"/admin/groups/group/{group.pk}/workspace/pin/out/{message.pk}/"
    asked = desk.post(url)
    assert asked.status_code == 200 and 'name="expiration_days"' in asked.text and not Pin.objects.exists()
    assert f'data-copy="{message.wamid}"' in asked.text and f">{message.wamid}<" not in asked.text  # Shortened.
    with django_capture_on_commit_callbacks(execute=False):
        done = desk.post(url, {"post": "yes", "expiration_days": 7}, follow=True)
    assert done.redirect_chain[-1][0].endswith(f"/groups/group/{group.pk}/change/#workspace-conversation")
    pin = Pin.objects.get()
    assert pin.message_id == message.wamid and pin.expiration_days == 7 and "Queued 1 pin" in done.text


def test_unpin_asks_on_the_one_confirmation_page_then_calls_the_service(desk, group,
                                                                         django_capture_on_commit_callbacks):
    # given
    message = OutboundMessage.objects.get(status=Status.READ)
    now = timezone.now()
    pin = PinFactory(group=group, message_id=message.wamid, target_message=message, state=Pin.State.ACTIVE,
                     pinned_at=now, expires_at=now + timedelta(days=7))
    unpin_url = f"/admin/groups/group/{group.pk}/workspace/unpin/{pin.pk}/"
    # when
    asked = desk.post(unpin_url)
    # then: the pins admin's confirmation, saying what cannot be undone, leading back to the workspace
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert "Unpin this message?" in asked.text and 'name="post" value="yes"' in asked.text
    irreversible = asked.text.split('id="confirm-irreversible"', 1)[1].split("</p>", 1)[0]
    assert "the time left on each pin is lost" in irreversible
    listed = r"<li>“Your parcel left the depot” in Parcels Leeds, 6\xa0days, \d+\xa0hours left</li>"
    assert re.search(listed, asked.text)
    assert f'href="{page_of(group)}">Parcels Leeds</a>' in asked.text
    assert f'href="{page_of(group)}" class="button cancel-link"' in asked.text
    pin.refresh_from_db()
    assert pin.unpin_message_id is None
    # when
    with django_capture_on_commit_callbacks(execute=False):
        done = desk.post(unpin_url, {"post": "yes", "action": "unpin_selected", "_selected_action": [pin.pk]})
    # then
    assert done.url == f"{page_of(group)}#workspace-conversation"
    pin.refresh_from_db()
    assert pin.unpin_message_id is not None
    # a GET of the action's URL returns to the workspace
    assert desk.get(unpin_url).url == page_of(group)


def test_approve_asks_on_the_one_confirmation_page_without_a_destructive_warning(desk, group, graph):
    # given
    join_request = JoinRequestFactory(group=group)
    # when
    asked = desk.post(f"/admin/groups/group/{group.pk}/workspace/join-requests/{join_request.pk}/approve/")
    # then: nothing to undo, so no red box; what happens is said plainly
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert "Approve this join request?" in asked.text and 'value="Yes, approve"' in asked.text
    assert 'id="confirm-irreversible"' not in asked.text and "errornote" not in asked.text
    assert "Meta adds each person to the group" in asked.text
    assert f'href="{page_of(group)}" class="button cancel-link"' in asked.text
    assert len(graph.calls) == 0
    join_request.refresh_from_db()
    assert join_request.state == JoinRequest.State.PENDING


def test_reject_asks_its_reason_and_says_what_cannot_be_undone(desk, group, graph):
    # given
    join_request = JoinRequestFactory(group=group)
    # when
    asked = desk.post(f"/admin/groups/group/{group.pk}/workspace/join-requests/{join_request.pk}/reject/")
    # then
    assert asked.templates[0].name == "admin/confirm_action.html"
    assert "Reject this join request?" in asked.text and 'name="reason"' in asked.text
    assert "cannot be approved later" in asked.text.split('id="confirm-irreversible"', 1)[1]
    assert len(graph.calls) == 0


def test_actions_need_their_permissions(client, user_with_perms, group):
    join_request = JoinRequestFactory(group=group)
    message = OutboundMessage.objects.get(status=Status.READ)
    client.force_login(user_with_perms("groups.view_group", "messaging.view_outboundmessage", is_staff=True))
    base = f"/admin/groups/group/{group.pk}/workspace"
    assert client.post(f"{base}/join-requests/{join_request.pk}/approve/", {"post": "yes"}).status_code == 403
    assert client.post(f"{base}/unpin/{PinFactory(group=group).pk}/", {"post": "yes"}).status_code == 403
    refused = client.post(f"{base}/pin/out/{message.pk}/", {"post": "yes", "expiration_days": 7}, follow=True)
    assert "You may not pin messages." in refused.text and not Pin.objects.filter(message_id=message.wamid)


def test_settings_page_is_the_stock_form_and_the_workspace_refuses_posts(desk, group):
    settings_page = desk.get(f"/admin/groups/group/{group.pk}/settings/")
    assert settings_page.status_code == 200 and 'name="subject"' in settings_page.text
    assert f'href="/admin/groups/group/{group.pk}/change/" id="workspace-link"' in settings_page.text
    assert desk.post(page_of(group), {"subject": "x"}).status_code == 405
    assert f'href="/admin/groups/group/{group.pk}/settings/"' in desk.get(page_of(group)).text


def test_settings_page_shows_the_settings_and_facts_not_the_workspace_again(desk, group, superuser):
    # given: an operation with a request and an outcome, and a timeline event (the workspace's to show)
    GroupOperationFactory(group=group, requested={"participants": ["447700900123"]},
                          outcome={"removed": ["447700900123"]})
    GroupEvent.objects.create(group=group, type=GroupEvent.Type.SUSPENSION_CLEARED, source="webhook",
                              occurred_at=timezone.now())
    Group.objects.filter(pk=group.pk).update(created_by=superuser)
    # when
    html = desk.get(f"/admin/groups/group/{group.pk}/settings/").text
    # then: the form and the facts, read as on the workspace
    assert "<h1>Group settings</h1>" in html and 'name="subject"' in html
    assert f'data-copy="{group.group_id}"' in html and f">{group.group_id}<" not in html
    assert ">2/8<" in html and "by admin" in html and "Never" in html
    assert 'name="_addanother"' not in html  # Saving settings never starts another group.
    # no inline tables or timeline repeating the workspace (their JSON, microseconds and ids cut mid-word)
    assert "TOTAL_FORMS" not in html and "group-timeline" not in html
    assert_nothing_raw(html)
    assert "its conversation, members, join requests, operations and timeline" in html


def test_compose_in_place_previews_media_by_link(desk, group):
    response = desk.post(f"/admin/groups/group/{group.pk}/workspace/send/", {
        "type": "image", "media_link": "https://example.com/box.jpg", "caption": "The box", "_preview": "1"})
    preview = response.text.split('id="compose-preview"', 1)[1].split("<details>", 1)[0]
    assert "[image] https://example.com/box.jpg" in preview and "The box" in preview


def test_approve_then_reject_from_the_workspace_call_meta_after_the_confirmation(desk, graph):
    # given
    group = GroupFactory(group_id=SPEC_G3)
    ids = graph_json("approve_join_requests.request")["join_requests"]
    approved = JoinRequestFactory(group=group, join_request_id=ids[0])
    rejected = JoinRequestFactory(group=group, join_request_id="NDQ3NzAwOTAwMTIzOjEyMDM2MzQwNTMwOTk1NDgxMg")
    graph.post(f"{BASE}/{SPEC_G3}/join_requests", status=206,
               json=graph_json("approve_join_requests.partial.response"))
    graph.delete(f"{BASE}/{SPEC_G3}/join_requests", json=graph_json("reject_join_requests.response"))
    base = f"/admin/groups/group/{group.pk}/workspace/join-requests"
    # when
    done = desk.post(f"{base}/{approved.pk}/approve/", {"post": "yes"}, follow=True)
    desk.post(f"{base}/{rejected.pk}/reject/", {"post": "yes", "reason": "Not a customer"})
    # then
    assert "1 join request approved" in done.text
    assert done.redirect_chain[-1][0].endswith("#workspace-members")
    approved.refresh_from_db()
    rejected.refresh_from_db()
    assert approved.state == JoinRequest.State.APPROVED and rejected.state == JoinRequest.State.REJECTED


def test_the_workspace_has_no_inline_script_style_or_handler(desk, group):
    # A Content-Security-Policy without 'unsafe-inline' (and nonces or not) runs all of it: code is in static files.
    preview = desk.post(f"/admin/groups/group/{group.pk}/workspace/send/", {"type": "text", "body": "Hi",
                                                                           "_preview": "1"})
    html = desk.get(page_of(group)).text + preview.text
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert "<style" not in html and not re.findall(r"\son[a-z]+=", html)
    assert "/static/desk/desk.js" in html and "/static/messaging/compose.js" in html


def test_a_failed_create_reads_as_final_everywhere_on_its_workspace(desk, superuser):
    """A create Meta refused is never retried: no "Groupdesk retries later", no raw "None" or state value."""
    group = GroupFactory(subject="Parcels Hull", state=Group.State.CREATE_FAILED, group_id=None, invite_link="",
                         participant_count=0, last_error={"code": 131000, "title": "Something went wrong"})
    error = {"code": 131000, "title": "Something went wrong", "message": "The sandbox fails this create."}
    GroupOperation.objects.create(group=group, kind=GroupOperation.Kind.CREATE, state=GroupOperation.State.FAILED,
                                  request_id="REQ-create-failed", requested_by=superuser, source="admin",
                                  requested={"subject": "Parcels Hull"}, errors=[error])
    GroupEvent.objects.create(group=group, type="create_failed", source="webhook", occurred_at=timezone.now(),
                              detail={"errors": [error]})
    html = desk.get(page_of(group)).text
    assert "retries later" not in html
    assert "Try again: create these groups anew" in html.split('id="workspace-timeline"', 1)[1]
    assert "this create.." not in html  # One full stop after Meta's own.
    header = html.split('id="workspace-header"', 1)[1].split("</section>", 1)[0]
    assert "None: Meta did not create the group" in header
    assert "Meta did not create this group, so it cannot receive messages." in html
    assert "while it is create failed" not in html
