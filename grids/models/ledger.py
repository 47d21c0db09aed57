"""The visit ledger (台账): the key enterprises, special groups and key persons a grid must visit,
the rule that says how often, and the visits themselves (走访), kept as a trace (有痕).

Rules written once:
- `LedgerSubject.objects.visible_to(user)`: who sees which subject. A key enterprise follows the
  grid rule (grids.access.visible_grid_ids) or the responsible team (包保); a subject about a special group or
  a key person is, on top of that, visible ONLY to those who see the resident's membership of that
  group (`GroupMembership.objects.visible_to`, the people registry's one rule).
- `LedgerSubjectQuerySet.with_status(on)`: due and overdue, computed in SQL for any number of
  subjects (see the definitions there). Pages, exports, the API and the morning reminders all use it.
- Visits are append-only: a correction is a new visit that points at the one it corrects; only
  visits nobody has corrected count.

Periods are local dates in the portal's time zone (settings.TIME_ZONE, Asia/Shanghai): weeks run
Monday to Sunday, months are calendar months.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from grids import access
from grids.models.groups import (
    KEY_PERSON_KINDS,
    LEVEL_MAX_LENGTH,
    SPECIAL_GROUP_KINDS,
    GroupKind,
    VisitPeriod,
    VisitRule,
    default_level,
    default_visit_rule,
    grouped_level_choices,
    level_error,
    level_matches_group,
)
from grids.models.organisation import Grid, GridAssignment
from grids.models.patrols import Finding
from grids.models.people import GroupMembership, Resident
from shanglong import roles
from shanglong.models import AppendOnlyError, AppendOnlyModel, AppendOnlyQuerySet, Attachment, Department

# --- Kinds, ways, rules --------------------------------------------------------------------


class SubjectKind(models.TextChoices):
    KEY_ENTERPRISE = "key_enterprise", _("Key enterprise")
    SPECIAL_GROUP = "special_group", _("Special group")
    KEY_PERSON = "key_person", _("Key person")


# Subjects about people in a group: visible only to those who see that group.
SENSITIVE_KINDS = frozenset({SubjectKind.SPECIAL_GROUP, SubjectKind.KEY_PERSON})


class VisitWay(models.TextChoices):
    FACE_TO_FACE = "face_to_face", _("Face to face (上门)")
    PHONE = "phone", _("Phone call")
    WECHAT = "wechat", _("WeChat")
    JOINT = "joint", _("Joint visit with a department")
    VIDEO = "video", _("Video call")
    OFFICE = "office", _("Came to the office or called in for a talk (来访/约谈)")


# The ways that meet a face-to-face rule. A joint visit (联合走访) is made on the spot together with
# a department, and a person who comes to the office or is called in for a talk (来访/约谈) is met in
# person, so both are face to face too; a phone call, a video call or a WeChat message never is.
IN_PERSON_WAYS = (VisitWay.FACE_TO_FACE, VisitWay.JOINT, VisitWay.OFFICE)


class LedgerStatus(models.TextChoices):
    """A subject's standing as the ledger's status filter asks for it (see
    LedgerSubjectQuerySet.in_status): the list page offers all but "due or overdue", the API all
    but "in the ledger" (no filter), My day and the reminders ask for "due or overdue"."""

    IN_LEDGER = "", _("In the ledger")
    DUE = "due", _("Due this period")
    OVERDUE = "overdue", _("Overdue")
    NEEDS_VISIT = "needs_visit", _("Due or overdue")
    LEFT = "left", _("Left the ledger")


def kind_for_group(group: str) -> str:
    return SubjectKind.KEY_PERSON if group in KEY_PERSON_KINDS else SubjectKind.SPECIAL_GROUP


# --- Periods -------------------------------------------------------------------------------


def start_of_day(day: datetime.date) -> datetime.datetime:
    """Local midnight at the start of the day, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min), timezone.get_default_timezone())


@dataclass(frozen=True)
class Period:
    """A week (Monday to Sunday) or a calendar month: its first and last day."""

    kind: str
    first: datetime.date
    last: datetime.date

    @classmethod
    def containing(cls, kind: str, day: datetime.date) -> Period:
        if kind == VisitPeriod.WEEK:
            first = day - datetime.timedelta(days=day.weekday())
            return cls(kind, first, first + datetime.timedelta(days=6))
        first = day.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        return cls(kind, first, following - datetime.timedelta(days=1))

    @property
    def starts_at(self) -> datetime.datetime:
        return start_of_day(self.first)

    @property
    def ends_at(self) -> datetime.datetime:
        """The first moment after the period (exclusive bound)."""
        return start_of_day(self.last + datetime.timedelta(days=1))

    def previous(self) -> Period:
        return Period.containing(self.kind, self.first - datetime.timedelta(days=1))

    def following(self) -> Period:
        return Period.containing(self.kind, self.last + datetime.timedelta(days=1))

    def days_left(self, day: datetime.date) -> int:
        """Days from `day` to the end of the period, both counted."""
        return (self.last - day).days + 1


@dataclass(frozen=True)
class LedgerCalendar:
    """The periods that matter on one local day: this and the previous week and month, the
    next ones, and the year."""

    day: datetime.date

    @classmethod
    def on(cls, day: datetime.date | None = None) -> LedgerCalendar:
        return cls(day or timezone.localdate())

    def current(self, kind: str) -> Period:
        return Period.containing(kind, self.day)

    def previous(self, kind: str) -> Period:
        return self.current(kind).previous()

    def following(self, kind: str) -> Period:
        return self.current(kind).following()

    @property
    def year_starts_at(self) -> datetime.datetime:
        return start_of_day(self.day.replace(month=1, day=1))

    @property
    def year_ends_at(self) -> datetime.datetime:
        return start_of_day(self.day.replace(year=self.day.year + 1, month=1, day=1))


def _by_period(values: dict[str, Any], field: Any) -> Case:
    """A CASE over the subject's period: the week's value for weekly rules, else the month's."""
    return Case(
        When(period=VisitPeriod.WEEK, then=Value(values[VisitPeriod.WEEK], output_field=field)),
        default=Value(values[VisitPeriod.MONTH], output_field=field),
        output_field=field,
    )


class _StatusCount(Count):
    """A count of the status query, compiled once per query. The ORM writes an annotation out
    again wherever another one refers to it, so each of the two counts appears five times in
    the SQL (the flags, the HAVING of a status filter), and compiling them over and over was
    most of the cost of building the query. Equal counts (same arguments, same query) compile
    to the same SQL, so the compiler keeps the first answer."""

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        if extra_context:
            return super().as_sql(compiler, connection, **extra_context)
        compiled: dict[Any, Any] = compiler.__dict__.setdefault("_ledger_status_counts", {})
        key = self.identity
        if key not in compiled:
            compiled[key] = super().as_sql(compiler, connection)
        return compiled[key]


# --- Subjects ------------------------------------------------------------------------------


def _team_links() -> models.QuerySet:
    return LedgerSubject.team.through.objects.all()


def _scope_q(user: Any) -> Q:
    """The first half of LedgerSubjectQuerySet.visible_to: the grids the person sees, and the
    subjects whose team they are on (for those who work for the community)."""
    in_scope = Q(grid_id__in=access.visible_grid_ids(user))
    if roles.works_for_community(user):
        in_scope |= Q(pk__in=_team_links().filter(user_id=user.pk).values("ledgersubject_id"))
    return in_scope


def _sees_group(user: Any) -> Exists:
    """Whether the person sees the subject's resident's membership of the subject's group."""
    return Exists(
        GroupMembership.objects.visible_to(user).filter(resident_id=OuterRef("resident_id"), kind=OuterRef("group"))
    )


class LedgerSubjectQuerySet(models.QuerySet):
    def visible_to(self, user: Any) -> LedgerSubjectQuerySet:
        """THE rule for who sees which ledger subject.

        Everyone who works for the community sees the subjects of the grids they may see
        (access.visible_grid_ids) and those whose responsible team they are on. A subject about a
        special group or a key person is visible only where, besides, the person sees the
        resident's membership of that group (GroupMembership.objects.visible_to): the community
        admin, the people on duty in the resident's grid by their duty (grid head, full-time
        workers and police one column, part-time workers and building heads another), the
        responsible department and the designated officer, as the community's access table
        says. Merchants, volunteers and outsiders see none."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(_scope_q(user)).groups_visible_to(user)

    def shown_and_hidden_to(self, user: Any) -> tuple[int, int]:
        """Of these rows in the person's scope, how many visible_to(user) keeps, and how many it
        leaves out because of the group rule alone (group lines whose resident's membership the
        person does not see: the community's access table), in one query. For the ledger list's
        paginator and its note, so that nobody takes a ledger with lines missing for the whole."""
        if not getattr(user, "is_authenticated", False):
            return 0, 0
        if user.is_superuser:
            return self.count(), 0
        lines = self.filter(_scope_q(user)).annotate(
            group_line_seen=ExpressionWrapper(
                Q(kind=SubjectKind.KEY_ENTERPRISE) | _sees_group(user), output_field=BooleanField()
            )
        )
        counts = lines.aggregate(
            shown=Count("pk", filter=Q(group_line_seen=True)), hidden=Count("pk", filter=Q(group_line_seen=False))
        )
        return counts["shown"], counts["hidden"]

    def groups_visible_to(self, user: Any) -> LedgerSubjectQuerySet:
        """The second half of visible_to, alone: of these rows, the key enterprises, and the group
        lines whose group the person sees. Only for rows already known to be in the person's
        scope (My day's: what a person who works for the community has in their care, see
        in_care_of), where it is the whole rule at a fraction of the cost. The morning sweep
        asks the same question for everyone at once through GroupMembershipQuerySet.sight."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(kind=SubjectKind.KEY_ENTERPRISE) | _sees_group(user))

    def editable_by(self, user: Any) -> LedgerSubjectQuerySet:
        """Who keeps a subject (adds, changes, ends it): those who see it and may change the
        registry of its grid: community staff their community's grids, grid workers the grids
        they are on duty in today (the people registry's access.editable_grid_ids)."""
        if getattr(user, "is_superuser", False):
            return self
        return self.visible_to(user).filter(grid_id__in=access.editable_grid_ids(user))

    def writable_by(self, user: Any) -> bool:
        """Whether a person adds subjects at all: they keep the registry of some grid (one query)."""
        return Grid.objects.filter(pk__in=access.editable_grid_ids(user)).exists()

    def visitable_by(self, user: Any) -> LedgerSubjectQuerySet:
        """The subjects a person may record a visit for: those they see, still in the ledger.
        Subdistrict staff read; they do not visit."""
        if roles.is_subdistrict_staff(user) and not getattr(user, "is_superuser", False):
            return self.none()
        return self.visible_to(user).active()

    def active(self, on: datetime.date | None = None) -> LedgerSubjectQuerySet:
        """In the ledger on the day: entered, and not yet left."""
        return self.filter(_active_q(on or timezone.localdate()))

    def in_care_of(self, user: Any, on: datetime.date | None = None) -> LedgerSubjectQuerySet:
        """The subjects a person answers for: those whose responsible team (包保) they are on,
        and, where a subject has no team yet, those of the grids they are on duty in."""
        on_team = _team_links().filter(user_id=user.pk).values_list("ledgersubject_id", flat=True)
        teamless_on_duty = LedgerSubject.objects.filter(
            grid_id__in=GridAssignment.objects.current(on).filter(user_id=user.pk).values("grid_id"), has_team=False
        ).values_list("pk", flat=True)
        # One id list (a union): the database starts from these few rows, by primary key.
        return self.filter(pk__in=on_team.union(teamless_on_duty))

    def with_status(self, on: datetime.date | None = None) -> LedgerSubjectQuerySet:
        """Annotate each subject with its standing on the day, in SQL: one join to the visits
        of the previous and current periods and aggregate counts over it (the database computes
        each count once, however often the flags below refer to it).

        - `visits_this_period`: the visits of the current period that meet the rule (any way,
          or only in-person ones for a face-to-face rule; a corrected visit does not count, its
          correction does);
        - `visits_last_period`: the same for the previous period;
        - `visits_needed`: how many more visits this period needs;
        - `is_due`: the subject is in the ledger and still needs visits this period;
        - `is_due_today`: it is due and the visits it needs fill every day left in the period
          (today is the last chance to meet the rule: with one visit needed, the period's last day);
        - `is_overdue`: it was in the ledger for the whole previous period, that period ended
          without the required visits, and nobody has visited it since (one visit that meets
          the rule this period clears it; it may still be due);
        - `period_last_day`: the last day of the current period.

        A subject that has left (left_on on or before the day) or not yet entered is neither.
        The query groups by subject: to count subjects per grid, filter on pk__in of this one.
        """
        calendar = LedgerCalendar.on(on)
        day = calendar.day
        kinds = (VisitPeriod.WEEK, VisitPeriod.MONTH)
        current = {kind: calendar.current(kind) for kind in kinds}
        previous = {kind: calendar.previous(kind) for kind in kinds}
        moment, date = DateTimeField(), DateField()
        period_starts_at = _by_period({kind: current[kind].starts_at for kind in kinds}, moment)
        period_ends_at = _by_period({kind: current[kind].ends_at for kind in kinds}, moment)
        previous_starts_at = _by_period({kind: previous[kind].starts_at for kind in kinds}, moment)
        # Only the visits of the two periods are joined (an index range on subject and time).
        window = FilteredRelation(
            "visits",
            condition=Q(visits__visited_at__gte=min(previous[kind].starts_at for kind in kinds))
            & Q(visits__visited_at__lt=max(current[kind].ends_at for kind in kinds)),
        )
        counted = Q(recent__correction__isnull=True) & (Q(face_to_face_only=False) | Q(recent__way__in=IN_PERSON_WAYS))
        this_period = Q(recent__visited_at__gte=period_starts_at) & Q(recent__visited_at__lt=period_ends_at)
        last_period = Q(recent__visited_at__gte=previous_starts_at) & Q(recent__visited_at__lt=period_starts_at)
        active = _active_q(day)
        return self.annotate(
            recent=window,
            previous_first_day=_by_period({kind: previous[kind].first for kind in kinds}, date),
            period_last_day=_by_period({kind: current[kind].last for kind in kinds}, date),
            days_left=_by_period({kind: current[kind].days_left(day) for kind in kinds}, IntegerField()),
            visits_this_period=_StatusCount("recent", filter=counted & this_period),
            visits_last_period=_StatusCount("recent", filter=counted & last_period),
        ).annotate(
            visits_needed=Greatest(F("visits_required") - F("visits_this_period"), Value(0)),
            is_due=ExpressionWrapper(
                active & Q(visits_this_period__lt=F("visits_required")), output_field=BooleanField()
            ),
            is_due_today=ExpressionWrapper(
                active & Q(visits_this_period__lte=F("visits_required") - F("days_left")),
                output_field=BooleanField(),
            ),
            is_overdue=ExpressionWrapper(
                active
                & Q(entered_on__lte=F("previous_first_day"))
                & Q(visits_last_period__lt=F("visits_required"))
                & Q(visits_this_period=0),
                output_field=BooleanField(),
            ),
        )

    def count_by_grid(self) -> dict[int, tuple[int, int, int]]:
        """(subjects, due, overdue) per grid id over this with_status queryset, counted by the
        database in one query: the status query is the derived table of a GROUP BY (the ORM
        cannot aggregate over its per-subject aggregates at one level)."""
        inner = self.order_by().values("grid_id", "is_due", "is_overdue")
        sql, params = inner.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT grid_id, COUNT(*), SUM(CASE WHEN is_due THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN is_overdue THEN 1 ELSE 0 END) FROM ({sql}) AS standing GROUP BY grid_id",
                params,
            )
            return {grid_id: (total, due or 0, overdue or 0) for grid_id, total, due, overdue in cursor.fetchall()}

    def in_status(self, status: str, on: datetime.date | None = None) -> LedgerSubjectQuerySet:
        """THE ledger's status filter (the list page, the API's `?status=`, My day, the
        morning reminders), on the day: in the ledger (entered, not left); due or overdue this
        period (with_status's flags, which already require being in the ledger); both; or left
        (left on or before the day). The standing is annotated here unless the queryset already
        has it (with_status, with_ledger_figures)."""
        day = on or timezone.localdate()
        if status == LedgerStatus.IN_LEDGER:
            return self.active(day)
        if status == LedgerStatus.LEFT:
            return self.filter(left_on__lte=day)
        subjects = self if "is_due" in self.query.annotations else self.with_status(day)
        if status == LedgerStatus.DUE:
            return subjects.due()
        if status == LedgerStatus.OVERDUE:
            return subjects.overdue()
        if status == LedgerStatus.NEEDS_VISIT:
            return subjects.needing_visits()
        raise ValueError(f"Unknown ledger status: {status!r}")

    def due(self) -> LedgerSubjectQuerySet:
        """Subjects that still need visits this period (after with_status)."""
        return self.filter(is_due=True)

    def overdue(self) -> LedgerSubjectQuerySet:
        return self.filter(is_overdue=True)

    def needing_visits(self) -> LedgerSubjectQuerySet:
        """Due or overdue (after with_status): what a reminder lists."""
        return self.filter(Q(is_due=True) | Q(is_overdue=True))

    def with_ledger_figures(self, on: datetime.date | None = None) -> LedgerSubjectQuerySet:
        """with_status plus what the paper ledger shows: the last visit, the visits of the year
        (any way; corrected ones replaced by their corrections) and the next due date: the last
        day of the period in which the next required visit must fall (none once it has left)."""
        calendar = LedgerCalendar.on(on)
        kinds = (VisitPeriod.WEEK, VisitPeriod.MONTH)
        following = {kind: calendar.following(kind).last for kind in kinds}
        counted = Visit.objects.counted().filter(subject_id=OuterRef("pk")).order_by().values("subject_id")
        this_year = counted.filter(visited_at__gte=calendar.year_starts_at, visited_at__lt=calendar.year_ends_at)
        return self.with_status(calendar.day).annotate(
            last_visit_at=Subquery(counted.annotate(last=Max("visited_at")).values("last")[:1]),
            visits_this_year=Coalesce(
                Subquery(this_year.annotate(n=Count("pk")).values("n")[:1], output_field=IntegerField()), Value(0)
            ),
            next_due_on=Case(
                When(~_active_q(calendar.day), then=Value(None, output_field=DateField())),
                When(visits_this_period__lt=F("visits_required"), then=F("period_last_day")),
                default=_by_period(following, DateField()),
                output_field=DateField(),
            ),
        )


def _active_q(day: datetime.date) -> Q:
    """In the ledger on the day: entered on or before it, and not left on or before it."""
    return Q(entered_on__lte=day) & (Q(left_on__isnull=True) | Q(left_on__gt=day))


class LedgerSubject(models.Model):
    """A line of the grid's visit ledger (台账): a key enterprise (重点企业), a person in a special
    group (特殊群体) or a key person (重点人群) that the responsible team (包保) must visit as often
    as the rule says. It carries its own display name, so it works alone (a merchant that needs
    visits points here one-to-one from the merchants app). A subject is never deleted: it leaves
    the ledger on `left_on`, which ends its reminders."""

    kind = models.CharField(_("kind"), max_length=16, choices=SubjectKind.choices)
    name = models.CharField(_("name"), max_length=200)
    resident = models.ForeignKey(
        Resident,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_subjects",
        verbose_name=_("resident"),
    )
    group = models.CharField(
        _("group"),
        max_length=32,
        choices=GroupKind.choices,
        blank=True,
        help_text=_("For a special group or a key person: the resident's group."),
    )
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="ledger_subjects", verbose_name=_("grid"))
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="ledger_subjects",
        blank=True,
        verbose_name=_("responsible team (包保)"),
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_subjects",
        verbose_name=_("responsible department"),
    )
    level = models.CharField(
        _("level"),
        max_length=LEVEL_MAX_LENGTH,
        choices=grouped_level_choices(),
        help_text=_(
            "On the scale of the group: the risk colour of an enterprise, a person's care level, control"
            " level, aftercare, risk grade or the level their department set. It sets the visit rule."
        ),
    )
    visits_required = models.PositiveSmallIntegerField(
        _("visits required"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    period = models.CharField(_("per"), max_length=8, choices=VisitPeriod.choices, default=VisitPeriod.MONTH)
    face_to_face_only = models.BooleanField(_("face to face only"), default=False)
    rule_is_custom = models.BooleanField(
        _("custom rule"), default=False, help_text=_("Off: the rule follows the management level.")
    )
    # Whether the responsible team has anyone: kept by grids.actions.save_ledger_subject (the one
    # way a team is written), so "the subjects with no team", which the people on duty answer
    # for, are read from a small partial index instead of an anti-join over the grid's lines.
    has_team = models.BooleanField(_("has a responsible team"), default=False, editable=False)
    entered_on = models.DateField(_("in the ledger since"), default=timezone.localdate)
    left_on = models.DateField(_("left the ledger on"), null=True, blank=True)
    note = models.CharField(
        _("note"),
        max_length=200,
        blank=True,
        help_text=_("Practical notes only (how to reach them, best time to visit). Never a diagnosis or an offence."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = LedgerSubjectQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("ledger subject")
        verbose_name_plural = _("ledger subjects")
        ordering = ["grid_id", "kind", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("entered_on")),
                name="ledgersubject_left_after_entered",
                violation_error_message=_("A subject cannot leave the ledger before it entered."),
            ),
            models.CheckConstraint(
                condition=Q(visits_required__gte=1),
                name="ledgersubject_visits_required_positive",
            ),
            models.CheckConstraint(
                condition=Q(kind=SubjectKind.KEY_ENTERPRISE, group="")
                | Q(kind=SubjectKind.SPECIAL_GROUP, group__in=sorted(SPECIAL_GROUP_KINDS), resident__isnull=False)
                | Q(kind=SubjectKind.KEY_PERSON, group__in=sorted(KEY_PERSON_KINDS), resident__isnull=False),
                name="ledgersubject_group_matches_kind",
                violation_error_message=_(
                    "A special group or key person needs the resident and their group; an enterprise has no group."
                ),
            ),
            models.CheckConstraint(
                condition=level_matches_group(),
                name="ledgersubject_level_matches_group",
                violation_error_message=_("The level is not on the scale of this group."),
            ),
        ]
        indexes = [
            models.Index(fields=["grid", "left_on"], name="ledgersubject_grid_left"),
            models.Index(fields=["grid"], condition=Q(has_team=False), name="ledgersubject_teamless"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rule(self) -> VisitRule:
        return VisitRule(self.visits_required, self.period, self.face_to_face_only)

    def apply_default_rule(self) -> None:
        """Set the rule from the level (grids.models.groups.VISIT_RULES), unless it is custom."""
        if not self.rule_is_custom:
            self.visits_required, self.period, self.face_to_face_only = default_visit_rule(
                level=self.level, group=self.group
            )

    def follow_membership(self, membership: GroupMembership) -> None:
        """Make this the ledger line of a resident's group membership (THE rule, for the pages
        and the API alike): the resident and their group (and the kind, when none is set yet);
        the name given, else the resident's; the grid the resident lives in (none when they
        have no home in a grid); the department chosen, else the membership's; the level
        chosen, else the membership's, else the default of the group's scale; and, unless the
        rule is custom, the rule that level sets. Nothing is saved."""
        resident = membership.resident
        self.resident = resident
        self.group = membership.kind
        self.kind = self.kind or kind_for_group(membership.kind)
        self.name = (self.name or "").strip() or resident.name
        home = Grid.objects.filter(compounds__residential_buildings__dwellings__residents=resident).first()
        if home is not None:
            self.grid = home
        else:
            self.grid_id = None
        if self.department_id is None:
            self.department = membership.department
        self.level = self.level or membership.level or default_level(membership.kind, membership.since)
        self.apply_default_rule()

    def is_active(self, on: datetime.date | None = None) -> bool:
        day = on or timezone.localdate()
        return self.entered_on <= day and (self.left_on is None or self.left_on > day)

    def suggested_way(self) -> str:
        """The way preselected when a visit is recorded: face to face where the rule asks for
        it or for an enterprise; a phone call for people whose rule lets one count."""
        if self.face_to_face_only or self.kind == SubjectKind.KEY_ENTERPRISE:
            return VisitWay.FACE_TO_FACE
        return VisitWay.PHONE

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.kind in SENSITIVE_KINDS:
            if self.resident_id is None:
                errors.setdefault("resident", []).append(_("Choose the resident this line is about."))
            expected = SPECIAL_GROUP_KINDS if self.kind == SubjectKind.SPECIAL_GROUP else KEY_PERSON_KINDS
            if self.group not in expected:
                errors.setdefault("group", []).append(_("Choose a group of this kind."))
        elif self.group:
            errors.setdefault("group", []).append(_("An enterprise has no group."))
        if "group" not in errors:
            problem = level_error(self.group, self.level)
            if problem:
                errors.setdefault("level", []).append(problem)
        if self.left_on and self.entered_on and self.left_on < self.entered_on:
            errors.setdefault("left_on", []).append(_("A subject cannot leave the ledger before it entered."))
        if errors:
            raise ValidationError(errors)


# --- Visits --------------------------------------------------------------------------------


class AppendOnlyVisitError(AppendOnlyError):
    """Visits are a trace: a mistake is corrected by a new visit, never by an edit or delete."""


VISITS_APPEND_ONLY = "Visits are append-only: record a correction instead."


class VisitQuerySet(AppendOnlyQuerySet):
    append_only_error = AppendOnlyVisitError
    append_only_message = VISITS_APPEND_ONLY

    def visible_to(self, user: Any) -> VisitQuerySet:
        """A visit is seen by those who see its subject (the one ledger rule)."""
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(subject_id__in=LedgerSubject.objects.visible_to(user).values("pk"))

    def editable_by(self, user: Any) -> VisitQuerySet:
        """The visits a person may record (and correct): those of the subjects they may visit
        (LedgerSubject.objects.visitable_by). Subdistrict staff and the public record none."""
        if getattr(user, "is_superuser", False):
            return self
        if roles.is_subdistrict_staff(user) or not roles.works_for_community(user):
            return self.none()
        return self.filter(subject_id__in=LedgerSubject.objects.visitable_by(user).values("pk"))

    def writable_by(self, user: Any) -> bool:
        """Whether a person records visits at all: they have a subject to visit (one query)."""
        if getattr(user, "is_superuser", False):
            return True
        if roles.is_subdistrict_staff(user) or not roles.works_for_community(user):
            return False
        return LedgerSubject.objects.visitable_by(user).exists()

    def counted(self) -> VisitQuerySet:
        """The visits that count: those nobody has corrected (a correction replaces its original)."""
        return self.filter(correction__isnull=True)


class Visit(AppendOnlyModel):
    """走访: one visit to a ledger subject, by one or more workers, in a way (face to face,
    phone, WeChat, jointly with a department), with what was found, the help given and the
    problems raised (a problem may become a grid Finding, linked here). Photos are attachments
    of the visit; the
    signature of the person visited is an image kept with the subject. Append-only: a correction
    is a new visit that `corrects` the old one."""

    subject = models.ForeignKey(
        LedgerSubject, on_delete=models.PROTECT, related_name="visits", verbose_name=_("subject")
    )
    workers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="ledger_visits", verbose_name=_("workers"))
    visited_at = models.DateTimeField(_("time of the visit"), default=timezone.now)
    way = models.CharField(_("way"), max_length=16, choices=VisitWay.choices)
    joint_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="joint_visits",
        verbose_name=_("with the department"),
    )
    found = models.TextField(_("what was found"), blank=True)
    help_given = models.TextField(_("help given"), blank=True)
    problems = models.TextField(_("problems raised"), blank=True)
    finding = models.OneToOneField(
        Finding,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visit",
        verbose_name=_("finding raised"),
    )
    signature = models.ForeignKey(
        Attachment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature of the person visited"),
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    corrects = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="correction",
        verbose_name=_("corrects the visit"),
    )
    correction_reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    # The photos (attachments whose record is the visit), for prefetching.
    attachments = GenericRelation(Attachment, content_type_field="content_type", object_id_field="object_id")

    objects = VisitQuerySet.as_manager()
    append_only_error = AppendOnlyVisitError
    append_only_message = VISITS_APPEND_ONLY

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_at", "-pk"]
        indexes = [models.Index(fields=["subject", "visited_at"], name="visit_subject_time")]
        constraints = [
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="visit_correction_has_reason",
                violation_error_message=_("Say why the visit is corrected."),
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.visited_at)
        return f"{self.subject} · {local:%Y-%m-%d %H:%M} · {self.get_way_display()}"

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None
