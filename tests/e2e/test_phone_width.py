"""The pages staff act on, in Chromium at a phone's 390 px and a desktop's 1,400 px: the one confirmation page (asked
from a list and from the group workspace), the workspace, the message page, the group's settings and the
integrations pages are never wider than the window, the confirmation's question shows once, and table cells wrap
between words, never inside one.

GROUPDESK_SCREENSHOTS=docs/screenshots saves the confirmation page and an endpoint's page for the README.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from messaging.models import OutboundMessage
from tests.desk.seed import seed_every_screen
from tests.messaging.pin_factories import PinFactory, PinnableMessageFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = [1400, 390]
WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# Every word of every table cell of the page that wraps onto two lines: a Range over the word has client rects on
# more than one line. Hyphens and dashes are places to wrap, so they end a word here.
SPLIT_WORDS = """() => {
    const split = [];
    for (const cell of document.querySelectorAll('#content td, #content th')) {
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            if (node.parentElement.closest('.token')) continue;  // An id or token may break anywhere.
            for (const match of node.data.matchAll(/[^\\s\\-\u2013\u2014]+/g)) {
                const range = document.createRange();
                range.setStart(node, match.index);
                range.setEnd(node, match.index + match[0].length);
                const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (lines.size > 1) split.push(match[0]);
            }
        }
    }
    return split;
}"""


@pytest.fixture
def desk(logged_in):
    """The signed-in page and every screen seeded, plus a pinned message with words and one to pin."""
    page, user = logged_in
    seeded = seed_every_screen(superuser=user)
    group = seeded["groups/group"]
    pinned = PinnableMessageFactory(group=group, content={"body": "Your parcel 48213 is at the Leeds depot"})
    now = timezone.now()
    PinFactory(group=group, message_id=pinned.wamid, target_message=pinned, active=True, pinned_at=now,
               expires_at=now + timedelta(days=7))
    PinnableMessageFactory(group=group, content={"body": "Collection is possible until 18:00 today"})
    return page, seeded


def _fits(page: Page) -> None:
    document_width, viewport = page.evaluate(WIDTH)
    assert document_width <= viewport, f"{page.url} is {document_width} px wide in a {viewport} px window"


def _asks_once(page: Page) -> str:
    """Assert the page is the confirmation, its question shown once (as its heading); return the question."""
    expect(page.locator("#confirm-yes")).to_be_visible()
    question = page.locator("#content h1").inner_text()
    assert question.endswith("?")
    assert page.locator("body").inner_text().count(question) == 1, question
    return question


def _shoot(page: Page, name: str) -> None:
    if shots := os.environ.get("GROUPDESK_SCREENSHOTS"):
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(Path(shots) / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_confirmation_page_fits_and_asks_once(desk, live_server, width):
    # given
    page, seeded = desk
    group = seeded["groups/group"]
    page.set_viewport_size({"width": width, "height": 900})
    workspace = f"{live_server.url}/admin/groups/group/{group.pk}/change/"
    questions = []
    # when: asked from the groups list (a destructive action, its reason required)
    page.goto(f"{live_server.url}/admin/groups/group/")
    page.check(f"input[name=_selected_action][value='{group.pk}']")
    page.select_option("select[name=action]", "delete_groups")
    page.click("button[name=index]")
    # then
    questions.append(_asks_once(page))
    _fits(page)
    # when: asked from the workspace (pin: its table of what each pin replaces; unpin: what cannot be undone)
    page.goto(workspace)
    page.locator(".ws-out", has_text="Collection is possible").get_by_role("button", name="Pin…").click()
    questions.append(_asks_once(page))
    _fits(page)
    page.goto(workspace)
    page.locator("#workspace-pins li", has_text="Your parcel 48213").get_by_role("button", name="Unpin…").click()
    questions.append(_asks_once(page))
    _fits(page)
    expect(page.locator("#confirm-irreversible")).to_contain_text("cannot be undone")
    _shoot(page, f"confirm-{width}")
    # and "No, take me back" returns to the workspace
    page.get_by_role("link", name="No, take me back").click()
    expect(page).to_have_url(workspace)
    assert questions == ["Delete this group?", "Pin this message?", "Unpin this message?"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_workspace_and_the_message_page_fit(desk, live_server, width):
    # given
    page, seeded = desk
    page.set_viewport_size({"width": width, "height": 900})
    # when / then
    message = seeded["messaging/outboundmessage"]
    for name, path in (("workspace", f"/admin/groups/group/{seeded['groups/group'].pk}/change/"),
                       ("message", f"/admin/messaging/outboundmessage/{message.pk}/change/")):
        page.goto(f"{live_server.url}{path}")
        _fits(page)
        _shoot(page, f"fit-{name}-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_settings_and_integrations_pages_fit(desk, live_server, width):
    # given: a failing endpoint with a long URL, its delivery that gave up, and the group's settings
    page, seeded = desk
    endpoint, delivery = seeded["integrations/webhookendpoint"], seeded["integrations/delivery"]
    page.set_viewport_size({"width": width, "height": 900})
    # when / then
    for path in (f"/admin/groups/group/{seeded['groups/group'].pk}/settings/", "/admin/integrations/webhookendpoint/",
                 f"/admin/integrations/delivery/{delivery.pk}/change/",
                 f"/admin/integrations/webhookendpoint/{endpoint.pk}/change/"):
        page.goto(f"{live_server.url}{path}")
        _fits(page)
    expect(page.get_by_role("link", name="1 failed (retries exhausted)")).to_be_visible()
    _shoot(page, f"endpoint-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_table_cells_wrap_between_words_never_inside_one(desk, live_server, width):
    # given: the message page, whose status history has a "Webhook" source and a "131026" error code
    page, seeded = desk
    message = seeded["messaging/outboundmessage"]
    assert message.status == OutboundMessage.Status.FAILED
    page.set_viewport_size({"width": width, "height": 900})
    # when
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/{message.pk}/change/")
    history = page.locator("table.status-history")
    expect(history).to_contain_text("Webhook")
    # then
    assert page.evaluate(SPLIT_WORDS) == []
    _fits(page)


@pytest.mark.parametrize("width", WIDTHS)
def test_stored_json_keeps_its_words_whole_and_breaks_only_ids(desk, live_server, width):
    # given: a stored webhook whose payload holds a wamid and Meta's error ("Message undeliverable")
    page, seeded = desk
    page.set_viewport_size({"width": width, "height": 900})
    # when
    page.goto(f"{live_server.url}/admin/webhooks/webhookevent/{seeded['webhooks/webhookevent'].pk}/change/")
    expect(page.locator("#content")).to_contain_text("Message undeliverable")
    # then
    assert page.locator("table.readable .token", has_text="wamid.").count() >= 1
    assert page.evaluate(SPLIT_WORDS) == []
    _fits(page)
    _shoot(page, f"webhook-event-{width}")


def _rgb_sum(page: Page, selector: str, prop: str) -> int:
    color = page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")
    return sum(int(part) for part in color[color.index("(") + 1:color.index(")")].split(",")[:3])


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_our_outbound_bubbles_follow_the_admin_colour_scheme(desk, live_server, scheme):
    # given: the browser asks for the scheme (Django's admin follows it)
    page, seeded = desk
    page.emulate_media(color_scheme=scheme)
    # when
    page.goto(f"{live_server.url}/admin/groups/group/{seeded['groups/group'].pk}/change/")
    expect(page.locator(".ws-out").first).to_be_visible()
    # then: a light bubble with dark text, or a dark one with light text (it stayed light green in dark mode)
    background, text = _rgb_sum(page, ".ws-out", "backgroundColor"), _rgb_sum(page, ".ws-out", "color")
    assert (background > 600 and text < 150) if scheme == "light" else (background < 300 and text > 600)
    _shoot(page, f"workspace-{scheme}")
