"""The test cast and the shared fixtures.

Two communities in one subdistrict, so scoping between communities shows; one user per role
in the first community, staff in the second, subdistrict staff and an outsider.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.test import Client
from playwright.sync_api import ConsoleMessage, Page, Response

from shanglong.models import Community, Department, DepartmentLevel, Role, Subdistrict, User

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "Test-pass-2026!"


def require_service(name: str, reason: str) -> None:
    """A test that needs a real service: skipped on a developer's machine without it, a
    failure in CI (REQUIRE_SERVICES=1), where a skip would hide a missing service."""
    if os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required in CI: {reason}")
    pytest.skip(f"{name} not available: {reason}")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        require_service("Redis", "REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        require_service("Redis", f"{url} does not answer: {error}")
    return url


@pytest.fixture
def subdistrict(db) -> Subdistrict:
    return Subdistrict.objects.create(name="文汇街道", district="东营区", code="t-wenhui")


@pytest.fixture
def community(subdistrict) -> Community:
    return Community.objects.create(subdistrict=subdistrict, name="商隆社区", code="t-shanglong", area_km2="0.86")


@pytest.fixture
def other_community(subdistrict) -> Community:
    return Community.objects.create(subdistrict=subdistrict, name="文汇社区", code="t-wenhui-c")


@pytest.fixture
def other_subdistrict(db) -> Subdistrict:
    return Subdistrict.objects.create(name="黄河路街道", district="东营区", code="t-huanghe")


@pytest.fixture
def department(subdistrict) -> Department:
    return Department.objects.create(name="司法所", level=DepartmentLevel.SUBDISTRICT, subdistrict=subdistrict)


def make_user(username: str, role: str, *, community=None, subdistrict=None, department=None, **extra) -> User:
    user = User(
        username=username,
        role=role,
        community=community,
        subdistrict=subdistrict or (community.subdistrict if community else None),
        department=department,
        full_name=extra.pop("full_name", username),
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def community_admin(community) -> User:
    return make_user("admin1", Role.COMMUNITY_ADMIN, community=community)


@pytest.fixture
def staff(community) -> User:
    return make_user("staff1", Role.STAFF, community=community, email="staff1@example.org")


@pytest.fixture
def other_staff(other_community) -> User:
    return make_user("staff2", Role.STAFF, community=other_community)


@pytest.fixture
def grid_worker(community) -> User:
    return make_user("grid1", Role.GRID_WORKER, community=community, mobile="13812345678")


@pytest.fixture
def other_grid_worker(community) -> User:
    return make_user("grid2", Role.GRID_WORKER, community=community)


@pytest.fixture
def merchant_user(community) -> User:
    return make_user("merchant1", Role.MERCHANT, community=community)


@pytest.fixture
def volunteer_user(community) -> User:
    return make_user("volunteer1", Role.VOLUNTEER, community=community)


@pytest.fixture
def department_user(community, department) -> User:
    return make_user("dept1", Role.DEPARTMENT, community=community, department=department)


@pytest.fixture
def subdistrict_user(subdistrict) -> User:
    return make_user("street1", Role.SUBDISTRICT_STAFF, subdistrict=subdistrict)


@pytest.fixture
def outsider(other_subdistrict) -> User:
    return make_user("outsider", Role.STAFF, subdistrict=other_subdistrict)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    yield settings.MEDIA_ROOT
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


# --- Browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Drive Debian's chromium (installed with apt); Playwright cannot download browsers here."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        require_service("chromium", "Debian's chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "zh-CN"}


@pytest.fixture
def phone(browser):
    """A page at a phone's size (390×844), in Chinese."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Keep a screenshot as a test artifact under var/screenshots (pytest-playwright empties its own
    output folder at the start of every run)."""
    from django.conf import settings

    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def watch_console(page: Page) -> list[str]:
    """Collect the page's console messages and uncaught script errors from now on."""
    messages: list[str] = []

    def keep(message: ConsoleMessage) -> None:
        messages.append(f"{message.type}: {message.text}")

    page.on("console", keep)
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    return messages


def assert_no_csp_violation(messages: list[str]) -> None:
    """No Content-Security-Policy violation and no uncaught script error among watch_console's messages."""
    violations = [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m]
    assert violations == [], violations
    assert [m for m in messages if m.startswith("pageerror")] == []


def log_in(
    page: Page, base_url: str, username: str, *, password: str = PASSWORD, next_path: str = ""
) -> Response | None:
    """Log in through the login form. Lands on next_path when given, else on the role's start
    page; returns the response of the page landed on. (Demo users: password=DEMO_PASSWORD.)"""
    page.goto(f"{base_url}/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation:
        page.click("main form button[type=submit]")
    if next_path:
        page.wait_for_url(f"{base_url}{next_path}")
    else:
        page.wait_for_url(lambda url: url.startswith(base_url) and "/login/" not in url)
    return navigation.value
