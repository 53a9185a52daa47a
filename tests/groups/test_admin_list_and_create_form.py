"""Small things staff stumble on: the only number preselected, and suspension marked only where it applies."""

import re

import pytest

from tests.groups.factories import GroupFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, superuser):
    client.force_login(superuser)
    return client


def _selected_phone_numbers(page: str) -> list[str]:
    select = re.search(r'<select name="phone_number".*?</select>', page, flags=re.DOTALL).group(0)
    return re.findall(r'<option value="(\d+)" selected>', select)


def test_the_only_phone_number_is_preselected_in_the_create_form(desk):
    # given
    number = PhoneNumberFactory()
    # when
    page = desk.get("/admin/groups/group/add/").text
    # then
    assert _selected_phone_numbers(page) == [str(number.pk)]


def test_with_several_phone_numbers_staff_choose_one(desk):
    # given
    PhoneNumberFactory(phone_number_id="1001", display_phone_number="15550001001")
    PhoneNumberFactory(phone_number_id="1002", display_phone_number="15550001002")
    # when
    page = desk.get("/admin/groups/group/add/").text
    # then
    assert _selected_phone_numbers(page) == []


def _result_rows(page: str) -> list[str]:
    table = re.search(r'<table id="result_list">.*?</table>', page, flags=re.DOTALL).group(0)
    return re.findall(r"<tr>.*?</tr>", table.split("<tbody>")[1], flags=re.DOTALL)


def test_the_group_list_marks_only_suspended_groups(desk):
    # given
    GroupFactory(subject="Healthy parcels")
    GroupFactory(subject="Held billing", suspended=True)
    # when
    rows = _result_rows(desk.get("/admin/groups/group/").text)
    # then: no red cross on the healthy group, a mark on the suspended one
    healthy = next(row for row in rows if "Healthy parcels" in row)
    held = next(row for row in rows if "Held billing" in row)
    assert '<td class="field-suspension"></td>' in healthy  # Not even the empty-value dash.
    assert "icon-no.svg" not in healthy and "Suspended" not in healthy
    assert "Suspended" in held
