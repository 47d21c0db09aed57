"""The grids API: the scoping matrix over the test cast, and the same checks as the pages."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from grids.demo import tiling
from grids.models import Compound, Duty, Grid, GridAssignment, OrganisationKind, PartyOrganisation
from shanglong.demo import rectangle
from shanglong.models import Role
from tests.api import matrix
from tests.conftest import make_user
from tests.grids.conftest import CENTRE, HEIGHT, WIDTH, grid_centre

SINCE = datetime.date(2025, 1, 1)
INSIDE = [[118.492, 37.461], [118.494, 37.461], [118.494, 37.463], [118.492, 37.463], [118.492, 37.461]]
OTHER_BOUNDARY = rectangle(118.51, 37.463, 0.009, HEIGHT)


def build_world(cast: matrix.Cast) -> dict:
    """Grids A (branch 1) and B (branch 2) in the cast's community, X in the other one; grid1
    on duty in A, grid2 in B, staff2 in X; a compound in each grid."""
    community, other = cast.community, cast.other_community
    community.boundary = rectangle(*CENTRE, WIDTH, HEIGHT)
    community.save()
    other.boundary = OTHER_BOUNDARY
    other.save()
    committee = PartyOrganisation.objects.create(
        community=community, name="商隆社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    branch1, branch2 = (
        PartyOrganisation.objects.create(
            community=community, name=name, kind=OrganisationKind.GRID_BRANCH, parent=committee
        )
        for name in ("第一网格党支部", "第二网格党支部")
    )
    branch_x = PartyOrganisation.objects.create(community=other, name="文汇支部", kind=OrganisationKind.GRID_BRANCH)
    cell_a, cell_b = tiling(community.boundary, [2])
    grid_a = Grid.objects.create(community=community, code="01", name="网格A", branch=branch1, boundary=cell_a)
    grid_b = Grid.objects.create(community=community, code="02", name="网格B", branch=branch2, boundary=cell_b)
    grid_x = Grid.objects.create(community=other, code="01", name="文汇网格", branch=branch_x, boundary=OTHER_BOUNDARY)
    users = cast.users
    assignments = {
        "a1": GridAssignment.objects.create(user=users["grid_worker"], grid=grid_a, duty=Duty.FULL_TIME, since=SINCE),
        "a2": GridAssignment.objects.create(user=users["other_grid_worker"], grid=grid_b, duty=Duty.HEAD, since=SINCE),
        "ax": GridAssignment.objects.create(user=users["other_staff"], grid=grid_x, duty=Duty.HEAD, since=SINCE),
    }
    compounds = {}
    for label, grid in (("cA", grid_a), ("cB", grid_b), ("cX", grid_x)):
        longitude, latitude = grid_centre(grid)
        compounds[label] = Compound.objects.create(
            grid=grid, name=f"小区{label}", latitude=latitude, longitude=longitude
        )
    return {
        "organisations": {"committee": committee, "branch1": branch1, "branch2": branch2, "branchX": branch_x},
        "grids": {"A": grid_a, "B": grid_b, "X": grid_x},
        "assignments": assignments,
        "compounds": compounds,
    }


WHOLE_COMMUNITY = ("staff", "community_admin", "department_user")
WRITERS = ("staff", "community_admin", "other_staff")


def _visible(own: set[str], mine: dict[str, set[str]], other: set[str]) -> dict[str, set[str]]:
    visible = dict.fromkeys(WHOLE_COMMUNITY, own)
    visible.update(mine)
    visible["other_staff"] = other
    visible["subdistrict_user"] = own | other
    return visible


def _is_other(person: str) -> bool:
    return person == "other_staff"


def _grid_payload(cast, rows, person):
    if _is_other(person):
        return {"community": cast.other_community.pk, "code": "09", "name": "新网格", "boundary": OTHER_BOUNDARY}
    return {
        "community": cast.community.pk,
        "code": "09",
        "name": "新网格",
        "branch": rows["A"].branch_id,
        "boundary": {"type": "Polygon", "coordinates": [INSIDE]},
    }


def _grid_foreign(cast, rows, person):
    if _is_other(person):
        return [{"community": cast.community.pk}, {"branch": rows["A"].branch_id}]
    return [{"community": cast.other_community.pk}, {"branch": rows["X"].branch_id}]


def _assignment_payload(cast, rows, person):
    if _is_other(person):
        return {"user": cast.users["other_staff"].pk, "grid": rows["ax"].grid_id, "duty": Duty.PART_TIME}
    return {"user": cast.users["grid_worker"].pk, "grid": rows["a2"].grid_id, "duty": Duty.PART_TIME}


def _assignment_foreign(cast, rows, person):
    if _is_other(person):
        return [{"grid": rows["a1"].grid_id}, {"user": cast.users["grid_worker"].pk}]
    return [{"grid": rows["ax"].grid_id}, {"user": cast.users["other_staff"].pk}]


def _compound_payload(cast, rows, person):
    grid = rows["cX"].grid if _is_other(person) else rows["cB"].grid
    longitude, latitude = grid_centre(grid)
    return {"name": "新小区", "latitude": f"{latitude:.6f}", "longitude": f"{longitude:.6f}", "buildings": 3}


def _compound_foreign(cast, rows, person):
    return [{"grid": (rows["cA"] if _is_other(person) else rows["cX"]).grid_id}]


def _organisation_payload(cast, rows, person):
    if _is_other(person):
        return {"community": cast.other_community.pk, "name": "新支部", "kind": OrganisationKind.GRID_BRANCH}
    return {
        "community": cast.community.pk,
        "name": "新支部",
        "kind": OrganisationKind.GRID_BRANCH,
        "parent": rows["committee"].pk,
    }


def _organisation_foreign(cast, rows, person):
    if _is_other(person):
        return [{"community": cast.community.pk}, {"parent": rows["committee"].pk}]
    return [
        {"community": cast.other_community.pk},
        {"parent": rows["branchX"].pk},
        {"secretary": cast.users["other_staff"].pk},
    ]


CASES = [
    matrix.EndpointCase(
        id="party-organisations",
        route="api:partyorganisation",
        build_rows=lambda cast: build_world(cast)["organisations"],
        visible=_visible(
            {"committee", "branch1", "branch2"},
            {"grid_worker": {"branch1"}, "other_grid_worker": {"branch2"}},
            {"branchX"},
        ),
        writers=WRITERS,
        create_payload=_organisation_payload,
        foreign_payloads=_organisation_foreign,
        writable={
            "staff": {"committee", "branch1", "branch2"},
            "community_admin": {"committee", "branch1", "branch2"},
            "other_staff": {"branchX"},
        },
        update_payload=lambda cast, rows, person: {
            "secretary": cast.users["other_staff" if _is_other(person) else "staff"].pk
        },
    ),
    matrix.EndpointCase(
        id="grids",
        route="api:grid",
        build_rows=lambda cast: build_world(cast)["grids"],
        visible=_visible({"A", "B"}, {"grid_worker": {"A"}, "other_grid_worker": {"B"}}, {"X"}),
        writers=WRITERS,
        create_payload=_grid_payload,
        foreign_payloads=_grid_foreign,
        writable={"staff": {"A", "B"}, "community_admin": {"A", "B"}, "other_staff": {"X"}},
        update_payload=lambda cast, rows, person: {"name": "改名"},
    ),
    matrix.EndpointCase(
        id="assignments",
        route="api:gridassignment",
        build_rows=lambda cast: build_world(cast)["assignments"],
        visible=_visible({"a1", "a2"}, {"grid_worker": {"a1"}, "other_grid_worker": {"a2"}}, {"ax"}),
        writers=WRITERS,
        create_payload=_assignment_payload,
        foreign_payloads=_assignment_foreign,
        writable={"staff": {"a1", "a2"}, "community_admin": {"a1", "a2"}, "other_staff": {"ax"}},
        update_payload=lambda cast, rows, person: {"until": "2099-12-31"},
    ),
    matrix.EndpointCase(
        id="compounds",
        route="api:compound",
        build_rows=lambda cast: build_world(cast)["compounds"],
        visible=_visible({"cA", "cB"}, {"grid_worker": {"cA"}, "other_grid_worker": {"cB"}}, {"cX"}),
        writers=WRITERS,
        create_payload=_compound_payload,
        foreign_payloads=_compound_foreign,
        writable={"staff": {"cA", "cB"}, "community_admin": {"cA", "cB"}, "other_staff": {"cX"}},
        update_payload=lambda cast, rows, person: {"buildings": 7},
    ),
]

test_list_shows_exactly_the_visible_rows = matrix.list_test(CASES)
test_detail_outside_scope_is_404 = matrix.detail_test(CASES)
test_create_is_for_writers_only = matrix.create_test(CASES)
test_foreign_keys_outside_scope_are_400 = matrix.foreign_key_test(CASES)
test_update_is_for_writers_of_their_rows = matrix.update_test(CASES)


# --- The checks, through the API -------------------------------------------------------------


@pytest.fixture
def world(request):
    return build_world(matrix.build_cast(request))


def post(user, route, payload):
    with matrix.fresh_throttle_cache():
        return matrix.api_client(user).post(reverse(f"api:{route}-list"), payload, content_type="application/json")


BOW_TIE = [[118.492, 37.461], [118.494, 37.463], [118.494, 37.461], [118.492, 37.463], [118.492, 37.461]]
OUTSIDE = [[118.499, 37.461], [118.503, 37.461], [118.503, 37.463], [118.499, 37.463], [118.499, 37.461]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ring", "words"),
    [
        (INSIDE[:-1], "not closed"),
        (INSIDE[:2] + INSIDE[:1], "at least 4"),
        (BOW_TIE, "Self-intersection"),
        (OUTSIDE, "inside the boundary of"),
        ([[lat, lon] for lon, lat in INSIDE], "outside the WGS84 range"),
    ],
)
def test_a_bad_boundary_is_a_400_that_says_why(staff, world, ring, words):
    payload = {
        "community": staff.community_id,
        "code": "09",
        "name": "新网格",
        "boundary": {"type": "Polygon", "coordinates": [ring]},
    }
    response = post(staff, "grid", payload)
    assert response.status_code == 400
    assert list(response.json()) == ["boundary"]
    assert words in response.json()["boundary"][0]
    assert not Grid.objects.filter(code="09").exists()


@pytest.mark.django_db
def test_a_duplicate_code_is_a_400_that_says_why(staff, world):
    payload = {
        "community": staff.community_id,
        "code": "01",
        "name": "x",
        "boundary": {"type": "Polygon", "coordinates": [INSIDE]},
    }
    response = post(staff, "grid", payload)
    assert response.status_code == 400
    assert "already has a grid with the code 01" in response.json()["code"][0]
    assert Grid.objects.count() == 3


@pytest.mark.django_db
def test_a_grid_cannot_be_patched_into_an_invalid_shape(staff, world):
    grid = world["grids"]["A"]
    with matrix.fresh_throttle_cache():
        response = matrix.api_client(staff).patch(
            reverse("api:grid-detail", args=[grid.pk]),
            {"boundary": {"type": "Polygon", "coordinates": [BOW_TIE]}},
            content_type="application/json",
        )
    assert response.status_code == 400
    grid.refresh_from_db()
    assert grid.boundary["coordinates"][0] != BOW_TIE


@pytest.mark.django_db
def test_a_compounds_grid_is_derived_from_its_point_through_the_api(staff, world):
    longitude, latitude = grid_centre(world["grids"]["B"])
    response = post(staff, "compound", {"name": "新小区", "latitude": str(latitude), "longitude": str(longitude)})
    assert response.status_code == 201, response.content
    assert response.json()["grid"] == world["grids"]["B"].pk
    outside = post(staff, "compound", {"name": "远方小区", "latitude": "37.480000", "longitude": "118.495000"})
    assert outside.status_code == 400
    assert "outside every grid" in outside.json()["latitude"][0]


@pytest.mark.django_db
def test_an_assignment_for_a_merchant_is_refused(staff, merchant_user, world):
    response = post(
        staff, "gridassignment", {"user": merchant_user.pk, "grid": world["grids"]["A"].pk, "duty": Duty.HEAD}
    )
    assert response.status_code == 400
    assert "user" in response.json()


@pytest.mark.django_db
def test_current_filter_lists_who_is_on_duty_today(staff, world):
    ended = world["assignments"]["a2"]
    ended.until = datetime.date.today() - datetime.timedelta(days=1)
    ended.save()
    with matrix.fresh_throttle_cache():
        response = matrix.api_client(staff).get(reverse("api:gridassignment-list"), {"current": "true"})
    assert matrix.listed_ids(response) == [world["assignments"]["a1"].pk]


# --- Query counts ------------------------------------------------------------------------------


def populate(community, rows: int) -> None:
    community.boundary = rectangle(*CENTRE, WIDTH, HEIGHT)
    community.save()
    branch = PartyOrganisation.objects.create(community=community, name="支部", kind=OrganisationKind.GRID_BRANCH)
    for number, cell in enumerate(tiling(community.boundary, [rows])):
        grid = Grid.objects.create(
            community=community, code=f"{number:02d}", name=f"网格{number}", branch=branch, boundary=cell
        )
        longitude, latitude = grid_centre(grid)
        Compound.objects.create(grid=grid, name=f"小区{number}", latitude=latitude, longitude=longitude)
        worker = make_user(f"worker{number}", Role.GRID_WORKER, community=community)
        GridAssignment.objects.create(user=worker, grid=grid, duty=Duty.HEAD, since=SINCE)
        PartyOrganisation.objects.create(
            community=community, name=f"单位{number}", kind=OrganisationKind.UNIT_ORGANISATION
        )


@pytest.mark.django_db
@pytest.mark.parametrize("rows", [5, 50])
@pytest.mark.parametrize("route", ["grid", "compound", "gridassignment", "partyorganisation"])
def test_api_list_queries(staff, django_assert_num_queries, rows, route):
    populate(staff.community, rows)
    client = matrix.api_client(staff)
    # session, user, page count, rows (party organisations: and the communities they span, prefetched)
    with matrix.fresh_throttle_cache(), django_assert_num_queries(5 if route == "partyorganisation" else 4):
        response = client.get(reverse(f"api:{route}-list"))
    assert response.status_code == 200
    assert response.json()["count"] >= rows
