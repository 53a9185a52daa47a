"""Lists show times as the desk does everywhere: "4 min ago", the exact time on hover, and still sort by them."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import Participant
from tests.desk.seed import seed_every_screen
from tests.desk.test_staff_pages import page_text

pytestmark = pytest.mark.django_db

# Django's own rendering of a datetime: "Dec. 7, 2026, 12:39 a.m.", "May 7, 2026, noon".
ABSOLUTE = re.compile(r"\b[A-Z][a-z]{2,3}\.? \d{1,2}, \d{4}, (\d{1,2}(:\d{2})? [ap]\.m\.|noon|midnight)")
LISTS = ["groups/group", "groups/participant", "groups/groupoperation", "groups/groupevent", "groups/auditentry",
         "messaging/outboundmessage", "messaging/pin", "webhooks/webhookevent", "integrations/delivery"]


@pytest.mark.parametrize("key", LISTS)
def test_list_times_read_as_relative_with_the_exact_time_on_hover(client, superuser, key):
    # given
    seed_every_screen(superuser=superuser)
    Participant.objects.update(joined_at=timezone.now() - timedelta(minutes=4))
    client.force_login(superuser)
    # when
    html = client.get(f"/admin/{key}/").content.decode()
    # then
    assert not ABSOLUTE.findall(page_text(html))
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [^"]+">[^<]+</time>', html)


SORTED = [("groups/group", "created_at"), ("groups/groupevent", "occurred_at"), ("groups/auditentry", "created_at"),
          ("integrations/delivery", "created_at")]


@pytest.mark.parametrize(("key", "field"), SORTED)
def test_list_time_columns_still_sort(client, superuser, key, field):
    # given
    seed_every_screen(superuser=superuser)
    client.force_login(superuser)
    # when
    response = client.get(f"/admin/{key}/")
    # then: the time column is a sort link ordering by the field
    html = response.content.decode()
    assert re.search(rf'<th scope="col" class="sortable column-{field}_shown', html)
    assert re.search(r'<a href="\?o=-?\d+', html)
    assert client.get(f"/admin/{key}/?o={_column_index(response, field) + 1}").status_code == 200


def _column_index(response, field: str) -> int:
    names = [getattr(n, "__name__", n) for n in response.context["cl"].list_display]
    return names.index(f"{field}_shown")

def test_the_failures_page_last_column_is_relative(client, superuser):
    # given
    seed_every_screen(superuser=superuser)
    client.force_login(superuser)
    # when
    html = client.get("/admin/messaging/outboundmessage/failures/").content.decode()
    # then
    assert not ABSOLUTE.findall(page_text(html))
    assert re.search(r"<time datetime=\"[^\"]+\" title=\"[^\"]+\">[^<]+</time>", html)
