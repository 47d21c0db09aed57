"""The residents registry in a real browser at a phone's size (390×844): a grid worker finds a
resident by address, sees the masked phone and reveals it (the access log records it); a
merchant and a grid worker of another grid cannot reach the page. No Content-Security-Policy
violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from shanglong.models import AccessAction, AccessLog, RevealReason, Role, reveal_detail
from tests.api import matrix
from tests.conftest import assert_no_csp_violation, log_in, make_user, screenshot, watch_console
from tests.grids.people_world import build_people

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(request):
    return build_people(matrix.build_cast(request))


def test_a_grid_worker_finds_a_resident_by_address_and_reveals_the_phone(live_server, phone, people):
    resident = people["residents"]["A"]
    console = watch_console(phone)
    log_in(phone, live_server.url, "grid1", next_path="/grids/residents/")
    phone.click(".menu-toggle")
    expect(phone.locator('[data-nav="residents"]')).to_have_attribute("aria-current", "page")
    phone.fill("input[name=q]", "小区cA 1号楼 101")
    phone.click("form.resident-search button[type=submit]")
    cards = phone.locator("[data-testid=resident-list] .resident-card")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text("居民A")
    expect(card.locator("[data-testid=masked-mobile]")).to_contain_text(resident.masked_mobile)
    assert resident.mobile not in phone.content()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "residents-list-grid-worker-phone")

    card.locator("a.resident-name").click()
    phone.wait_for_url(f"{live_server.url}/grids/residents/{resident.pk}/")
    expect(phone.locator("[data-testid=mobile]")).to_have_text(resident.masked_mobile)
    expect(phone.locator("[data-testid=id-number]")).to_have_text(resident.masked_id_number)
    assert not AccessLog.objects.filter(action=AccessAction.REVEAL).exists()

    # The button asks why first: without a reason the server refuses and nothing is shown.
    phone.click("[data-testid=reveal-mobile]")
    phone.click("[data-testid=reveal-mobile-submit]")
    expect(phone.locator("form[data-reveal=mobile] [data-reveal-error]")).to_be_visible()
    expect(phone.locator("[data-testid=mobile]")).to_have_text(resident.masked_mobile)
    assert not AccessLog.objects.filter(action=AccessAction.REVEAL).exists()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.select_option("[data-testid=reveal-mobile-reason]", "home_visit")
    phone.click("[data-testid=reveal-mobile-submit]")
    expect(phone.locator("[data-testid=mobile]")).to_have_text(resident.mobile)
    expect(phone.locator("[data-testid=mobile]")).to_have_class("secret revealed")
    expect(phone.locator("[data-testid=reveal-mobile]")).to_have_count(0)
    # The identity number stays masked until it is revealed on its own.
    expect(phone.locator("[data-testid=id-number]")).to_have_text(resident.masked_id_number)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "resident-revealed-phone-grid-worker-phone")
    log = AccessLog.objects.get(action=AccessAction.REVEAL)
    assert (log.username, log.target) == ("grid1", f"resident:{resident.pk}:mobile")
    assert_no_csp_violation(console)


def test_the_audit_admin_reads_the_reveal_and_its_reason_at_phone_size(
    live_server, phone, people, community, grid_worker
):
    """The reveal with its reason appears on the audit administrator's page, which fits a
    390 px phone."""
    resident = people["residents"]["A"]
    AccessLog.objects.create(
        user=grid_worker,
        username=grid_worker.username,
        action=AccessAction.REVEAL,
        target=f"resident:{resident.pk}:mobile",
        detail=reveal_detail(reason=RevealReason.EMERGENCY, text="独居老人联系不上"),
    )
    make_user("auditor", Role.AUDIT_ADMIN, community=community)
    console = watch_console(phone)
    log_in(phone, live_server.url, "auditor")
    phone.wait_for_url(f"{live_server.url}/audit/")
    rows = phone.locator("[data-testid=audit-row]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"resident:{resident.pk}:mobile")
    expect(rows.first).to_contain_text("独居老人联系不上")
    expect(phone.locator("h1")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "audit-log-audit-admin-phone")
    assert_no_csp_violation(console)


def test_a_merchant_and_another_grids_worker_cannot_reach_the_page(live_server, phone, people):
    resident = people["residents"]["A"]
    console = watch_console(phone)
    page_url = f"/grids/residents/{resident.pk}/"
    response = log_in(phone, live_server.url, "merchant1", next_path=page_url)
    assert response.status == 403
    expect(phone.locator("body")).not_to_contain_text("居民A")
    phone.context.clear_cookies()

    response = log_in(phone, live_server.url, "grid2", next_path=page_url)
    assert response.status == 404
    expect(phone.locator("body")).not_to_contain_text("居民A")
    # Their own list does not show the resident either.
    phone.goto(f"{live_server.url}/grids/residents/?q=居民A")
    expect(phone.locator("[data-testid=resident-list] .resident-card")).to_have_count(0)
    screenshot(phone, "residents-other-grid-phone")
    assert_no_csp_violation(console)
