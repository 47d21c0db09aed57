"""Grid kinds: 一般网格 (ordinary) tile the territory; 专属网格 (dedicated) are drawn round one
site (a mall, an office tower, a market or a school) and name it. Pages, API and demo agree."""

from __future__ import annotations

import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from shapely.geometry import shape

from grids.models import DedicatedSite, Grid, GridKind
from shanglong.models import Community
from tests.api import matrix
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

# 商业大厦's footprint, inside the test community (118.489341..118.500659 x 37.459126..37.466874).
TOWER = [[118.4924, 37.4651], [118.4932, 37.4651], [118.4932, 37.4657], [118.4924, 37.4657], [118.4924, 37.4651]]


def tower_data(**changes):
    data = {
        "code": "ZS01",
        "name": "商业大厦",
        "kind": GridKind.DEDICATED,
        "dedicated_site": DedicatedSite.OFFICE_TOWER,
        "boundary": json.dumps({"type": "Polygon", "coordinates": [TOWER]}),
        "is_active": "on",
    }
    return {**data, **changes}


def test_staff_create_a_dedicated_grid(staff, bounded_community):
    response = client_for(staff).post(reverse("grids:grid_create"), tower_data())
    assert response.status_code == 302
    grid = Grid.objects.get(code="ZS01")
    assert (grid.kind, grid.dedicated_site, grid.branch) == ("dedicated", "office_tower", None)
    page = client_for(staff).get(reverse("grids:grid_detail", args=[grid.pk]), HTTP_ACCEPT_LANGUAGE="en")
    assert "Dedicated grid · Office tower" in page.content.decode()


def test_a_dedicated_grid_must_name_its_site_and_an_ordinary_one_has_none(staff, bounded_community):
    client = client_for(staff)
    response = client.post(reverse("grids:grid_create"), tower_data(dedicated_site=""), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["form"].errors["dedicated_site"] == ["Choose the site the dedicated grid is drawn round."]
    response = client.post(reverse("grids:grid_create"), tower_data(kind="ordinary"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.context["form"].errors["dedicated_site"] == ["Only a dedicated grid has a site; leave this empty."]
    assert not Grid.objects.filter(code="ZS01").exists()
    # The database holds the same rule.
    grid = Grid(community=bounded_community, code="ZS09", name="x", kind="ordinary", dedicated_site="mall")
    grid.boundary = {"type": "Polygon", "coordinates": [TOWER]}
    with pytest.raises(ValidationError):
        grid.full_clean()


def test_the_grid_list_shows_and_filters_by_kind(staff, grids):
    client = client_for(staff)
    client.post(reverse("grids:grid_create"), tower_data())
    everything = client.get(reverse("grids:grid_list"), HTTP_ACCEPT_LANGUAGE="en")
    assert len(everything.context["page"].object_list) == 5
    assert "Office tower" in everything.content.decode()
    dedicated = client.get(reverse("grids:grid_list"), {"kind": "dedicated"})
    assert [grid.code for grid in dedicated.context["page"]] == ["ZS01"]
    ordinary = client.get(reverse("grids:grid_list"), {"kind": "ordinary"})
    assert [grid.code for grid in ordinary.context["page"]] == ["01", "02", "03", "04"]
    malls = client.get(reverse("grids:grid_list"), {"dedicated_site": "mall"})
    assert list(malls.context["page"]) == []


def test_the_api_shows_filters_and_checks_the_kind(staff, grids):
    client = matrix.api_client(staff)
    payload = {**tower_data(), "community": grids["A"].community_id, "boundary": json.loads(tower_data()["boundary"])}
    payload.pop("is_active")
    created = client.post(reverse("api:grid-list"), payload, content_type="application/json")
    assert created.status_code == 201, created.json()
    assert (created.json()["kind"], created.json()["dedicated_site"]) == ("dedicated", "office_tower")
    listed = client.get(reverse("api:grid-list"), {"kind": "dedicated"}).json()["results"]
    assert [row["code"] for row in listed] == ["ZS01"]
    ordinary = client.get(reverse("api:grid-list"), {"kind": "ordinary"}).json()["results"]
    assert {row["kind"] for row in ordinary} == {"ordinary"}
    refused = client.post(
        reverse("api:grid-list"), {**payload, "code": "ZS02", "dedicated_site": ""}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert "dedicated_site" in refused.json()


def test_the_demo_makes_the_four_commercial_buildings_dedicated_grids():
    call_command("seed_demo", stdout=io.StringIO())
    shanglong = Community.objects.get(code="370502-wenhui-shanglong")
    dedicated = Grid.objects.filter(community=shanglong, kind=GridKind.DEDICATED)
    assert {grid.name: grid.dedicated_site for grid in dedicated} == {
        "商业大厦": "office_tower",
        "供销商场": "mall",
        "乐活城": "mall",
        "韩国城": "market",
    }
    community = shape(shanglong.boundary)
    for grid in dedicated:
        grid.full_clean()
        assert community.contains(shape(grid.boundary))
    assert Grid.objects.filter(community=shanglong, kind=GridKind.ORDINARY).count() == 13


def test_a_point_inside_a_dedicated_grid_is_the_dedicated_grids_and_so_is_a_compound_placed_there(staff, grids):
    """A dedicated grid is drawn inside an ordinary one: the point-to-grid rule gives it first,
    whatever the codes (ZS01 sorts after 01..04), and a compound placed by its position lands in it."""
    tower = Grid.objects.create(
        community=grids["A"].community,
        code="ZS01",
        name="商业大厦",
        kind=GridKind.DEDICATED,
        dedicated_site=DedicatedSite.OFFICE_TOWER,
        boundary={"type": "Polygon", "coordinates": [TOWER]},
    )
    latitude, longitude = "37.465400", "118.492800"  # inside the tower
    around = [grid for grid in grids.values() if grid.covers(latitude, longitude)]
    assert len(around) == 1  # the tower lies inside one ordinary grid
    assert list(Grid.objects.containing(latitude, longitude)) == [tower, around[0]]
    response = client_for(staff).post(
        reverse("grids:compound_create"),
        {
            "name": "大厦公寓",
            "address": "商河路1号",
            "latitude": latitude,
            "longitude": longitude,
            "grid": "",
            "buildings": 1,
        },
    )
    assert response.status_code == 302
    from grids.models import Compound

    assert Compound.objects.get(name="大厦公寓").grid == tower
