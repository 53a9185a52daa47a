"""The support desk dashboard: numbers per phone number and period, SVG charts, groups, webhook health."""

from datetime import timedelta

import pytest
from django.utils import timezone

from groups.models import Group, PhoneNumber
from messaging.models import OutboundMessage
from tests.messaging.factories import GroupFactory, OutboundMessageFactory
from tests.spec import webhook_body
from webhooks.models import SignatureRejection, WebhookEvent

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/dashboard/"
Status = OutboundMessage.Status


@pytest.fixture
def logged_in(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def desk():
    """Two numbers: the first sent 6 messages today and 1 ten days ago; the second 1 today."""
    main = GroupFactory(subject="Main").phone_number
    other = PhoneNumber.objects.create(phone_number_id="222", display_phone_number="15550002222", waba_id="2",
                                       label="Other")
    group = Group.objects.get(subject="Main")
    now = timezone.now()
    for status in (Status.READ, Status.READ, Status.DELIVERED, Status.SENT):
        OutboundMessageFactory(group=group, status=status)
    OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131026", failed_at=now)
    OutboundMessageFactory(group=group, status=Status.ACCEPTED, accepted_at=now - timedelta(minutes=30))
    old = OutboundMessageFactory(group=group, status=Status.FAILED, error_code="131000",
                                 failed_at=now - timedelta(days=10))
    OutboundMessage.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    OutboundMessageFactory(group=GroupFactory(phone_number=other, state=Group.State.CREATING, group_id=None),
                           status=Status.FAILED, error_code="131047", failed_at=now)
    GroupFactory(phone_number=main, state=Group.State.DELETED)
    GroupFactory(phone_number=main, suspended=True)
    return {"main": main, "other": other}


def _row(response, number: PhoneNumber) -> dict:
    return next(row for row in response.context["per_number"] if row["number"].pk == number.pk)


def test_dashboard_counts_messages_per_number_in_the_period(logged_in, desk):
    # when
    day = logged_in.get(DASHBOARD)
    month = logged_in.get(f"{DASHBOARD}?period=30d")
    # then
    main = _row(day, desk["main"])
    assert (main["total"], main["sent"], main["delivered"], main["read"], main["failed"]) == (6, 4, 3, 2, 1)
    assert main["delivery_rate"] == "75.0 %"  # 3 delivered of 4 sent
    assert main["read_rate"] == "66.7 %"  # 2 read of 3 delivered
    assert _row(day, desk["other"])["failed"] == 1
    assert _row(month, desk["main"])["failed"] == 2  # The one ten days ago counts in 30 days only.
    assert day.context["totals"]["total"] == 7


def test_dashboard_failures_by_code_follow_the_selected_number(logged_in, desk):
    # when
    everyone = logged_in.get(DASHBOARD)
    other = logged_in.get(f"{DASHBOARD}?phone={desk['other'].pk}")
    # then
    assert {row["code"]: row["count"] for row in everyone.context["failure_codes"]} == {"131026": 1, "131047": 1}
    assert {row["code"]: row["count"] for row in other.context["failure_codes"]} == {"131047": 1}
    assert f"phone_number={desk['other'].pk}" in other.context["failure_codes"][0]["list_url"]


def test_dashboard_renders_svg_charts_without_scripts(logged_in, desk):
    # when
    page = logged_in.get(DASHBOARD).content.decode()
    # then
    for chart in ("funnel-chart", "failures-chart", "groups-chart", "rejections-chart"):
        assert f'id="{chart}"><svg' in page
    assert "<script src=\"http" not in page
    assert "131026: 1" in page  # a bar's tooltip in the failures chart


def test_dashboard_counts_groups_by_state(logged_in, desk):
    # when
    response = logged_in.get(f"{DASHBOARD}?phone={desk['main'].pk}")
    # then
    page = response.content.decode()
    assert "<title>Active: 2</title>" in page  # "Main" and the suspended one
    assert "<title>Deleted: 1</title>" in page
    assert "<title>Suspended: 1</title>" in page


def test_dashboard_shows_messages_stuck_without_a_status(logged_in, desk):
    # when
    after_15 = logged_in.get(DASHBOARD).context["stuck"]
    after_60 = logged_in.get(f"{DASHBOARD}?stuck=60").context["stuck"]
    # then
    assert after_15["accepted"] == 1
    assert after_60["accepted"] == 0


def test_dashboard_webhook_health(logged_in, client, post_webhook):
    # given: a processed status webhook, a failed old event, and two forged posts
    post_webhook(webhook_body("messages.status_sent"))
    WebhookEvent.objects.create(received_at=timezone.now(), body=b"x", sha256="f" * 64, state="failed",
                                fields=["group_lifecycle_update"])
    WebhookEvent.objects.create(received_at=timezone.now() - timedelta(days=2), body=b"y", sha256="e" * 64,
                                state="failed", fields=["messages"])
    for _ in range(2):
        assert client.post("/webhooks/whatsapp/", data=b"{}", content_type="application/json",
                           headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 403
    # when
    response = logged_in.get(DASHBOARD)
    # then
    assert response.context["failed_events_24h"] == 1
    assert response.context["rejections_24h"] == 2
    assert SignatureRejection.objects.get().count == 2
    last = dict(response.context["last_events"])
    assert last["messages"] is not None
    assert last["group_lifecycle_update"]["state"] == "failed"
    assert last["group_status_update"] is None


def test_dashboard_needs_the_message_view_permission(client, user_with_perms):
    # given
    client.force_login(user_with_perms("groups.view_group", is_staff=True))
    # when / then
    assert client.get(DASHBOARD).status_code == 403


def test_dashboard_needs_a_login(client):
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_index_links_the_dashboard(logged_in):
    page = logged_in.get("/admin/").content.decode()
    assert 'href="/admin/dashboard/"' in page


def test_dashboard_stays_within_its_queries(logged_in, desk, django_assert_max_num_queries):
    # 13 on a cold cache: the roll-up's watermark is read once a minute (messaging.selectors.rollup_watermark).
    with django_assert_max_num_queries(13):
        assert logged_in.get(f"{DASHBOARD}?period=7d&phone={desk['main'].pk}").status_code == 200


def test_dashboard_last_events_read_as_relative_times_and_state_labels(logged_in, post_webhook):
    post_webhook(webhook_body("messages.status_sent"))
    html = logged_in.get(DASHBOARD).content.decode()
    table = html.split('id="last-events"', 1)[1].split("</table>", 1)[0]
    assert "just now" in table and "0 minutes ago" not in table
    assert ">Processed<" in table and ">processed<" not in table
