"""Pins in the admin: the Pin action on messages (days, which pin it replaces), the pins list, Unpin, the group page."""

import pytest
from django.contrib import messages as django_messages
from django.urls import reverse
from responses import matchers

from messaging.models import OutboundMessage, Pin, PinStatusChange
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.messaging.pin_factories import SPEC_PINNED_WAMID, PinFactory, PinnableMessageFactory
from tests.spec import SPEC_PHONE_NUMBER_ID, graph_json

pytestmark = pytest.mark.django_db

MESSAGES_URL = f"https://graph.meta.test/v25.0/{SPEC_PHONE_NUMBER_ID}/messages"
MESSAGES_CHANGELIST = reverse("admin:messaging_outboundmessage_changelist")
PINS_CHANGELIST = reverse("admin:messaging_pin_changelist")


@pytest.fixture
def group():
    return GroupFactory(spec_g1=True)


@pytest.fixture
def target(group):
    return PinnableMessageFactory(group=group, wamid=SPEC_PINNED_WAMID)


@pytest.fixture
def admin_client_logged(client, superuser):
    client.force_login(superuser)
    return client


def _messages(response) -> list[tuple[int, str]]:
    return [(m.level, m.message) for m in django_messages.get_messages(response.wsgi_request)]


def test_pin_action_asks_the_days_with_seven_by_default(admin_client_logged, target):
    # when
    response = admin_client_logged.post(
        MESSAGES_CHANGELIST, {"action": "pin_selected_messages", "_selected_action": [target.pk]}
    )
    # then
    assert response.status_code == 200
    assert response.templates[0].name == "admin/confirm_action.html"
    assert b'name="expiration_days" value="7"' in response.content
    assert b"Nothing: fewer than 3 pins" in response.content
    assert not Pin.objects.exists()


def test_pin_action_names_the_pin_a_fourth_one_will_replace(admin_client_logged, group, target):
    # given
    oldest = PinFactory(group=group, active=True, pinned_days_ago=3)
    PinFactory(group=group, active=True, pinned_days_ago=2)
    PinFactory(group=group, active=True, pinned_days_ago=1)
    # when
    response = admin_client_logged.post(
        MESSAGES_CHANGELIST, {"action": "pin_selected_messages", "_selected_action": [target.pk]}
    )
    # then
    assert f"Replaces pin #{oldest.pk}, the message {oldest.message_id}, pinned".encode() in response.content


def test_pin_action_pins_through_the_service(
    graph, admin_client_logged, group, target, django_capture_on_commit_callbacks
):
    # given
    def expected_body(request):
        pin = Pin.objects.get()
        expected = {**graph_json("pin.request"), "biz_opaque_callback_data": pin.pin_message.callback_data}
        return matchers.json_params_matcher(expected)(request)

    graph.post(MESSAGES_URL, json=graph_json("pin.response"), match=[expected_body])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged.post(
            MESSAGES_CHANGELIST,
            {"action": "pin_selected_messages", "_selected_action": [target.pk], "post": "yes",
             "expiration_days": "7"},
            follow=True,
        )
    # then
    pin = Pin.objects.get()
    assert response.status_code == 200
    assert (django_messages.SUCCESS, "Queued 1 pin.") in _messages(response)
    assert pin.state == Pin.State.ACTIVE
    assert pin.expiration_days == 7
    assert pin.status_changes.first().source == "admin"


@pytest.mark.parametrize("days", ["0", "31", "seven", ""])
def test_pin_action_refuses_bad_days_and_sends_nothing(graph, admin_client_logged, target, days):
    # when
    response = admin_client_logged.post(
        MESSAGES_CHANGELIST,
        {"action": "pin_selected_messages", "_selected_action": [target.pk], "post": "yes", "expiration_days": days},
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["expiration_days"]
    assert not Pin.objects.exists()


def test_pin_action_reports_a_message_that_cannot_be_pinned(graph, admin_client_logged, group):
    # given
    queued = OutboundMessageFactory(group=group)
    # when
    response = admin_client_logged.post(
        MESSAGES_CHANGELIST,
        {"action": "pin_selected_messages", "_selected_action": [queued.pk], "post": "yes", "expiration_days": "7"},
        follow=True,
    )
    # then
    assert [level for level, _ in _messages(response)] == [django_messages.ERROR]
    assert not Pin.objects.exists()


def test_pin_action_needs_the_add_pin_permission(graph, client, user_with_perms, target):
    # given
    client.force_login(user_with_perms("messaging.view_outboundmessage", is_staff=True))
    # when
    response = client.post(
        MESSAGES_CHANGELIST,
        {"action": "pin_selected_messages", "_selected_action": [target.pk], "post": "yes", "expiration_days": "7"},
        follow=True,
    )
    # then: the action is not offered to them, and posting it anyway pins nothing
    assert "pin_selected_messages" not in client.get(MESSAGES_CHANGELIST).text
    assert (django_messages.ERROR, "You may not pin messages.") not in _messages(response)
    assert not Pin.objects.exists()


def test_pins_list_shows_the_time_left(admin_client_logged, group):
    # given
    PinFactory(group=group, active=True, pinned_days_ago=1, expiration_days=7)
    # when
    response = admin_client_logged.get(PINS_CHANGELIST)
    # then
    assert response.status_code == 200
    assert b"5\xc2\xa0days" in response.content  # About 6 days left: "5 days, 23 hours".


def test_unpin_action_unpins_through_the_service(
    graph, admin_client_logged, group, django_capture_on_commit_callbacks
):
    # given
    pin = PinFactory(group=group, message_id=SPEC_PINNED_WAMID, active=True)
    graph.post(MESSAGES_URL, json=graph_json("pin.response"))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged.post(
            PINS_CHANGELIST, {"action": "unpin_selected", "_selected_action": [pin.pk], "post": "yes"}, follow=True
        )
    # then
    pin.refresh_from_db()
    assert (django_messages.SUCCESS, "Queued the unpin of 1 pin.") in _messages(response)
    assert pin.state == Pin.State.UNPINNED
    assert graph.calls[0].request.body and b'"unpin"' in graph.calls[0].request.body


def test_unpin_action_reports_a_pin_that_is_not_active(graph, admin_client_logged, group):
    # given
    pin = PinFactory(group=group, state=Pin.State.EXPIRED)
    # when
    response = admin_client_logged.post(
        PINS_CHANGELIST, {"action": "unpin_selected", "_selected_action": [pin.pk], "post": "yes"}, follow=True
    )
    # then
    assert [level for level, _ in _messages(response)] == [django_messages.ERROR]
    assert not OutboundMessage.objects.filter(content__type="unpin").exists()


def test_unpin_action_is_hidden_without_the_change_pin_permission(client, user_with_perms):
    # given
    client.force_login(user_with_perms("messaging.view_pin", is_staff=True))
    # when
    response = client.get(PINS_CHANGELIST)
    # then
    assert response.status_code == 200
    assert b"unpin_selected" not in response.content


def test_group_page_shows_its_current_pins(admin_client_logged, group):
    # given
    active = PinFactory(group=group, active=True, message_id="wamid.ACTIVEPIN")
    PinFactory(group=group, state=Pin.State.EXPIRED, message_id="wamid.EXPIREDPIN")
    # when
    response = admin_client_logged.get(reverse("admin:groups_group_change", args=[group.pk]))
    # then
    assert response.status_code == 200
    assert b"current pins" in response.content.lower()
    assert active.message_id.encode() in response.content
    assert b"wamid.EXPIREDPIN" not in response.content


def test_pin_detail_shows_its_history(admin_client_logged, group):
    # given
    pin = PinFactory(group=group, active=True)
    # when
    response = admin_client_logged.get(reverse("admin:messaging_pin_change", args=[pin.pk]))
    # then
    assert response.status_code == 200
    assert b"pin-history" in response.content


def test_pins_list_shows_the_pinned_words_and_the_history_reads_state_labels(admin_client_logged, target):
    pin = PinFactory(group=target.group, message_id=target.wamid, target_message=target)
    PinStatusChange.objects.create(pin=pin, from_state="", to_state=Pin.State.PENDING, source="admin")
    PinStatusChange.objects.create(pin=pin, from_state=Pin.State.PENDING, to_state=Pin.State.REPLACED,
                                   source="webhook")
    listing = admin_client_logged.get(PINS_CHANGELIST).content.decode()
    words = content_words(target)
    assert words
    assert f"“{words}" in listing and target.wamid not in listing
    detail = admin_client_logged.get(reverse("admin:messaging_pin_change", args=[pin.pk])).content.decode()
    history = detail.split('class="pin-history"', 1)[1].split("</table>", 1)[0]
    assert "<td>Pending</td><td>Replaced by a newer pin</td>" in history
    assert "<td>replaced</td>" not in history


def content_words(message) -> str:
    return (message.content.get("body") or message.content.get("caption") or "")[:40]
