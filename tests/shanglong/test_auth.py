from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from shanglong.models import AccessAction, AccessLog
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def login(client: Client, username: str, password: str, ip: str = "10.1.1.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )


def test_anonymous_pages_redirect_to_login(client):
    for name in ["home", "notification_list", "account_list", "password_change"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_login_lands_on_start_page_and_is_logged(client, grid_worker):
    response = login(client, "grid1", PASSWORD, ip="10.9.9.9")
    assert response.status_code == 302
    # A grid worker's start page is My day (the grids app sets roles.START_PAGES).
    assert response.url == reverse("grids:my_day")
    entry = AccessLog.objects.get(action=AccessAction.LOGIN)
    assert entry.user == grid_worker
    assert entry.ip == "10.9.9.9"
    assert client.get(reverse("home")).url == reverse("grids:my_day")


def test_failed_login_is_logged_with_address(client, grid_worker):
    response = login(client, "grid1", "wrong-password", ip="10.2.2.2")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    entry = AccessLog.objects.get(action=AccessAction.LOGIN_FAILED)
    assert entry.username == "grid1"
    assert entry.ip == "10.2.2.2"
    assert entry.user is None


def test_five_failures_for_one_account_make_the_person_wait(client, grid_worker):
    for attempt in range(5):
        login(client, "grid1", f"wrong-{attempt}", ip=f"10.3.3.{attempt}")
    # Even the right password is refused now, with a message in Chinese.
    response = login(client, "grid1", PASSWORD, ip="10.3.3.99")
    assert response.status_code == 200
    assert "15 分钟" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccessLog.objects.filter(action=AccessAction.LOGIN_BLOCKED, username="grid1").exists()


def test_five_failures_from_one_address_block_that_address(client, grid_worker, staff):
    for attempt in range(5):
        login(client, f"nobody{attempt}", "x", ip="10.4.4.4")
    assert "_auth_user_id" not in login(client, "staff1", PASSWORD, ip="10.4.4.4").wsgi_request.session
    # Another address is not affected.
    response = login(Client(), "staff1", PASSWORD, ip="10.5.5.5")
    assert response.status_code == 302


def test_failures_older_than_the_window_do_not_count(client, grid_worker, settings):
    import datetime

    from django.utils import timezone

    for attempt in range(5):
        AccessLog.objects.create(
            action=AccessAction.LOGIN_FAILED,
            username="grid1",
            ip="10.6.6.6",
            at=timezone.now() - datetime.timedelta(minutes=16 + attempt),
        )
    assert login(client, "grid1", PASSWORD, ip="10.6.6.6").status_code == 302


def test_password_change(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "Another-Secret-77", "new_password2": "Another-Secret-77"},
    )
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("Another-Secret-77")
    assert AccessLog.objects.filter(action=AccessAction.PASSWORD_CHANGE, user=staff).exists()
    # The session survives the change.
    assert client.get(reverse("home")).status_code == 200


def test_password_change_with_wrong_old_password_changes_nothing(client, staff):
    client.force_login(staff)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "Another-Secret-77", "new_password2": "Another-Secret-77"},
    )
    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_logout_is_logged(client, staff):
    client.force_login(staff)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert AccessLog.objects.filter(action=AccessAction.LOGOUT, user=staff).exists()
    assert client.get(reverse("home")).status_code == 302
