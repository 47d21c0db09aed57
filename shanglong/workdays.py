"""Working days: the calendar that time limits of services and cases are counted on.

A day is a working day when it is Monday to Friday and not a public holiday, or when it is a
Saturday or Sunday that the State Council's yearly notice makes a working day (调休, a make-up
working day). The exceptions live in `CalendarDay` rows: the official arrangement is loaded from
``shanglong/data/calendar_cn.json`` (`load_official_calendar`, run by ``manage.py load_calendar``
and by the demo seeder), and the community admin adds later years on the calendar page.

Each function reads the CalendarDay rows of the range it looks at in one query, never one query
per day, so deadlines can be computed for a whole list of requests cheaply.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from shanglong.models import CalendarDay, CalendarDayKind

OFFICIAL_CALENDAR_FILE = Path(__file__).resolve().parent / "data" / "calendar_cn.json"
_SATURDAY = 5
# How far ahead add_working_days looks in its first (and nearly always only) query: five
# working days take seven calendar days, and the longest official break (Spring Festival,
# nine days) adds at most a week more.
_SLACK_DAYS = 31


def is_weekend(day: datetime.date) -> bool:
    return day.weekday() >= _SATURDAY


@dataclass(frozen=True)
class CalendarExceptions:
    """The holidays and make-up working days of one date range, read in one query."""

    start: datetime.date
    end: datetime.date
    holidays: frozenset[datetime.date]
    makeup_workdays: frozenset[datetime.date]

    @classmethod
    def load(cls, start: datetime.date, end: datetime.date) -> CalendarExceptions:
        holidays: set[datetime.date] = set()
        makeup: set[datetime.date] = set()
        for day, kind in CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind"):
            (holidays if kind == CalendarDayKind.HOLIDAY else makeup).add(day)
        return cls(start, end, frozenset(holidays), frozenset(makeup))

    def is_working_day(self, day: datetime.date) -> bool:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded range {self.start}..{self.end}")
        if is_weekend(day):
            return day in self.makeup_workdays
        return day not in self.holidays


def is_working_day(day: datetime.date) -> bool:
    """Whether people work on this day (one query)."""
    return CalendarExceptions.load(day, day).is_working_day(day)


def add_working_days(start: datetime.date, n: int) -> datetime.date:
    """The day that is the n-th working day after ``start``: the deadline of a time limit of n
    working days that begins on ``start`` (the start day itself does not count).

    With n = 0 the answer is ``start`` when it is a working day, else the next working day
    (a request received on a Sunday is "received" on Monday). n may not be negative.
    Reads the calendar in one query, unless n is so large (or the calendar so full of
    holidays) that the first window of about 1.4·n + 31 days runs out; then once more per window."""
    if n < 0:
        raise ValueError("add_working_days counts forwards only; n must be 0 or more.")
    window_days = n * 7 // 5 + _SLACK_DAYS
    window = CalendarExceptions.load(start, start + datetime.timedelta(days=window_days))
    day = start
    remaining = n
    if n == 0:
        day = start - datetime.timedelta(days=1)
        remaining = 1
    while True:
        day += datetime.timedelta(days=1)
        if day > window.end:
            window = CalendarExceptions.load(day, day + datetime.timedelta(days=window_days))
        if window.is_working_day(day):
            remaining -= 1
            if remaining == 0:
                return day


def working_days_between(a: datetime.date, b: datetime.date) -> int:
    """The number of working days after ``a`` up to and including ``b`` (one query).

    This is the inverse of `add_working_days`: for a working day b after a,
    ``add_working_days(a, working_days_between(a, b)) == b``. When b is before a the count is
    negative (how many working days a deadline has been missed by, seen from the deadline)."""
    if b < a:
        return -working_days_between(b, a)
    if a == b:
        return 0
    window = CalendarExceptions.load(a + datetime.timedelta(days=1), b)
    count = 0
    day = window.start
    while day <= b:
        if window.is_working_day(day):
            count += 1
        day += datetime.timedelta(days=1)
    return count


# --- The official arrangement ------------------------------------------------------------------


@dataclass(frozen=True)
class OfficialDay:
    date: datetime.date
    kind: CalendarDayKind
    name: str


def official_days(path: Path = OFFICIAL_CALENDAR_FILE) -> list[OfficialDay]:
    """The CalendarDay rows the official notices in the data file call for.

    Each holiday period of the notice is given whole (as the notice states it); the rows are
    its weekdays, since a holiday Saturday or Sunday breaks no rule. Make-up working days are
    weekend days by definition; the file is refused if one is not."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    days: list[OfficialDay] = []
    for year, arrangement in sorted(data["years"].items()):
        if not isinstance(arrangement, dict):
            continue  # a note that the year's notice is not in the file yet
        for holiday in arrangement["holidays"]:
            first = datetime.date.fromisoformat(holiday["start"])
            last = datetime.date.fromisoformat(holiday["end"])
            if first.year != int(year) and last.year != int(year):
                raise ValueError(f"{holiday['name']} {first}..{last} is filed under {year}")
            day = first
            while day <= last:
                if not is_weekend(day):
                    days.append(OfficialDay(day, CalendarDayKind.HOLIDAY, holiday["name"]))
                day += datetime.timedelta(days=1)
            for text in holiday.get("makeup_workdays", []):
                makeup = datetime.date.fromisoformat(text)
                if not is_weekend(makeup):
                    raise ValueError(f"The make-up working day {makeup} of {holiday['name']} is not a weekend day")
                days.append(OfficialDay(makeup, CalendarDayKind.MAKEUP_WORKDAY, holiday["name"]))
    return days


def load_official_calendar(path: Path = OFFICIAL_CALENDAR_FILE) -> int:
    """Write the official holidays and make-up working days into the calendar; returns how
    many days the file holds. Idempotent: each date is updated or created, nothing else is
    touched (days the admin added for other dates stay). A day the admin removed that the
    official notice lists comes back."""
    days = official_days(path)
    with transaction.atomic():
        existing = {row.date: row for row in CalendarDay.objects.filter(date__in=[day.date for day in days])}
        for day in days:
            row = existing.get(day.date)
            if row is None:
                CalendarDay.objects.create(date=day.date, kind=day.kind, name=day.name)
            elif (row.kind, row.name) != (day.kind, day.name):
                row.kind, row.name = day.kind, day.name
                row.save(update_fields=["kind", "name"])
    return len(days)
