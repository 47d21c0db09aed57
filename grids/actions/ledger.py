"""Ledger: subjects, visits and the morning reminders (grids.models.ledger; the pages, the API
and the reminder task all write through these)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.utils import bulk_update_with_history

from grids.actions.patrols import NotYourGrid, record_finding
from grids.models import (
    Grid,
    GridAssignment,
    GroupMembership,
    LedgerStatus,
    LedgerSubject,
    OrganisationKind,
    SubjectKind,
    Visit,
)
from grids.models.groups import AFTERCARE_YEARS, GroupKind, Level, default_visit_rule, years_after
from grids.models.people import GroupSight
from shanglong import roles
from shanglong.history import set_history_author
from shanglong.media import store_attachment
from shanglong.models import Department, User
from shanglong.notifications import Message, notify
from shanglong.refusals import Conflict, NotAllowed

VISIT_REMINDER_KIND = "visit_reminder"
OVERDUE_SUMMARY_KIND = "visit_overdue_summary"
# Names listed in one reminder; the rest are counted ("and 12 more") and shown on My day.
REMINDER_MAX_LINES = 30


class NotYourSubject(NotAllowed):
    code = "not_your_subject"
    field = "subject"
    message = gettext_lazy("You cannot record visits for this subject.")


class VisitAlreadyCorrected(Conflict):
    code = "visit_already_corrected"
    message = gettext_lazy("This visit has already been corrected: correct the correction instead.")


class FindingNotAllowed(NotAllowed):
    code = "finding_not_allowed"
    field = "raise_finding"
    message = gettext_lazy(
        "A problem becomes a finding only in a grid you may patrol, so the visit was not saved. Untick the finding "
        "to keep the problem on the visit, and tell the grid's workers."
    )


def save_ledger_subject(*, subject: LedgerSubject, team: Iterable[User], by: User) -> LedgerSubject:
    """Create or change a ledger subject with its responsible team (包保). Unless the rule is
    custom, it follows the management level. simple_history records who changed what."""
    team = list(team)
    with transaction.atomic():
        subject.apply_default_rule()
        subject.has_team = bool(team)
        set_history_author(subject, by)
        subject.save()
        subject.team.set(team)
    return subject


def refresh_has_team(subjects: models.QuerySet) -> int:
    """Set has_team from the team links, for subjects whose team was written some other way
    (the admin's form): one UPDATE."""
    links = LedgerSubject.team.through.objects.filter(ledgersubject_id=OuterRef("pk"))
    return subjects.update(has_team=Exists(links))


def end_ledger_subject(*, subject: LedgerSubject, left_on: datetime.date, by: User) -> LedgerSubject:
    """The subject leaves the ledger on `left_on` (its reminders end then); the line and its
    visits stay, as the trace of the work."""
    with transaction.atomic():
        current = LedgerSubject.objects.select_for_update().get(pk=subject.pk)
        current.left_on = left_on
        set_history_author(current, by)
        current.save(update_fields=["left_on"])
    return current


def record_visit(
    *,
    subject: LedgerSubject,
    by: User,
    way: str,
    visited_at: datetime.datetime | None = None,
    workers: Iterable[User] = (),
    joint_department: Department | None = None,
    found: str = "",
    help_given: str = "",
    problems: str = "",
    raise_finding: bool = False,
    photos: Iterable[UploadedFile] = (),
    signature: UploadedFile | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    corrects: Visit | None = None,
    correction_reason: str = "",
) -> Visit:
    """Record a visit (走访) to a subject the person may visit: the visit, its workers (the
    person who records it among them), its photos and the signature of the person visited,
    and, when asked, a grid Finding from the problems raised, linked to the visit.

    The signature image is an attachment of the subject (the visit is written once, with it);
    photos are attachments of the visit. Nothing is ever edited: see correct_visit."""
    if not LedgerSubject.objects.visitable_by(by).filter(pk=subject.pk).exists():
        raise NotYourSubject
    problems = problems.strip()
    with transaction.atomic():
        finding = None
        if raise_finding and problems:
            try:
                finding = record_finding(
                    grid=subject.grid,
                    by=by,
                    description=problems,
                    # An enterprise may be named; a person in a group is not (findings are seen by
                    # everyone who works in the grid).
                    place=subject.name if subject.kind == SubjectKind.KEY_ENTERPRISE else "",
                    latitude=latitude,
                    longitude=longitude,
                )
            except NotYourGrid:
                raise FindingNotAllowed from None
        signature_file = (
            store_attachment(record=subject, uploaded=signature, user=by, images_only=True) if signature else None
        )
        try:
            with transaction.atomic():
                visit = Visit.objects.create(
                    subject=subject,
                    visited_at=visited_at or timezone.now(),
                    way=way,
                    joint_department=joint_department,
                    found=found.strip(),
                    help_given=help_given.strip(),
                    problems=problems,
                    finding=finding,
                    signature=signature_file,
                    latitude=latitude if longitude is not None else None,
                    longitude=longitude if latitude is not None else None,
                    corrects=corrects,
                    correction_reason=correction_reason.strip(),
                    recorded_by=by,
                )
        except IntegrityError:
            if corrects is not None:  # someone corrected the same visit a moment earlier
                raise VisitAlreadyCorrected from None
            raise
        visit.workers.set({by.pk, *(getattr(worker, "pk", worker) for worker in workers)})
        for photo in photos:
            store_attachment(record=visit, uploaded=photo, user=by, images_only=True)
    return visit


def correct_visit(*, visit: Visit, by: User, correction_reason: str, **values: Any) -> Visit:
    """Correct a visit: a new visit of the same subject that replaces it in every count and
    says why. The original stays as it was. A visit is corrected once; to change it again,
    correct the correction."""
    if Visit.objects.filter(corrects=visit).exists():
        raise VisitAlreadyCorrected
    return record_visit(subject=visit.subject, by=by, corrects=visit, correction_reason=correction_reason, **values)


@dataclass(frozen=True)
class DueLine:
    """One subject of the morning's due set, as the reminders list it."""

    pk: int
    name: str
    kind: str
    grid_id: int
    resident_id: int | None
    group: str
    is_overdue: bool
    visits_needed: int
    period_last_day: datetime.date


def due_set(day: datetime.date) -> dict[int, DueLine]:
    """Every subject in the ledger that needs a visit on the day (due or overdue), computed in
    one SQL query (LedgerSubjectQuerySet.with_status), by primary key."""
    rows = LedgerSubject.objects.in_status(LedgerStatus.NEEDS_VISIT, day).values_list(
        "pk", "name", "kind", "grid_id", "resident_id", "group", "is_overdue", "visits_needed", "period_last_day"
    )
    return {row[0]: DueLine(*row) for row in rows.iterator(chunk_size=20_000)}


def _care_of(due: dict[int, DueLine], day: datetime.date) -> dict[int, list[int]]:
    """Who answers for which due subject: the members of its responsible team, or, for a subject
    with no team, the people on duty in its grid (LedgerSubjectQuerySet.in_care_of, as a set:
    two queries)."""
    care: dict[int, list[int]] = defaultdict(list)
    with_team: set[int] = set()
    links = LedgerSubject.team.through.objects.filter(ledgersubject__in=LedgerSubject.objects.active(day))
    for subject_id, user_id in links.values_list("ledgersubject_id", "user_id").iterator(chunk_size=50_000):
        with_team.add(subject_id)
        if subject_id in due:
            care[user_id].append(subject_id)
    teamless: dict[int, list[int]] = defaultdict(list)
    for line in due.values():
        if line.pk not in with_team:
            teamless[line.grid_id].append(line.pk)
    if teamless:
        on_duty = GridAssignment.objects.current(day).filter(grid_id__in=list(teamless))
        for user_id, grid_id in on_duty.values_list("user_id", "grid_id"):
            care[user_id].extend(teamless[grid_id])
    return care


def _group_sight(day: datetime.date, people: list[User]) -> GroupSight:
    """The people registry's group rule (GroupMembership.objects.visible_to) for all these
    people over the memberships of the residents in the ledger on the day, in three queries."""
    in_ledger = LedgerSubject.objects.active(day).filter(resident__isnull=False).order_by().values("resident_id")
    return GroupMembership.objects.filter(resident_id__in=in_ledger).sight(people)


def _visible_lines(person: User, subject_ids: list[int], due: dict[int, DueLine], sight: GroupSight) -> list[DueLine]:
    """The lines among these that the person may see, for lines known to be in the person's
    scope (what someone who works for the community has in their care; the grids of the
    branches a secretary leads): the ledger rule's group half (groups_visible_to): key
    enterprises, and group lines whose resident's membership the person sees."""
    return [
        due[pk]
        for pk in subject_ids
        if due[pk].kind == SubjectKind.KEY_ENTERPRISE
        or ((resident_id := due[pk].resident_id) is not None and sight.sees(person, resident_id, due[pk].group))
    ]


def _worker_reminder(person: User, lines: list[DueLine], day: datetime.date, url: str) -> Message:
    """One person's reminder: their due and overdue subjects, overdue first."""
    lines = sorted(lines, key=lambda line: (not line.is_overdue, line.period_last_day, line.name, line.pk))
    overdue = sum(1 for line in lines if line.is_overdue)
    kind_labels = dict(SubjectKind.choices)
    text = []
    for line in lines[:REMINDER_MAX_LINES]:
        if line.is_overdue:
            state = _("overdue")
        else:
            state = ngettext("%(count)d visit by %(date)s", "%(count)d visits by %(date)s", line.visits_needed) % {
                "count": line.visits_needed,
                "date": line.period_last_day.strftime("%m-%d"),
            }
        text.append(f"· {line.name} ({kind_labels[line.kind]}): {state}")
    if len(lines) > REMINDER_MAX_LINES:
        text.append(_("… and %(count)d more on My day.") % {"count": len(lines) - REMINDER_MAX_LINES})
    return Message(
        recipient_id=person.pk,
        kind=VISIT_REMINDER_KIND,
        dedupe_key=f"visit-reminder:{day.isoformat()}",
        title=_("Visits today: %(due)d due, %(overdue)d overdue") % {"due": len(lines) - overdue, "overdue": overdue},
        body="\n".join(text),
        url=url,
    )


def _overdue_summary(
    secretary: User, grids: list[tuple[int, str]], counts: Counter[int], day: datetime.date, url: str
) -> Message:
    """A branch secretary's summary: the overdue subjects they may see, per grid of their branches."""
    total = sum(counts.values())
    return Message(
        recipient_id=secretary.pk,
        kind=OVERDUE_SUMMARY_KIND,
        dedupe_key=f"visit-overdue-summary:{day.isoformat()}",
        title=ngettext(
            "%(count)d overdue ledger visit in your grids", "%(count)d overdue ledger visits in your grids", total
        )
        % {"count": total},
        body="\n".join(f"· {name}: {counts[grid_id]}" for grid_id, name in grids if counts[grid_id]),
        url=url,
    )


def send_visit_reminders(*, on: datetime.date | None = None) -> int:
    """The morning sweep: to each person who answers for subjects, one reminder listing their
    due and overdue subjects; to each branch secretary, one summary of the overdue subjects per
    grid of their branches.

    Set-based: the due set is one SQL query for the whole installation; who answers for what,
    two more; who sees which group, three more (GroupMembershipQuerySet.sight: the people
    registry's rule for everyone at once, so nobody is told of a group they may not see); the
    branches, one. The messages are inserted in bulk with a dedupe key of kind and date per
    recipient, so a rerun, or two workers at once, tell nobody anything twice. Returns the
    number of messages offered."""
    day = on or timezone.localdate()
    due = due_set(day)
    care = _care_of(due, day)
    people = list(User.objects.filter(is_active=True, pk__in=list(care)).order_by("pk"))

    overdue_by_grid: dict[int, list[int]] = defaultdict(list)
    for line in due.values():
        if line.is_overdue:
            overdue_by_grid[line.grid_id].append(line.pk)
    branch_grids: dict[int, list[tuple[int, str]]] = defaultdict(list)
    led = Grid.objects.filter(branch__kind=OrganisationKind.GRID_BRANCH, branch__secretary__is_active=True)
    for grid_id, name, secretary_id in led.order_by("community_id", "code").values_list(
        "pk", "name", "branch__secretary_id"
    ):
        branch_grids[secretary_id].append((grid_id, name))
    secretaries = [
        secretary
        for secretary in User.objects.filter(pk__in=list(branch_grids)).order_by("pk")
        if any(overdue_by_grid[grid_id] for grid_id, _name in branch_grids[secretary.pk])
    ]
    sight = _group_sight(day, people + secretaries)

    messages: list[Message] = []
    with translation.override(django_settings.LANGUAGE_CODE):
        url = reverse("grids:my_day")
        for person in people:
            if roles.works_for_community(person):
                # What someone who works for the community has in their care is in their scope.
                lines = _visible_lines(person, care[person.pk], due, sight)
            else:
                # Anyone else (rare: a merchant left on a team) is asked the whole ledger rule.
                visible = LedgerSubject.objects.visible_to(person).filter(pk__in=care[person.pk])
                lines = [due[pk] for pk in visible.values_list("pk", flat=True)]
            if lines:
                messages.append(_worker_reminder(person, lines, day, url))
        for secretary in secretaries:
            # The grids of the branches one leads are in one's scope (access.visible_grid_ids).
            candidates = [pk for grid_id, _name in branch_grids[secretary.pk] for pk in overdue_by_grid[grid_id]]
            counts = Counter(line.grid_id for line in _visible_lines(secretary, candidates, due, sight))
            if counts:
                messages.append(_overdue_summary(secretary, branch_grids[secretary.pk], counts, day, url))
    notify(messages)
    return len(messages)


# --- The end of aftercare (帮教期满) -----------------------------------------------------------


def end_aftercare_periods(*, on: datetime.date | None = None) -> int:
    """Move the released prisoners whose five years of aftercare ended by `on` (today by
    default) from 帮教期内 to 帮教期满, and their open ledger lines with them (the rule too,
    unless it is custom), so that nobody is still visited monthly in person out of habit. A
    resident who holds another membership still in aftercare keeps their line as it is.

    Set-based and safe to run twice (or twice at once): the rows are chosen by their level, so a
    second run finds none; each change is kept in the rows' history. Returns the memberships
    moved. Beat runs it every night (CELERY_BEAT_SCHEDULE)."""
    day = on or timezone.localdate()
    # since <= the same day five years back (a day more for a release on 29 February); the
    # exact five years are then checked on the few rows found.
    try:
        latest = day.replace(year=day.year - AFTERCARE_YEARS)
    except ValueError:  # 29 February
        latest = day.replace(year=day.year - AFTERCARE_YEARS, day=28)
    candidates = GroupMembership.objects.filter(
        kind=GroupKind.RELEASED_PRISONER, level=Level.AFTERCARE, since__lte=latest + datetime.timedelta(days=1)
    )
    ended = [m for m in candidates if years_after(m.since, AFTERCARE_YEARS) <= day]
    if not ended:
        return 0
    with transaction.atomic():
        for membership in ended:
            membership.level = Level.PAST_AFTERCARE
        bulk_update_with_history(ended, GroupMembership, ["level"], default_change_reason="帮教期满")
        residents = {membership.resident_id for membership in ended}
        still_in_aftercare = set(
            GroupMembership.objects.filter(
                kind=GroupKind.RELEASED_PRISONER, level=Level.AFTERCARE, resident_id__in=residents
            ).values_list("resident_id", flat=True)
        )
        lines = list(
            LedgerSubject.objects.filter(
                group=GroupKind.RELEASED_PRISONER,
                level=Level.AFTERCARE,
                resident_id__in=residents - still_in_aftercare,
                left_on__isnull=True,
            )
        )
        rule = default_visit_rule(level=Level.PAST_AFTERCARE, group=GroupKind.RELEASED_PRISONER)
        for line in lines:
            line.level = Level.PAST_AFTERCARE
            if not line.rule_is_custom:
                line.visits_required, line.period, line.face_to_face_only = rule
        if lines:
            bulk_update_with_history(
                lines,
                LedgerSubject,
                ["level", "visits_required", "period", "face_to_face_only"],
                default_change_reason="帮教期满",
            )
    return len(ended)
