"""My day, the ledger list, a subject's visit history and the ledger endpoints cost a fixed number
of queries, whatever the number of subjects or visits (5 or 50)."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from grids.models import Finding, GroupKind, Visit, VisitPeriod, VisitWay
from tests.api.matrix import api_client
from tests.conftest import client_for
from tests.grids.ledger_world import enterprise, line_for, member, visit

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.localdate() - datetime.timedelta(days=120)


def populate(grids, compounds, worker, department, rows: int) -> list:
    """`rows` subjects in grid A in the worker's care, half of them group members, each with a
    visit last week (so weekly ones are due, none overdue) and every third one overdue; a few
    open findings."""
    subjects = []
    for number in range(rows):
        if number % 2:
            subject = line_for(
                member(
                    compounds["A"],
                    f"对象{number}",
                    GroupKind.COMMUNITY_CORRECTION,
                    department=department,
                    level="strict",
                ),
                team=(worker,),
                entered_on=LONG_AGO,
            )
        else:
            subject = enterprise(
                grids["A"], f"企业{number}", team=(worker,), entered_on=LONG_AGO, period=VisitPeriod.WEEK
            )
        if number % 3:
            visit(subject, timezone.now() - datetime.timedelta(days=7), VisitWay.FACE_TO_FACE, by=worker)
        subjects.append(subject)
    for number in range(3):
        Finding.objects.create(grid=grids["A"], description=f"问题{number}", reported_by=worker)
    return subjects


@pytest.mark.parametrize("rows", [5, 50])
def test_my_day_queries(grid_worker, grids, compounds, on_duty, department, django_assert_num_queries, rows):
    populate(grids, compounds, grid_worker, department, rows)
    client = client_for(grid_worker)
    # session, user, the subjects in my care with their standing (one query, visits counted in
    # it), the open findings of my grids, "does this grid worker lead a branch", unread messages
    with django_assert_num_queries(6):
        response = client.get(reverse("grids:my_day"))
    context = response.context
    assert context["overdue_count"] + context["due_today_count"] + context["later_count"] == rows
    assert context["overdue_count"] == len(range(0, rows, 3))
    assert len(context["findings"]) == 3


@pytest.mark.parametrize("rows", [5, 50])
def test_my_day_of_a_branch_secretary_queries(
    branch_secretary, grids, compounds, on_duty, grid_worker, department, django_assert_num_queries, rows
):
    populate(grids, compounds, grid_worker, department, rows)
    client = client_for(branch_secretary)
    # session, user, my subjects (none), open findings of my grids, "leads a branch", the
    # subjects, due and overdue counted per grid (one query), the grids, unread messages
    with django_assert_num_queries(8):
        response = client.get(reverse("grids:my_day"))
    counts = {grid.code: (grid.subjects, grid.overdue) for grid in response.context["grids"]}
    # The secretary, on duty nowhere, sees the enterprises and no group member.
    assert counts["01"] == (len(range(0, rows, 2)), len(range(0, rows, 6)))


@pytest.mark.parametrize("rows", [5, 50])
def test_ledger_list_queries(grid_worker, grids, compounds, on_duty, department, django_assert_num_queries, rows):
    populate(grids, compounds, grid_worker, department, rows)
    client = client_for(grid_worker)
    # session, user, the lines shown and those the group rule hides (one aggregate: the
    # paginator's count and the note's), the page's ids, their figures (one query), "may add a
    # subject", unread messages, the grid filter's choices
    with django_assert_num_queries(8):
        response = client.get(reverse("grids:ledger_list"))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_subject_visit_history_queries(grid_worker, grids, on_duty, django_assert_num_queries, rows):
    subject = enterprise(grids["A"], "乐活城", team=(grid_worker,), entered_on=LONG_AGO)
    for number in range(rows):
        visit(subject, timezone.now() - datetime.timedelta(days=number + 1), by=grid_worker)
    client = client_for(grid_worker)
    ContentType.objects.get_for_model(Visit)  # cached once per process, as in production
    # session, user, the subject with its figures, its team, the paginator's count, the visits
    # (with recorder, department, finding, correction), their workers, their photos, "may
    # visit", "may edit", unread messages
    with django_assert_num_queries(11):
        response = client.get(reverse("grids:ledger_subject", args=[subject.pk]))
    assert len(response.context["page"].object_list) == rows


@pytest.mark.parametrize("rows", [5, 50])
def test_ledger_endpoints_queries(grid_worker, grids, compounds, on_duty, department, django_assert_num_queries, rows):
    populate(grids, compounds, grid_worker, department, rows)
    client = api_client(grid_worker)
    ContentType.objects.get_for_model(Visit)  # cached once per process, as in production
    # session, user, count, subjects with their standing, their teams
    with django_assert_num_queries(5):
        assert len(client.get(reverse("api:ledgersubject-list")).json()["results"]) == rows
    # session, user, count, the due subjects
    with django_assert_num_queries(4):
        assert len(client.get(reverse("api:ledger-due-list")).json()["results"]) == rows
    # session, user, count, visits (with their correction), their workers, their photos
    with django_assert_num_queries(6):
        client.get(reverse("api:visit-list"))
