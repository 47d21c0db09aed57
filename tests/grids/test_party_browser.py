"""The party pages in a real browser at a phone's width: a branch secretary records a mobile
member's organisational life, an in-work member's hours, and marks the yearly report sent; the
member sees their own record. Nothing is wider than the phone, and no Content-Security-Policy
violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from grids.models import InWorkReport, OrganisationalLifeAttendance, ServiceHours
from tests.api import matrix
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console
from tests.grids.test_party_api import build_party_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(request):
    return build_party_world(matrix.build_cast(request))


def assert_clean(page: Page, messages: list[str]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "wider than the phone"
    assert_no_csp_violation(messages)


def test_branch_secretary_keeps_their_members_on_a_phone(live_server, phone, world):
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid1")
    phone.goto(f"{live_server.url}/grids/party/")
    rows = phone.locator("[data-testid=member-list] tbody tr[data-member]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("王志刚")
    expect(rows.first).to_contain_text("138****1111")
    assert_clean(phone, console)
    screenshot(phone, "party-member-list-phone")

    rows.first.locator("a").first.click()
    expect(phone.locator("h1")).to_contain_text("王志刚")
    phone.locator("a[href$='/attendance/new/']").first.click()
    phone.fill("#id_date", "2025-03-01")
    phone.select_option("#id_kind", "party_lesson")
    phone.select_option("#id_way", "online")
    phone.click("[data-testid=party-form] button[type=submit]")
    expect(phone.locator("[data-testid=attendances]").first).to_contain_text("2025-03-01")
    assert OrganisationalLifeAttendance.objects.filter(kind="party_lesson", recorded_by__username="grid1").exists()

    task = world["tasks"]["t1"]
    phone.goto(f"{live_server.url}/grids/party/tasks/{task.pk}/hours/new/")
    phone.fill("#id_served_on", "2025-03-02")
    phone.fill("#id_hours", "3")
    phone.click("[data-testid=party-form] button[type=submit]")
    expect(phone.locator(f"tr[data-task='{task.pk}'] [data-hours]")).to_have_text("5.0")
    assert ServiceHours.objects.filter(task=task).count() == 2
    assert_clean(phone, console)
    screenshot(phone, "party-member-page-phone")

    registration = world["registrations"]["reg1"]
    phone.goto(f"{live_server.url}/grids/party/in-work/{registration.pk}/report/2025/")
    expect(phone.locator("[data-testid=report-total]")).to_have_text("5.0")
    expect(phone.locator("[data-print]")).to_be_visible()
    phone.click("[data-testid=mark-sent]")
    expect(phone.locator("[data-testid=report-status]")).to_contain_text("grid1")
    assert InWorkReport.objects.get(registration=registration, year=2025).sent_by.username == "grid1"
    assert_clean(phone, console)
    screenshot(phone, "party-report-phone")


def test_the_member_sees_only_their_own_record_on_a_phone(live_server, phone, world):
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid2")
    phone.goto(f"{live_server.url}/grids/party/")
    rows = phone.locator("[data-testid=member-list] tbody tr[data-member]")
    expect(rows).to_have_count(1)
    rows.first.locator("a").first.click()
    expect(phone.locator("[data-testid=in-work]")).to_contain_text("任务2")
    expect(phone.locator("[data-testid=edit-member]")).to_have_count(0)
    assert_clean(phone, console)
