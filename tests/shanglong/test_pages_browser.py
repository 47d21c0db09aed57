"""The core's pages in a real browser at a phone's size (390×844): nothing wider than the
phone, no Content-Security-Policy violation, the navigation reachable with scripts off."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from shanglong.models import Notification
from tests.conftest import assert_no_csp_violation, log_in, screenshot, watch_console

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CORE_PAGES = ["/", "/accounts/", "/accounts/new/", "/notifications/", "/calendar/", "/password/"]


def assert_fits_the_phone(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{page.url} is wider than the phone"


def test_the_community_admins_pages_fit_a_phone(live_server, phone, community_admin):
    Notification.objects.create(
        recipient=community_admin, kind="test", dedupe_key="t", title="走访提醒" * 12, body="今天有三户到期。" * 20
    )
    console = watch_console(phone)
    log_in(phone, live_server.url, "admin1")
    for path in CORE_PAGES:
        phone.goto(f"{live_server.url}{path}")
        assert_fits_the_phone(phone)
    # A refused form keeps the phone's width too, errors and help included.
    phone.goto(f"{live_server.url}/accounts/new/")
    phone.click("main form button[type=submit]")
    # The help and the error are where the field's aria-describedby points.
    expect(phone.locator("#id_username_error")).to_be_visible()
    expect(phone.locator("#id_username_helptext")).to_be_visible()
    expect(phone.locator("#id_username")).to_have_attribute(
        "aria-describedby", "id_username_helptext id_username_error"
    )
    assert_fits_the_phone(phone)
    screenshot(phone, "core-account-form-errors-phone")
    assert_no_csp_violation(console)


def test_the_subdistricts_communities_are_labelled_on_a_phone(live_server, phone, subdistrict_user, community):
    console = watch_console(phone)
    log_in(phone, live_server.url, "street1")
    widget = phone.locator("[data-widget='core.subdistrict_communities']")
    # The table's rows become cards on a phone: each value says what it is.
    expect(widget.locator("td[data-label]")).to_have_count(3)
    expect(widget.locator("td").first).to_have_attribute("data-label", "社区")
    assert_fits_the_phone(phone)
    screenshot(phone, "core-subdistrict-start-phone")
    assert_no_csp_violation(console)


def test_the_navigation_is_open_on_a_phone_without_scripts(live_server, browser: Browser, staff):
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "staff1")
        expect(page.locator("#site-nav")).to_be_visible()
        expect(page.locator(".menu-toggle")).to_be_hidden()
        expect(page.locator("[data-nav='notifications']")).to_be_visible()
        assert_fits_the_phone(page)
    finally:
        context.close()
