"""The group workspace in Chromium: send from it and see the message in the conversation, at 1,400 and 390 px."""

import json
import os
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from groups.models import Group, PhoneNumber
from messaging.models import InboundMessage, OutboundMessage, Pin
from tests.processes import wait_for
from tests.spec import SPEC_DISPLAY_PHONE_NUMBER, SPEC_PHONE_NUMBER_ID, SPEC_WABA_ID

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Screenshots for people (README's desk section): written here, copied to docs/screenshots when they change.
SHOTS = os.environ.get("GROUPDESK_SCREENSHOTS", "/tmp")


def _sandbox(url: str, path: str, data: dict) -> dict:
    request = urllib.request.Request(f"{url}/_sandbox/{path}", data=json.dumps(data).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _shoot(page: Page, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # The admin's sticky sidebar follows the scroll position.
    page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width}px wide in a {viewport}px window"


def test_send_from_the_workspace_and_see_it_in_the_conversation(admin_page: Page, live_server, sandbox_url):
    # given: an active group with one person in it (created through the admin and the sandbox playing Meta)
    PhoneNumber.objects.create(phone_number_id=SPEC_PHONE_NUMBER_ID, display_phone_number=SPEC_DISPLAY_PHONE_NUMBER,
                               waba_id=SPEC_WABA_ID, label="Support")
    page = admin_page
    page.goto(f"{live_server.url}/admin/groups/group/add/")
    page.fill("#id_subject", "Workspace e2e")
    page.click("input[name=_save]")
    group = wait_for(lambda: Group.objects.filter(subject="Workspace e2e", state=Group.State.ACTIVE).first(),
                     what="group active")
    for wa_id, name in (("447700900123", "Oliver Grant"), ("16505551234", "Maya Patel")):
        _sandbox(sandbox_url, f"groups/{group.group_id}/join", {"wa_id": wa_id, "name": name})
    wait_for(lambda: group.participants.count() == 2, what="participants joined")
    _sandbox(sandbox_url, f"groups/{group.group_id}/inbound", {"wa_id": "16505551234",
                                                               "text": "Hi, my parcel has not come yet"})
    wait_for(lambda: InboundMessage.objects.filter(group=group).exists(), what="inbound message")

    # when: staff open the group from the list and write in place, preview, send
    page.goto(f"{live_server.url}/admin/groups/group/")
    page.get_by_role("link", name="Workspace e2e").click()
    expect(page.locator("#group-state")).to_have_text("Active")
    expect(page.locator("#workspace-members")).to_contain_text("447700900123")
    page.fill("#compose-form textarea[name=body]", "Your parcel is on its way")
    page.click("#compose-form input[name=_preview]")
    expect(page.locator("#compose-preview .compose-bubble")).to_have_text("Your parcel is on its way")
    page.click("#compose-send")

    # then: it is in the conversation at once, and reads as read by everyone once Meta says so
    expect(page.get_by_text("Queued 1 message")).to_be_visible()
    bubble = page.locator("#conversation-bubbles .ws-out", has_text="Your parcel is on its way")
    expect(bubble).to_have_count(1)
    message = OutboundMessage.objects.get(group=group)
    wait_for(lambda: OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.READ).exists(),
             what="message read")
    page.reload()
    expect(bubble.locator(".ws-receipts")).to_have_text(re.compile(r"delivered 2/2, read [12]/2"))
    expect(bubble.locator(".ws-status")).to_have_text("Read")
    expect(page.locator("#conversation-bubbles .ws-in")).to_contain_text("Hi, my parcel has not come yet")

    # when: staff pin it for the default 7 days, through the pin confirmation
    bubble.get_by_role("button", name="Pin…").click()
    expect(page.locator("input[name=expiration_days]")).to_have_value("7")
    page.click("input[type=submit][value=Pin]")
    expect(page.get_by_text("Queued 1 pin")).to_be_visible()
    wait_for(lambda: Pin.objects.filter(target_message=message, state=Pin.State.ACTIVE).exists(), what="pin active")
    page.reload()
    expect(page.locator("#workspace-pins")).to_contain_text("Your parcel is on its way")
    expect(bubble.locator(".ws-pin-badge")).to_contain_text("Pinned")
    _no_horizontal_overflow(page)
    _shoot(page, "workspace-1400")

    # and at a phone's width the page stacks without overflowing
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(bubble).to_be_visible()
    _no_horizontal_overflow(page)
    _shoot(page, "workspace-390")

    # the bubble's Details link is the message page, also usable at 390 px
    bubble.get_by_role("link", name="Details").click()
    expect(page).to_have_url(f"{live_server.url}/admin/messaging/outboundmessage/{message.pk}/change/")
    _shoot(page, "message-390")
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.reload()
    _shoot(page, "message-1400")
