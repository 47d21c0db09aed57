"""The access log: append-only from the application, kept at least 180 days, read-only in the admin."""

from __future__ import annotations

import datetime

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from shanglong.models import AccessAction, AccessLog, AppendOnlyError, Role
from shanglong.tasks import purge_access_log_task
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(staff) -> AccessLog:
    return AccessLog.objects.create(action=AccessAction.REVEAL, user=staff, username="staff1", target="resident 7")


@pytest.fixture
def superuser(community):
    return make_user("root", Role.COMMUNITY_ADMIN, community=community, is_superuser=True, is_staff=True)


def test_new_entries_can_be_appended(staff):
    AccessLog.objects.create(action=AccessAction.EXPORT, user=staff, username="staff1")
    AccessLog.objects.create(action=AccessAction.EXPORT_UNMASKED, user=staff, username="staff1")
    assert AccessLog.objects.filter(user=staff).count() == 2


def test_saving_an_existing_entry_is_refused(entry):
    entry.target = "someone else"
    with pytest.raises(AppendOnlyError):
        entry.save()
    entry.refresh_from_db()
    assert entry.target == "resident 7"


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_queryset_update_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).update(target="rewritten")
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.update(username="nobody")
    entry.refresh_from_db()
    assert entry.target == "resident 7"
    assert entry.username == "staff1"


def test_queryset_delete_is_refused(entry):
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.filter(pk=entry.pk).delete()
    with pytest.raises(AppendOnlyError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.count() == 1


def test_purge_removes_only_rows_older_than_180_days_even_with_a_shorter_setting(settings, staff):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    now = timezone.now()

    def login_days_ago(days: int) -> AccessLog:
        return AccessLog.objects.create(
            action=AccessAction.LOGIN, username="staff1", at=now - datetime.timedelta(days=days)
        )

    recent = login_days_ago(31)
    kept = login_days_ago(179)
    login_days_ago(181)

    assert purge_access_log_task.apply().get() == 1

    assert set(AccessLog.objects.values_list("pk", flat=True)) == {recent.pk, kept.pk}
    assert purge_access_log_task.apply().get() == 0  # safe to run twice


def test_purge_follows_a_longer_retention_setting(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    now = timezone.now()
    kept = AccessLog.objects.create(action=AccessAction.LOGIN, username="a", at=now - datetime.timedelta(days=364))
    AccessLog.objects.create(action=AccessAction.LOGIN, username="a", at=now - datetime.timedelta(days=366))
    assert purge_access_log_task.apply().get() == 1
    assert list(AccessLog.objects.values_list("pk", flat=True)) == [kept.pk]


def test_admin_has_no_add_change_or_delete_permission_even_for_a_superuser(superuser, entry):
    request = RequestFactory().get("/admin/")
    request.user = superuser
    model_admin = admin.site._registry[AccessLog]
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, entry)


def test_admin_pages_show_the_log_read_only(superuser, entry):
    client = client_for(superuser)
    changelist = client.get(reverse("admin:shanglong_accesslog_changelist"), headers={"accept-language": "en"})
    assert changelist.status_code == 200
    assert "resident 7" in changelist.content.decode()
    assert 'name="action"' not in changelist.content.decode()  # no bulk actions (delete selected)

    detail = client.get(reverse("admin:shanglong_accesslog_change", args=[entry.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()

    assert client.get(reverse("admin:shanglong_accesslog_add")).status_code == 403
    assert client.get(reverse("admin:shanglong_accesslog_delete", args=[entry.pk])).status_code == 403
    forged = client.post(
        reverse("admin:shanglong_accesslog_change", args=[entry.pk]),
        {"action": AccessAction.LOGIN, "username": "forged", "target": "", "detail": ""},
    )
    assert forged.status_code == 403
    entry.refresh_from_db()
    assert entry.username == "staff1"
