"""The list pages and the map cost a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from grids.demo import tiling
from grids.models import Compound, Duty, Grid, GridAssignment, OrganisationKind, PartyOrganisation
from shanglong.models import Role
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SINCE = datetime.date(2025, 1, 1)


def populate(community, rows: int) -> None:
    """`rows` branches, each with one grid, one compound and two people on duty."""
    committee = PartyOrganisation.objects.create(
        community=community, name="党委", kind=OrganisationKind.COMMUNITY_COMMITTEE
    )
    cells = tiling(community.boundary, [rows])
    for number, cell in enumerate(cells):
        branch = PartyOrganisation.objects.create(
            community=community, name=f"支部{number:02d}", kind=OrganisationKind.GRID_BRANCH, parent=committee
        )
        grid = Grid.objects.create(
            community=community, code=f"{number:02d}", name=f"网格{number:02d}", branch=branch, boundary=cell
        )
        ring = cell["coordinates"][0]
        Compound.objects.create(
            grid=grid,
            name=f"小区{number:02d}",
            latitude=round((ring[0][1] + ring[2][1]) / 2, 6),
            longitude=round((ring[0][0] + ring[2][0]) / 2, 6),
        )
        for duty in (Duty.HEAD, Duty.FULL_TIME):
            worker = make_user(f"w{number}{duty}", Role.GRID_WORKER, community=community)
            GridAssignment.objects.create(user=worker, grid=grid, duty=duty, since=SINCE)


@pytest.mark.parametrize("rows", [5, 50])
def test_grid_list_queries(staff, bounded_community, django_assert_num_queries, rows):
    populate(bounded_community, rows)
    client = client_for(staff)
    # session, user, unread messages, page count, grids (with branch, community), people on duty
    with django_assert_num_queries(6):
        response = client.get(reverse("grids:grid_list"))
    assert len(response.context["page"].object_list) == rows
    assert all(len(grid.people_on_duty) == 2 for grid in response.context["page"])


@pytest.mark.parametrize("rows", [5, 50])
def test_compound_list_queries(staff, bounded_community, django_assert_num_queries, rows):
    populate(bounded_community, rows)
    client = client_for(staff)
    # session, user, unread messages, page count, compounds (with grid)
    with django_assert_num_queries(5):
        response = client.get(reverse("grids:compound_list"))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_organisation_tree_queries(staff, bounded_community, django_assert_num_queries, rows):
    populate(bounded_community, rows)
    client = client_for(staff)
    # session, user, unread messages, organisations (with secretary, community), grids
    with django_assert_num_queries(5):
        response = client.get(reverse("grids:organisation_tree"))
    [committee] = response.context["tree"]
    assert len(committee["children"]) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_map_queries(grid_worker, bounded_community, django_assert_num_queries, rows):
    populate(bounded_community, rows)
    GridAssignment.objects.create(user=grid_worker, grid=Grid.objects.first(), duty=Duty.PART_TIME, since=SINCE)
    client = client_for(grid_worker)
    # session, user, unread messages, community, grids (with branch and people_visible),
    # people on duty (with user), compounds
    with django_assert_num_queries(7):
        response = client.get(reverse("grids:map"))
    data = response.context["map_data"]
    assert len(data["grids"]) == rows
    assert sum(grid["people_visible"] for grid in data["grids"]) == 1
    assert len(data["compounds"]) == 1
