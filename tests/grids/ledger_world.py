"""The visit ledger's test world and helpers.

`build_ledger(cast)` sits on tests/grids/people_world.py's build_people (grids A and B of the
cast's community with grid1 and grid2 on duty, X of the other community with staff2 on duty; a
community-correction member in A, an elderly person living alone in B, a low-income member in X)
and adds a key enterprise per grid and a line per membership, none with a team (so the workers
on duty answer for them). The small helpers make subjects, members and visits for other tests.
"""

from __future__ import annotations

import datetime
import itertools
from typing import Any

from django.utils import timezone

from grids.actions import save_ledger_subject
from grids.models import (
    Compound,
    Dwelling,
    Grid,
    GroupKind,
    GroupMembership,
    LedgerSubject,
    ResidentialBuilding,
    SubjectKind,
    Visit,
    VisitPeriod,
    VisitWay,
    kind_for_group,
)
from grids.models.groups import Level, scale_for
from grids.models.ledger import start_of_day
from shanglong.models import Department, DepartmentLevel, Role, User
from tests.api import matrix
from tests.conftest import make_user
from tests.grids.people_world import build_people, make_resident

_sequence = itertools.count(100)


def local(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    """An aware datetime at a local (Asia/Shanghai) time of the day."""
    return start_of_day(day) + datetime.timedelta(hours=hour, minutes=minute)


def enterprise(
    grid: Grid,
    name: str,
    *,
    team: tuple[Any, ...] = (),
    level: str = Level.BLUE,
    entered_on: datetime.date = datetime.date(2025, 1, 1),
    **rule: Any,
) -> LedgerSubject:
    """A key enterprise; its rule follows the level unless `visits_required`/`period`/
    `face_to_face_only` are given (then it is custom)."""
    subject = LedgerSubject(
        kind=SubjectKind.KEY_ENTERPRISE, name=name, grid=grid, level=level, entered_on=entered_on, **rule
    )
    subject.rule_is_custom = bool(rule)
    save_ledger_subject(subject=subject, team=team, by=None)
    return subject


def civil_affairs(subdistrict: Any) -> Department:
    department, _ = Department.objects.get_or_create(
        name="民政办", level=DepartmentLevel.SUBDISTRICT, subdistrict=subdistrict
    )
    return department


def member(
    compound: Compound,
    name: str,
    kind: str,
    *,
    department: Department,
    level: str | None = None,
    since: datetime.date = datetime.date(2025, 1, 1),
) -> GroupMembership:
    """A resident of the compound in a group, at `level` or else the everyday level of the
    group's scale (everyday_level)."""
    building, _ = ResidentialBuilding.objects.get_or_create(compound=compound, name="1号楼")
    number = next(_sequence)
    dwelling = Dwelling.objects.create(building=building, unit="", room=str(number))
    resident = make_resident(dwelling, name, number)
    return GroupMembership.objects.create(
        resident=resident, kind=kind, level=level or everyday_level(kind), department=department, since=since
    )


def everyday_level(kind: str) -> str:
    """The lowest level of the group's scale: once a month, where a call counts (general care,
    light control, risk grade 0, the department's low), or the aftercare period; for an
    enterprise (kind "") blue."""
    return EVERYDAY_LEVELS[scale_for(kind).code]


def top_level(kind: str) -> str:
    """The highest level of the group's scale: every week and in person (key care, strict
    control, the aftercare period, risk grade 3 and up, the department's high, red)."""
    return TOP_LEVELS[scale_for(kind).code]


TOP_LEVELS = {
    "care": Level.KEY_CARE,
    "control": Level.STRICT,
    "aftercare": Level.AFTERCARE,
    "risk_grade": Level.RISK_3,
    "department": Level.DEPARTMENT_HIGH,
    "risk_colour": Level.RED,
}
EVERYDAY_LEVELS = {
    "care": Level.GENERAL_CARE,
    "control": Level.LIGHT,
    "aftercare": Level.AFTERCARE,
    "risk_grade": Level.RISK_0,
    "department": Level.DEPARTMENT_LOW,
    "risk_colour": Level.BLUE,
}


def line_for(
    membership: GroupMembership,
    *,
    team: tuple[Any, ...] = (),
    entered_on: datetime.date = datetime.date(2025, 1, 1),
) -> LedgerSubject:
    """The ledger line of a group member, with the rule of their level."""
    resident = membership.resident
    subject = LedgerSubject(
        kind=kind_for_group(membership.kind),
        name=resident.name,
        resident=resident,
        group=membership.kind,
        grid=resident.dwelling.building.compound.grid,
        department=membership.department,
        level=membership.level,
        entered_on=entered_on,
    )
    save_ledger_subject(subject=subject, team=team, by=None)
    return subject


def visit(
    subject: LedgerSubject,
    at: datetime.datetime | datetime.date,
    way: str = VisitWay.FACE_TO_FACE,
    *,
    by: Any = None,
    corrects: Visit | None = None,
) -> Visit:
    """A visit written directly (the actions are tested through the pages and the API)."""
    when = local(at) if not isinstance(at, datetime.datetime) else at
    recorder = by or subject.team.first()
    if recorder is None:
        recorder = User.objects.filter(username="recorder").first() or make_user(
            "recorder", Role.GRID_WORKER, community=subject.grid.community
        )
    recorded = Visit.objects.create(
        subject=subject,
        visited_at=when,
        way=way,
        recorded_by=recorder,
        corrects=corrects,
        correction_reason="fix" if corrects else "",
    )
    recorded.workers.set([recorder])
    return recorded


def standing(subject: LedgerSubject, day: datetime.date) -> dict[str, Any]:
    """The subject's status fields on the day (one query)."""
    return (
        LedgerSubject.objects.filter(pk=subject.pk)
        .with_status(day)
        .values("visits_this_period", "visits_last_period", "visits_needed", "is_due", "is_due_today", "is_overdue")
        .get()
    )


def build_ledger(cast: matrix.Cast) -> dict[str, Any]:
    world = build_people(cast)
    grids, memberships = world["grids"], world["memberships"]
    today = timezone.localdate()
    long_ago = today - datetime.timedelta(days=120)
    subjects = {
        "entA": enterprise(grids["A"], "乐活城", entered_on=long_ago),
        "entB": enterprise(grids["B"], "供销商场", entered_on=long_ago),
        "entX": enterprise(grids["X"], "文汇商厦", entered_on=long_ago),
        "keyA": line_for(memberships["mA"], entered_on=long_ago),
        "oldB": line_for(memberships["mB"], entered_on=long_ago),
        "lowX": line_for(memberships["mX"], entered_on=long_ago),
    }
    return {**world, "subjects": subjects}


# Who sees which line of build_ledger (see LedgerSubject.objects.visible_to): the grid rule, and
# for the group lines also the people registry's group rule.
SUBJECTS_VISIBLE = {
    "staff": {"entA", "entB"},
    "community_admin": {"entA", "entB", "keyA", "oldB"},
    "grid_worker": {"entA", "keyA"},
    "other_grid_worker": {"entB", "oldB"},
    "department_user": {"entA", "entB", "keyA"},
    "subdistrict_user": {"entA", "entB", "entX"},
    "other_staff": {"entX", "lowX"},
}

__all__ = [
    "SUBJECTS_VISIBLE",
    "GroupKind",
    "VisitPeriod",
    "build_ledger",
    "civil_affairs",
    "enterprise",
    "line_for",
    "local",
    "member",
    "standing",
    "visit",
]
