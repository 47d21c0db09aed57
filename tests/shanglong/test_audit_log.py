"""The audit administrator's page in the portal: the reveals and exports (and logins) of their
own community's people, filtered by person, subject and days, paginated, in a query count that
does not grow with the rows; nobody else opens it."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from shanglong import roles
from shanglong.models import AccessAction, AccessLog, Role, reveal_detail
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(community):
    return make_user("auditor", Role.AUDIT_ADMIN, community=community)


def log(user, action=AccessAction.REVEAL, *, target="resident:1:mobile", at=None, reason="home_visit"):
    detail = reveal_detail(reason=reason, text="") if action == AccessAction.REVEAL else "rows=3"
    return AccessLog.objects.create(
        user=user, username=user.username, action=action, target=target, detail=detail, at=at or timezone.now()
    )


def rows_of(response):
    return [(row.username, row.action, row.target) for row in response.context["page"]]


def test_the_audit_admin_sees_reveals_and_exports_of_their_community(auditor, staff, grid_worker):
    log(staff, target="resident:7:id_number")
    log(grid_worker, AccessAction.EXPORT, target="residents")
    log(grid_worker, AccessAction.LOGIN, target="")
    response = client_for(auditor).get(reverse("audit_log"))
    assert response.status_code == 200
    assert sorted(rows_of(response)) == sorted(
        [(grid_worker.username, "export", "residents"), (staff.username, "reveal", "resident:7:id_number")]
    )
    logins = client_for(auditor).get(reverse("audit_log"), {"kind": "logins"})
    assert rows_of(logins) == [(grid_worker.username, "login", "")]


def test_the_audit_page_filters_by_person_subject_and_days(auditor, staff, grid_worker):
    today = timezone.localdate()
    long_ago = timezone.now() - datetime.timedelta(days=10)
    log(staff, target="resident:1:mobile")
    log(staff, target="resident:2:mobile", at=long_ago)
    log(grid_worker, target="resident:1:id_number")
    client = client_for(auditor)
    by_person = client.get(reverse("audit_log"), {"person": staff.pk})
    assert {row[2] for row in rows_of(by_person)} == {"resident:1:mobile", "resident:2:mobile"}
    by_subject = client.get(reverse("audit_log"), {"subject": "resident:1:"})
    assert {row[2] for row in rows_of(by_subject)} == {"resident:1:mobile", "resident:1:id_number"}
    by_days = client.get(reverse("audit_log"), {"person": staff.pk, "since": today - datetime.timedelta(days=1)})
    assert rows_of(by_days) == [(staff.username, "reveal", "resident:1:mobile")]
    until = (today - datetime.timedelta(days=5)).isoformat()
    assert rows_of(client.get(reverse("audit_log"), {"until": until})) == [
        (staff.username, "reveal", "resident:2:mobile")
    ]


def test_the_audit_page_query_count_does_not_grow_with_the_rows(auditor, staff, django_assert_num_queries):
    for number in range(6):
        log(staff, target=f"resident:{number}:mobile")
    client = client_for(auditor)
    client.get(reverse("audit_log"))  # warm the session
    # 1 session, 2 the auditor, 3 count of the rows, 4 the unread-messages badge, 5 the people
    # offered in the person filter, 6 the page of rows with their people (select_related).
    with django_assert_num_queries(6):
        response = client.get(reverse("audit_log"))
    assert len(rows_of(response)) == 6


def test_the_audit_page_is_paginated(auditor, staff):
    AccessLog.objects.bulk_create(
        AccessLog(user=staff, username=staff.username, action=AccessAction.REVEAL, target=f"resident:{n}:mobile")
        for n in range(55)
    )
    client = client_for(auditor)
    assert len(rows_of(client.get(reverse("audit_log")))) == 50
    assert len(rows_of(client.get(reverse("audit_log"), {"page": 2}))) == 5


@pytest.mark.parametrize("person", ["staff", "grid_worker", "community_admin", "department_user", "subdistrict_user"])
def test_people_who_are_not_the_audit_admin_get_403(request, person):
    response = client_for(request.getfixturevalue(person)).get(reverse("audit_log"))
    assert response.status_code == 403


def test_another_communitys_audit_admin_sees_none_of_this_communitys_rows(other_community, staff, other_staff):
    log(staff, target="resident:1:mobile")
    log(other_staff, target="resident:9:mobile")
    other_auditor = make_user("other-auditor", Role.AUDIT_ADMIN, community=other_community)
    response = client_for(other_auditor).get(reverse("audit_log"))
    assert rows_of(response) == [(other_staff.username, "reveal", "resident:9:mobile")]
    # Nor can they point the person filter at this community's people.
    response = client_for(other_auditor).get(reverse("audit_log"), {"person": staff.pk})
    assert rows_of(response) == []
    assert set(AccessLog.objects.visible_to(other_auditor).values_list("username", flat=True)) == {other_staff.username}


def test_the_audit_admin_has_the_menu_entry_and_starts_there(auditor, staff):
    page = client_for(auditor).get(reverse("home"), follow=True)
    assert page.redirect_chain[-1][0] == reverse("audit_log")
    assert 'data-nav="audit"' in page.content.decode()
    assert 'data-nav="audit"' not in client_for(staff).get(reverse("home"), follow=True).content.decode()
    assert roles.is_audit_admin(auditor)
    assert not roles.is_audit_admin(staff)
