"""The demo data: Shanglong's 13 grids tile the community exactly; seeding twice changes nothing."""

from __future__ import annotations

import io
import itertools

import pytest
from django.core.management import call_command
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from grids.models import Compound, Duty, Grid, GridAssignment, GridKind, OrganisationKind, PartyOrganisation
from shanglong.models import Community, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())
    return Community.objects.get(code="370502-wenhui-shanglong")


def test_thirteen_grids_tile_the_community_exactly(demo):
    # The ordinary grids (一般网格) tile it; the dedicated ones (专属网格) lie inside them.
    grids = list(Grid.objects.filter(community=demo, kind=GridKind.ORDINARY).order_by("code"))
    assert [grid.code for grid in grids] == [f"{n:02d}" for n in range(1, 14)]
    community = shape(demo.boundary)
    shapes = [shape(grid.boundary) for grid in grids]
    assert all(s.is_valid for s in shapes)
    union = unary_union(shapes)
    assert abs(union.area - community.area) / community.area < 0.001
    assert union.symmetric_difference(community).area / community.area < 0.001
    for first, second in itertools.combinations(shapes, 2):
        assert first.intersection(second).area < community.area * 1e-9


def test_every_grid_passes_its_own_validation(demo):
    for grid in Grid.objects.all():
        grid.full_clean()


def test_each_compound_lies_in_its_grid(demo):
    compounds = list(Compound.objects.filter(grid__community=demo).select_related("grid"))
    assert len(compounds) == 13
    assert "鲁园小区" in {compound.name for compound in compounds}
    for compound in compounds:
        assert shape(compound.grid.boundary).contains(Point(float(compound.longitude), float(compound.latitude)))


def test_the_party_organisations_and_duties(demo):
    branches = PartyOrganisation.objects.filter(community=demo, kind=OrganisationKind.GRID_BRANCH)
    assert branches.count() == 4
    assert {branch.grids.count() for branch in branches} == {4, 3}
    joint = PartyOrganisation.objects.get(name="商河路商圈综合党委")
    assert joint.kind == OrganisationKind.DISTRICT_JOINT_COMMITTEE
    assert joint.children.filter(kind=OrganisationKind.UNIT_ORGANISATION).count() == 3
    assert PartyOrganisation.objects.get(name="第一网格党支部").secretary.username == "staff"
    assert GridAssignment.objects.current().filter(grid__community=demo, duty=Duty.HEAD).count() == 13
    grid_user = User.objects.get(username="grid")
    assert list(Grid.objects.visible_to(grid_user).values_list("code", flat=True)) == ["01"]


def test_the_second_community_and_its_staff(demo):
    wenhui = Community.objects.get(name="文汇社区")
    assert wenhui.subdistrict == demo.subdistrict
    assert Grid.objects.filter(community=wenhui).count() == 2
    staff2 = User.objects.get(username="staff2")
    assert set(Grid.objects.visible_to(staff2)) == set(Grid.objects.filter(community=wenhui))
    assert shape(wenhui.boundary).intersection(shape(demo.boundary)).area == pytest.approx(0, abs=1e-12)


def test_seeding_twice_changes_nothing(demo):
    counts = [model.objects.count() for model in (PartyOrganisation, Grid, GridAssignment, Compound, User, Community)]
    # The registries keep a change history: a second run must not add a row to it either.
    history = [model.history.count() for model in (PartyOrganisation, Grid, GridAssignment, Compound, Community)]
    call_command("seed_demo", stdout=io.StringIO())
    assert [
        model.objects.count() for model in (PartyOrganisation, Grid, GridAssignment, Compound, User, Community)
    ] == counts
    assert [
        model.history.count() for model in (PartyOrganisation, Grid, GridAssignment, Compound, Community)
    ] == history
