"""The patrol history, the findings list and the checklist page cost a fixed number of queries,
whatever the number of rows (5 or 50)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from grids.actions import add_checklist_item
from grids.models import Finding, Outcome, Patrol, PatrolResult, PatrolStatus
from shanglong.models import Attachment
from tests.grids.patrol_world import english_client

pytestmark = pytest.mark.django_db


def populate(grid, walker, rows: int) -> None:
    """`rows` checklist items, `rows` ended patrols this month (each marking every item, one
    failed) and `rows` findings with a photo record each."""
    items = [add_checklist_item(grid=grid, text=f"检查项{number}", by=walker) for number in range(rows)]
    start = timezone.now().replace(day=1, hour=8, minute=0, second=0, microsecond=0)
    content_type = ContentType.objects.get_for_model(Finding)
    for number in range(rows):
        patrol = Patrol.objects.create(
            grid=grid,
            started_by=walker,
            started_at=min(start + datetime.timedelta(minutes=number), timezone.now()),
            status=PatrolStatus.ENDED,
            ended_at=timezone.now(),
        )
        PatrolResult.objects.bulk_create(
            PatrolResult(patrol=patrol, item=entry, outcome=Outcome.PASS, marked_by=walker) for entry in items
        )
        finding = Finding.objects.create(grid=grid, patrol=patrol, description=f"问题{number}", reported_by=walker)
        Attachment.objects.create(
            content_type=content_type,
            object_id=finding.pk,
            file=f"attachments/test/{number}.jpg",
            original_name="photo.jpg",
            content_type_header="image/jpeg",
            size=1,
        )


@pytest.mark.parametrize("rows", [5, 50])
def test_patrol_history_queries(staff, grids, rows, django_assert_num_queries):
    populate(grids["A"], staff, rows)
    client = english_client(staff)
    # session, user, unread messages, the grid (with community and whether the viewer may
    # patrol it), the coverage aggregate,
    # the page count, the month's patrols (with who walked, marked and failed tallies)
    with django_assert_num_queries(7):
        response = client.get(reverse("grids:patrol_history", args=[grids["A"].pk]))
    assert len(response.context["coverage"]) == rows
    assert all(entry.checked == rows for entry in response.context["coverage"])
    assert response.context["patrol_count"] == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_finding_list_queries(staff, grids, rows, django_assert_num_queries):
    populate(grids["A"], staff, rows)
    client = english_client(staff)
    # session, user, unread messages, the grids for the filter, the page count,
    # the findings (with grid, item, compound, reporter and photo count)
    with django_assert_num_queries(6):
        response = client.get(reverse("grids:finding_list"))
    assert len(response.context["page"].object_list) == min(rows, 30)
    assert all(finding.photo_count == 1 for finding in response.context["page"])


@pytest.mark.parametrize("rows", [5, 50])
def test_checklist_page_queries(staff, grids, rows, django_assert_num_queries):
    populate(grids["A"], staff, rows)
    client = english_client(staff)
    # session, user, unread messages, the grid (with community, branch and whether the
    # viewer may edit it), the items
    with django_assert_num_queries(5):
        response = client.get(reverse("grids:checklist", args=[grids["A"].pk]))
    assert len(response.context["in_use"]) == rows
    assert response.context["can_edit"] is True


@pytest.mark.parametrize("rows", [5, 50])
def test_patrol_page_queries(grid_worker, grids, on_duty, rows, django_assert_num_queries):
    items = [add_checklist_item(grid=grids["A"], text=f"检查项{number}", by=grid_worker) for number in range(rows)]
    patrol = Patrol.objects.create(grid=grids["A"], started_by=grid_worker)
    PatrolResult.objects.bulk_create(
        PatrolResult(patrol=patrol, item=entry, outcome=Outcome.FAIL, marked_by=grid_worker) for entry in items
    )
    for result in PatrolResult.objects.filter(patrol=patrol):
        Finding.objects.create(grid=grids["A"], patrol=patrol, result=result, item=result.item, reported_by=grid_worker)
    client = english_client(grid_worker)
    # session, user, unread messages, the patrol (with grid and walker), its items, its
    # results, its findings, their photos, the compounds for the failed items' forms
    with django_assert_num_queries(9):
        response = client.get(reverse("grids:patrol_detail", args=[patrol.pk]))
    assert len(response.context["entries"]) == rows
    assert all(entry["form"] is not None for entry in response.context["entries"])
