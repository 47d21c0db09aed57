"""A grid's patrol history and its checklist coverage: how often each item was checked, failed
or found not applicable on the month's patrols, counted in the database in one query."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import ChecklistItem, Outcome, month_bounds
from tests.grids.patrol_world import english_client, gas_checklist, item, walked_patrol

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def march(staff, grid_worker, other_grid_worker, grids, on_duty):
    """Three patrols of grid A in March 2025 (the last a minute before midnight on the 31st),
    one on the last day of February and one at midnight on 1 April; one of grid B in March."""
    gas_checklist(grids["A"], staff)
    gas_checklist(grids["B"], staff)
    hose = item(grids["A"], "restaurant_gas.metal_hose")
    alarm = item(grids["A"], "restaurant_gas.leak_alarm")
    blanket = item(grids["A"], "restaurant_gas.fire_blanket")
    walked_patrol(
        grids["A"], grid_worker, {hose: Outcome.PASS, alarm: Outcome.NOT_APPLICABLE}, started_at=at(2025, 3, 3)
    )
    walked_patrol(grids["A"], grid_worker, {hose: Outcome.FAIL, alarm: Outcome.PASS}, started_at=at(2025, 3, 20))
    walked_patrol(grids["A"], staff, {hose: Outcome.FAIL}, started_at=at(2025, 3, 31, 23, 59))
    walked_patrol(grids["A"], grid_worker, {hose: Outcome.PASS, blanket: Outcome.PASS}, started_at=at(2025, 2, 28, 23))
    walked_patrol(grids["A"], grid_worker, {blanket: Outcome.PASS}, started_at=at(2025, 4, 1, 0, 0))
    b_hose = item(grids["B"], "restaurant_gas.metal_hose")
    walked_patrol(grids["B"], other_grid_worker, {b_hose: Outcome.FAIL}, started_at=at(2025, 3, 5))
    return {"hose": hose, "alarm": alarm, "blanket": blanket}


def test_coverage_counts_each_item_for_the_month_in_one_query(grids, march, django_assert_num_queries):
    start, end = month_bounds(datetime.date(2025, 3, 1))
    items = ChecklistItem.objects.filter(checklist__grid=grids["A"]).with_coverage(start, end)
    with django_assert_num_queries(1):
        coverage = {entry.template_key: (entry.checked, entry.failed, entry.not_applicable) for entry in items}
    assert coverage["restaurant_gas.metal_hose"] == (3, 2, 0)
    assert coverage["restaurant_gas.leak_alarm"] == (1, 0, 1)
    assert coverage["restaurant_gas.fire_blanket"] == (0, 0, 0)  # February and April do not count
    assert coverage["restaurant_gas.supply_contract"] == (0, 0, 0)
    assert len(coverage) == 7


def test_the_history_page_shows_the_months_patrols_and_coverage(staff, grids, march):
    response = english_client(staff).get(reverse("grids:patrol_history", args=[grids["A"].pk]), {"month": "2025-03"})
    assert response.status_code == 200
    assert response.context["patrol_count"] == 3
    assert len(response.context["page"].object_list) == 3
    rows = {entry.pk: (entry.checked, entry.failed, entry.not_applicable) for entry in response.context["coverage"]}
    assert rows[march["hose"].pk] == (3, 2, 0)
    assert rows[march["alarm"].pk] == (1, 0, 1)
    assert rows[march["blanket"].pk] == (0, 0, 0)
    assert response.context["never_checked"] == 5
    body = response.content.decode()
    assert "3 patrols this month." in body


def test_a_retired_item_still_counts_in_the_month_it_was_used(staff, grids, march):
    from grids.actions import retire_checklist_item

    retire_checklist_item(item=march["alarm"], by=staff)
    retire_checklist_item(item=march["blanket"], by=staff)
    response = english_client(staff).get(reverse("grids:patrol_history", args=[grids["A"].pk]), {"month": "2025-03"})
    shown = {entry.pk for entry in response.context["coverage"]}
    assert march["alarm"].pk in shown  # used in March
    assert march["blanket"].pk not in shown  # retired and not used in March


def test_a_month_in_the_future_or_nonsense_falls_back_to_this_month(staff, grids, march):
    client = english_client(staff)
    for value in ["2999-01", "nonsense", "2025-13"]:
        response = client.get(reverse("grids:patrol_history", args=[grids["A"].pk]), {"month": value})
        assert response.context["month"] == timezone.localdate().replace(day=1)
