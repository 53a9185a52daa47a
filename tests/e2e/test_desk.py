"""The support desk in a real browser: the dashboard and its charts, filters, the message page, the CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.models import Group, Participant, PhoneNumber
from messaging.models import MessageReceipt, MessageStatusChange, OutboundMessage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

Status = OutboundMessage.Status


@pytest.fixture
def desk_rows():
    """One number, two groups, messages read, delivered and failed, with receipts on the read one."""
    number = PhoneNumber.objects.create(phone_number_id="e2e-desk", display_phone_number="15550007777",
                                        waba_id="e2e", label="Desk")
    parcels = Group.objects.create(phone_number=number, subject="Parcels Leeds", group_id="e2e-parcels",
                                   state=Group.State.ACTIVE, participant_count=2)
    billing = Group.objects.create(phone_number=number, subject="Billing help", group_id="e2e-billing",
                                   state=Group.State.ACTIVE)
    maya = Participant.objects.create(group=parcels, wa_id="16505551234", name="Maya Patel")
    oliver = Participant.objects.create(group=parcels, wa_id="447700900123", name="Oliver Grant")
    now = timezone.now()
    read = OutboundMessage.objects.create(
        group=parcels, type="text", content={"body": "Your parcel left the depot"}, status=Status.READ,
        wamid="wamid.E2EREAD", recipient_count=2, delivered_count=2, read_count=1, accepted_at=now,
        sent_at=now, delivered_at=now, read_at=now,
    )
    for person, read_at in ((maya, now), (oliver, None)):
        MessageReceipt.objects.create(message=read, participant=person, participant_key=f"wa:{person.wa_id}",
                                      participant_wa_id=person.wa_id, delivered_at=now, read_at=read_at)
        MessageStatusChange.objects.create(message=read, status="delivered", participant=person, source="webhook",
                                           participant_key=f"wa:{person.wa_id}", timestamp=now,
                                           event_key=f"delivered:wa:{person.wa_id}")
    OutboundMessage.objects.create(group=parcels, type="text", content={"body": "Van is late"},
                                   status=Status.DELIVERED, wamid="wamid.E2EDELIVERED", recipient_count=2,
                                   delivered_count=2)
    failed = OutboundMessage.objects.create(
        group=billing, type="text", content={"body": "Invoice ready"}, status=Status.FAILED, error_code="131026",
        error={"code": 131026, "title": "Message undeliverable"}, failed_at=now - timedelta(minutes=5),
    )
    return {"read": read, "failed": failed, "parcels": parcels, "billing": billing}


def _rows(page: Page) -> int:
    return page.locator("#result_list tbody tr").count()


def test_dashboard_renders_its_charts_from_the_admin_index(admin_page: Page, live_server, desk_rows):
    # given
    page = admin_page
    page.goto(f"{live_server.url}/admin/")
    # when
    page.click("#desk-dashboard a")
    # then
    expect(page).to_have_url(f"{live_server.url}/admin/dashboard/")
    for chart in ("#funnel-chart > svg", "#failures-chart > svg", "#groups-chart > svg", "#rejections-chart > svg"):
        expect(page.locator(chart)).to_be_visible()
    expect(page.locator("#failures-chart rect[fill]").first).to_be_attached()
    expect(page.locator("#failure-codes")).to_contain_text("131026")
    # when: another period
    page.click("#period-selector >> text=7d")
    # then
    expect(page).to_have_url(f"{live_server.url}/admin/dashboard/?period=7d")
    expect(page.locator("#per-number")).to_contain_text("Desk (+15550007777)")
    page.screenshot(path="/tmp/groupdesk-dashboard.png", full_page=True)


def test_filters_narrow_the_message_list(admin_page: Page, live_server, desk_rows):
    # given
    page = admin_page
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/")
    expect(page.locator("#result_list tbody tr")).to_have_count(3)
    # when: the status filter in the sidebar
    page.locator("#changelist-filter").get_by_role("link", name="Failed", exact=True).click()
    # then
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("Billing help")
    # when: the group typed in, with the status filter cleared
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/")
    page.locator("details[data-filter-title='group (id)'] summary").click()
    page.fill("input[name=group]", str(desk_rows["parcels"].pk))
    page.locator("form.input-filter input[type=submit]").click()
    # then
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.locator("#result_list")).not_to_contain_text("Billing help")
    expect(page.locator("#result_list svg[aria-label='read 1/2']")).to_be_visible()


def test_message_page_shows_the_receipt_matrix_and_history(admin_page: Page, live_server, desk_rows):
    # when
    page = admin_page
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/")
    page.get_by_role("link", name=str(desk_rows["read"].pk), exact=True).click()
    # then
    matrix = page.locator("table.receipt-matrix")
    expect(matrix).to_be_visible()
    expect(matrix).to_contain_text("Maya Patel")
    expect(matrix).to_contain_text("Oliver Grant")
    expect(page.locator("table.status-history")).to_contain_text("delivered")


def test_failed_message_links_to_the_error_catalog(admin_page: Page, live_server, desk_rows):
    # when
    page = admin_page
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/{desk_rows['failed'].pk}/change/")
    page.get_by_role("link", name="All error codes").click()
    # then
    expect(page.locator("#code-131026")).to_be_visible()


def test_csv_export_downloads_the_filtered_list(admin_page: Page, live_server, desk_rows):
    # given
    page = admin_page
    page.goto(f"{live_server.url}/admin/messaging/outboundmessage/?group={desk_rows['parcels'].pk}")
    # when
    with page.expect_download() as download_info:
        page.click("#export-csv")
    download = download_info.value
    # then
    assert download.suggested_filename.startswith("messages-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.DictReader(io.StringIO(exported.read())))
    assert {row["wamid"] for row in rows} == {"wamid.E2EREAD", "wamid.E2EDELIVERED"}
    assert {row["group_subject"] for row in rows} == {"Parcels Leeds"}
