"""The kinds of special groups (特殊群体) and key persons (重点人群), the level scale each kind is
kept on, and the visit rule each level sets: one home for all three, read by the people registry
(GroupMembership.level), the visit ledger (LedgerSubject.level and its default rule), the forms,
the API and the demo.

No worker puts an elderly person living alone "under strict control": each kind has its own
scale (see SCALES), as grid work really keeps them:

| kind                                         | scale (`Scale.code`)        | levels                        |
|----------------------------------------------|-----------------------------|-------------------------------|
| 空巢/独居老人, 残疾人, 低保/特困, 困境儿童      | 关爱等级 care               | 重点关爱, 一般关爱             |
| 社区矫正                                      | 管控级别 control            | 严管, 普管, 宽管               |
| 刑满释放                                      | 安置帮教 aftercare          | 帮教期内, 帮教期满 (5 years)   |
| 严重精神障碍                                  | 危险性评估 risk_grade       | 0 to 5 级                      |
| 吸毒人员, 重点青少年                          | 部门定级 department         | 高, 中, 低 (the department's)  |
| 重点企业 (no group)                           | 风险等级 risk_colour        | 红, 橙, 黄, 蓝                 |

The visit rules (VISIT_RULES; a subject's rule follows its level unless it is made custom):
the highest level of each scale is visited every week and in person; the middle levels twice a
month in person (a 0-5 risk grade of 1 or 2 is the national rule's "every two weeks"); the
lowest once a month, where a phone call counts. General care is monthly, except for elderly
people living alone, who are called on every week (a call counts).

The level is stored, never a diagnosis or an offence. A level belongs to the scale of its group:
models check it in clean() and the database in a CheckConstraint (`level_matches_group`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

# --- Group kinds -----------------------------------------------------------------------------


class GroupCategory(models.TextChoices):
    SPECIAL = "special", _("Special group")
    KEY = "key", _("Key person")


class GroupKind(models.TextChoices):
    ELDERLY_EMPTY_NEST = "elderly_empty_nest", _("Elderly, empty nest")
    ELDERLY_ALONE = "elderly_alone", _("Elderly, living alone")
    DISABILITY = "disability", _("Disability")
    LOW_INCOME = "low_income", _("Minimum living allowance or extreme poverty support")
    CHILD_IN_DIFFICULTY = "child_in_difficulty", _("Child in difficulty")
    COMMUNITY_CORRECTION = "community_correction", _("Community correction")
    RELEASED_PRISONER = "released_prisoner", _("Released from prison (aftercare)")
    SEVERE_MENTAL_DISORDER = "severe_mental_disorder", _("Severe mental disorder")
    DRUG_USER = "drug_user", _("Drug user")
    KEY_YOUTH = "key_youth", _("Key youth")


SPECIAL_GROUP_KINDS = frozenset(
    {
        GroupKind.ELDERLY_EMPTY_NEST,
        GroupKind.ELDERLY_ALONE,
        GroupKind.DISABILITY,
        GroupKind.LOW_INCOME,
        GroupKind.CHILD_IN_DIFFICULTY,
    }
)
KEY_PERSON_KINDS = frozenset(set(GroupKind) - SPECIAL_GROUP_KINDS)
# 刑满释放人员 are followed for five years after release (安置帮教期).
AFTERCARE_YEARS = 5


def category_of(kind: str) -> GroupCategory:
    return GroupCategory.SPECIAL if kind in SPECIAL_GROUP_KINDS else GroupCategory.KEY


def years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- Levels and their scales -----------------------------------------------------------------


class Level(models.TextChoices):
    """Every level of every scale (a field's choices; which ones a row may take: scale_for)."""

    KEY_CARE = "key_care", _("Key care (重点关爱)")
    GENERAL_CARE = "general_care", _("General care (一般关爱)")
    STRICT = "strict", _("Strict control (严管)")
    NORMAL = "normal", _("Normal control (普管)")
    LIGHT = "light", _("Light control (宽管)")
    AFTERCARE = "aftercare", _("In the aftercare period")
    PAST_AFTERCARE = "past_aftercare", _("Past the aftercare period")
    RISK_0 = "risk_0", _("Risk grade 0")
    RISK_1 = "risk_1", _("Risk grade 1")
    RISK_2 = "risk_2", _("Risk grade 2")
    RISK_3 = "risk_3", _("Risk grade 3")
    RISK_4 = "risk_4", _("Risk grade 4")
    RISK_5 = "risk_5", _("Risk grade 5")
    DEPARTMENT_HIGH = "dept_high", _("High (set by the department)")
    DEPARTMENT_MEDIUM = "dept_medium", _("Medium (set by the department)")
    DEPARTMENT_LOW = "dept_low", _("Low (set by the department)")
    RED = "red", _("Red (major risk)")
    ORANGE = "orange", _("Orange (high risk)")
    YELLOW = "yellow", _("Yellow (moderate risk)")
    BLUE = "blue", _("Blue (low risk)")


LEVEL_MAX_LENGTH = 16


@dataclass(frozen=True)
class Scale:
    code: str
    label: Promise
    levels: tuple[Level, ...]
    default: Level
    groups: frozenset[str]  # the group kinds kept on it; "" is a key enterprise (no group)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(level.value, level.label) for level in self.levels]


CARE = Scale("care", _("care level"), (Level.KEY_CARE, Level.GENERAL_CARE), Level.GENERAL_CARE, SPECIAL_GROUP_KINDS)
CONTROL = Scale(
    "control",
    _("control level"),
    (Level.STRICT, Level.NORMAL, Level.LIGHT),
    Level.NORMAL,
    frozenset({GroupKind.COMMUNITY_CORRECTION}),
)
AFTERCARE = Scale(
    "aftercare",
    _("aftercare"),
    (Level.AFTERCARE, Level.PAST_AFTERCARE),
    Level.AFTERCARE,
    frozenset({GroupKind.RELEASED_PRISONER}),
)
RISK_GRADE = Scale(
    "risk_grade",
    _("risk grade"),
    (Level.RISK_0, Level.RISK_1, Level.RISK_2, Level.RISK_3, Level.RISK_4, Level.RISK_5),
    Level.RISK_0,
    frozenset({GroupKind.SEVERE_MENTAL_DISORDER}),
)
DEPARTMENT_LEVEL = Scale(
    "department",
    _("level set by the department"),
    (Level.DEPARTMENT_HIGH, Level.DEPARTMENT_MEDIUM, Level.DEPARTMENT_LOW),
    Level.DEPARTMENT_MEDIUM,
    frozenset({GroupKind.DRUG_USER, GroupKind.KEY_YOUTH}),
)
RISK_COLOUR = Scale(
    "risk_colour",
    _("risk colour"),
    (Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE),
    Level.YELLOW,
    frozenset({""}),
)
SCALES = (CARE, CONTROL, AFTERCARE, RISK_GRADE, DEPARTMENT_LEVEL, RISK_COLOUR)
_SCALE_OF_GROUP = {group: scale for scale in SCALES for group in scale.groups}
SCALE_OF_LEVEL = {level.value: scale for scale in SCALES for level in scale.levels}


def scale_for(group: str) -> Scale:
    """The scale of a group kind; a key enterprise (no group, "") is kept on the risk colour."""
    return _SCALE_OF_GROUP[group or ""]


def grouped_level_choices() -> list[tuple[Any, Any]]:
    """The levels as a select offers them: one option group per scale, named by it."""
    return [(scale.label, scale.choices) for scale in SCALES]


def level_matches_group() -> Q:
    """The database's form of "the level belongs to the scale of the group"."""
    condition = Q()
    for scale in SCALES:
        condition |= Q(group__in=sorted(scale.groups), level__in=[level.value for level in scale.levels])
    return condition


def membership_level_matches_kind() -> Q:
    """As level_matches_group, for a membership (its group is `kind`, and it always has one)."""
    condition = Q()
    for scale in SCALES:
        kinds = sorted(group for group in scale.groups if group)
        if kinds:
            condition |= Q(kind__in=kinds, level__in=[level.value for level in scale.levels])
    return condition


def level_error(group: str, level: str) -> Promise | None:
    """The message for a level not on the group's scale (None when it is on it)."""
    scale = scale_for(group)
    if level in scale.levels:
        return None
    offered = format_lazy("{}", "、".join(str(choice.label) for choice in scale.levels))
    if not level:
        return format_lazy(_("Choose the {scale}: {choices}."), scale=scale.label, choices=offered)
    return format_lazy(_("This level is not a {scale}: choose one of {choices}."), scale=scale.label, choices=offered)


def default_level(group: str, since: datetime.date | None = None, on: datetime.date | None = None) -> Level:
    """The level a row takes when none is chosen: the scale's default; for a released prisoner,
    whether the five years of aftercare from `since` (the release) still run on `on`."""
    if group == GroupKind.RELEASED_PRISONER and since is not None:
        day = on or timezone.localdate()
        return Level.AFTERCARE if years_after(since, AFTERCARE_YEARS) > day else Level.PAST_AFTERCARE
    return scale_for(group).default


def aftercare_error(level: str, since: datetime.date | None, on: datetime.date) -> Promise | None:
    """A released prisoner's aftercare level must agree with the five years from release."""
    if since is None or level not in (Level.AFTERCARE, Level.PAST_AFTERCARE):
        return None
    ends = years_after(since, AFTERCARE_YEARS)
    if level == Level.AFTERCARE and ends <= on:
        return format_lazy(_("The aftercare period ended on {date}: choose past the aftercare period."), date=ends)
    if level == Level.PAST_AFTERCARE and ends > on:
        return format_lazy(_("The aftercare period runs until {date}: choose in the aftercare period."), date=ends)
    return None


# --- Visit rules -----------------------------------------------------------------------------


class VisitPeriod(models.TextChoices):
    WEEK = "week", _("per week")
    MONTH = "month", _("per month")


class VisitRule(NamedTuple):
    visits: int
    period: str
    face_to_face_only: bool


WEEKLY_IN_PERSON = VisitRule(1, VisitPeriod.WEEK, True)
TWICE_A_MONTH_IN_PERSON = VisitRule(2, VisitPeriod.MONTH, True)
MONTHLY_IN_PERSON = VisitRule(1, VisitPeriod.MONTH, True)
MONTHLY = VisitRule(1, VisitPeriod.MONTH, False)
WEEKLY = VisitRule(1, VisitPeriod.WEEK, False)

VISIT_RULES: dict[str, VisitRule] = {
    Level.KEY_CARE: WEEKLY_IN_PERSON,
    Level.GENERAL_CARE: MONTHLY,
    Level.STRICT: WEEKLY_IN_PERSON,
    Level.NORMAL: TWICE_A_MONTH_IN_PERSON,
    Level.LIGHT: MONTHLY,
    Level.AFTERCARE: MONTHLY_IN_PERSON,
    Level.PAST_AFTERCARE: MONTHLY,
    Level.RISK_0: MONTHLY,
    Level.RISK_1: TWICE_A_MONTH_IN_PERSON,
    Level.RISK_2: TWICE_A_MONTH_IN_PERSON,
    Level.RISK_3: WEEKLY_IN_PERSON,
    Level.RISK_4: WEEKLY_IN_PERSON,
    Level.RISK_5: WEEKLY_IN_PERSON,
    Level.DEPARTMENT_HIGH: WEEKLY_IN_PERSON,
    Level.DEPARTMENT_MEDIUM: TWICE_A_MONTH_IN_PERSON,
    Level.DEPARTMENT_LOW: MONTHLY,
    Level.RED: WEEKLY_IN_PERSON,
    Level.ORANGE: TWICE_A_MONTH_IN_PERSON,
    Level.YELLOW: MONTHLY_IN_PERSON,
    Level.BLUE: MONTHLY,
}


def default_visit_rule(*, level: str, group: str = "") -> VisitRule:
    """The rule a level sets (VISIT_RULES); elderly people living alone in general care are
    called on every week, where a phone call counts."""
    if group == GroupKind.ELDERLY_ALONE and level == Level.GENERAL_CARE:
        return WEEKLY
    return VISIT_RULES.get(level, MONTHLY)
