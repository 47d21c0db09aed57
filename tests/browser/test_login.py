"""The login journey in a real browser: Chinese by default, a grid worker on a phone, the switch
to English, a staff member on a desktop, and no Content-Security-Policy violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.conftest import PASSWORD, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def console(phone: Page, desktop: Page) -> list[str]:
    """Every console message and page error of both pages, to look for CSP violations."""
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        messages.append(f"{message.type}: {message.text}")

    for page in (phone, desktop):
        page.on("console", keep)
        page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


def assert_no_csp_violation(messages: list[str]) -> None:
    violations = [message for message in messages if "Content Security Policy" in message]
    assert violations == [], violations


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main form button[type=submit]")


def test_login_page_is_in_chinese(live_server, phone, console):
    phone.goto(f"{live_server.url}/login/")
    assert phone.get_attribute("html", "lang") == "zh-Hans"
    screenshot(phone, "login-phone-zh")
    assert phone.inner_text("main h1") == "登录"  # needs zh_Hans catalogue
    assert_no_csp_violation(console)


def test_grid_worker_logs_in_on_a_phone_and_switches_to_english(live_server, phone, console, grid_worker):
    log_in(phone, live_server.url, "grid1")
    # A grid worker's start page is My day (grids sets roles.START_PAGES["grid_worker"]).
    phone.wait_for_url(f"{live_server.url}/grids/my-day/")
    expect(phone.locator("[data-testid=day-summary]")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(phone, "start-grid-worker-phone")

    # The menu is folded away on a phone, and opens with the menu button.
    navigation = phone.locator("#site-nav")
    expect(navigation).to_be_hidden()
    phone.click(".menu-toggle")
    expect(navigation).to_be_visible()
    expect(phone.locator(".menu-toggle")).to_have_attribute("aria-expanded", "true")
    expect(phone.locator('[data-nav="home"]')).to_be_visible()
    expect(phone.locator('[data-nav="accounts"]')).to_have_count(0)
    expect(phone.locator("#site-nav button", has_text="Log out")).to_have_count(0)  # still in Chinese
    screenshot(phone, "menu-grid-worker-phone")

    phone.click('footer [data-lang="en"]')
    phone.wait_for_url(f"{live_server.url}/grids/my-day/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator('footer [data-lang="en"]')).to_have_class("link current")
    expect(phone.locator("main h1")).to_have_text("My day")
    phone.click(".menu-toggle")
    expect(phone.locator("#site-nav button", has_text="Log out")).to_be_visible()
    screenshot(phone, "start-grid-worker-phone-en")
    assert_no_csp_violation(console)


def test_staff_on_a_desktop_see_the_navigation(live_server, desktop, console, staff):
    log_in(desktop, live_server.url, "staff1")
    desktop.wait_for_url(f"{live_server.url}/")
    expect(desktop.locator('[data-start-page="staff"]')).to_be_visible()
    expect(desktop.locator(".menu-toggle")).to_be_hidden()
    expect(desktop.locator('[data-nav="accounts"]')).to_be_visible()
    expect(desktop.locator('[data-nav="notifications"]')).to_be_visible()
    screenshot(desktop, "start-staff-desktop")
    desktop.click('[data-nav="accounts"]')
    desktop.wait_for_url(f"{live_server.url}/accounts/")
    expect(desktop.locator('[data-nav="accounts"]')).to_have_attribute("aria-current", "page")
    expect(desktop.locator("tbody tr", has_text="staff1")).to_have_count(1)
    screenshot(desktop, "accounts-staff-desktop")
    assert_no_csp_violation(console)


def test_a_wrong_password_keeps_the_person_on_the_login_page(live_server, phone, console, grid_worker):
    phone.goto(f"{live_server.url}/login/")
    phone.fill("#id_username", "grid1")
    phone.fill("#id_password", "not-the-password")
    phone.click("main form button[type=submit]")
    expect(phone.locator(".form-errors")).to_be_visible()
    expect(phone.locator("#id_username")).to_have_value("grid1")
    assert phone.url.startswith(f"{live_server.url}/login/")
    screenshot(phone, "login-failed-phone")
    assert_no_csp_violation(console)
