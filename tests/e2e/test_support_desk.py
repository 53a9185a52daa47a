"""A support agent's day in a real browser: the admin, the sandbox playing Meta, and a real worker."""

import json
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from groups.models import Group, PhoneNumber
from messaging.models import OutboundMessage, Pin
from tests.processes import wait_for
from tests.spec import SPEC_DISPLAY_PHONE_NUMBER, SPEC_PHONE_NUMBER_ID, SPEC_WABA_ID

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sandbox(url: str, path: str, data: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/_sandbox/{path}", data=json.dumps(data or {}).encode(), method="POST" if data is not None else "GET"
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _reload_until(page: Page, text: str, *, timeout: float = 30.0) -> None:
    """Reload until `text` shows: the page is server-rendered, webhooks change it behind our back."""

    def shown() -> bool:
        page.reload()
        return page.get_by_text(text).count() > 0

    wait_for(shown, timeout=timeout, interval=0.5, what=f"{text!r} on {page.url}")


def test_a_group_from_creation_to_a_read_message_pinned_and_unpinned(admin_page: Page, live_server, sandbox_url):
    # given: our number, as the sandbox knows it
    PhoneNumber.objects.create(
        phone_number_id=SPEC_PHONE_NUMBER_ID, display_phone_number=SPEC_DISPLAY_PHONE_NUMBER,
        waba_id=SPEC_WABA_ID, label="Support",
    )
    page = admin_page

    # when: staff create a group in the admin
    page.goto(f"{live_server.url}/admin/groups/group/add/")
    page.select_option("#id_phone_number", label=f"Support (+{SPEC_DISPLAY_PHONE_NUMBER})")
    page.fill("#id_subject", "E2E customer care")
    page.click("input[name=_save]")

    # then: Meta's create webhook (from the sandbox, through the worker) makes it active with a link
    group = wait_for(
        lambda: Group.objects.filter(subject="E2E customer care", state=Group.State.ACTIVE).first(),
        what="group active",
    )
    assert group.invite_link.startswith("https://chat.whatsapp.com/")
    page.goto(f"{live_server.url}/admin/groups/group/{group.pk}/change/")
    _reload_until(page, group.invite_link)
    expect(page.get_by_text("Active").first).to_be_visible()

    # when: someone joins through the invite link
    _sandbox(sandbox_url, f"groups/{group.group_id}/join", {"wa_id": "447700900123", "name": "Oliver Grant"})

    # then: the participant appears on the group page
    _reload_until(page, "447700900123")
    group.refresh_from_db()
    assert group.participant_count == 1

    # when: staff send a message to the group from the groups list, previewing it first
    page.goto(f"{live_server.url}/admin/groups/group/")
    page.check(f"input[name=_selected_action][value='{group.pk}']")
    page.select_option("select[name=action]", label="Send a message to the selected groups")
    page.click("button[name=index]")
    page.fill("textarea[name=body]", "Hello from the e2e test")
    page.click("input[name=_preview]")
    page.click("input[name=_send]")
    expect(page.get_by_text("Queued 1 message")).to_be_visible()

    # then: the sandbox accepts it, sends `sent`, then the participant's `delivered` and `read`
    message = OutboundMessage.objects.get(group=group)
    wait_for(
        lambda: OutboundMessage.objects.filter(pk=message.pk, status=OutboundMessage.Status.READ).exists(),
        what="message read",
    )
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/{message.pk}/change/")
    row = page.locator("table.receipt-matrix tbody tr", has_text="447700900123")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    assert cells.nth(1).inner_text() != "\u2013"  # Delivered at (an en dash when none)
    assert cells.nth(2).inner_text() != "\u2013"  # Read at
    expect(page.locator("table.status-history")).to_contain_text("Read by")

    # when: staff pin the message for the default 7 days from the messages list
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/")
    page.check(f"input[name=_selected_action][value='{message.pk}']")
    page.select_option("select[name=action]", label="Pin the selected messages")
    page.click("button[name=index]")
    expect(page.locator("input[name=expiration_days]")).to_have_value("7")
    page.click("input[type=submit][value=Pin]")
    expect(page.get_by_text("Queued 1 pin")).to_be_visible()

    # then: Meta (the sandbox) accepts it and the pin is active for 7 days
    pin = wait_for(lambda: Pin.objects.filter(message_id=message.wamid, state=Pin.State.ACTIVE).first(),
                   what="pin active")
    assert (pin.expires_at - pin.pinned_at).days == 7
    page.goto(f"{live_server.url}/admin/messaging/pin/")
    expect(page.locator("#result_list")).to_contain_text("Active")

    # when: staff unpin it
    page.check(f"input[name=_selected_action][value='{pin.pk}']")
    page.select_option("select[name=action]", label="Unpin the selected pins")
    page.click("button[name=index]")
    expect(page.locator("#confirm-irreversible")).to_contain_text("time left on each pin is lost")
    page.click("#confirm-yes")
    expect(page.get_by_text("Queued the unpin of 1 pin")).to_be_visible()

    # then
    wait_for(lambda: Pin.objects.filter(pk=pin.pk, state=Pin.State.UNPINNED).exists(), what="pin unpinned")
    page.reload()
    expect(page.locator("#result_list")).to_contain_text("Unpinned")
