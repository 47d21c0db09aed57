"""帮教期满: the nightly job moves released prisoners whose five years of aftercare ended to the
lower level, with their ledger lines and the rule that level sets, and nobody else."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings

from grids.actions import end_aftercare_periods
from grids.models import GroupKind, LedgerSubject, Level, default_visit_rule
from grids.tasks import end_aftercare_periods_task
from tests.grids.ledger_world import civil_affairs, line_for, member

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 4)


@pytest.fixture
def released(compounds, subdistrict):
    """Three released prisoners at 帮教期内: one released five years ago today (ends today), one
    a day less than five years ago (ends tomorrow), one whose line has a custom rule; and an
    elderly person, whom the job does not touch."""
    department = civil_affairs(subdistrict)
    compound = next(iter(compounds.values()))
    people = {}
    for name, since in (
        ("满期", datetime.date(2021, 12, 4)),
        ("未满", datetime.date(2021, 12, 5)),
        ("自定", datetime.date(2020, 6, 1)),
    ):
        membership = member(
            compound, name, GroupKind.RELEASED_PRISONER, department=department, level=Level.AFTERCARE, since=since
        )
        people[name] = (membership, line_for(membership))
    custom = people["自定"][1]
    LedgerSubject.objects.filter(pk=custom.pk).update(rule_is_custom=True, visits_required=3, period="month")
    elderly = member(compound, "老人", GroupKind.ELDERLY_ALONE, department=department, since=datetime.date(2015, 1, 1))
    people["老人"] = (elderly, line_for(elderly))
    return people


def test_the_five_years_ended_move_to_past_aftercare_with_their_lines(released):
    assert end_aftercare_periods(on=TODAY) == 2
    membership, line = released["满期"]
    membership.refresh_from_db()
    line.refresh_from_db()
    assert membership.level == Level.PAST_AFTERCARE
    assert line.level == Level.PAST_AFTERCARE
    rule = default_visit_rule(level=Level.PAST_AFTERCARE, group=GroupKind.RELEASED_PRISONER)
    assert (line.visits_required, line.period, line.face_to_face_only) == tuple(rule)
    assert membership.history.first().history_change_reason == "帮教期满"
    assert line.history.first().history_change_reason == "帮教期满"


def test_a_custom_rule_stays_and_the_rest_is_untouched(released):
    end_aftercare_periods(on=TODAY)
    custom_membership, custom_line = released["自定"]
    custom_line.refresh_from_db()
    assert custom_line.level == Level.PAST_AFTERCARE
    assert (custom_line.visits_required, custom_line.period) == (3, "month")
    waiting, waiting_line = released["未满"]
    waiting.refresh_from_db()
    waiting_line.refresh_from_db()
    assert waiting.level == waiting_line.level == Level.AFTERCARE
    elderly, elderly_line = released["老人"]
    elderly.refresh_from_db()
    assert elderly.level == Level.GENERAL_CARE


def test_a_second_run_moves_nothing_and_the_next_day_moves_the_next(released):
    assert end_aftercare_periods(on=TODAY) == 2
    assert end_aftercare_periods(on=TODAY) == 0
    assert end_aftercare_periods(on=TODAY + datetime.timedelta(days=1)) == 1


def test_a_release_on_29_february_ends_on_28_february(compounds, subdistrict):
    compound = next(iter(compounds.values()))
    membership = member(
        compound,
        "闰日",
        GroupKind.RELEASED_PRISONER,
        department=civil_affairs(subdistrict),
        level=Level.AFTERCARE,
        since=datetime.date(2024, 2, 29),
    )
    assert end_aftercare_periods(on=datetime.date(2029, 2, 27)) == 0
    assert end_aftercare_periods(on=datetime.date(2029, 2, 28)) == 1
    membership.refresh_from_db()
    assert membership.level == Level.PAST_AFTERCARE


def test_the_task_takes_a_date_and_runs_every_night(released):
    assert end_aftercare_periods_task(on=TODAY.isoformat()) == 2
    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "grids.tasks.end_aftercare_periods_task" in tasks
