"""Who sees which group, for every kind, through the resident page, the API and the export:
the grid workers by duty in the resident's grid (by default not for severe mental disorder and
drug users: tests/grids/test_duty_aware_access.py), the liaisons of the responsible department,
the community's designated officer for the kind and the community admin. Everyone else in scope
sees the resident without the group. The community admin's access table changes this."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from grids.models import GroupAccessRule, GroupKind, GroupMembership
from grids.models.people import DEPARTMENT_ONLY_KINDS
from shanglong.models import Department, DepartmentLevel, Role
from tests.api import matrix
from tests.conftest import client_for, make_user
from tests.grids.ledger_world import top_level
from tests.grids.people_world import build_people

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are compared in English (the source language)."""
    settings.LANGUAGE_CODE = "en"


SEE = ("community_admin", "grid_worker", "department_user", "officer")
DO_NOT_SEE = ("staff", "subdistrict_user", "other_department_user", "branch_officer_of_other_kind")
# People who do not see the resident at all (so not the group either).
NO_RESIDENT = ("other_grid_worker", "other_staff", "merchant_user", "volunteer_user", "outsider")


@pytest.fixture
def setting(request):
    """Resident A (grid A; grid1 on duty) with one membership per test, of the kind asked,
    in the cast's department (司法所); a designated officer for that kind; a liaison of another
    department; a staff member designated for another kind."""
    cast = matrix.build_cast(request)
    world = build_people(cast)
    GroupMembership.objects.all().delete()
    other_department = Department.objects.create(
        name="派出所", level=DepartmentLevel.SUBDISTRICT, subdistrict=cast.subdistrict
    )
    people = dict(cast.users)
    people["officer"] = make_user("officer", Role.STAFF, community=cast.community)
    people["branch_officer_of_other_kind"] = make_user("officer2", Role.STAFF, community=cast.community)
    people["other_department_user"] = make_user(
        "dept2", Role.DEPARTMENT, community=cast.community, department=other_department
    )
    return {"cast": cast, "world": world, "people": people, "resident": world["residents"]["A"]}


def designate(setting, kind: str) -> None:
    community = setting["cast"].community
    GroupAccessRule.objects.filter(community=community, kind=kind).update(
        designated_officer=setting["people"]["officer"]
    )
    other_kind = GroupKind.DRUG_USER if kind != GroupKind.DRUG_USER else GroupKind.KEY_YOUTH
    GroupAccessRule.objects.filter(community=community, kind=other_kind).update(
        designated_officer=setting["people"]["branch_officer_of_other_kind"]
    )


def add_membership(setting, kind: str) -> GroupMembership:
    return GroupMembership.objects.create(
        resident=setting["resident"],
        kind=kind,
        level=top_level(kind),
        disability_grade=2 if kind == GroupKind.DISABILITY else None,
        department=setting["cast"].department,
        since="2025-01-01",
    )


def page_groups(user, resident) -> set[str] | None:
    response = client_for(user).get(reverse("grids:resident_detail", args=[resident.pk]))
    if response.status_code != 200:
        return None
    return {kind for kind in GroupKind.values if f'data-group="{kind}"' in response.content.decode()}


def api_groups(user, resident) -> set[str] | None:
    with matrix.fresh_throttle_cache():
        client = matrix.api_client(user)
        response = client.get(reverse("api:resident-detail", args=[resident.pk]))
        memberships = client.get(reverse("api:groupmembership-list"), {"resident": resident.pk})
    if response.status_code != 200:
        return None
    listed = {item["kind"] for item in memberships.json()["results"]} if memberships.status_code == 200 else set()
    shown = {group["kind"] for group in response.json()["groups"]}
    assert listed == shown
    return shown


def export_groups(user, resident) -> set[str] | None:
    response = client_for(user).get(reverse("grids:resident_export"))
    if response.status_code != 200:
        return None
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[1])
    line = next((row for row in rows[2:] if row[header.index("Name")] == resident.name), None)
    if line is None:
        return None
    text = line[header.index("Groups")] or ""
    return {kind for kind, label in GroupKind.choices if str(label) in text}


CHANNELS = {"page": page_groups, "api": api_groups, "export": export_groups}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("kind", GroupKind.values)
def test_each_group_is_seen_only_by_the_roles_that_work_with_it(setting, settings, kind, channel):
    settings.LANGUAGE_CODE = "en"
    designate(setting, kind)
    add_membership(setting, kind)
    read = CHANNELS[channel]
    resident = setting["resident"]
    # grid1 is on duty full-time in the resident's grid: by default not for the specialists' kinds.
    see, do_not_see = SEE, DO_NOT_SEE
    if kind in DEPARTMENT_ONLY_KINDS:
        see, do_not_see = tuple(set(SEE) - {"grid_worker"}), (*DO_NOT_SEE, "grid_worker")
    for person in see:
        assert read(setting["people"][person], resident) == {kind}, f"{person} should see {kind}"
    for person in do_not_see:
        assert read(setting["people"][person], resident) in (set(), None), f"{person} must not see {kind}"
    for person in ("staff", "subdistrict_user"):
        # They see the resident, without the group.
        assert read(setting["people"][person], resident) == set()
    for person in NO_RESIDENT:
        assert read(setting["people"][person], resident) is None, f"{person} must not see the resident"


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_access_table_takes_a_group_from_grid_workers_and_the_department(setting, settings, channel):
    settings.LANGUAGE_CODE = "en"
    add_membership(setting, GroupKind.KEY_YOUTH)
    read = CHANNELS[channel]
    resident = setting["resident"]
    assert read(setting["people"]["grid_worker"], resident) == {GroupKind.KEY_YOUTH}
    GroupAccessRule.objects.filter(community=setting["cast"].community, kind=GroupKind.KEY_YOUTH).update(
        grid_workers=False, department=False
    )
    assert read(setting["people"]["grid_worker"], resident) == set()
    # The department liaison saw the resident only through that group: now not at all.
    assert read(setting["people"]["department_user"], resident) is None
    assert read(setting["people"]["community_admin"], resident) == {GroupKind.KEY_YOUTH}


def test_the_group_filter_of_the_list_only_finds_groups_the_viewer_may_see(setting):
    add_membership(setting, GroupKind.DRUG_USER)
    GroupAccessRule.objects.filter(community=setting["cast"].community, kind=GroupKind.DRUG_USER).update(
        grid_workers=True
    )
    url = reverse("grids:resident_list")
    found = client_for(setting["people"]["grid_worker"]).get(url, {"kind": GroupKind.DRUG_USER})
    assert [r.pk for r in found.context["page"]] == [setting["resident"].pk]
    hidden = client_for(setting["people"]["staff"]).get(url, {"kind": GroupKind.DRUG_USER})
    assert list(hidden.context["page"]) == []
    with matrix.fresh_throttle_cache():
        api = matrix.api_client(setting["people"]["staff"]).get(reverse("api:resident-list"), {"kind": "drug_user"})
    assert matrix.listed_ids(api) == []


def test_the_admin_edits_the_table_and_staff_only_read_it(setting):
    admin = setting["people"]["community_admin"]
    officer = setting["people"]["officer"]
    url = reverse("grids:group_access")
    page = client_for(admin).get(url)
    assert page.status_code == 200
    data = {}
    for form in page.context["forms"]:
        prefix = form.prefix
        if form.instance.grid_workers:
            data[f"{prefix}-grid_workers"] = "on"
        if form.instance.department:
            data[f"{prefix}-department"] = "on"
    assert "drug_user-grid_workers" not in data  # off by default
    data["drug_user-grid_helpers"] = "on"
    data["drug_user-designated_officer"] = officer.pk
    response = client_for(admin).post(url, data)
    assert response.status_code == 302
    rule = GroupAccessRule.objects.get(community=setting["cast"].community, kind="drug_user")
    assert (rule.grid_workers, rule.grid_helpers, rule.department, rule.designated_officer) == (
        False,
        True,
        True,
        officer,
    )
    assert rule.history.count() == 2  # created, then changed by the admin
    staff_page = client_for(setting["people"]["staff"]).get(url)
    assert staff_page.status_code == 200
    assert not staff_page.context["editable"]
    client_for(setting["people"]["staff"]).post(url, {"drug_user-designated_officer": ""})
    rule.refresh_from_db()
    assert rule.designated_officer == officer
    for person in ("grid_worker", "department_user", "merchant_user", "subdistrict_user"):
        assert client_for(setting["people"][person]).get(url).status_code == 403


def test_a_grid_worker_records_and_ends_a_membership(setting):
    worker = setting["people"]["grid_worker"]
    resident = setting["resident"]
    client = client_for(worker)
    response = client.post(
        reverse("grids:membership_create", args=[resident.pk]),
        {
            "kind": "released_prisoner",
            "level": "aftercare",
            "department": setting["cast"].department.pk,
            "since": "2024-03-01",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    membership = GroupMembership.objects.get(resident=resident)
    assert str(membership.until) == "2029-03-01"  # five years of aftercare
    response = client.post(reverse("grids:membership_end", args=[membership.pk]), {"until": "2025-12-31"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert str(membership.until) == "2025-12-31"
    assert GroupMembership.objects.filter(pk=membership.pk).exists()  # ended, not deleted
    assert membership.history.count() == 2


def test_a_key_person_needs_a_level_and_grades_belong_to_disability(setting):
    client = client_for(setting["people"]["community_admin"])
    url = reverse("grids:membership_create", args=[setting["resident"].pk])
    department = setting["cast"].department.pk
    response = client.post(url, {"kind": "drug_user", "department": department, "since": "2025-01-01"})
    assert "level" in response.context["form"].errors
    response = client.post(
        url, {"kind": "low_income", "disability_grade": 2, "department": department, "since": "2025-01-01"}
    )
    assert "disability_grade" in response.context["form"].errors
    assert not GroupMembership.objects.exists()


def test_staff_who_may_not_see_groups_cannot_record_them(setting):
    response = client_for(setting["people"]["staff"]).get(
        reverse("grids:membership_create", args=[setting["resident"].pk])
    )
    assert response.status_code == 403
