"""The messages admin's search: words of the text or group subject, a wamid exactly; a trigram index on PostgreSQL."""

import pytest
from django.contrib.admin.sites import site
from django.db import connection
from django.test import RequestFactory

from groups.models import Group
from messaging.models import OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/messaging/outboundmessage/"


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def messages_to_find():
    lunch = GroupFactory(subject="Lunch club")
    chess = GroupFactory(subject="Chess night")
    return {
        "pizza": OutboundMessageFactory(group=lunch, content={"body": "Pizza on Friday", "preview_url": False}),
        "opening": OutboundMessageFactory(group=chess, content={"body": "The Sicilian opening", "preview_url": False}),
        "photo": OutboundMessageFactory(group=chess, type="image", content={"link": "https://example.test/a.jpg"}),
        "sent": OutboundMessageFactory(group=lunch, accepted=True, wamid="wamid.FINDME01",
                                       content={"body": "Menu of the week", "preview_url": False}),
    }


def _found(client, query: str) -> set[int]:
    response = client.get(CHANGELIST, {"q": query})
    assert response.status_code == 200
    return {message.pk for message in response.context["cl"].result_list}


@pytest.mark.parametrize(("query", "expected"), [
    ("pizza", {"pizza"}),  # a word of the text, any case
    ("sicilian OPENING", {"opening"}),  # every word must match
    ('"on Friday"', {"pizza"}),  # a quoted phrase is one word
    ("chess", {"opening", "photo"}),  # the group subject, also for messages without text
    ("lunch week", {"sent"}),  # one word in the subject, the other in the text
    ("wamid.FINDME01", {"sent"}),  # a wamid exactly
    ("wamid.FINDME", set()),  # not a prefix of one
    ("pizza chess", set()),
])
def test_search_finds_words_of_the_text_or_the_group_subject(logged_in, messages_to_find, query, expected):
    # when
    found = _found(logged_in, query)
    # then
    assert found == {messages_to_find[name].pk for name in expected}


def test_empty_search_lists_every_message(logged_in, messages_to_find):
    assert _found(logged_in, "  ") == {message.pk for message in messages_to_find.values()}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)  # ANALYZE samples committed rows, as in production.
def test_text_search_uses_the_trigram_index_on_postgresql(superuser):
    # given: enough messages that a scan costs more than the index, committed and analysed
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    # A realistic number of groups too: with a handful, the planner expects "group in the matching groups" to hold
    # for a large share of the messages and walks the created_at index instead.
    first = GroupFactory()
    groups = [first, *Group.objects.bulk_create(
        Group(phone_number=first.phone_number, group_id=f"search-{n}", subject=f"Group {n}") for n in range(3999))]
    OutboundMessage.objects.bulk_create(
        (OutboundMessage(group=groups[n % 4000], type="text", content={"body": f"Message number {n}"})
         for n in range(100000)), batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messaging_outboundmessage")
        cursor.execute("ANALYZE groups_group")
    request = RequestFactory().get(CHANGELIST, {"q": "number 12345"})
    request.user = superuser
    model_admin = site._registry[OutboundMessage]
    # when: the query the changelist runs for its first page
    queryset, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), "number 12345")
    plan = queryset.order_by("-created_at", "-pk")[:100].explain()
    # then: the index on the text answers it, no scan of the messages
    assert "Bitmap Index Scan on outbound_body_trgm_idx" in plan, plan
    assert "Seq Scan on messaging_outboundmessage" not in plan
    assert [m.content["body"] for m in queryset] == ["Message number 12345"]
