"""Working days on the official 2026 calendar, and the calendar page the community admin keeps."""

from __future__ import annotations

import datetime
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from shanglong.models import CalendarDay, CalendarDayKind
from shanglong.workdays import (
    add_working_days,
    is_working_day,
    load_official_calendar,
    working_days_between,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

D = datetime.date
# The 2026 notice: weekday holidays and make-up working days (weekend holidays are not rows).
OFFICIAL_2026_HOLIDAY_ROWS = 19
OFFICIAL_2026_MAKEUP_ROWS = 6


@pytest.fixture
def official_calendar():
    load_official_calendar()


# --- Counting --------------------------------------------------------------------------------


def test_national_day_holiday_and_its_make_up_saturday(official_calendar, django_assert_num_queries):
    last_working_day = D(2026, 9, 30)  # Wednesday before 国庆节 (1-7 October)
    assert is_working_day(last_working_day)
    # One query each: the calendar rows of the window.
    with django_assert_num_queries(1):
        assert add_working_days(last_working_day, 1) == D(2026, 10, 8)
    assert add_working_days(last_working_day, 2) == D(2026, 10, 9)
    assert add_working_days(last_working_day, 3) == D(2026, 10, 10)  # Saturday, worked
    assert add_working_days(last_working_day, 4) == D(2026, 10, 12)
    with django_assert_num_queries(1):
        assert working_days_between(last_working_day, D(2026, 10, 12)) == 4


def test_make_up_sunday_before_national_day(official_calendar):
    assert not is_working_day(D(2026, 9, 19))  # an ordinary Saturday
    assert is_working_day(D(2026, 9, 20))  # Sunday, worked for 国庆节
    assert add_working_days(D(2026, 9, 18), 1) == D(2026, 9, 20)


def test_spring_festival_nine_days(official_calendar):
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)  # Saturday, worked
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert working_days_between(D(2026, 2, 14), D(2026, 2, 24)) == 1


def test_zero_days_is_the_start_if_working_else_the_next_working_day(official_calendar):
    assert add_working_days(D(2026, 9, 30), 0) == D(2026, 9, 30)
    assert add_working_days(D(2026, 10, 1), 0) == D(2026, 10, 8)
    assert add_working_days(D(2026, 10, 10), 0) == D(2026, 10, 10)  # a worked Saturday
    assert add_working_days(D(2026, 11, 28), 0) == D(2026, 11, 30)  # an ordinary Saturday
    with pytest.raises(ValueError, match="forwards"):
        add_working_days(D(2026, 1, 5), -1)


def test_weekdays_work_unless_holidays_and_weekends_rest_unless_made_up(official_calendar):
    assert not is_working_day(D(2026, 10, 5))  # Monday in the holiday
    assert not is_working_day(D(2026, 10, 3))  # Saturday in the holiday
    assert is_working_day(D(2026, 11, 30))
    assert not is_working_day(D(2026, 11, 29))
    # Without any calendar rows only the week counts.
    CalendarDay.objects.all().delete()
    assert is_working_day(D(2026, 10, 5))
    assert not is_working_day(D(2026, 10, 10))


def test_counting_agrees_with_a_day_by_day_walk_over_the_whole_year(official_calendar):
    start = D(2025, 12, 31)
    working = [
        start + datetime.timedelta(days=offset)
        for offset in range(1, 400)
        if is_working_day(start + datetime.timedelta(days=offset))
    ]
    # 2026: 365 days, 104 weekend days, 19 weekday holidays, 6 worked weekend days.
    assert len([day for day in working if day.year == 2026]) == 365 - 104 - 19 + 6
    for n in (1, 5, 20, 100, 248, len(working)):
        assert add_working_days(start, n) == working[n - 1]
        assert working_days_between(start, working[n - 1]) == n
    assert working_days_between(working[9], start) == -10
    assert working_days_between(start, start) == 0


# --- The official data ---------------------------------------------------------------------


def test_loading_the_official_calendar_is_idempotent():
    assert load_official_calendar() == OFFICIAL_2026_HOLIDAY_ROWS + OFFICIAL_2026_MAKEUP_ROWS
    history_rows = CalendarDay.history.count()
    load_official_calendar()
    assert CalendarDay.objects.filter(kind=CalendarDayKind.HOLIDAY).count() == OFFICIAL_2026_HOLIDAY_ROWS
    assert CalendarDay.objects.filter(kind=CalendarDayKind.MAKEUP_WORKDAY).count() == OFFICIAL_2026_MAKEUP_ROWS
    assert CalendarDay.history.count() == history_rows  # nothing changed, nothing recorded
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).name == "国庆节"
    # Every make-up day is a weekend day and every holiday row a weekday.
    for day in CalendarDay.objects.all():
        assert (day.date.weekday() >= 5) == (day.kind == CalendarDayKind.MAKEUP_WORKDAY)


def test_loading_restores_official_days_and_keeps_days_entered_by_hand():
    CalendarDay.objects.create(date=D(2026, 10, 8), kind=CalendarDayKind.HOLIDAY, name="本地")
    CalendarDay.objects.create(date=D(2026, 10, 5), kind=CalendarDayKind.HOLIDAY, name="wrong name")
    out = StringIO()
    call_command("load_calendar", stdout=out)
    assert "25" in out.getvalue()
    assert CalendarDay.objects.get(date=D(2026, 10, 5)).name == "国庆节"
    assert CalendarDay.objects.get(date=D(2026, 10, 8)).name == "本地"


def test_demo_seed_loads_the_calendar():
    from shanglong import demo

    demo.seed({})
    assert CalendarDay.objects.count() == OFFICIAL_2026_HOLIDAY_ROWS + OFFICIAL_2026_MAKEUP_ROWS


# --- The calendar page ---------------------------------------------------------------------


def test_everyone_working_for_the_community_can_read_the_calendar(official_calendar, staff):
    response = client_for(staff).get(reverse("calendar"), {"year": "2026"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-day="2026-10-10" data-kind="makeup_workday"' in page
    assert 'data-day="2026-10-05" data-kind="holiday"' in page
    assert "国庆节" in page
    assert "/calendar/add/" not in page
    assert "/remove/" not in page


def test_calendar_page_is_phone_friendly_markup(official_calendar, community_admin):
    page = client_for(community_admin).get(reverse("calendar"), {"year": "2026"}).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    # Table cells carry their labels, so the phone stylesheet can stack each row as a card.
    assert page.count('data-label="') >= 4 * (OFFICIAL_2026_HOLIDAY_ROWS + OFFICIAL_2026_MAKEUP_ROWS)
    assert 'type="date"' in page
    assert " style=" not in page
    assert not re.search(r"<script(?![^>]*nonce=)", page)
    assert re.search(r" on[a-z]+=", page) is None


def test_year_switcher_and_an_empty_year(official_calendar, community_admin):
    client = client_for(community_admin)
    page = client.get(reverse("calendar"), {"year": "2027"}).content.decode()
    assert 'data-testid="calendar-empty"' in page
    assert 'href="?year=2026"' in page
    assert 'href="?year=2028"' in page
    # Nonsense falls back to this year.
    assert client.get(reverse("calendar"), {"year": "abc"}).status_code == 200
    assert client.get(reverse("calendar"), {"year": "99999"}).status_code == 200


def test_calendar_page_queries_do_not_grow_with_rows(official_calendar, community_admin, django_assert_num_queries):
    client = client_for(community_admin)
    # session, user, the year's calendar days, the unread-message count
    with django_assert_num_queries(4):
        response = client.get(reverse("calendar"), {"year": "2026"})
    assert len(response.context["days"]) == OFFICIAL_2026_HOLIDAY_ROWS + OFFICIAL_2026_MAKEUP_ROWS


def test_admin_adds_a_2027_holiday_and_a_make_up_day_with_history(community_admin):
    client = client_for(community_admin)
    response = client.post(reverse("calendar_add"), {"date": "2027-10-01", "kind": "holiday", "name": "国庆节"})
    assert response.status_code == 302
    assert response.url == reverse("calendar") + "?year=2027#day-2027-10-01"
    day = CalendarDay.objects.get(date=D(2027, 10, 1))
    assert (day.kind, day.name) == ("holiday", "国庆节")
    assert day.history.get().history_user == community_admin
    client.post(reverse("calendar_add"), {"date": "2027-09-26", "kind": "makeup_workday", "name": "国庆节"})
    assert is_working_day(D(2027, 9, 26))  # a Sunday, now worked
    assert not is_working_day(D(2027, 10, 1))


def test_superuser_may_edit_the_calendar(staff):
    staff.is_superuser = True
    staff.save()
    response = client_for(staff).post(reverse("calendar_add"), {"date": "2027-10-01", "kind": "holiday"})
    assert response.status_code == 302
    assert CalendarDay.objects.filter(date=D(2027, 10, 1)).exists()


def test_admin_removes_a_day(official_calendar, community_admin):
    day = CalendarDay.objects.get(date=D(2026, 10, 10))
    response = client_for(community_admin).post(reverse("calendar_remove", args=[day.pk]))
    assert response.status_code == 302
    assert not CalendarDay.objects.filter(pk=day.pk).exists()
    assert not is_working_day(D(2026, 10, 10))
    assert CalendarDay.history.filter(date=D(2026, 10, 10), history_type="-").get().history_user == community_admin


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"date": "2027-10-02", "kind": "holiday"}, "Saturday or Sunday"),  # a Saturday
        ({"date": "2027-10-04", "kind": "makeup_workday"}, "is a weekday"),  # a Monday
        ({"date": "2027-02-30", "kind": "holiday"}, "valid date"),
        ({"date": "2027-10-04", "kind": "festival"}, "valid choice"),
        ({"date": "", "kind": "holiday"}, "required"),
    ],
)
def test_invalid_input_changes_nothing_and_says_why(community_admin, data, message):
    response = client_for(community_admin).post(reverse("calendar_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="error"' in response.content.decode()
    assert not CalendarDay.objects.exists()


def test_a_date_already_in_the_calendar_is_refused(official_calendar, community_admin):
    response = client_for(community_admin).post(
        reverse("calendar_add"), {"date": "2026-10-05", "kind": "holiday", "name": "x"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "already in the calendar" in response.content.decode()
    assert CalendarDay.objects.get(date=D(2026, 10, 5)).name == "国庆节"


def test_staff_cannot_add_or_remove_days(official_calendar, staff, grid_worker):
    day = CalendarDay.objects.get(date=D(2026, 10, 10))
    for person in (staff, grid_worker):
        client = client_for(person)
        assert client.post(reverse("calendar_add"), {"date": "2027-10-01", "kind": "holiday"}).status_code == 403
        assert client.post(reverse("calendar_remove", args=[day.pk])).status_code == 403
    assert CalendarDay.objects.filter(pk=day.pk).exists()
    assert not CalendarDay.objects.filter(date=D(2027, 10, 1)).exists()


def test_removing_needs_post(official_calendar, community_admin):
    day = CalendarDay.objects.get(date=D(2026, 10, 10))
    assert client_for(community_admin).get(reverse("calendar_remove", args=[day.pk])).status_code == 405
    assert CalendarDay.objects.filter(pk=day.pk).exists()


def test_calendar_is_in_the_admins_menu_only(community_admin, staff):
    admin_page = client_for(community_admin).get(reverse("home")).content.decode()
    staff_page = client_for(staff).get(reverse("home")).content.decode()
    assert 'data-nav="calendar"' in admin_page
    assert 'data-nav="calendar"' not in staff_page
