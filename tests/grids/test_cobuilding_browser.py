"""The unit registration pages in a real browser at a phone's width: staff open a unit's
registration, add a line to its need list and match it; the joint committee's page shows its
roster. Nothing is wider than the phone, and no Content-Security-Policy violation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from grids.models import ItemStatus, UnitRegistrationItem
from tests.api import matrix
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console
from tests.grids.test_cobuilding_pages import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(request):
    return build_world(matrix.build_cast(request))


def assert_clean(page: Page, messages: list[str]) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "wider than the phone"
    assert_no_csp_violation(messages)


def test_staff_keep_a_units_lists_on_a_phone(live_server, phone, world):
    console = watch_console(phone)
    log_in(phone, live_server.url, "staff1")
    phone.goto(f"{live_server.url}/grids/party/units/")
    rows = phone.locator("[data-testid=unit-registration-list] tbody tr[data-registration]")
    expect(rows).to_have_count(1)
    assert_clean(phone, console)
    screenshot(phone, "unit-registration-list-phone")

    rows.first.locator("a").first.click()
    expect(phone.locator("h1")).to_contain_text("东营银行商河路支行党支部")
    phone.locator("[data-testid=list-need] a.button").click()
    phone.fill("#id_title", "青少年暑期托管")
    phone.click("[data-testid=unit-item-form] button[type=submit]")
    item = phone.locator("[data-testid=list-need] article[data-item]")
    expect(item).to_contain_text("青少年暑期托管")
    item.locator("[data-testid=item-step-open]").click()
    item.locator("select").select_option("match")
    item.locator("button[type=submit]").click()
    expect(phone.locator("[data-testid=list-need] article[data-item]")).to_have_attribute("data-status", "matched")
    assert UnitRegistrationItem.objects.get(title="青少年暑期托管").status == ItemStatus.MATCHED
    assert_clean(phone, console)
    screenshot(phone, "unit-registration-detail-phone")

    phone.goto(f"{live_server.url}/grids/organisations/{world['organisations']['joint'].pk}/")
    expect(phone.locator("[data-testid=roster] tbody tr[data-seat]")).to_have_count(2)
    assert_clean(phone, console)
    screenshot(phone, "joint-committee-phone")
