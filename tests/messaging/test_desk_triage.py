"""Failure triage in the admin: the error-code catalog, failures grouped by code, the confirmed bulk retry."""

from datetime import timedelta

import pytest
from django.utils import timezone

from groups.cloud_api import error_catalog
from messaging.errors import OWN_CODES
from messaging.models import OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory

pytestmark = pytest.mark.django_db

CATALOG = "/admin/messaging/outboundmessage/error-codes/"
FAILURES = "/admin/messaging/outboundmessage/failures/"
Status = OutboundMessage.Status


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def failures():
    group = GroupFactory()
    now = timezone.now()
    rows = {
        "recent_a": OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026", failed_at=now),
        "recent_b": OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026",
                                           failed_at=now - timedelta(hours=2)),
        "other_code": OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131000", failed_at=now),
        "old": OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026",
                                      failed_at=now - timedelta(hours=30)),
        "delivered": OutboundMessageFactory(group=group, status=Status.DELIVERED),
    }
    return rows


def test_catalog_lists_every_catalog_code_with_meaning_and_action(logged_in):
    # when
    page = logged_in.get(CATALOG).content.decode()
    # then
    for entry in error_catalog():
        assert f'id="code-{entry.code}"' in page
        assert entry.title in page
    for code in OWN_CODES:
        assert f'id="code-{code}"' in page


def test_catalog_is_for_staff_only(client, django_user_model):
    # given
    client.force_login(django_user_model.objects.create_user(username="customer", password="pw-123456789"))
    # when / then
    assert client.get(CATALOG).status_code == 302  # to the admin login


def test_failures_are_grouped_by_code_with_links_to_the_filtered_list(logged_in, failures):
    # when
    day = logged_in.get(FAILURES)
    two_days = logged_in.get(f"{FAILURES}?hours=72")
    # then
    assert {row["error_code"]: row["count"] for row in day.context["rows"]} == {"131026": 2, "131000": 1}
    assert {row["error_code"]: row["count"] for row in two_days.context["rows"]} == {"131026": 3, "131000": 1}
    assert "status=failed&amp;error_code=131026" in day.content.decode()


def test_bulk_retry_asks_first_and_sends_nothing_before_yes(logged_in, failures):
    # when
    response = logged_in.post(FAILURES, {"error_code": "131026", "hours": "24"})
    # then
    assert response.status_code == 200
    assert "Yes, retry them" in response.content.decode()
    assert {m.pk for m in response.context["objects"]} == {failures["recent_a"].pk, failures["recent_b"].pk}
    assert not OutboundMessage.objects.filter(retry_of__isnull=False).exists()


def test_bulk_retry_retries_each_failed_message_of_the_code_in_the_window_once(
    logged_in, failures, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as sends:
        response = logged_in.post(FAILURES, {"error_code": "131026", "hours": "24", "post": "yes"})
        again = logged_in.post(FAILURES, {"error_code": "131026", "hours": "24", "post": "yes"})
    # then
    assert response.status_code == 302 and again.status_code == 302
    retried = set(OutboundMessage.objects.filter(retry_of__isnull=False).values_list("retry_of_id", flat=True))
    assert retried == {failures["recent_a"].pk, failures["recent_b"].pk}
    assert OutboundMessage.objects.filter(retry_of__isnull=False).count() == 2  # The second click found none left.
    assert len(sends) == 2
    assert set(OutboundMessage.objects.filter(retry_of__isnull=False).values_list("status", flat=True)) == {"queued"}


def test_bulk_retry_needs_the_compose_permission(client, user_with_perms, failures):
    # given
    client.force_login(user_with_perms("messaging.view_outboundmessage", is_staff=True))
    # when
    page = client.get(FAILURES)
    response = client.post(FAILURES, {"error_code": "131026", "hours": "24", "post": "yes"})
    # then
    assert page.status_code == 200 and "Retry all with" not in page.content.decode()
    assert response.status_code == 403
    assert not OutboundMessage.objects.filter(retry_of__isnull=False).exists()


def test_message_list_filtered_by_code_offers_the_bulk_retry(logged_in, failures):
    page = logged_in.get("/admin/messaging/outboundmessage/?error_code=131026").content.decode()
    assert f'href="{FAILURES}"' in page


def test_failed_group_operation_and_group_error_link_to_the_catalog(logged_in):
    # given
    from groups.models import GroupOperation
    from tests.groups.factories import GroupOperationFactory

    group = GroupFactory(last_error={"code": 131041, "message": "Group unknown"})
    operation = GroupOperationFactory(group=group, state=GroupOperation.State.FAILED,
                                      errors=[{"code": 131000, "message": "Something went wrong"}])
    # when
    operation_page = logged_in.get(f"/admin/groups/groupoperation/{operation.pk}/change/").content.decode()
    group_page = logged_in.get(f"/admin/groups/group/{group.pk}/change/").content.decode()
    # then
    assert f'href="{CATALOG}#code-131000"' in operation_page
    assert f'href="{CATALOG}#code-131000"' in group_page  # the operations inline
    assert f'href="{CATALOG}#code-131041"' in group_page  # the last error


def test_catalog_says_whether_groupdesk_retries_in_words_not_retry_classes(logged_in):
    page = logged_in.get(CATALOG).content.decode()
    row_131016 = page.split('id="code-131016"', 1)[1].split("</tr>", 1)[0]
    assert "Yes: Groupdesk tries again later" in row_131016
    row_0 = page.split('id="code-0"', 1)[1].split("</tr>", 1)[0]
    assert "No: an administrator must fix the token" in row_0
    for raw in ("back_off", "fix_request", "reauthenticate"):
        assert f">{raw}" not in page


def test_the_error_code_filter_lists_each_code_once(logged_in, failures):
    page = logged_in.get("/admin/messaging/outboundmessage/").content.decode()
    assert page.count("?error_code=131026") == 1  # Three messages failed with it.
    assert page.count("?error_code=131000") == 1
