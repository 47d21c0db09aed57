"""The official 12-digit statistical area code (统计用区划代码) of subdistricts and communities."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from shanglong.models import Community, Subdistrict
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", ["37050200301", "3705020030111", "37050200301a", "370502-03011"])
def test_an_area_code_must_be_twelve_digits(community, bad):
    community.area_code = bad
    with pytest.raises(ValidationError) as raised:
        community.full_clean()
    assert "area_code" in raised.value.message_dict


def test_an_area_code_is_unique_and_optional(community, other_community):
    community.area_code = "370502003011"
    community.full_clean()
    community.save()
    other_community.area_code = None
    other_community.full_clean()  # rows without a code never collide
    other_community.area_code = "370502003011"
    with pytest.raises(ValidationError) as raised:
        other_community.full_clean()
    assert "370502003011" in raised.value.message_dict["area_code"][0]


def test_a_subdistricts_area_code_is_unique(subdistrict, other_subdistrict):
    subdistrict.area_code = "370502003000"
    subdistrict.save()
    other_subdistrict.area_code = "370502003000"
    with pytest.raises(ValidationError) as raised:
        other_subdistrict.full_clean()
    assert "area_code" in raised.value.message_dict


def test_the_api_shows_the_area_codes(staff, community, subdistrict):
    Community.objects.filter(pk=community.pk).update(area_code="370502003011")
    Subdistrict.objects.filter(pk=subdistrict.pk).update(area_code="370502003000")
    client = client_for(staff)
    communities = client.get("/api/v1/communities/", {"area_code": "370502003011"}).json()["results"]
    assert [row["area_code"] for row in communities] == ["370502003011"]
    subdistricts = client.get("/api/v1/subdistricts/").json()["results"]
    assert [row["area_code"] for row in subdistricts] == ["370502003000"]


def test_the_demo_sets_the_area_codes():
    call_command("seed_demo", stdout=StringIO())
    assert Subdistrict.objects.get(code="370502-wenhui").area_code == "370502003000"
    shanglong = Community.objects.get(code="370502-wenhui-shanglong")
    assert shanglong.area_code == "370502003011"
    assert shanglong.area_code.startswith(shanglong.subdistrict.area_code[:9])
    assert Community.objects.get(name="文汇社区").area_code == "370502003012"
