"""Live updates in a real browser: signed webhooks change the open pages in place, with no reload (issue 17 §2)."""

import copy
import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from groups.models import Group, GroupOperation
from messaging.models import OutboundMessage
from tests.groups.factories import GroupFactory, GroupOperationFactory, ParticipantFactory
from tests.messaging.factories import OutboundMessageFactory
from tests.messaging.pin_factories import PinFactory
from tests.spec import SPEC_G1, sign, webhook_body

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SPEC_WAMID = "wamid.HBgLMTU1NTA3ODM4ODEVAgARGBQzRUIwQzJGNEExRDhFNkI3QzkwQQA="
PEOPLE = ("16505551234", "5511987654321", "447700900123")
PIN_WAMID = "wamid.LIVE-E2E-PIN-ACTION"
CREATE_REQUEST_ID = "c4f1a9e07b2d4c3f9e5a8b61d0c7e2f4"  # The create_succeeded sample's request_id.


def _post_webhook(live_server, body: bytes) -> None:
    request = urllib.request.Request(
        f"{live_server.url}/webhooks/whatsapp/", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(body)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _statuses(status: str, people: tuple[str, ...], *, at: int) -> bytes:
    """The spec's aggregated `read` sample, for `status` of the spec's message by each of `people`."""
    payload = json.loads(webhook_body("messages.status_read_aggregated"))
    value = payload["entry"][0]["changes"][0]["value"]
    template = value["statuses"][0]
    value["statuses"] = [
        {**copy.deepcopy(template), "status": status, "timestamp": str(at + i), "recipient_participant_id": who}
        for i, who in enumerate(people)
    ]
    return json.dumps(payload).encode()


def _mark_window(page: Page) -> None:
    """A marker that a reload or a navigation would wipe out."""
    page.evaluate("window.liveTestMarker = 'still the same page'")


def _assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.liveTestMarker") == "still the same page"


@pytest.fixture
def sent_message():
    """The spec's message, sent by Meta to the spec's group of three people, nobody has it yet."""
    group = GroupFactory(group_id=SPEC_G1, subject="Live receipts")
    for wa_id in PEOPLE:
        ParticipantFactory(group=group, wa_id=wa_id)
    return OutboundMessageFactory(group=group, accepted=True, wamid=SPEC_WAMID, recipient_count=3)


def test_a_message_page_shows_sent_delivered_and_read_as_the_webhooks_arrive(admin_page, live_server, sent_message):
    # given: the message's page is open (and whatever the browser refuses is noted)
    page = admin_page
    refused = []
    page.on("console", lambda message: refused.append(message.text) if "Refused" in message.text else None)
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/{sent_message.pk}/change/")
    expect(page.locator(".field-status .readonly")).to_have_text("Accepted by Meta")
    _mark_window(page)

    # when: Meta says it was sent
    _post_webhook(live_server, webhook_body("messages.status_sent"))
    # then
    expect(page.locator(".field-status .readonly")).to_have_text("Sent")

    # when: one person got it
    _post_webhook(live_server, _statuses("delivered", PEOPLE[:1], at=1771322010))
    # then
    expect(page.locator(".field-delivered [aria-label='delivered 1/3']")).to_be_visible()

    # when: all three read it
    _post_webhook(live_server, _statuses("read", PEOPLE, at=1771322060))
    # then: the counts, the receipts and the history changed in place
    expect(page.locator(".field-read [aria-label='read 3/3']")).to_be_visible()
    expect(page.locator(".field-status .readonly")).to_have_text("Read")
    for wa_id in PEOPLE:
        expect(page.locator("table.receipt-matrix tr", has_text=wa_id).locator("td").nth(2)).not_to_have_text("\u2013")
    expect(page.locator("table.status-history")).to_contain_text("Read by +447700900123 (3/3)")
    _assert_not_reloaded(page)
    # htmx ran as a strict Content-Security-Policy needs: no eval, no <style> of its own
    assert page.evaluate("htmx.config.allowEval") is False
    assert not page.evaluate("[...document.querySelectorAll('style')].some(s => s.textContent.includes('htmx-'))")
    assert refused == []  # The Content-Security-Policy blocked nothing


def test_the_messages_list_cells_change_and_a_ticked_row_stays_ticked(admin_page, live_server, sent_message):
    # given: the list is open and the agent has ticked the message
    page = admin_page
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/")
    row = page.locator("#result_list tbody tr", has=page.locator(f"input.action-select[value='{sent_message.pk}']"))
    expect(row.locator("td.field-status")).to_have_text("Accepted by Meta")
    row.locator("input.action-select").check()
    _mark_window(page)

    # when
    _post_webhook(live_server, _statuses("read", PEOPLE[:2], at=1771322060))

    # then: the row's status and read cells changed, the tick and the selection counter did not
    expect(row.locator("td.field-status")).to_have_text("Read")
    expect(row.locator("td.field-read [aria-label='read 2/3']")).to_be_visible()
    expect(row.locator("input.action-select")).to_be_checked()
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")

    # when: someone else sends a message (a new row is never slipped in under the agent's cursor)
    OutboundMessageFactory(group=sent_message.group)

    # then: the list says so, with a link that shows it
    expect(page.locator(".live-new-rows")).to_have_text("1 new row in this list: show it")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    _assert_not_reloaded(page)


def test_a_group_workspace_and_the_groups_list_show_creating_then_active(admin_page, live_server):
    # given: a group Meta is still creating, its workspace and the groups list open side by side
    group = GroupFactory(creating=True, subject="Order 48213 - delivery support")
    GroupOperationFactory(group=group, kind=GroupOperation.Kind.CREATE, request_id=CREATE_REQUEST_ID)
    page = admin_page
    page.goto(f"{live_server.url}/admin/groups/group/{group.pk}/change/")
    expect(page.locator("#group-state")).to_have_text("Creating")
    _mark_window(page)
    listing = page.context.new_page()
    listing.goto(f"{live_server.url}/admin/groups/group/")
    row = listing.locator("#result_list tbody tr", has_text="Order 48213")
    expect(row.locator("td.field-state")).to_have_text("Creating")

    # when: Meta's create webhook arrives
    _post_webhook(live_server, webhook_body("group_lifecycle_update.create_succeeded"))

    # then: both show it active, the workspace with its invite link and timeline
    expect(page.locator("#group-state")).to_have_text("Active")
    expect(page.locator("#invite-link")).to_have_text("https://chat.whatsapp.com/KxR4nQ7vLm2Bd9TfWc3HpZ")
    expect(page.locator("#timeline-list")).to_contain_text("Meta created the group")
    expect(row.locator("td.field-state")).to_have_text("Active")
    _assert_not_reloaded(page)
    assert Group.objects.get(pk=group.pk).state == Group.State.ACTIVE


def test_a_group_workspace_conversation_shows_the_receipts_arrive_and_keeps_a_draft(admin_page, live_server,
                                                                                     sent_message):
    # given
    page = admin_page
    page.goto(f"{live_server.url}/admin/groups/group/{sent_message.group.pk}/change/")
    bubble = page.locator(f"#bubble-out-{sent_message.pk}")
    expect(bubble.locator(".ws-receipts")).to_have_text("delivered 0/3, read 0/3")
    page.fill("textarea[name=body]", "A draft that must survive")
    _mark_window(page)

    # when
    _post_webhook(live_server, _statuses("read", PEOPLE, at=1771322060))

    # then
    expect(bubble.locator(".ws-receipts")).to_have_text("delivered 3/3, read 3/3")
    expect(bubble.locator(".ws-status")).to_have_text("Read")
    expect(page.locator("textarea[name=body]")).to_have_value("A draft that must survive")  # compose is no region
    _assert_not_reloaded(page)


def test_the_dashboard_and_the_pins_list_change_in_place(admin_page, live_server, sent_message):
    # given: the dashboard in one tab, the pins list with a pin being pinned in another
    page = admin_page
    page.goto(f"{live_server.url}/admin/dashboard/?period=24h")
    expect(page.locator("#read-rate")).to_have_text("-")
    _mark_window(page)
    pin = PinFactory(group=sent_message.group, message_id=sent_message.wamid, pin_message__wamid=PIN_WAMID,
                     pin_message__status=OutboundMessage.Status.ACCEPTED)
    pins = page.context.new_page()
    pins.goto(f"{live_server.url}/admin/messaging/pin/")
    pin_row = pins.locator("#result_list tbody tr", has=pins.locator(f"input[value='{pin.pk}']"))
    state = pin_row.locator("td.field-state")
    expect(state).to_have_text("Pending")

    # when: everyone read the message; Meta accepted the pin
    _post_webhook(live_server, _statuses("read", PEOPLE, at=1771322060))
    sent = json.loads(webhook_body("messages.status_sent"))
    sent["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = PIN_WAMID
    _post_webhook(live_server, json.dumps(sent).encode())

    # then
    expect(page.locator("#read-rate")).to_have_text("100.0 %")
    expect(state).to_have_text("Active")
    _assert_not_reloaded(page)
