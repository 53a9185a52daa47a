"""REST list paging (README "REST API": cursor-paginated, `?page_size=` up to 500): bad paging is a 400 naming it."""

from base64 import b64encode

import pytest

from tests.groups.factories import GroupFactory

pytestmark = pytest.mark.django_db


def _cursor(querystring: str) -> str:
    return b64encode(querystring.encode()).decode()


@pytest.mark.parametrize("path", ["/api/v1/groups/", "/api/v1/groups/{group}/events/", "/api/v1/messages/"])
@pytest.mark.parametrize("cursor", ["garbage!", _cursor("p=abc"), _cursor("r=x&p=1"), _cursor("o=-1")])
def test_a_cursor_that_no_page_gave_is_a_400_naming_it(admin_api, path, cursor):
    # Without the check: "garbage!" was a 404 naming nothing, and a readable cursor with a position of the wrong
    # kind a 500.
    # given
    group = GroupFactory()
    # when
    response = admin_api.get(path.format(group=group.pk), {"cursor": cursor})
    # then
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "next" in response.json()["extra"]["fields"]["cursor"][0]


@pytest.mark.parametrize("page_size", ["0", "-3", "ten", "501", "2.5"])
def test_a_page_size_outside_1_to_500_is_a_400_naming_it(admin_api, page_size):
    # Without the check it was ignored (20 per page) or cut to 500 without a word.
    # when
    response = admin_api.get("/api/v1/groups/", {"page_size": page_size})
    # then
    assert response.status_code == 400
    assert response.json()["extra"]["fields"]["page_size"] == ["Must be an integer from 1 to 500."]


def test_pages_follow_with_the_next_link_at_any_size_up_to_500(admin_api):
    # given
    groups = GroupFactory.create_batch(3)
    # when
    first = admin_api.get("/api/v1/groups/", {"page_size": 2}).json()
    second = admin_api.get(first["next"]).json()
    everything = admin_api.get("/api/v1/groups/", {"page_size": 500}).json()
    # then
    assert [g["id"] for g in first["results"] + second["results"]] == [g.pk for g in reversed(groups)]
    assert second["next"] is None
    assert len(everything["results"]) == 3
