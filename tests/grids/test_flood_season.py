"""The flood-point checklist items apply from April (汛前排查), not June: the template says so,
and the data migration moves the items that came from it and still have the old season."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from grids.actions import apply_checklist_template
from grids.models import ChecklistItem, checklist_templates
from tests.grids.patrol_world import walked_patrol

pytestmark = pytest.mark.django_db

migration = importlib.import_module("grids.migrations.0011_flood_season_from_april")


def test_flood_points_are_checked_from_april(staff, grid_worker, grids, on_duty):
    assert checklist_templates()["flood_point"]["season"] == (4, 9)
    apply_checklist_template(grid=grids["A"], site_type="flood_point", by=staff)
    zone = timezone.get_current_timezone()
    april = walked_patrol(grids["A"], grid_worker, {}, started_at=datetime.datetime(2025, 4, 15, 9, tzinfo=zone))
    march = walked_patrol(grids["A"], grid_worker, {}, started_at=datetime.datetime(2025, 3, 15, 9, tzinfo=zone))
    assert {entry.site_type for entry in april.items()} == {"flood_point"}
    assert list(march.items()) == []


def test_the_migration_moves_only_template_items_with_the_old_season(staff, grids):
    apply_checklist_template(grid=grids["A"], site_type="flood_point", by=staff)
    from_template = ChecklistItem.objects.filter(checklist__grid=grids["A"], template_key__startswith="flood_point.")
    from_template.update(season_from=6, season_until=9)  # as the old template made them
    edited = from_template.first()
    ChecklistItem.objects.filter(pk=edited.pk).update(season_from=5)  # the grid chose May itself
    own = ChecklistItem.objects.create(
        checklist=edited.checklist, text="防汛沙袋到位", site_type="flood_point", season_from=6, season_until=9
    )

    migration.move_flood_season(apps, None)

    moved = from_template.exclude(pk=edited.pk)
    assert moved.count() == 3
    assert set(moved.values_list("season_from", "season_until")) == {(4, 9)}
    assert ChecklistItem.objects.values_list("season_from", flat=True).get(pk=edited.pk) == 5
    assert ChecklistItem.objects.values_list("season_from", flat=True).get(pk=own.pk) == 6

    migration.move_flood_season_back(apps, None)
    assert set(moved.values_list("season_from", "season_until")) == {(6, 9)}
