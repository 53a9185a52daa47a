"""The desk's presentation helpers: times in TIME_ZONE without microseconds, relative; short ids; people by name."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from desk.templatetags.desk import relative
from groups.models import JoinRequest, Participant


def render(source: str, **context) -> str:
    return Template("{% load desk %}" + source).render(Context(context))


@pytest.mark.parametrize("ago,text", [(timedelta(seconds=10), "just now"), (timedelta(minutes=2), "2 min ago"),
                                      (timedelta(hours=3), "3 h ago"), (timedelta(days=1), "1 day ago"),
                                      (timedelta(days=40), "1 month ago"), (-timedelta(days=3), "in 3 days")])
def test_relative_reads_as_people_say_it(ago, text):
    now = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
    assert relative(now - ago, now=now) == text


def test_when_is_relative_with_the_exact_local_time_to_the_second_on_hover(settings):
    settings.TIME_ZONE = "Europe/Paris"
    at = timezone.now() - timedelta(minutes=5, microseconds=123456)
    html = render("{{ at|when }}", at=at)
    local = at.astimezone(timezone.get_current_timezone())
    assert html.startswith(f'<time datetime="{at.isoformat(timespec="seconds")}"')
    assert f'title="{local:%Y-%m-%d %H:%M:%S} CET"' in html and ">5 min ago</time>" in html
    assert str(at.microsecond) not in html
    assert render("{{ at|when }}", at=None) == "\u2013"


def test_short_id_keeps_both_ends_and_copies_the_whole_id():
    wamid = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI1QjJGRkQ2RTk2QjY3QTQ1MzQA"
    html = render('{{ wamid|short_id:"wamid" }}', wamid=wamid)
    assert ">wamid.HB…QTQ1MzQA</code>" in html
    assert f'title="{wamid}"' in html and f'data-copy="{wamid}"' in html and 'aria-label="Copy the wamid"' in html
    assert ">JR0001</code>" in render("{{ value|short_id }}", value="JR0001")  # Short ids stay whole.


def test_person_shows_the_name_first_and_the_phone_or_bsuid_second():
    named = Participant(name="Maya Patel", wa_id="16505551234")
    unnamed = Participant(user_id="US.13491208655302741918")
    request = JoinRequest(wa_id="447700900123", username="oliver")
    assert render("{{ p|person }}", p=named) == (
        '<span class="person"><span class="person-name">Maya Patel</span> '
        '<span class="person-id">+16505551234</span></span>')
    assert ">US.13491208655302741918<" in render("{{ p|person }}", p=unnamed)
    assert ">oliver</span> <span class=\"person-id\">+447700900123<" in render("{{ p|person }}", p=request)
    assert "&lt;b&gt;" in render("{{ p|person }}", p=Participant(name="<b>", wa_id="1"))  # Escaped.
