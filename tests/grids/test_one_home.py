"""One home per rule: the ledger line of a group membership, the ledger's status filter, the
uniqueness messages on the constraints and the point-to-grid rule give the same answer on the
pages and through the API."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from grids.models import KEY_PERSON_KINDS, Compound, Grid, GroupKind, LedgerStatus, LedgerSubject, VisitPeriod
from shanglong.models import Department, DepartmentLevel
from tests.api import matrix
from tests.conftest import client_for
from tests.grids.conftest import grid_centre
from tests.grids.ledger_world import civil_affairs, enterprise, member, visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LONG_AGO = TODAY - datetime.timedelta(days=120)
LINE_FIELDS = (
    "kind",
    "name",
    "resident_id",
    "group",
    "grid_id",
    "department_id",
    "level",
    "visits_required",
    "period",
    "face_to_face_only",
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def api_post(user, route, payload):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(reverse(f"api:{route}-list"), payload, content_type="application/json")


def line(subject: LedgerSubject) -> tuple:
    return tuple(getattr(subject, name) for name in LINE_FIELDS)


@pytest.mark.parametrize(
    ("group", "level", "expected_rule"),
    [
        (GroupKind.COMMUNITY_CORRECTION, "strict", (1, VisitPeriod.WEEK, True)),
        (GroupKind.ELDERLY_ALONE, "general_care", (1, VisitPeriod.WEEK, False)),
        (GroupKind.KEY_YOUTH, "dept_medium", (2, VisitPeriod.MONTH, True)),
    ],
)
def test_the_page_and_the_api_build_the_same_ledger_line_from_a_membership(
    grid_worker, compounds, on_duty, department, subdistrict, group, level, expected_rule
):
    responsible = department if group in KEY_PERSON_KINDS else civil_affairs(subdistrict)
    membership = member(compounds["A"], "周志强", group, department=responsible, level=level)
    kind = "key_person" if group in KEY_PERSON_KINDS else "special_group"
    response = client_for(grid_worker).post(
        reverse("grids:ledger_subject_create"),
        {"kind": kind, "membership": membership.pk, "entered_on": TODAY, "team": [grid_worker.pk]},
    )
    assert response.status_code == 302, response.context["form"].errors
    response = api_post(
        grid_worker, "ledgersubject", {"kind": kind, "resident": membership.resident_id, "group": group}
    )
    assert response.status_code == 201, response.content
    from_page, from_api = LedgerSubject.objects.filter(resident=membership.resident).order_by("pk")
    assert line(from_page) == line(from_api)
    assert (from_page.name, from_page.grid_id, from_page.department_id) == (
        "周志强",
        compounds["A"].grid_id,
        responsible.pk,
    )
    assert from_page.level == level
    assert from_page.rule == expected_rule


@pytest.mark.parametrize("status", [LedgerStatus.DUE, LedgerStatus.OVERDUE, LedgerStatus.LEFT])
def test_the_ledger_page_and_the_api_filter_by_status_alike(staff, grids, status):
    overdue = enterprise(grids["A"], "逾期企业", entered_on=LONG_AGO, period=VisitPeriod.WEEK)
    done = enterprise(grids["A"], "已走访企业", entered_on=LONG_AGO)
    visit(done, timezone.now() - datetime.timedelta(minutes=5))
    gone = enterprise(grids["B"], "已退出企业", entered_on=LONG_AGO)
    gone.left_on = TODAY - datetime.timedelta(days=1)
    gone.save()
    expected = {
        LedgerStatus.DUE: {overdue.pk},
        LedgerStatus.OVERDUE: {overdue.pk},
        LedgerStatus.LEFT: {gone.pk},
    }[status]
    page = client_for(staff).get(reverse("grids:ledger_list"), {"status": status})
    assert {subject.pk for subject in page.context["page"].object_list} == expected
    with matrix.fresh_throttle_cache():
        api = matrix.api_client(staff).get(reverse("api:ledgersubject-list"), {"status": status})
    assert {row["id"] for row in api.json()["results"]} == expected
    assert set(LedgerSubject.objects.in_status(status).values_list("pk", flat=True)) == expected


def test_in_the_ledger_leaves_out_who_left(grids):
    stays = enterprise(grids["A"], "在册企业", entered_on=LONG_AGO)
    gone = enterprise(grids["A"], "退出企业", entered_on=LONG_AGO)
    gone.left_on = TODAY
    gone.save()
    assert list(LedgerSubject.objects.in_status(LedgerStatus.IN_LEDGER)) == [stays]
    assert list(LedgerSubject.objects.in_status(LedgerStatus.NEEDS_VISIT)) == [stays]


def test_a_taken_compound_name_is_refused_next_to_the_name_on_the_page_and_the_api(staff, grids, compounds):
    longitude, latitude = grid_centre(grids["A"])
    payload = {"name": "小区A", "address": "", "latitude": latitude, "longitude": longitude, "buildings": 2}
    response = client_for(staff).post(reverse("grids:compound_create"), {**payload, "grid": ""})
    assert response.status_code == 200
    with translation.override("zh-hans"):  # the page speaks the person's language
        assert response.context["form"].errors["name"] == [gettext("This grid already has a compound of this name.")]
    response = api_post(staff, "compound", payload)
    assert response.status_code == 400
    assert response.json()["name"] == ["This grid already has a compound of this name."]
    # The same name in another grid is fine.
    longitude, latitude = grid_centre(grids["C"])
    response = api_post(staff, "compound", {**payload, "latitude": latitude, "longitude": longitude})
    assert response.status_code == 201, response.content
    assert Compound.objects.filter(name="小区A").count() == 2


def test_saving_a_row_unchanged_does_not_collide_with_itself(staff, grids):
    with matrix.fresh_throttle_cache():
        response = matrix.api_client(staff).patch(
            reverse("api:grid-detail", args=[grids["A"].pk]), {"code": "01", "name": "网格甲"}, "application/json"
        )
    assert response.status_code == 200, response.content
    assert Grid.objects.get(pk=grids["A"].pk).name == "网格甲"


def test_department_names_are_unique_per_place_and_empty_places_do_not_collide(staff, community, other_community):
    Department.objects.create(name="调解室", level=DepartmentLevel.COMMUNITY, community=community)
    taken = api_post(staff, "department", {"name": "调解室", "level": "community", "community": community.pk})
    assert taken.status_code == 400
    assert taken.json()["name"] == ["There is already a department of this name at this place."]
    Department.objects.create(name="司法所", level=DepartmentLevel.DISTRICT)
    with pytest.raises(Exception, match="There is already a department of this name at this place"):
        Department(name="司法所", level=DepartmentLevel.DISTRICT).validate_constraints()
    # Another community's room of the same name is another department.
    Department(name="调解室", level=DepartmentLevel.COMMUNITY, community=other_community).validate_constraints()


def test_a_point_is_in_the_grid_whose_boundary_covers_it(grids):
    longitude, latitude = grid_centre(grids["C"])
    assert list(Grid.objects.containing(latitude, longitude)) == [grids["C"]]
    assert not Grid.objects.containing(10, 10).exists()
    corner = grids["A"].boundary["coordinates"][0]
    shared = [point for point in corner if all(point in grid.boundary["coordinates"][0] for grid in grids.values())]
    if shared:  # the middle of the tiling is on every grid's border: the lowest code wins
        longitude, latitude = shared[0]
        assert Grid.objects.containing(latitude, longitude).order_by("code").first() == grids["A"]
