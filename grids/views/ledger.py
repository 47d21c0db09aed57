"""Pages of the visit ledger: My day (the grid worker's start page on the phone), the ledger
list and its .xlsx export, a subject with its visits, recording and correcting a visit, and
keeping the subjects.

Every queryset goes through LedgerSubject.objects.visible_to (visits through their subject), and
due / overdue come from LedgerSubjectQuerySet.with_status: computed in SQL, never per subject.
There is no ranking of workers and no clock-in here: the figures describe the work.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grids.access import may_patrol_somewhere, require_grid_work_access
from grids.actions import (
    VisitAlreadyCorrected,
    correct_visit,
    end_ledger_subject,
    record_visit,
    save_ledger_subject,
)
from grids.forms.ledger import EndSubjectForm, LedgerFilterForm, LedgerSubjectForm, VisitCorrectionForm, VisitForm
from grids.models import (
    Finding,
    Grid,
    GroupKind,
    LedgerStatus,
    LedgerSubject,
    OrganisationKind,
    PartyOrganisation,
    SubjectKind,
    Visit,
    VisitPeriod,
)
from shanglong import roles
from shanglong.actions import record_access
from shanglong.form_tokens import creates_once, form_created
from shanglong.models import AccessAction, User
from shanglong.refusals import Refusal, refuse_form
from shanglong.xlsx import Column, export_workbook, xlsx_response

PAGE_SIZE = 50
# My day shows this many lines per section (the rest are a link to the ledger list away).
MY_DAY_SECTION_LIMIT = 20
# A primary key no row has, reversed once and replaced by each line's (see _shown).
PK_PLACEHOLDER = 987654321
MY_DAY_FINDINGS = 10


def rule_text(subject: Any) -> str:
    """ "1 per week, face to face": the subject's rule as people say it."""
    if subject.period == VisitPeriod.WEEK:
        text = _("%(count)d per week") % {"count": subject.visits_required}
    else:
        text = _("%(count)d per month") % {"count": subject.visits_required}
    if subject.face_to_face_only:
        text = _("%(rule)s, face to face") % {"rule": text}
    return text


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default


# --- My day --------------------------------------------------------------------------------


def _leads_a_branch(user: Any) -> bool:
    return PartyOrganisation.objects.filter(secretary=user, kind=OrganisationKind.GRID_BRANCH).exists()


def grid_overview(user: Any, day: Any) -> list[Grid]:
    """The grids a person sees with, for each, the subjects in the ledger, those due this period
    and those overdue, as far as the person may see them: the grids, and one status query
    counted per grid by the database (LedgerSubjectQuerySet.count_by_grid)."""
    counts = LedgerSubject.objects.visible_to(user).active(day).with_status(day).count_by_grid()
    grids = list(Grid.objects.visible_to(user).active().order_by("community_id", "code"))
    for grid in grids:
        grid.subjects, grid.due, grid.overdue = counts.get(grid.pk, (0, 0, 0))
    return grids


def _in_my_care(user: Any, day: Any) -> Any:
    """The subjects in the person's care that they may see. What someone who works for the
    community has in their care (on the team, or on duty in the grid) is in their scope, so only
    the rule's group half is asked (LedgerSubjectQuerySet.groups_visible_to); for anyone else,
    the whole rule."""
    subjects = LedgerSubject.objects.in_care_of(user, day)
    if roles.works_for_community(user):
        return subjects.groups_visible_to(user)
    return subjects.visible_to(user)


class MyDayLine(NamedTuple):
    """A line of My day, as the status query returns it."""

    pk: int
    name: str
    kind: str
    group: str
    grid__name: str
    visits_required: int
    period: str
    face_to_face_only: bool
    is_overdue: bool
    is_due_today: bool
    visits_needed: int
    period_last_day: Any


def _shown(lines: list[MyDayLine]) -> list[dict[str, Any]]:
    """The first lines of a section, ready for the template: labels and links worked out here
    once (reversing two URLs per line would cost more than the rest of the page)."""
    kinds, groups = dict(SubjectKind.choices), dict(GroupKind.choices)
    detail = reverse("grids:ledger_subject", args=[PK_PLACEHOLDER])
    record = reverse("grids:visit_create", args=[PK_PLACEHOLDER])
    shown = []
    for line in lines[:MY_DAY_SECTION_LIMIT]:
        pk = str(line.pk)
        meta = [str(kinds.get(line.kind, line.kind))]
        if line.group:
            meta.append(str(groups.get(line.group, line.group)))
        meta += [line.grid__name, rule_text(line)]
        shown.append(
            {
                "line": line,
                "meta": " · ".join(meta),
                "detail_url": detail.replace(str(PK_PLACEHOLDER), pk),
                "record_url": record.replace(str(PK_PLACEHOLDER), pk),
            }
        )
    return shown


def my_day(request: HttpRequest) -> HttpResponse:
    """The grid worker's start page: what is overdue, what is due today and what remains this
    period among the subjects in their care, the open findings of their grids, a patrol to
    start. Branch secretaries and staff also see each of their grids with its overdue count."""
    user = request.user
    require_grid_work_access(user)
    day = timezone.localdate()
    # 1 query: the subjects in the person's care that need a visit, with their standing, as
    # plain rows (a worker may have hundreds; the page shows the first of each section).
    needing = [
        MyDayLine(*row)
        for row in _in_my_care(user, day)
        .in_status(LedgerStatus.NEEDS_VISIT, day)
        .order_by("-is_overdue", "-is_due_today", "period_last_day", "name", "pk")
        .values_list(*MyDayLine._fields)
    ]
    overdue = [line for line in needing if line.is_overdue]
    due_today = [line for line in needing if line.is_due_today and not line.is_overdue]
    later = [line for line in needing if not line.is_due_today and not line.is_overdue]
    # 1 query: the unresolved findings in the person's scope, as the findings list counts them.
    findings = list(
        Finding.objects.visible_to(user)
        .unresolved()
        .select_related("grid", "item")
        .order_by("-reported_at", "-pk")[: MY_DAY_FINDINGS + 1]
    )
    # Grid workers who lead no branch see their own work; everyone else also each grid (1 query).
    show_grids = not roles.is_grid_worker(user) or _leads_a_branch(user)
    return render(
        request,
        "grids/ledger/my_day.html",
        {
            "day": day,
            "overdue": _shown(overdue),
            "overdue_count": len(overdue),
            "due_today": _shown(due_today),
            "due_today_count": len(due_today),
            "later": _shown(later),
            "later_count": len(later),
            "visits_remaining": sum(subject.visits_needed for subject in needing),
            "section_limit": MY_DAY_SECTION_LIMIT,
            "findings": findings[:MY_DAY_FINDINGS],
            "more_findings": len(findings) > MY_DAY_FINDINGS,
            "grids": grid_overview(user, day) if show_grids else None,
            "shows_own_work": roles.is_grid_worker(user) or bool(needing),
            # Overseers (departments, the subdistrict) are offered a patrol only where
            # grids/access.py lets them walk one (a 社区民警 on duty); 1 query, for them only.
            "may_patrol": not (roles.is_department(user) or roles.is_subdistrict_staff(user))
            or may_patrol_somewhere(user),
        },
    )


# --- The ledger ----------------------------------------------------------------------------


def _filtered_ledger(request: HttpRequest, *, figures: bool) -> tuple[LedgerFilterForm, Any, Any]:
    """The ledger rows the person may see, filtered by the list's form, ordered as on paper;
    with the paper ledger's figures (with_ledger_figures) when asked, else only the standing
    a status filter needs. One query when evaluated."""
    user = request.user
    day = timezone.localdate()
    form = LedgerFilterForm(request.GET or None, user=user)
    filters: dict[str, Any] = form.cleaned_data if form.is_valid() else {}
    subjects = _apply_filters(LedgerSubject.objects.visible_to(user), filters)
    if figures:
        subjects = subjects.with_ledger_figures(day).select_related("grid")
    subjects = subjects.in_status(filters.get("status") or LedgerStatus.IN_LEDGER, day)
    return form, subjects.order_by("grid__community_id", "grid__code", "kind", "name", "pk"), filters


def _apply_filters(subjects: Any, filters: dict[str, Any]) -> Any:
    """The list form's grid, kind and name filters (the status filter: in_status)."""
    if filters.get("grid"):
        subjects = subjects.filter(grid=filters["grid"])
    if filters.get("kind"):
        subjects = subjects.filter(kind=filters["kind"])
    if filters.get("q"):
        subjects = subjects.filter(name__icontains=filters["q"].strip())
    return subjects


def _ledger_line_counts(user: Any, filters: dict[str, Any]) -> tuple[int, int]:
    """How many lines the list shows under its filters, and how many more it would show but for
    the group rule (one query for both: the paginator's count and the note's)."""
    lines = _apply_filters(LedgerSubject.objects.all(), filters)
    return lines.in_status(filters.get("status") or LedgerStatus.IN_LEDGER).shown_and_hidden_to(user)


class _CountedPaginator(Paginator):
    """A paginator told how many rows there are, counted beforehand with other figures."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def ledger_list(request: HttpRequest) -> HttpResponse:
    """The ledger (台账) of the person's grids: each subject with its rule, last visit, visits
    this period and its standing."""
    require_grid_work_access(request.user)
    form, subjects, filters = _filtered_ledger(request, figures=False)
    # The page's subjects first (their count, with the lines the group rule hides, in one query;
    # then the ids), then their figures: the figures of a large ledger are computed for one page only.
    shown_count, hidden = _ledger_line_counts(request.user, filters)
    page = _CountedPaginator(subjects.values_list("pk", flat=True), PAGE_SIZE, count=shown_count).get_page(
        request.GET.get("page")
    )
    shown = {
        subject.pk: subject
        for subject in LedgerSubject.objects.filter(pk__in=list(page.object_list))
        .with_ledger_figures(timezone.localdate())
        .select_related("grid")
    }
    page.object_list = [shown[pk] for pk in page.object_list if pk in shown]
    for subject in page.object_list:
        subject.rule_label = rule_text(subject)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "grids/ledger/subject_list.html",
        {
            "form": form,
            "page": page,
            "hidden_note": ngettext(
                "%(count)d line of special groups and key persons is not shown: the community's access table"
                " does not give it to you.",
                "%(count)d lines of special groups and key persons are not shown: the community's access table"
                " does not give them to you.",
                hidden,
            )
            % {"count": hidden}
            if hidden
            else "",
            "query": query.urlencode(),
            "can_add": LedgerSubject.objects.writable_by(request.user),
            "grid": filters.get("grid"),
        },
    )


def _ledger_columns() -> list[Column]:
    kind_labels = dict(SubjectKind.choices)
    return [
        Column(gettext_lazy("Grid"), "grid.name", width=12),
        Column(gettext_lazy("Subject"), "name", width=24),
        Column(gettext_lazy("Kind"), lambda subject: kind_labels.get(subject.kind, subject.kind), width=12),
        Column(gettext_lazy("Group"), "get_group_display", width=18),
        Column(gettext_lazy("Management level"), "get_level_display", width=12),
        Column(gettext_lazy("Visit rule"), rule_text, width=18),
        Column(gettext_lazy("Last visit"), "last_visit_at", width=18),
        Column(gettext_lazy("Visits this period"), "visits_this_period", width=10),
        Column(gettext_lazy("Visits this year"), "visits_this_year", width=10),
        Column(gettext_lazy("Next due"), "next_due_on", width=12),
        Column(gettext_lazy("Overdue"), "is_overdue", width=8),
        Column(gettext_lazy("In the ledger since"), "entered_on", width=12),
        Column(gettext_lazy("Left on"), "left_on", width=12),
    ]


def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger as an .xlsx file in the shape kept on paper, per grid (the list's filters
    apply): one query with annotations. The export is written to the access log."""
    require_grid_work_access(request.user)
    _form, subjects, filters = _filtered_ledger(request, figures=True)
    grid = filters.get("grid")
    now = timezone.localtime()
    who = request.user.display_name
    content = export_workbook(
        subjects,
        _ledger_columns(),
        sheet_title=grid.name if grid else _("Visit ledger"),
        watermark=_("Exported by %(person)s at %(time)s") % {"person": who, "time": now.strftime("%Y-%m-%d %H:%M")},
    )
    record_access(
        action=AccessAction.EXPORT,
        request=request,
        target=f"ledger:grid-{grid.pk}" if grid else "ledger:all",
        detail=request.GET.urlencode(),
    )
    name = _("Visit ledger")
    filename = f"{name}-{grid.name}-{now:%Y-%m-%d}" if grid else f"{name}-{now:%Y-%m-%d}"
    return xlsx_response(content, filename)


# --- Subjects ------------------------------------------------------------------------------


def subject_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One subject: its rule and standing, its team, and its visits (corrections shown with
    the visits they replace)."""
    user = request.user
    require_grid_work_access(user)
    day = timezone.localdate()
    subject = get_object_or_404(
        LedgerSubject.objects.visible_to(user)
        .with_ledger_figures(day)
        .select_related("grid", "department")
        .prefetch_related(Prefetch("team", queryset=User.objects.order_by("full_name", "username"))),
        pk=pk,
    )
    subject.rule_label = rule_text(subject)
    visits = (
        Visit.objects.visible_to(user)
        .filter(subject=subject)
        .select_related("recorded_by", "joint_department", "finding", "corrects", "correction", "signature")
        .prefetch_related("workers", "attachments")
        .order_by("-visited_at", "-pk")
    )
    page = Paginator(visits, PAGE_SIZE).get_page(request.GET.get("page"))
    visitable = LedgerSubject.objects.visitable_by(user).filter(pk=subject.pk).exists()
    editable = LedgerSubject.objects.editable_by(user).filter(pk=subject.pk).exists()
    return render(
        request,
        "grids/ledger/subject_detail.html",
        {"subject": subject, "page": page, "can_visit": visitable, "can_edit": editable},
    )


def _subject_form(request: HttpRequest, form: LedgerSubjectForm, saved: str) -> HttpResponse:
    """Save the subject form through save_ledger_subject (the one way its team is written), or
    show it again with its errors and what was typed."""
    if request.method == "POST" and form.is_valid():
        subject = save_ledger_subject(subject=form.save(commit=False), team=form.cleaned_data["team"], by=request.user)
        form_created(request, subject)
        messages.success(request, saved % {"subject": subject})
        return redirect("grids:ledger_subject", pk=subject.pk)
    subject = form.instance if form.instance.pk is not None else None
    return render(request, "grids/ledger/subject_form.html", {"form": form, "subject": subject})


@creates_once
def subject_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_grid_work_access(user)
    if not LedgerSubject.objects.writable_by(user):
        raise PermissionDenied
    form = LedgerSubjectForm(request.POST or None, editor=user, initial={"kind": request.GET.get("kind") or ""})
    return _subject_form(request, form, _("%(subject)s is in the ledger."))


def subject_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    require_grid_work_access(user)
    subject = get_object_or_404(LedgerSubject.objects.editable_by(user).select_related("grid", "resident"), pk=pk)
    form = LedgerSubjectForm(request.POST or None, instance=subject, editor=user)
    return _subject_form(request, form, _("%(subject)s was saved."))


def subject_end(request: HttpRequest, pk: int) -> HttpResponse:
    """The subject leaves the ledger (its visits stay)."""
    user = request.user
    require_grid_work_access(user)
    subject = get_object_or_404(LedgerSubject.objects.editable_by(user).select_related("grid"), pk=pk)
    form = EndSubjectForm(request.POST or None, subject=subject)
    if request.method == "POST" and form.is_valid():
        end_ledger_subject(subject=subject, left_on=form.cleaned_data["left_on"], by=user)
        messages.success(
            request,
            _("%(subject)s leaves the ledger on %(date)s.")
            % {"subject": subject, "date": form.cleaned_data["left_on"].isoformat()},
        )
        return redirect("grids:ledger_subject", pk=subject.pk)
    return render(request, "grids/ledger/subject_end.html", {"form": form, "subject": subject})


# --- Visits --------------------------------------------------------------------------------


@creates_once
def visit_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a visit: the second tap from My day. The way is preselected from the rule and the
    time is now, so "Save" alone records it."""
    user = request.user
    require_grid_work_access(user)
    subject = get_object_or_404(LedgerSubject.objects.visitable_by(user).select_related("grid"), pk=pk)
    form = VisitForm(request.POST or None, request.FILES or None, subject=subject, user=user)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            visit = record_visit(subject=subject, by=user, **form.visit_values())
        except Refusal as refusal:
            status = refuse_form(form, refusal)
        else:
            form_created(request, visit)
            text = _("The visit to %(subject)s was recorded.") % {"subject": subject}
            if visit.finding_id:
                text = _("%(text)s The problem is a finding of %(grid)s now.") % {"text": text, "grid": subject.grid}
            messages.success(request, text)
            return redirect(_next_url(request, reverse("grids:my_day")))
    return render(
        request,
        "grids/ledger/visit_form.html",
        {
            "form": form,
            "subject": subject,
            "correcting": None,
            "next": _next_url(request, ""),
            "rule_label": rule_text(subject),
        },
        status=status,
    )


def visit_correct(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a visit: a new record that replaces the old one in every count; the old one
    stays, marked as corrected."""
    user = request.user
    require_grid_work_access(user)
    visit = get_object_or_404(
        Visit.objects.visible_to(user).select_related("subject__grid", "correction").prefetch_related("workers"),
        pk=pk,
    )
    if not LedgerSubject.objects.visitable_by(user).filter(pk=visit.subject_id).exists():
        raise PermissionDenied
    if hasattr(visit, "correction"):
        messages.error(request, str(VisitAlreadyCorrected.message))
        return redirect("grids:ledger_subject", pk=visit.subject_id)
    form = VisitCorrectionForm(request.POST or None, request.FILES or None, visit=visit, user=user)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            correct_visit(
                visit=visit, by=user, correction_reason=form.cleaned_data["correction_reason"], **form.visit_values()
            )
        except Refusal as refusal:
            status = refuse_form(form, refusal)
        else:
            messages.success(request, _("The visit was corrected."))
            return redirect("grids:ledger_subject", pk=visit.subject_id)
    return render(
        request,
        "grids/ledger/visit_form.html",
        {
            "form": form,
            "subject": visit.subject,
            "correcting": visit,
            "next": "",
            "rule_label": rule_text(visit.subject),
        },
        status=status,
    )
