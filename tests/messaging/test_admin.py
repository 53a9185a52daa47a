"""The admin: compose with preview, the group action, the messages list, the message page, retries."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.utils import timezone

from desk.admin import DeskGroupAdmin
from groups.models import Group
from messaging.admin import send_message_to_groups
from messaging.models import InboundMessage, OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory, ParticipantFactory
from tests.spec import webhook_body

pytestmark = pytest.mark.django_db

WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="
COMPOSE = "/admin/messaging/outboundmessage/compose/"


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def group():
    group = GroupFactory(spec_g1=True)
    for wa_id, name in (("16505551234", "Maya Patel"), ("447700900123", "Oliver Grant"), ("5511987654321", "Lucas")):
        ParticipantFactory(group=group, wa_id=wa_id, name=name)
    return group


def test_compose_previews_then_sends(logged_in, group, graph, django_capture_on_commit_callbacks):
    # given
    form = {"groups": [group.pk], "type": "text", "body": "Parcel on its way", "token": "t1"}
    # when
    preview = logged_in.post(COMPOSE, {**form, "_preview": "Preview"})
    with django_capture_on_commit_callbacks(execute=False):
        sent = logged_in.post(COMPOSE, {**form, "_send": "Send"})
        again = logged_in.post(COMPOSE, {**form, "_send": "Send"})  # A double submit.
    # then
    assert preview.status_code == 200
    assert b"compose-preview" in preview.content and b"Parcel on its way" in preview.content
    assert OutboundMessage.objects.count() == 1
    assert (sent.status_code, again.status_code) == (302, 302)
    message = OutboundMessage.objects.get()
    assert (message.source, message.content["body"], message.status) == ("admin", "Parcel on its way", "queued")


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"type": "text", "body": "x" * 4097}, "body"),
        ({"type": "image"}, "media_id"),
        ({"type": "audio", "media_id": "1", "caption": "c"}, "caption"),
        ({"type": "template", "template_name": "t"}, "template_language"),
        ({"type": "template", "template_name": "t", "template_language": "en", "template_components": "{"},
         "template_components"),
    ],
)
def test_compose_shows_content_errors_on_the_field(logged_in, group, form, field):
    response = logged_in.post(COMPOSE, {"groups": [group.pk], "_preview": "1", **form})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert OutboundMessage.objects.count() == 0


def test_compose_offers_only_groups_that_can_receive(logged_in, group):
    suspended = GroupFactory(suspended=True)
    response = logged_in.get(COMPOSE)
    choices = list(response.context["form"].fields["groups"].queryset)
    assert group in choices and suspended not in choices


def test_compose_needs_the_add_permission(client, user_with_perms):
    client.force_login(user_with_perms("messaging.view_outboundmessage", is_staff=True))
    assert client.get(COMPOSE).status_code == 403


def test_group_action_opens_compose_with_the_groups_ticked(logged_in, group, rf, superuser):
    # given: the groups admin as the desk composes it, on a site of its own.
    site = admin.AdminSite(name="test")
    site.register(Group, DeskGroupAdmin)
    assert send_message_to_groups in site.get_model_admin(Group).actions
    request = rf.post("/")
    request.user = superuser
    # when
    response = send_message_to_groups(site.get_model_admin(Group), request, Group.objects.filter(pk=group.pk))
    # then
    assert response.status_code == 302
    assert response.url == f"{COMPOSE}?groups={group.pk}"
    page = logged_in.get(response.url)
    assert page.context["form"].initial["groups"] == [str(group.pk)]


def test_group_action_is_registered_on_the_real_groups_admin():
    assert send_message_to_groups in admin.site._registry[Group].actions


def test_messages_list_shows_counts_and_filters_by_error_code(logged_in, group):
    # given
    OutboundMessageFactory(group=group, accepted=True, recipient_count=3, delivered_count=2, read_count=1)
    OutboundMessageFactory(group=group, status="failed", error_code="131020",
                           error={"code": 131020, "title": "Bad group", "message": "", "details": ""})
    # when
    page = logged_in.get("/admin/messaging/outboundmessage/")
    filtered = logged_in.get("/admin/messaging/outboundmessage/?error_code=131020")
    # then
    content = page.content.decode()
    assert "2/3" in content and "1/3" in content
    assert "131020: Bad group" in content  # The filter names the code with its meaning.
    assert filtered.context["cl"].result_count == 1


def test_message_page_shows_receipt_matrix_history_and_error_meaning(logged_in, group, post_webhook):
    # given
    message = OutboundMessageFactory(group=group, accepted=True, wamid=WAMID)
    post_webhook(webhook_body("messages.status_read_aggregated"))
    failed = OutboundMessageFactory(group=group, status="failed", error_code="outcome_unknown",
                                    error={"code": "outcome_unknown", "title": "Outcome unknown", "message": "",
                                           "details": ""})
    # when
    page = logged_in.get(f"/admin/messaging/outboundmessage/{message.pk}/change/").content.decode()
    failed_page = logged_in.get(f"/admin/messaging/outboundmessage/{failed.pk}/change/").content.decode()
    # then
    assert 'class="receipt-matrix"' in page
    assert "Maya Patel" in page and "Oliver Grant" in page  # Oliver has no receipt yet: still a row.
    assert 'class="status-history"' in page and "read" in page
    assert "What to do" in failed_page and "twice" in failed_page


def test_the_receipt_matrix_lists_whom_the_message_went_to(logged_in):
    # given: a message Meta accepted at noon; people who joined and left around it, none with a receipt yet
    noon = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    group = GroupFactory()
    message = OutboundMessageFactory(group=group, accepted=True, accepted_at=noon)
    member = ParticipantFactory(group=group, name="Member since before", joined_at=noon - timedelta(days=1))
    left_after = ParticipantFactory(group=group, name="Left after it", state="left",
                                    joined_at=noon - timedelta(days=1), left_at=noon + timedelta(hours=1))
    joined_after = ParticipantFactory(group=group, name="Joined after it", joined_at=noon + timedelta(hours=1))
    left_before = ParticipantFactory(group=group, name="Left before it", state="left",
                                     joined_at=noon - timedelta(days=2), left_at=noon - timedelta(days=1))
    # when
    page = logged_in.get(f"/admin/messaging/outboundmessage/{message.pk}/change/").content.decode()
    # then
    matrix = page[page.index('class="receipt-matrix"'):]
    matrix = matrix[:matrix.index("</table>")]
    assert member.name in matrix and left_after.name in matrix
    assert joined_after.name not in matrix and left_before.name not in matrix


def test_retry_action_creates_a_new_message(logged_in, group):
    # given
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020")
    # when
    response = logged_in.post("/admin/messaging/outboundmessage/",
                              {"action": "retry_failed", "_selected_action": [failed.pk], "post": "yes"})
    # then
    assert response.status_code == 302
    assert OutboundMessage.objects.get(retry_of=failed).status == "queued"


def test_retrying_twice_from_the_admin_says_the_second_time_that_nothing_new_was_sent(logged_in, group):
    # given
    failed = OutboundMessageFactory(group=group, status="failed", error_code="131020")
    action = {"action": "retry_failed", "_selected_action": [failed.pk], "post": "yes"}
    # when: a double click
    first = logged_in.post("/admin/messaging/outboundmessage/", action, follow=True)
    second = logged_in.post("/admin/messaging/outboundmessage/", action, follow=True)
    # then
    retry = OutboundMessage.objects.get(retry_of=failed)
    assert [str(m) for m in first.context["messages"]] == ["Queued 1 retry."]
    assert [str(m) for m in second.context["messages"]] == [
        f"{failed}: already retried as message {retry.pk}; nothing new was sent."]


def test_inbound_account_error_and_unmatched_pages(logged_in, group, post_webhook):
    post_webhook(webhook_body("messages.inbound_unsupported"))
    post_webhook(webhook_body("messages.errors_rate_limit"))
    post_webhook(webhook_body("messages.status_failed"))
    inbound = logged_in.get("/admin/messaging/inboundmessage/").content.decode()
    errors = logged_in.get("/admin/messaging/accounterror/").content.decode()
    unmatched = logged_in.get("/admin/messaging/unmatchedstatus/")
    assert "130501" in inbound
    assert "130429" in errors
    assert unmatched.context["cl"].result_count == 1


def test_failed_messages_filtered_by_code_say_what_it_means_and_what_to_do(logged_in, group):
    # given
    OutboundMessageFactory(group=group, status="failed", error_code="outcome_unknown",
                           error={"code": "outcome_unknown", "title": "Outcome unknown", "message": "",
                                  "details": ""})
    OutboundMessageFactory(group=group, status="failed", error_code="131020",
                           error={"code": 131020, "title": "Bad group", "message": "", "details": ""})
    # when
    unfiltered = logged_in.get("/admin/messaging/outboundmessage/").content.decode()
    filtered = logged_in.get("/admin/messaging/outboundmessage/?error_code=outcome_unknown")
    # then
    page = filtered.content.decode()
    assert filtered.context["cl"].result_count == 1
    assert 'id="error-explained"' in page and 'id="error-explained"' not in unfiltered
    assert "outcome_unknown: Outcome unknown" in page
    assert "What to do:" in page and "a retry may deliver the message twice" in page


@pytest.mark.parametrize(("type_name", "name", "title"), [
    ("image", "Maya Patel", "Image from Maya Patel (+16505551234)"),
    ("sticker", "", "Sticker from +16505551234"),
])
def test_an_inbound_message_is_titled_by_its_type_label_and_its_sender_name(logged_in, group, type_name, name, title):
    # given
    inbound = InboundMessage.objects.create(group=group, wamid="wamid.IN1", type=type_name, from_wa_id="16505551234",
                                            contact_name=name, timestamp=timezone.now())
    # when
    page = logged_in.get(f"/admin/messaging/inboundmessage/{inbound.pk}/change/").content.decode()
    # then
    assert f"<h2>{title}</h2>" in page


def test_the_inbound_type_filter_names_types_as_people_say_them(logged_in, group):
    # given
    for n, type_name in enumerate(["image", "text", "image"]):
        InboundMessage.objects.create(group=group, wamid=f"wamid.IN{n}", type=type_name, from_wa_id="16505551234",
                                      timestamp=timezone.now())
    # when
    page = logged_in.get("/admin/messaging/inboundmessage/").content.decode()
    filtered = logged_in.get("/admin/messaging/inboundmessage/?type=image")
    # then: each type once, by its label, and the filter still filters
    assert page.count('?type=image"') == 1 and ">Image</a>" in page and ">Text</a>" in page
    assert filtered.context["cl"].result_count == 2


def test_the_inbound_list_names_the_sender_as_the_workspace_does(logged_in, group):
    # given
    InboundMessage.objects.create(group=group, wamid="wamid.IN9", type="text", text="Hi", from_wa_id="16505551234",
                                  contact_name="Maya Patel", timestamp=timezone.now())
    # when
    page = logged_in.get("/admin/messaging/inboundmessage/").content.decode()
    # then: one column, by name with the number's "+", not the name and a bare wa_id in two columns
    assert "Maya Patel (+16505551234)" in page
    assert ">16505551234<" not in page
