"""No staff page shows raw JSON or a Python dict/list repr, nor a time with microseconds, for seeded objects of
every screen (tests/desk/seed.py): stored JSON reads as tables and sentences."""

import re
from html import unescape
from html.parser import HTMLParser

import pytest

from tests.desk.pages import staff_pages
from tests.desk.seed import seed_every_screen

pytestmark = pytest.mark.django_db

# '{"code": ...', "{'code': ...", '["messages"]', "['x']": what json.dumps, repr() and str() of stored values print.
RAW = re.compile(r"""[{\[]\s*["'][^"'\n]{0,60}["']\s*[:,\]}]""")
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d{3,6}")


class _Text(HTMLParser):
    """The page's text as a person sees it: no scripts, styles or attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)

    def handle_entityref(self, name):
        self.handle_data(unescape(f"&{name};"))

    def handle_charref(self, name):
        self.handle_data(unescape(f"&#{name};"))


def page_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return "".join(parser.parts)


def test_no_staff_page_shows_raw_json_a_dict_repr_or_microseconds(client, superuser):
    # given
    seeded = seed_every_screen(superuser=superuser)
    client.force_login(superuser)
    offenders = {}
    # when
    for url in staff_pages(seeded, superuser=superuser):
        response = client.get(url)
        assert response.status_code == 200, url
        text = page_text(response.content.decode())
        found = RAW.findall(text) + MICROSECONDS.findall(text)
        if found:
            offenders[url] = found[:3]
    # then
    assert not offenders, "\n".join(f"{url}: {found}" for url, found in offenders.items())


def test_the_detector_sees_json_reprs_and_microseconds():
    assert RAW.findall(page_text('<td>{&quot;code&quot;: 131026}</td>'))
    assert RAW.findall(page_text("<td>{&#x27;code&#x27;: 131026}</td>"))
    assert RAW.findall(page_text('<td>["messages"]</td>'))
    assert MICROSECONDS.findall(page_text("<td>2026-12-06 21:10:43.123456+00:00</td>"))
    assert not RAW.findall(page_text('<script>{"a": 1}</script><td>Code 131026</td>'))


def test_the_message_lists_show_the_message_text(client, superuser):
    # given
    seeded = seed_every_screen(superuser=superuser)
    client.force_login(superuser)
    # when
    outbound = client.get("/admin/messaging/outboundmessage/").text
    inbound = client.get("/admin/messaging/inboundmessage/").text
    # then: the text, cut to 80 characters; a media message without a caption says what it is
    assert seeded["messaging/outboundmessage"].content["body"][:60] in outbound
    assert "<td class=\"field-message_text\">(image)</td>" in inbound
