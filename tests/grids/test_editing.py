"""Staff keep the registry: grids (with their boundary checked), assignments, compounds."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse

from grids.models import Compound, Duty, Grid, GridAssignment
from tests.conftest import client_for
from tests.grids.conftest import grid_centre

pytestmark = pytest.mark.django_db

# A square well inside the test community (118.489341..118.500659 x 37.459126..37.466874).
INSIDE = [[118.492, 37.461], [118.494, 37.461], [118.494, 37.463], [118.492, 37.463], [118.492, 37.461]]


def polygon(ring) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def post_grid(client, data, grid=None):
    url = reverse("grids:grid_edit", args=[grid.pk]) if grid else reverse("grids:grid_create")
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")


def grid_data(branches):
    return {"code": "09", "name": "新网格", "branch": branches[0].pk, "boundary": polygon(INSIDE), "is_active": "on"}


def test_staff_create_a_grid(staff, bounded_community, branches):
    response = post_grid(client_for(staff), grid_data(branches))
    grid = Grid.objects.get(code="09")
    assert response.status_code == 302
    assert response.url == reverse("grids:grid_detail", args=[grid.pk])
    assert grid.community == bounded_community
    assert grid.branch == branches[0]
    assert grid.boundary == {"type": "Polygon", "coordinates": [INSIDE]}
    assert grid.history.count() == 1


def test_staff_edit_a_grid(staff, grids, branches):
    grid = grids["A"]
    data = {"code": grid.code, "name": "网格A(改)", "branch": branches[1].pk, "boundary": polygon(INSIDE)}
    response = post_grid(client_for(staff), data, grid)
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.name, grid.branch, grid.is_active) == ("网格A(改)", branches[1], False)
    assert grid.boundary["coordinates"] == [INSIDE]


def test_edit_form_shows_the_boundary(staff, grids):
    response = client_for(staff).get(reverse("grids:grid_edit", args=[grids["A"].pk]))
    assert response.status_code == 200
    form_boundary = json.loads(response.context["form"]["boundary"].value())
    assert form_boundary == grids["A"].boundary


def test_a_feature_is_accepted_and_stored_as_its_polygon(staff, bounded_community, branches):
    feature = json.dumps({"type": "Feature", "properties": {}, "geometry": json.loads(polygon(INSIDE))})
    post_grid(client_for(staff), {**grid_data(branches), "boundary": feature})
    assert Grid.objects.get(code="09").boundary == {"type": "Polygon", "coordinates": [INSIDE]}


BAD_BOUNDARIES = {
    "not json": ("{not json", None, None),
    "not a polygon": (json.dumps({"type": "Point", "coordinates": [118.49, 37.46]}), "not_polygon", "GeoJSON polygon"),
    "not closed": (polygon(INSIDE[:-1] + [[118.4921, 37.461]]), "not_closed", "not closed"),
    "too few points": (
        polygon([[118.492, 37.461], [118.494, 37.461], [118.492, 37.461]]),
        "too_few_points",
        "at least 4",
    ),
    "latitude first": (
        polygon([[lat, lon] for lon, lat in INSIDE][:-1] + [[37.461, 118.492]]),
        "out_of_range",
        "outside the WGS84 range",
    ),
    "self-intersecting": (
        polygon([[118.492, 37.461], [118.494, 37.463], [118.494, 37.461], [118.492, 37.463], [118.492, 37.461]]),
        "invalid_geometry",
        "Self-intersection",
    ),
    "outside the community": (
        polygon([[118.499, 37.461], [118.503, 37.461], [118.503, 37.463], [118.499, 37.463], [118.499, 37.461]]),
        "outside_community",
        "inside the boundary of",
    ),
}


@pytest.mark.parametrize("case", BAD_BOUNDARIES)
def test_a_bad_boundary_gives_a_clear_error_and_writes_nothing(staff, bounded_community, branches, case):
    text, code, words = BAD_BOUNDARIES[case]
    response = post_grid(client_for(staff), {**grid_data(branches), "boundary": text})
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert list(errors) == ["boundary"]
    if code:
        assert errors["boundary"][0].code == code
        page = response.content.decode()
        assert words in page
        assert 'id="id_boundary_error"' in page
    # What the person typed is still in the box.
    assert response.context["form"]["code"].value() == "09"
    assert not Grid.objects.exists()


def test_a_bad_boundary_on_edit_leaves_the_grid_as_it_was(staff, grids, branches):
    grid = grids["A"]
    before = grid.boundary
    bow_tie = BAD_BOUNDARIES["self-intersecting"][0]
    response = post_grid(client_for(staff), {"code": "01", "name": "x", "boundary": bow_tie}, grid)
    assert response.status_code == 200
    assert "boundary" in response.context["form"].errors
    grid.refresh_from_db()
    assert (grid.boundary, grid.name) == (before, "网格A")


def test_a_duplicate_code_gives_a_clear_error_and_writes_nothing(staff, grids, branches):
    response = post_grid(client_for(staff), {**grid_data(branches), "code": "01"})
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert list(errors) == ["code"]
    assert errors["code"][0].code == "duplicate_code"
    assert "already has a grid with the code 01" in response.content.decode()
    assert Grid.objects.count() == 4


def test_the_same_code_is_fine_in_another_community(staff, other_staff, grids, other_community):
    other_community.boundary = None
    other_community.save()
    response = post_grid(client_for(other_staff), {"code": "01", "name": "文汇网格01", "boundary": polygon(INSIDE)})
    assert response.status_code == 302
    assert Grid.objects.filter(code="01").count() == 2


def test_staff_cannot_pick_another_community_or_its_branch(staff, grids, other_community, branches):
    from grids.models import OrganisationKind, PartyOrganisation

    foreign_branch = PartyOrganisation.objects.create(
        community=other_community, name="文汇支部", kind=OrganisationKind.GRID_BRANCH
    )
    data = {**grid_data(branches), "community": other_community.pk, "branch": foreign_branch.pk}
    response = post_grid(client_for(staff), data)
    assert "branch" in response.context["form"].errors
    assert not Grid.objects.filter(code="09").exists()
    # The community is fixed to the staff's own, whatever is posted.
    post_grid(client_for(staff), {**grid_data(branches), "community": other_community.pk})
    assert Grid.objects.get(code="09").community == grids["A"].community


def test_staff_cannot_edit_another_communitys_grid(other_staff, grids):
    assert client_for(other_staff).get(reverse("grids:grid_edit", args=[grids["A"].pk])).status_code == 404


def test_grid_workers_cannot_edit(grid_worker, grids, on_duty):
    client = client_for(grid_worker)
    assert client.get(reverse("grids:grid_edit", args=[grids["A"].pk])).status_code == 403
    assert client.get(reverse("grids:assignment_create")).status_code == 403


# --- Assignments ---------------------------------------------------------------------------


def test_staff_put_a_person_on_duty(staff, grid_worker, grids):
    response = client_for(staff).post(
        reverse("grids:assignment_create"),
        {"grid": grids["C"].pk, "user": grid_worker.pk, "duty": Duty.BUILDING_HEAD, "since": "2026-01-05"},
    )
    assert response.status_code == 302
    assignment = GridAssignment.objects.get()
    assert (assignment.grid, assignment.user, assignment.duty) == (grids["C"], grid_worker, Duty.BUILDING_HEAD)


def test_assignment_choices_are_bounded_to_the_staffs_community_and_working_roles(
    staff, grid_worker, merchant_user, other_staff, grids, other_community
):
    other_grid = Grid.objects.create(community=other_community, code="01", name="文汇网格01", boundary={})
    form = client_for(staff).get(reverse("grids:assignment_create")).context["form"]
    people = set(form.fields["user"].queryset)
    assert grid_worker in people
    assert staff in people
    assert merchant_user not in people
    assert other_staff not in people
    assert other_grid not in set(form.fields["grid"].queryset)
    # Pointing at them anyway is refused.
    response = client_for(staff).post(
        reverse("grids:assignment_create"),
        {"grid": other_grid.pk, "user": other_staff.pk, "duty": Duty.HEAD, "since": "2026-01-05"},
    )
    assert set(response.context["form"].errors) == {"grid", "user"}
    assert not GridAssignment.objects.exists()


def test_the_same_duty_twice_is_refused(staff, grids, on_duty, grid_worker):
    response = client_for(staff).post(
        reverse("grids:assignment_create"),
        {"grid": grids["A"].pk, "user": grid_worker.pk, "duty": Duty.FULL_TIME, "since": "2026-01-05"},
    )
    assert "user" in response.context["form"].errors
    assert GridAssignment.objects.count() == 2


def test_staff_end_a_duty_and_the_worker_loses_the_grid(staff, grid_worker, grids, on_duty):
    assignment = on_duty[0]
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    response = client_for(staff).post(
        reverse("grids:assignment_end", args=[assignment.pk]), {"until": yesterday.isoformat()}
    )
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.until == yesterday
    assert assignment.history.first().history_user == staff
    assert not Grid.objects.visible_to(grid_worker).exists()


def test_a_duty_cannot_end_before_it_began(staff, grids, on_duty):
    assignment = on_duty[0]
    before = assignment.since - datetime.timedelta(days=1)
    response = client_for(staff).post(
        reverse("grids:assignment_end", args=[assignment.pk]), {"until": before.isoformat()}
    )
    assert "until" in response.context["form"].errors
    assignment.refresh_from_db()
    assert assignment.until is None


# --- Compounds -----------------------------------------------------------------------------


def compound_data(**overrides):
    return {"name": "新小区", "address": "商河路1号", "latitude": "", "longitude": "", "grid": "", "buildings": 4} | {
        key: str(value) for key, value in overrides.items()
    }


def test_a_compounds_grid_is_found_from_its_point(staff, grids):
    longitude, latitude = grid_centre(grids["C"])
    response = client_for(staff).post(
        reverse("grids:compound_create"), compound_data(latitude=latitude, longitude=longitude)
    )
    assert response.status_code == 302
    assert Compound.objects.get(name="新小区").grid == grids["C"]


def test_a_point_outside_every_grid_is_refused(staff, grids):
    response = client_for(staff).post(
        reverse("grids:compound_create"),
        compound_data(latitude="37.470000", longitude="118.495000"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors.as_data()
    assert errors["latitude"][0].code == "outside_grids"
    assert "outside every grid" in response.content.decode()
    assert not Compound.objects.exists()


def test_a_point_outside_the_chosen_grid_is_refused(staff, grids):
    longitude, latitude = grid_centre(grids["C"])
    response = client_for(staff).post(
        reverse("grids:compound_create"),
        compound_data(latitude=latitude, longitude=longitude, grid=grids["A"].pk),
    )
    assert response.context["form"].errors.as_data()["latitude"][0].code == "outside_grid"
    assert not Compound.objects.exists()


def test_a_compound_needs_a_grid_or_a_point(staff, grids):
    response = client_for(staff).post(reverse("grids:compound_create"), compound_data())
    assert "grid" in response.context["form"].errors
    response = client_for(staff).post(reverse("grids:compound_create"), compound_data(grid=grids["B"].pk))
    assert response.status_code == 302
    assert Compound.objects.get().grid == grids["B"]


def test_staff_edit_a_compound_and_moving_its_point_moves_its_grid(staff, grids, compounds):
    compound = compounds["A"]
    longitude, latitude = grid_centre(grids["D"])
    response = client_for(staff).post(
        reverse("grids:compound_edit", args=[compound.pk]),
        compound_data(name=compound.name, latitude=latitude, longitude=longitude),
    )
    assert response.status_code == 302
    compound.refresh_from_db()
    assert compound.grid == grids["D"]


def test_staff_cannot_file_a_compound_in_another_communitys_grid(other_staff, grids, other_community):
    longitude, latitude = grid_centre(grids["A"])
    response = client_for(other_staff).post(
        reverse("grids:compound_create"), compound_data(latitude=latitude, longitude=longitude, grid=grids["A"].pk)
    )
    assert "grid" in response.context["form"].errors
    response = client_for(other_staff).post(
        reverse("grids:compound_create"), compound_data(latitude=latitude, longitude=longitude)
    )
    assert "latitude" in response.context["form"].errors
    assert not Compound.objects.exists()


def test_the_new_grid_form_starts_with_an_empty_boundary_box(staff, community):
    page = client_for(staff).get(reverse("grids:grid_create")).content.decode()
    start = page.index('name="boundary"')
    box = page[start : page.index("</textarea>", start)]
    assert box.rstrip().endswith(">")  # nothing between the tag and </textarea>, not "null"


def test_the_branch_choices_follow_the_territory_not_the_characters(staff, grids, branches):
    from grids.models import OrganisationKind, PartyOrganisation

    # By the characters 第三 comes before 第二; the choices follow each branch's first grid.
    third = PartyOrganisation.objects.create(
        community=grids["D"].community, name="第三网格党支部", kind=OrganisationKind.GRID_BRANCH
    )
    Grid.objects.filter(pk=grids["D"].pk).update(branch=third)
    form = client_for(staff).get(reverse("grids:grid_create")).context["form"]
    assert [branch.name for branch in form.fields["branch"].queryset] == [
        "第一网格党支部",
        "第二网格党支部",
        "第三网格党支部",
    ]
