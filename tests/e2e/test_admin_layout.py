"""Every admin page at 1,400 px in Chromium: the document is never wider than the viewport (no horizontal scroll).

The pages are those of tests/desk/pages.py (index, each changelist and add form, each seeded object's page of every
screen, the dashboard and the triage pages), with the long subjects, ids and texts of tests/desk/seed.py.
"""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from tests.desk.pages import staff_pages
from tests.desk.seed import seed_desk_history, seed_every_screen

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTH = 1400
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# A changelist's table scrolls inside its own box (Django's `.results { overflow-x: auto }`): the document stays
# narrow while the right-hand columns are cut off. Any box of the page that clips or scrolls sideways counts too.
CUT_OFF = """() => [...document.querySelectorAll('#content div, #content fieldset, #content section')]
    .filter(box => !box.classList.contains('visually-hidden'))
    .filter(box => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(box).overflowX))
    .filter(box => box.scrollWidth > box.clientWidth + 1 && box.offsetParent !== null)
    .map(box => (box.id ? '#' + box.id : '') + '.' + (box.className || box.tagName))"""


def test_no_admin_page_overflows_horizontally_at_1400_px(logged_in, live_server):
    # given
    page, user = logged_in
    seeded = seed_every_screen(superuser=user)
    overflowing = {}
    # when
    for url in staff_pages(seeded, superuser=user):
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.status == 200, url
        document_width, viewport = page.evaluate(OVERFLOW)
        cut_off = page.evaluate(CUT_OFF)
        if document_width > viewport or cut_off:
            overflowing[url] = (document_width, cut_off)
    # then
    assert not overflowing, f"wider than {WIDTH} px: {overflowing}"


# The desk's own pages, also at a phone's width; GROUPDESK_SCREENSHOTS=docs/screenshots saves them for the README.
DESK_PAGES = {
    "dashboard": ("desk-dashboard", ""), "dashboard-30d": ("desk-dashboard", "?period=30d"),
    "failures": ("admin:messaging_failures", "?hours=720"), "error-codes": ("admin:messaging_error_catalog", ""),
}


@pytest.mark.parametrize("width", [WIDTH, 390])
def test_the_desk_pages_fit_a_desktop_and_a_phone(logged_in, live_server, width):
    # given
    page, user = logged_in
    seed_every_screen(superuser=user)
    seed_desk_history()
    page.set_viewport_size({"width": width, "height": 900})
    shots = os.environ.get("GROUPDESK_SCREENSHOTS")
    overflowing = {}
    for name, (url_name, query) in DESK_PAGES.items():
        # when
        page.goto(f"{live_server.url}{reverse(url_name)}{query}")
        document_width, viewport = page.evaluate(OVERFLOW)
        if document_width > viewport or page.evaluate(CUT_OFF):
            overflowing[name] = (document_width, page.evaluate(CUT_OFF))
        if shots and "-30d" not in name:  # The README shows the default period.
            page.screenshot(path=str(Path(shots) / f"{name}-{width}.png"))
    # then
    assert not overflowing, f"wider than {width} px: {overflowing}"
