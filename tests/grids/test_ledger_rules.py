"""Visit rules: what is due and what is overdue, computed in SQL, on weeks (Monday to Sunday) and
calendar months of Asia/Shanghai local dates."""

from __future__ import annotations

import datetime

import pytest

from grids.models import (
    AppendOnlyVisitError,
    GroupKind,
    LedgerSubject,
    Level,
    Period,
    Visit,
    VisitPeriod,
    VisitWay,
    default_visit_rule,
)
from tests.grids.ledger_world import civil_affairs, enterprise, line_for, local, member, standing, visit

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026: its week runs from Monday 30 November to Sunday 6 December, across
# the end of November; its month is December.
WEDNESDAY = datetime.date(2026, 12, 2)
LONG_AGO = datetime.date(2025, 1, 1)


def weekly(grid, name="周检企业", **rule):
    return enterprise(grid, name, entered_on=LONG_AGO, period=VisitPeriod.WEEK, visits_required=1, **rule)


def monthly(grid, name="月检企业", visits=1, **rule):
    return enterprise(grid, name, entered_on=LONG_AGO, period=VisitPeriod.MONTH, visits_required=visits, **rule)


def test_periods_are_monday_to_sunday_weeks_and_calendar_months():
    week = Period.containing(VisitPeriod.WEEK, WEDNESDAY)
    assert (week.first, week.last) == (datetime.date(2026, 11, 30), datetime.date(2026, 12, 6))
    assert week.previous().first == datetime.date(2026, 11, 23)
    month = Period.containing(VisitPeriod.MONTH, WEDNESDAY)
    assert (month.first, month.last) == (datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    assert month.previous() == Period(VisitPeriod.MONTH, datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    february = Period.containing(VisitPeriod.MONTH, datetime.date(2028, 2, 10))
    assert february.last == datetime.date(2028, 2, 29)
    # Local midnight in Shanghai is 16:00 UTC the day before.
    assert week.starts_at.isoformat() == "2026-11-30T00:00:00+08:00"


def test_default_rules_follow_the_level_and_the_group():
    week, month = VisitPeriod.WEEK, VisitPeriod.MONTH
    # The highest level of every scale: every week, in person.
    for level in (Level.KEY_CARE, Level.STRICT, Level.RISK_3, Level.RISK_5, Level.DEPARTMENT_HIGH, Level.RED):
        assert default_visit_rule(level=level) == (1, week, True), level
    # The middle levels: twice a month, in person (a risk grade of 1 or 2: every two weeks).
    for level in (Level.NORMAL, Level.RISK_1, Level.RISK_2, Level.DEPARTMENT_MEDIUM, Level.ORANGE):
        assert default_visit_rule(level=level) == (2, month, True), level
    # The lowest: once a month, where a call counts; a yellow enterprise and aftercare in person.
    for level in (Level.GENERAL_CARE, Level.LIGHT, Level.RISK_0, Level.DEPARTMENT_LOW, Level.BLUE):
        assert default_visit_rule(level=level) == (1, month, False), level
    assert default_visit_rule(level=Level.YELLOW) == (1, month, True)
    assert default_visit_rule(level=Level.AFTERCARE, group=GroupKind.RELEASED_PRISONER) == (1, month, True)
    # Elderly people living alone in general care are called on every week; a call counts.
    assert default_visit_rule(level=Level.GENERAL_CARE, group=GroupKind.ELDERLY_ALONE) == (1, week, False)
    assert default_visit_rule(level=Level.GENERAL_CARE, group=GroupKind.DISABILITY) == (1, month, False)


def test_a_visit_on_the_last_monday_of_november_counts_for_the_week_not_for_december(grids):
    week_subject = weekly(grids["A"])
    month_subject = monthly(grids["A"])
    for subject in (week_subject, month_subject):
        visit(subject, datetime.date(2026, 11, 30))
    assert standing(week_subject, WEDNESDAY) == {
        "visits_this_period": 1,
        "visits_last_period": 0,
        "visits_needed": 0,
        "is_due": False,
        "is_due_today": False,
        "is_overdue": False,
    }
    december = standing(month_subject, WEDNESDAY)
    assert (december["visits_this_period"], december["is_due"]) == (0, True)
    # November had its visit, so December starts due but not overdue.
    assert (december["visits_last_period"], december["is_overdue"]) == (1, False)


def test_the_week_turns_at_local_midnight_not_utc(grids):
    subject = weekly(grids["A"])
    # Sunday 29 November 23:30 in Shanghai is 15:30 UTC: last week.
    visit(subject, local(datetime.date(2026, 11, 29), 23, 30))
    assert standing(subject, WEDNESDAY)["visits_this_period"] == 0
    # Monday 30 November 00:10 in Shanghai is still Sunday in UTC: this week.
    visit(subject, local(datetime.date(2026, 11, 30), 0, 10))
    assert standing(subject, WEDNESDAY)["visits_this_period"] == 1


def test_the_month_turns_at_local_midnight(grids):
    subject = monthly(grids["A"])
    visit(subject, local(datetime.date(2026, 11, 30), 23, 59))
    visit(subject, local(datetime.date(2026, 12, 1), 0, 5))
    status = standing(subject, WEDNESDAY)
    assert (status["visits_last_period"], status["visits_this_period"]) == (1, 1)


def test_a_face_to_face_rule_is_met_only_in_person(grids):
    strict = weekly(grids["A"], face_to_face_only=True)
    visit(strict, WEDNESDAY, VisitWay.PHONE)
    visit(strict, WEDNESDAY, VisitWay.WECHAT)
    status = standing(strict, WEDNESDAY)
    assert (status["visits_this_period"], status["is_due"]) == (0, True)
    # A joint visit with a department is made on the spot: it meets the rule.
    visit(strict, WEDNESDAY, VisitWay.JOINT)
    assert standing(strict, WEDNESDAY)["is_due"] is False


def test_a_phone_call_counts_where_the_rule_allows_it(grids, compounds, subdistrict):
    alone = line_for(member(compounds["A"], "独居老人", GroupKind.ELDERLY_ALONE, department=civil_affairs(subdistrict)))
    assert (alone.period, alone.face_to_face_only) == (VisitPeriod.WEEK, False)
    visit(alone, WEDNESDAY, VisitWay.PHONE)
    assert standing(alone, WEDNESDAY)["is_due"] is False


def test_the_strict_level_is_weekly_and_face_to_face(grids, compounds, department):
    corrected = line_for(
        member(compounds["A"], "矫正对象", GroupKind.COMMUNITY_CORRECTION, department=department, level="strict")
    )
    assert corrected.rule == (1, VisitPeriod.WEEK, True)
    visit(corrected, WEDNESDAY, VisitWay.PHONE)
    assert standing(corrected, WEDNESDAY)["is_due"] is True


def test_several_visits_a_month(grids):
    subject = monthly(grids["A"], visits=2)
    visit(subject, datetime.date(2026, 12, 1))
    status = standing(subject, WEDNESDAY)
    assert (status["visits_this_period"], status["visits_needed"], status["is_due"]) == (1, 1, True)
    visit(subject, datetime.date(2026, 12, 2), VisitWay.PHONE)
    assert standing(subject, WEDNESDAY)["is_due"] is False


def test_overdue_when_the_previous_period_ended_short_and_nobody_came_since(grids):
    subject = weekly(grids["A"])
    visit(subject, datetime.date(2026, 11, 18))  # two weeks back
    status = standing(subject, WEDNESDAY)
    assert (status["is_overdue"], status["is_due"]) == (True, True)
    # One visit this week clears it.
    visit(subject, datetime.date(2026, 12, 1))
    assert standing(subject, WEDNESDAY)["is_overdue"] is False


def test_a_visit_last_week_means_due_but_not_overdue(grids):
    subject = weekly(grids["A"])
    visit(subject, datetime.date(2026, 11, 27))
    status = standing(subject, WEDNESDAY)
    assert (status["is_due"], status["is_overdue"]) == (True, False)


def test_a_subject_that_entered_during_the_last_period_is_not_overdue(grids):
    newcomer = enterprise(grids["A"], "新企业", entered_on=datetime.date(2026, 11, 25), period=VisitPeriod.WEEK)
    status = standing(newcomer, WEDNESDAY)
    assert (status["is_due"], status["is_overdue"]) == (True, False)
    from_the_start = enterprise(grids["A"], "老企业", entered_on=datetime.date(2026, 11, 23), period=VisitPeriod.WEEK)
    assert standing(from_the_start, WEDNESDAY)["is_overdue"] is True


def test_a_subject_that_left_is_neither_due_nor_overdue(grids):
    subject = weekly(grids["A"])
    LedgerSubject.objects.filter(pk=subject.pk).update(left_on=WEDNESDAY)
    status = standing(subject, WEDNESDAY)
    assert (status["is_due"], status["is_overdue"]) == (False, False)
    # The day before it left, it was both.
    status = standing(subject, WEDNESDAY - datetime.timedelta(days=1))
    assert (status["is_due"], status["is_overdue"]) == (True, True)
    # And one that has not entered yet is neither.
    later = enterprise(grids["A"], "将来", entered_on=WEDNESDAY + datetime.timedelta(days=1), period=VisitPeriod.WEEK)
    assert standing(later, WEDNESDAY)["is_due"] is False


def test_due_today_is_the_last_chance_to_meet_the_rule(grids):
    subject = weekly(grids["A"])
    saturday, sunday = datetime.date(2026, 12, 5), datetime.date(2026, 12, 6)
    assert standing(subject, saturday)["is_due_today"] is False
    assert standing(subject, sunday)["is_due_today"] is True
    # Three visits needed with three days left (29, 30, 31 December): today.
    busy = monthly(grids["A"], "三次", visits=3)
    assert standing(busy, datetime.date(2026, 12, 28))["is_due_today"] is False
    assert standing(busy, datetime.date(2026, 12, 29))["is_due_today"] is True


def test_a_corrected_visit_is_replaced_by_its_correction(grids):
    strict = weekly(grids["A"], face_to_face_only=True)
    original = visit(strict, WEDNESDAY, VisitWay.FACE_TO_FACE)
    assert standing(strict, WEDNESDAY)["is_due"] is False
    # It was a phone call after all: the correction replaces the visit in every count.
    visit(strict, WEDNESDAY, VisitWay.PHONE, corrects=original)
    assert standing(strict, WEDNESDAY)["is_due"] is True
    assert Visit.objects.counted().filter(subject=strict).get().way == VisitWay.PHONE
    assert Visit.objects.filter(subject=strict).count() == 2


def test_visits_are_append_only(grids):
    recorded = visit(monthly(grids["A"]), WEDNESDAY)
    recorded.found = "changed"
    with pytest.raises(AppendOnlyVisitError):
        recorded.save()
    with pytest.raises(AppendOnlyVisitError):
        recorded.delete()
    with pytest.raises(AppendOnlyVisitError):
        Visit.objects.filter(pk=recorded.pk).update(found="changed")
    with pytest.raises(AppendOnlyVisitError):
        Visit.objects.filter(pk=recorded.pk).delete()
    assert Visit.objects.get(pk=recorded.pk).found == ""


def test_status_is_one_query_for_any_number_of_subjects(grids, django_assert_num_queries):
    for number in range(30):
        subject = weekly(grids["A"], f"企业{number}")
        if number % 2:
            visit(subject, WEDNESDAY)
    with django_assert_num_queries(1):
        due = list(LedgerSubject.objects.with_status(WEDNESDAY).due().values_list("name", flat=True))
    assert len(due) == 15


def test_ledger_figures(grids):
    subject = weekly(grids["A"])
    visit(subject, datetime.date(2026, 1, 5))
    visit(subject, datetime.date(2026, 11, 30))
    other_year = visit(subject, datetime.date(2025, 12, 31))
    figures = LedgerSubject.objects.with_ledger_figures(WEDNESDAY).get(pk=subject.pk)
    assert figures.visits_this_year == 2
    assert figures.last_visit_at == local(datetime.date(2026, 11, 30))
    # Met this week: the next visit falls in next week, by its Sunday.
    assert figures.next_due_on == datetime.date(2026, 12, 13)
    assert other_year.visited_at.year == 2025
    due = monthly(grids["A"])
    assert LedgerSubject.objects.with_ledger_figures(WEDNESDAY).get(pk=due.pk).next_due_on == datetime.date(
        2026, 12, 31
    )
