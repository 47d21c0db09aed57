"""Safe writes of the core: the account form sent twice makes one account; the create forms'
tokens are forgotten by a sweep; with the cache unreachable the API keeps answering (its rate
limits fail open); a task that cannot be queued never fails the write that queued it."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from shanglong import queueing, throttling
from shanglong.models import FormSubmission, Notification, Role, User
from shanglong.tasks import deliver_notifications_task, purge_form_tokens_task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="form_token" value="([A-Za-z0-9_-]+)"')
REFUSING_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture(autouse=True)
def no_cache_outage():
    throttling.cache_outage.end()
    yield
    throttling.cache_outage.end()


def test_back_and_resubmit_makes_one_account(community_admin, community):
    client = client_for(community_admin)
    url = reverse("account_create")
    token = TOKEN.findall(client.get(url).content.decode())[0]
    data = {
        "username": "newworker",
        "full_name": "新网格员",
        "role": Role.GRID_WORKER,
        "community": community.pk,
        "department": "",
        "mobile": "",
        "email": "",
        "password1": "Long-enough-pass-2026",
        "password2": "Long-enough-pass-2026",
        "form_token": token,
    }
    first = client.post(url, data)
    assert first.status_code == 302, first.context["form"].errors
    second = client.post(url, data)
    assert second.status_code == 302
    assert second.url == first.url
    assert User.objects.filter(username="newworker").count() == 1
    assert any("already sent" in str(m) for m in get_messages(second.wsgi_request))


def test_a_calendar_day_added_twice_is_added_once(community_admin):
    client = client_for(community_admin)
    page = client.get(reverse("calendar") + "?year=2026")
    token = TOKEN.findall(page.content.decode())[0]
    data = {"date": "2026-10-08", "kind": "holiday", "name": "国庆节", "form_token": token}
    first = client.post(reverse("calendar_add"), data)
    second = client.post(reverse("calendar_add"), data)
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert FormSubmission.objects.count() == 1


def test_old_form_tokens_are_forgotten(staff, settings):
    now = timezone.now()
    for age in (0, settings.FORM_TOKEN_DAYS + 1):
        FormSubmission.objects.create(
            token=f"token-of-age-{age:02d}-xxxxxxxxxxxx",
            form="f",
            user=staff,
            url="/",
            created_at=now - datetime.timedelta(days=age),
        )
    assert purge_form_tokens_task() == 1
    assert list(FormSubmission.objects.values_list("token", flat=True)) == ["token-of-age-00-xxxxxxxxxxxx"]
    assert "purge-form-tokens" in settings.CELERY_BEAT_SCHEDULE


def test_pages_issue_tokens_without_writing(staff):
    client = client_for(staff)
    first = TOKEN.findall(client.get(reverse("account_create")).content.decode())
    second = TOKEN.findall(client.get(reverse("account_create")).content.decode())
    assert first
    assert second
    assert first != second
    assert not FormSubmission.objects.exists()


# --- The cache unreachable ----------------------------------------------------------------


REDIS_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REFUSING_REDIS,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@override_settings(CACHES=REDIS_CACHE)
def test_api_lists_answer_with_the_cache_unreachable(staff, caplog):
    client = client_for(staff)
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="shanglong.throttling"):
        for route in ("api:department-list", "api:community-list", "api:notification-list"):
            response = client.get(reverse(route))
            assert response.status_code == 200, response.content
    assert time.monotonic() - started < 5
    # One line for the outage, not one per request.
    assert caplog.text.count("throttle cache is unreachable") == 1


@override_settings(CACHES=REDIS_CACHE)
def test_anonymous_api_calls_get_401_not_500_with_the_cache_unreachable(db):
    assert Client().get(reverse("api:department-list")).status_code == 401


# --- The broker unreachable -----------------------------------------------------------------


def test_a_task_that_cannot_be_queued_is_logged_not_raised(caplog, monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(deliver_notifications_task, "apply_async", refuse)
    with caplog.at_level("WARNING", logger="shanglong.queueing"):
        assert queueing.enqueue(deliver_notifications_task) is False
    assert "Could not queue shanglong.tasks.deliver_notifications_task" in caplog.text


def test_queued_after_commit_through_the_helper(django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(deliver_notifications_task, "apply_async", lambda *a, **kw: sent.append((a, kw)))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        deliver_notifications_task.delay_on_commit()
        assert sent == []
    assert len(callbacks) == 1
    assert len(sent) == 1


def test_a_read_only_endpoint_still_refuses_a_patch(staff):
    notification = Notification.objects.create(recipient=staff, kind="test", dedupe_key="k", title="t")
    url = reverse("api:notification-detail", args=[notification.pk])
    assert client_for(staff).patch(url, {}, content_type="application/json").status_code == 405
