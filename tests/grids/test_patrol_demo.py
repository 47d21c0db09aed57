"""The patrol demo data: a checklist for each of Shanglong's 13 grids from the templates, about
ten patrols this month with fails and findings (the article's 鲁园老年站 among them); seeding
twice changes nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from grids.models import (
    Checklist,
    ChecklistItem,
    Finding,
    FindingFollowUp,
    FindingStatus,
    Outcome,
    Patrol,
    PatrolResult,
    month_bounds,
)
from shanglong.models import Community

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=io.StringIO())
    return Community.objects.get(code="370502-wenhui-shanglong")


def site_types(code: str) -> set[str]:
    return set(
        ChecklistItem.objects.filter(checklist__grid__code=code, checklist__grid__community__name="商隆社区")
        .values_list("site_type", flat=True)
        .distinct()
    )


def test_every_grid_has_its_checklist_from_the_templates(demo):
    assert Checklist.objects.filter(grid__community=demo).count() == 13
    for code in [f"{number:02d}" for number in range(1, 14)]:
        assert {"frontage", "sanitation"} <= site_types(code)
    # The restaurant streets of 韩国城 and 乐活城 check gas safety; 鲁园小区's grid the flood points.
    assert "restaurant_gas" in site_types("05")
    assert "restaurant_gas" in site_types("06")
    assert "restaurant_gas" not in site_types("01")
    assert "flood_point" in site_types("01")


def test_this_months_patrols_with_fails_and_findings(demo):
    start, end = month_bounds(timezone.localdate())
    patrols = Patrol.objects.filter(grid__community=demo)
    assert 8 <= patrols.count() <= 12
    assert (
        patrols.filter(started_at__gte=start, started_at__lt=end, started_at__lte=timezone.now()).count()
        == patrols.count()
    )
    failed = PatrolResult.objects.filter(patrol__in=patrols, outcome=Outcome.FAIL)
    assert failed.count() >= 4
    assert Finding.objects.filter(result__in=failed).count() == failed.count()
    statuses = set(Finding.objects.filter(grid__community=demo).values_list("status", flat=True))
    assert statuses == {FindingStatus.OPEN, FindingStatus.FOLLOWED_UP, FindingStatus.CLOSED}
    luyuan = Finding.objects.get(place="鲁园老年站平房")
    assert luyuan.grid.code == "01"
    assert luyuan.compound.name == "鲁园小区"
    assert "雨排管线" in luyuan.description
    assert "积水" in luyuan.description
    assert luyuan.follow_ups.count() == 2


def test_seeding_twice_changes_nothing(demo):
    models = (Checklist, ChecklistItem, Patrol, PatrolResult, Finding, FindingFollowUp)
    counts = [model.objects.count() for model in models]
    call_command("seed_demo", stdout=io.StringIO())
    assert [model.objects.count() for model in models] == counts
