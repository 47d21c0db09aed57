"""Patrols: each grid's own checklist (差异化巡查重点清单), the walks through the grid against it
(巡查), and the problems they find (发现问题).

A grid's checklist is kept by its branch secretary and community staff, started from templates
by site type (grids/data/checklist_templates.json). A grid worker patrols one of their grids on
the phone, marking each item pass, fail or not applicable; a fail becomes a Finding, open until
it is followed up and closed. Patrols, results and follow-ups are the grid's trace (有痕):
results are one per item and patrol, follow-ups are append-only, and a checklist item that was
used is retired, never deleted.

Scoping: every model here has `objects.visible_to(user)` through its grid and
`access.visible_grid_ids(user)`. Who may do what is written once each, in grids.access:
`patrollable_grid_ids(user)` (start patrols, record and follow up findings) and
`checklist_editable_grid_ids(user)`; the models' editable_by ask them.
"""

from __future__ import annotations

import datetime
import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from grids import access
from grids.models.organisation import Compound, Grid, GridScopedQuerySet
from shanglong.models import AppendOnlyQuerySet, Attachment, TimelineEntry
from shanglong.notifications import Message
from shanglong.refusals import Conflict, NotAllowed, Refusal
from shanglong.validators import validate_latitude, validate_longitude
from shanglong.workflow import Workflow, step

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "data" / "checklist_templates.json"

# Photos a finding may carry: enough to show a problem, few enough for a phone on a slow network.
MAX_FINDING_PHOTOS = 6

MONTH_CHOICES = sorted(MONTHS.items())


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The start of the month of `month` and of the next one, as aware local times."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    zone = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(first, datetime.time.min, tzinfo=zone),
        datetime.datetime.combine(following, datetime.time.min, tzinfo=zone),
    )


# --- Site types and templates --------------------------------------------------------------


class SiteType(models.TextChoices):
    """What kind of place an item is about; each has a template of items to start from."""

    RESTAURANT_GAS = "restaurant_gas", _("Restaurant gas safety")
    SMALL_VENUE = "small_venue", _("Small venues")
    FRONTAGE = "frontage", _("Frontage order")
    PARKING = "parking", _("Parking order")
    SANITATION = "sanitation", _("Sanitation")
    FLOOD_POINT = "flood_point", _("Flood points in the rainy season")
    OTHER = "other", _("Other")


@cache
def checklist_templates() -> dict[str, dict[str, Any]]:
    """The templates of grids/data/checklist_templates.json by site type: {"season": (from,
    until) or None, "items": [{"key", "text", "guidance"}]}. Read once per process."""
    data = json.loads(TEMPLATES_FILE.read_text(encoding="utf-8"))
    templates = {}
    for template in data["templates"]:
        site_type = SiteType(template["site_type"])
        season = tuple(template["season"]) if template.get("season") else None
        templates[site_type.value] = {"season": season, "items": template["items"]}
    return templates


# --- Checklists ----------------------------------------------------------------------------


class ChecklistQuerySet(GridScopedQuerySet):
    """visible_to: the checklists of the grids the person may see."""

    def editable_by(self, user: Any) -> ChecklistQuerySet:
        return self.filter(grid_id__in=access.checklist_editable_grid_ids(user))

    def writable_by(self, user: Any) -> bool:
        return access.may_keep_some_checklist(user)


class Checklist(models.Model):
    """差异化巡查重点清单: a grid's own list of what to look at on a patrol, because a street of
    restaurants needs other checks than a compound of flats. One per grid."""

    grid = models.OneToOneField(Grid, on_delete=models.PROTECT, related_name="checklist", verbose_name=_("grid"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    objects = ChecklistQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol checklist")
        verbose_name_plural = _("patrol checklists")
        ordering = ["grid_id"]

    def __str__(self) -> str:
        return str(_("Checklist of %(grid)s") % {"grid": self.grid})


class ChecklistItemQuerySet(GridScopedQuerySet):
    grid_path = "checklist__grid"

    def editable_by(self, user: Any) -> ChecklistItemQuerySet:
        return self.filter(checklist__grid_id__in=access.checklist_editable_grid_ids(user))

    def writable_by(self, user: Any) -> bool:
        return access.may_keep_some_checklist(user)

    def in_use(self) -> ChecklistItemQuerySet:
        return self.filter(retired_at__isnull=True)

    def in_season(self, month: int) -> ChecklistItemQuerySet:
        """Items that apply in the month (1-12): all-year items and seasonal ones whose season
        holds it (a season may run over the new year, November to February)."""
        plain = Q(season_from__lte=models.F("season_until")) & Q(season_from__lte=month, season_until__gte=month)
        over_new_year = Q(season_from__gt=models.F("season_until")) & (
            Q(season_from__lte=month) | Q(season_until__gte=month)
        )
        return self.filter(Q(season_from__isnull=True) | plain | over_new_year)

    def applicable(self, month: int) -> ChecklistItemQuerySet:
        """What a patrol in the month checks: items in use and in season."""
        return self.in_use().in_season(month)

    def with_coverage(self, start: datetime.datetime, end: datetime.datetime) -> ChecklistItemQuerySet:
        """Annotate how often each item was checked (passed or failed), failed and found not
        applicable on the patrols started between start and end (the patrols the history lists
        for the period): one aggregate query over the results. Counts describe the checklist's
        coverage, never the people who patrolled."""
        in_period = Q(results__patrol__started_at__gte=start, results__patrol__started_at__lt=end)
        return self.annotate(
            checked=Count(
                "results", filter=in_period & Q(results__outcome__in=[Outcome.PASS, Outcome.FAIL]), distinct=True
            ),
            failed=Count("results", filter=in_period & Q(results__outcome=Outcome.FAIL), distinct=True),
            not_applicable=Count(
                "results", filter=in_period & Q(results__outcome=Outcome.NOT_APPLICABLE), distinct=True
            ),
        )


class ChecklistItem(models.Model):
    """One thing to look at on a patrol of the grid ("the gas hose is metal and at most 2 m").

    Items come from a template (template_key "<site type>.<key>", so a template is applied
    once) or are written by the grid's editors. An item that was used is retired, never deleted:
    its results stay readable. A seasonal item (flood points: April to September, from the
    pre-flood check 汛前排查) applies only in its months."""

    checklist = models.ForeignKey(
        Checklist, on_delete=models.PROTECT, related_name="items", verbose_name=_("checklist")
    )
    text = models.CharField(_("what to check"), max_length=200)
    guidance = models.TextField(_("how to check"), blank=True)
    site_type = models.CharField(_("site type"), max_length=32, choices=SiteType.choices, default=SiteType.OTHER)
    template_key = models.CharField(_("template item"), max_length=64, blank=True, editable=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    season_from = models.PositiveSmallIntegerField(
        _("season from"),
        choices=MONTH_CHOICES,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("For a seasonal item, the first month it applies; leave empty for all year."),
    )
    season_until = models.PositiveSmallIntegerField(
        _("season until"),
        choices=MONTH_CHOICES,
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("The last month it applies."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = ChecklistItemQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["checklist_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["checklist", "template_key"],
                condition=~Q(template_key=""),
                name="checklistitem_template_once",
            ),
            models.CheckConstraint(
                condition=Q(season_from__isnull=True, season_until__isnull=True)
                | Q(season_from__isnull=False, season_until__isnull=False),
                name="checklistitem_season_complete",
                violation_error_message=_("A season needs both its first and its last month."),
            ),
        ]

    def __str__(self) -> str:
        return self.text

    def clean(self) -> None:
        if (self.season_from is None) != (self.season_until is None):
            missing = "season_until" if self.season_until is None else "season_from"
            raise ValidationError({missing: _("A season needs both its first and its last month.")})

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @property
    def is_seasonal(self) -> bool:
        return self.season_from is not None

    def applies_in(self, month: int) -> bool:
        if self.season_from is None or self.season_until is None:
            return True
        if self.season_from <= self.season_until:
            return self.season_from <= month <= self.season_until
        return month >= self.season_from or month <= self.season_until

    def season_label(self) -> str:
        if self.season_from is None or self.season_until is None:
            return ""
        return str(_("%(first)s to %(last)s") % {"first": MONTHS[self.season_from], "last": MONTHS[self.season_until]})


# --- Patrols -------------------------------------------------------------------------------


class PatrolStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("In progress")
    ENDED = "ended", _("Ended")


class PatrolQuerySet(GridScopedQuerySet):
    """visible_to: the patrols of the grids the person may see; editable_by: the patrols the
    person walks (Patrol.is_walked_by for many rows)."""

    def editable_by(self, user: Any) -> PatrolQuerySet:
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(started_by_id=user.pk) if getattr(user, "is_authenticated", False) else self.none()

    def writable_by(self, user: Any) -> bool:
        """Whoever may patrol a grid starts patrols."""
        return access.may_patrol_somewhere(user)

    def in_progress(self) -> PatrolQuerySet:
        return self.filter(status=PatrolStatus.IN_PROGRESS)

    def started_between(self, start: datetime.datetime, end: datetime.datetime) -> PatrolQuerySet:
        return self.filter(started_at__gte=start, started_at__lt=end)

    def with_tally(self) -> PatrolQuerySet:
        """Annotate how many items were marked and how many failed (one query with the rows)."""
        return self.annotate(
            marked=Count("results", distinct=True),
            failed=Count("results", filter=Q(results__outcome=Outcome.FAIL), distinct=True),
        )


class Patrol(models.Model):
    """巡查: one walk through a grid against its checklist, started and ended by the person who
    walks it. No track and no clock: a patrol records what was looked at, not where the worker
    was (基层减负)."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="patrols", verbose_name=_("grid"))
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="patrols", verbose_name=_("patrolled by")
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=PatrolStatus.choices, default=PatrolStatus.IN_PROGRESS
    )
    note = models.TextField(_("note"), blank=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["grid", "started_at"], name="patrol_grid_started")]

    def __str__(self) -> str:
        return str(
            _("Patrol of %(grid)s on %(day)s")
            % {"grid": self.grid, "day": timezone.localtime(self.started_at).date().isoformat()}
        )

    @property
    def is_open(self) -> bool:
        return self.status == PatrolStatus.IN_PROGRESS

    def items(self) -> ChecklistItemQuerySet:
        """The items of this patrol: those of the grid's checklist that applied in the month it
        started, and any it already marked (an item retired since keeps its result)."""
        month = timezone.localtime(self.started_at).month
        marked = PatrolResult.objects.filter(patrol_id=self.pk).values("item_id")
        applicable = ChecklistItem.objects.filter(checklist__grid_id=self.grid_id).applicable(month).values("pk")
        return ChecklistItem.objects.filter(Q(pk__in=applicable) | Q(pk__in=marked)).order_by("position", "pk")

    def is_walked_by(self, user: Any) -> bool:
        """A patrol is walked by the person who started it (on any of their devices)."""
        return self.started_by_id == user.pk or bool(getattr(user, "is_superuser", False))

    def can_be_marked_by(self, user: Any) -> bool:
        return self.is_open and self.is_walked_by(user)


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class PatrolResultQuerySet(GridScopedQuerySet):
    grid_path = "patrol__grid"


class PatrolResult(models.Model):
    """What a patrol found for one checklist item: pass, fail or not applicable. One per item
    and patrol, whatever the taps and devices; it may be changed while the patrol is open."""

    patrol = models.ForeignKey(Patrol, on_delete=models.PROTECT, related_name="results", verbose_name=_("patrol"))
    item = models.ForeignKey(
        ChecklistItem, on_delete=models.PROTECT, related_name="results", verbose_name=_("checklist item")
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("marked by")
    )
    marked_at = models.DateTimeField(_("marked at"), default=timezone.now, db_index=True)

    objects = PatrolResultQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("patrol result")
        verbose_name_plural = _("patrol results")
        ordering = ["patrol_id", "item__position", "item_id"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "item"], name="patrolresult_one_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.item} · {self.get_outcome_display()}"


# --- Findings ------------------------------------------------------------------------------


class FindingStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("finding status", "Open")
    FOLLOWED_UP = "followed_up", _("Followed up")
    CLOSED = "closed", _("Closed")


class FindingAction(models.TextChoices):
    """The steps of a finding's workflow (FINDING_WORKFLOW)."""

    FOLLOW_UP = "follow_up", _("Followed up")
    CLOSE = "close", _("Closed")


class FindingQuerySet(GridScopedQuerySet):
    """visible_to: the findings of the grids the person may see; editable_by: of the grids they
    may patrol (they record findings there and follow them up)."""

    def editable_by(self, user: Any) -> FindingQuerySet:
        return self.filter(grid_id__in=access.patrollable_grid_ids(user))

    def writable_by(self, user: Any) -> bool:
        return access.may_patrol_somewhere(user)

    def unresolved(self) -> FindingQuerySet:
        return self.exclude(status=FindingStatus.CLOSED)


class Finding(models.Model):
    """发现问题: a problem seen in the grid, on a patrol (a failed item) or on its own: what,
    where (a compound, an address, a merchant's name as text for now), photos and a position
    when the worker chose to add them. Open until followed up and closed; each step is a
    FindingFollowUp. Cases come later and will point at findings."""

    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="findings", verbose_name=_("grid"))
    patrol = models.ForeignKey(
        Patrol, on_delete=models.PROTECT, null=True, blank=True, related_name="findings", verbose_name=_("patrol")
    )
    result = models.OneToOneField(
        PatrolResult,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="finding",
        verbose_name=_("patrol result"),
    )
    item = models.ForeignKey(
        ChecklistItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("checklist item"),
    )
    description = models.TextField(_("what was found"), blank=True)
    place = models.CharField(_("where"), max_length=200, blank=True, help_text=_("An address or a landmark."))
    compound = models.ForeignKey(
        Compound,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("compound"),
    )
    merchant_name = models.CharField(_("merchant"), max_length=100, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=[validate_latitude]
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True, validators=[validate_longitude]
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported by")
    )
    reported_at = models.DateTimeField(_("reported at"), default=timezone.now, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    version = models.PositiveIntegerField(_("version"), default=1)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    attachments = GenericRelation(Attachment, content_type_field="content_type", object_id_field="object_id")

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-reported_at", "-pk"]
        indexes = [models.Index(fields=["grid", "status"], name="finding_grid_status")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="finding_position_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        """What is wrong, in one line: the worker's own words first; a failed checklist item
        with no words yet reads "Not met: <the item>", never the requirement as if it were
        the problem."""
        first_line = (self.description or "").strip().splitlines()
        if first_line:
            return first_line[0][:80]
        if self.item_id is not None:
            return _("Not met: %(item)s") % {"item": self.item.text}
        return str(_("Finding"))

    @property
    def has_position(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def is_closed(self) -> bool:
        return self.status == FindingStatus.CLOSED


FOLLOW_UPS_APPEND_ONLY = "Follow-ups of a finding are append-only."


class FindingFollowUpQuerySet(AppendOnlyQuerySet, GridScopedQuerySet):
    append_only_message = FOLLOW_UPS_APPEND_ONLY
    grid_path = "finding__grid"


class FindingFollowUp(TimelineEntry):
    """One step on a finding, its timeline row (shanglong.workflow): who followed it up or
    closed it, when, with which note, and the status it found and left the finding in.
    Append-only: a correction is another follow-up."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="follow_ups", verbose_name=_("finding"))
    action = models.CharField(_("action"), max_length=32, choices=FindingAction.choices)
    from_status = models.CharField(_("status before"), max_length=16, choices=FindingStatus.choices)
    status = models.CharField(_("status afterwards"), max_length=16, choices=FindingStatus.choices)
    note = models.TextField(_("note"))

    objects = FindingFollowUpQuerySet.as_manager()
    append_only_message = FOLLOW_UPS_APPEND_ONLY

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["finding_id", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.finding} · {self.get_status_display()}"


# --- The finding's workflow ----------------------------------------------------------------


class PatrolError(Refusal):
    """A patrol write that cannot be done as asked (each is one of the family's three kinds).
    The finding's workflow refusals live here, beside the workflow that raises them; the
    others are in grids.actions.patrols."""


class NotYourGrid(PatrolError, NotAllowed):
    code = "not_your_grid"
    field = "grid"
    message = _("You can patrol and record findings only in the grids you are on duty in.")


class FindingClosed(PatrolError, Conflict):
    code = "finding_closed"
    message = _("This finding is closed; nothing was changed.")


class FindingChanged(PatrolError, Conflict):
    code = "finding_changed"
    message = _("Someone else followed up this finding meanwhile. Read their note and try again.")


def may_follow_up(user: Any, finding: Finding) -> bool:
    """Whoever may patrol the finding's grid follows up its findings."""
    return access.may_patrol(user, finding.grid_id)


FINDING_CLOSED_KIND = "finding-closed"


def _tell_the_reporter(finding: Finding, step: TimelineEntry) -> list[Message]:
    """When someone else closes a finding, the person who reported it hears how it ended."""
    if finding.reported_by_id == step.by_id:
        return []
    return [
        Message(
            recipient_id=finding.reported_by_id,
            kind=FINDING_CLOSED_KIND,
            dedupe_key=f"{FINDING_CLOSED_KIND}:{finding.pk}",
            title=str(_("A finding you reported was closed: %(title)s") % {"title": finding.title}),
            body=step.note,
            url=reverse("grids:finding_detail", args=[finding.pk]),
        )
    ]


FINDING_WORKFLOW = Workflow(
    statuses=FindingStatus,
    timeline=FindingFollowUp,
    record_field="finding",
    transitions=[
        step(
            FindingAction.FOLLOW_UP,
            sources=[FindingStatus.OPEN, FindingStatus.FOLLOWED_UP],
            target=FindingStatus.FOLLOWED_UP,
            allowed=may_follow_up,
            label=FindingAction.FOLLOW_UP.label,
            sets=lambda at: {"closed_at": None},
        ),
        step(
            FindingAction.CLOSE,
            sources=[FindingStatus.OPEN, FindingStatus.FOLLOWED_UP],
            target=FindingStatus.CLOSED,
            allowed=may_follow_up,
            label=FindingAction.CLOSE.label,
            sets=lambda at: {"closed_at": at},
            messages=_tell_the_reporter,
        ),
    ],
    not_allowed=NotYourGrid,
    changed=FindingChanged,
    state_refusals={FindingStatus.CLOSED: FindingClosed},
)
