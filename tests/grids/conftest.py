"""Fixtures of the grids tests: the cast's community gets a boundary, two branches and four
grids (A and B in branch 1, C and D in branch 2) that tile it; the cast's grid workers are on
duty in A and B; a branch secretary (a grid worker with no duty) leads branch 1."""

from __future__ import annotations

import datetime

import pytest

from grids.demo import tiling
from grids.models import Compound, Duty, Grid, GridAssignment, OrganisationKind, PartyOrganisation
from shanglong.demo import rectangle
from shanglong.models import Role
from tests.conftest import make_user

CENTRE = (118.495, 37.463)
WIDTH, HEIGHT = 0.011318, 0.007748


@pytest.fixture
def bounded_community(community):
    community.boundary = rectangle(*CENTRE, WIDTH, HEIGHT)
    community.save()
    return community


@pytest.fixture
def branches(bounded_community):
    committee = PartyOrganisation.objects.create(
        community=bounded_community, name="商隆社区党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    return [
        PartyOrganisation.objects.create(
            community=bounded_community, name=name, kind=OrganisationKind.GRID_BRANCH, parent=committee
        )
        for name in ("第一网格党支部", "第二网格党支部")
    ]


@pytest.fixture
def grids(bounded_community, branches):
    """Four grids in two rows: A, B (branch 1) in the north, C, D (branch 2) in the south."""
    cells = tiling(bounded_community.boundary, [2, 2])
    result = {}
    for number, (letter, cell) in enumerate(zip("ABCD", cells, strict=True)):
        result[letter] = Grid.objects.create(
            community=bounded_community,
            code=f"0{number + 1}",
            name=f"网格{letter}",
            branch=branches[number // 2],
            boundary=cell,
        )
    return result


@pytest.fixture
def on_duty(grids, grid_worker, other_grid_worker):
    """grid1 is on duty in A, grid2 in B, from a month ago."""
    since = datetime.date.today() - datetime.timedelta(days=30)
    return [
        GridAssignment.objects.create(user=grid_worker, grid=grids["A"], duty=Duty.FULL_TIME, since=since),
        GridAssignment.objects.create(user=other_grid_worker, grid=grids["B"], duty=Duty.HEAD, since=since),
    ]


@pytest.fixture
def branch_secretary(bounded_community, branches):
    """A grid worker with no duty of their own who leads branch 1 (grids A and B)."""
    secretary = make_user("secretary1", Role.GRID_WORKER, community=bounded_community)
    branches[0].secretary = secretary
    branches[0].save()
    return secretary


@pytest.fixture
def compounds(grids):
    result = {}
    for letter, grid in grids.items():
        point = grid_centre(grid)
        result[letter] = Compound.objects.create(
            grid=grid, name=f"小区{letter}", latitude=point[1], longitude=point[0], buildings=3
        )
    return result


def grid_centre(grid: Grid) -> tuple[float, float]:
    ring = grid.boundary["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return round((min(lons) + max(lons)) / 2, 6), round((min(lats) + max(lats)) / 2, 6)
