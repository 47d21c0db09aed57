"""The map's schematic base map (streets, landmark buildings) and its compounds are the viewer's
community's only: a user of the second community gets none of Shanglong's."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from shapely.geometry import shape

from shanglong.models import Community, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

STREETS = {"商河路", "西二路", "西三路"}
BUILDINGS = {"商业大厦", "供销商场", "乐活城", "韩国城"}


@pytest.fixture
def demo() -> Community:
    call_command("seed_demo", stdout=io.StringIO())
    return Community.objects.get(code="370502-wenhui-shanglong")


def page_data(response) -> str:
    """The text of the page with its json_script block decoded (json_script escapes non-ASCII)."""
    content = response.content.decode()
    block = re.search(r'<script id="grid-map-data" type="application/json">(.*?)</script>', content, re.S)
    assert block
    return content + json.dumps(json.loads(block.group(1)), ensure_ascii=False)


def names(features: list[dict], kind: str) -> set[str]:
    return {feature["properties"]["name"] for feature in features if feature["properties"]["kind"] == kind}


def test_shanglong_staff_see_the_streets_buildings_and_compounds(demo):
    response = client_for(User.objects.get(username="staff")).get(reverse("grids:map"))
    data = response.context["map_data"]
    assert names(data["basemap"], "street") == STREETS
    assert names(data["basemap"], "building") == BUILDINGS
    assert len(data["compounds"]) == 13
    # The page's data block carries them to the script, and the key explains them.
    content = page_data(response)
    assert "西三路" in content
    assert "韩国城" in content
    assert 'data-testid="map-key"' in content


def test_base_map_lies_in_and_around_the_community(demo):
    """Buildings stand inside the community; streets cross it."""
    data = client_for(User.objects.get(username="staff")).get(reverse("grids:map")).context["map_data"]
    community = shape(demo.boundary)
    for feature in data["basemap"]:
        geometry = shape(feature["geometry"])
        if feature["properties"]["kind"] == "building":
            assert community.contains(geometry), feature["properties"]["name"]
        else:
            assert geometry.intersects(community), feature["properties"]["name"]


def test_a_user_of_the_second_community_gets_none_of_shanglongs_base_map(demo):
    response = client_for(User.objects.get(username="staff2")).get(reverse("grids:map"))
    data = response.context["map_data"]
    assert response.context["community"].code != demo.code
    assert data["basemap"] == []
    assert all(compound["name"] not in {"鲁园小区", "商河小区"} for compound in data["compounds"])
    content = page_data(response)
    for name in (STREETS - {"商河路"}) | BUILDINGS:  # 商河路 also names the joint committee
        assert name not in content


def test_a_superuser_on_the_second_communitys_map_gets_no_base_map(demo):
    admin = User.objects.create_superuser("root", password="x")  # noqa: S106
    second = Community.objects.exclude(pk=demo.pk).get(name="文汇社区")
    client = client_for(admin)
    assert client.get(reverse("grids:community_map", args=[second.pk])).context["map_data"]["basemap"] == []
    assert len(client.get(reverse("grids:community_map", args=[demo.pk])).context["map_data"]["basemap"]) == 7


def test_a_namesake_community_elsewhere_gets_no_base_map(staff, community):
    """The file names its community's full code; "t-shanglong" ends like it but is not it."""
    assert community.code.endswith("shanglong")
    response = client_for(staff).get(reverse("grids:map"))
    assert response.context["map_data"]["basemap"] == []


def test_tianditu_layers_are_drawn_in_order_from_its_eight_servers(staff, settings):
    vec = "https://t{s}.tianditu.gov.cn/vec_w/wmts?LAYER=vec&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k"
    cva = "https://t{s}.tianditu.gov.cn/cva_w/wmts?LAYER=cva&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=k"
    settings.MAP_TILE_URL = f"{vec} {cva}"
    settings.MAP_TILE_ATTRIBUTION = "© 天地图"
    tiles = client_for(staff).get(reverse("grids:map")).context["map_data"]["tiles"]
    assert tiles == {"url": vec, "overlays": [cva], "attribution": "© 天地图", "subdomains": "01234567"}
