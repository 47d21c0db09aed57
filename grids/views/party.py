"""Pages of the party-member registry: the member list and page, the mobile members'
records and the organisational life they attend, the in-work members' registrations, claimed
tasks and hours, and the yearly report back to their employers.

Every queryset goes through visible_to (party_member_rule); a row outside it is a 404. Writing
needs editable_by as well (community staff, or the secretary of the member's organisation); a
row the person sees but may not keep is a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.forms import ModelForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.actions import mark_in_work_report_sent
from grids.forms.party import (
    ClaimedTaskForm,
    InWorkRegistrationForm,
    MarkReportSentForm,
    MemberFilterForm,
    MobileMembershipForm,
    OrganisationalLifeForm,
    PartyMemberForm,
    ServiceHoursForm,
)
from grids.models import (
    ClaimedTask,
    InWorkRegistration,
    InWorkReport,
    MobileMembership,
    OrganisationalLifeAttendance,
    PartyMember,
    ServiceHours,
    can_keep_member,
    can_keep_party_members,
)
from shanglong import roles
from shanglong.actions import record_access
from shanglong.form_tokens import creates_once, form_created
from shanglong.models import AccessAction
from shanglong.xlsx import Column, export_workbook, xlsx_response

MEMBER_PAGE_SIZE = 50


def _sees_several_communities(user: Any) -> bool:
    return user.is_superuser or roles.is_subdistrict_staff(user)


def _require_keeper(user: Any, member: PartyMember) -> None:
    if not can_keep_member(user, member):
        raise PermissionDenied


def _visible_member(request: HttpRequest, pk: int) -> PartyMember:
    return get_object_or_404(
        PartyMember.objects.visible_to(request.user).select_related("organisation__community", "resident", "user"),
        pk=pk,
    )


def _form_page(
    request: HttpRequest,
    form: ModelForm,
    *,
    member: PartyMember | None,
    saved: Callable[[Any], str],
    title: str,
    submit: str,
    intro: str = "",
) -> HttpResponse:
    """Every form of the registry: on a valid POST the row is saved, `saved(row)` is said and the
    member's page follows (a new member's own); otherwise the form on one template, with a
    title, what it is about, the fields (and what was typed, with the errors)."""
    if request.method == "POST" and form.is_valid():
        row = form.save()
        form_created(request, row)
        messages.success(request, saved(row))
        return redirect("grids:party_member_detail", pk=(member or row).pk)
    return render(
        request,
        "grids/party/form.html",
        {"form": form, "title": title, "submit": submit, "member": member, "intro": intro},
    )


# --- Members -------------------------------------------------------------------------------


def party_member_list(request: HttpRequest) -> HttpResponse:
    """The party members in the viewer's scope, filtered by organisation, status and mobile
    direction, and searched by name or the last digits of the mobile."""
    user = request.user
    filters = MemberFilterForm(request.GET or None, viewer=user)
    members = PartyMember.objects.visible_to(user).select_related("organisation__community").with_situation()
    former = False
    if filters.is_valid():
        data = filters.cleaned_data
        members = members.search(data["q"])
        if data["organisation"] is not None:
            members = members.filter(organisation=data["organisation"])
        if data["status"]:
            members = members.filter(status=data["status"])
        if data["mobile"]:
            members = members.mobile(data["mobile"])
        former = data["former"]
    members = members.former() if former else members.current()
    members = members.order_by("organisation__community_id", "organisation__name", "name", "pk")
    page = Paginator(members, MEMBER_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grids/party/member_list.html",
        {
            "page": page,
            "filters": filters,
            "can_create": can_keep_party_members(user),
            "show_community": _sees_several_communities(user),
            "year": timezone.localdate().year,
            "section": {"outflow": "outflow", "inflow": "inflow"}.get(request.GET.get("mobile", ""), "members"),
        },
    )


def party_member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One member: organisation and status, the mobile records with the organisational life
    attended, the in-work registrations with their tasks and hours."""
    member = _visible_member(request, pk)
    mobile_records = (
        MobileMembership.objects.visible_to(request.user)
        .filter(member=member)
        .prefetch_related(
            Prefetch("attendances", queryset=OrganisationalLifeAttendance.objects.order_by("-date", "-pk"))
        )
    )
    registrations = (
        InWorkRegistration.objects.visible_to(request.user)
        .filter(member=member)
        .select_related("employer_organisation")
        .prefetch_related(
            Prefetch("tasks", queryset=ClaimedTask.objects.with_hours().order_by("-claimed_on", "-pk")),
            Prefetch("reports", queryset=InWorkReport.objects.select_related("sent_by").order_by("-year")),
        )
    )
    return render(
        request,
        "grids/party/member_detail.html",
        {
            "member": member,
            "mobile_records": mobile_records,
            "registrations": registrations,
            "can_edit": can_keep_member(request.user, member),
            "today": timezone.localdate(),
        },
    )


@creates_once
def party_member_create(request: HttpRequest) -> HttpResponse:
    if not can_keep_party_members(request.user):
        raise PermissionDenied
    initial: dict[str, Any] = {}
    if request.GET.get("resident", "").isdigit():
        initial["resident"] = int(request.GET["resident"])
    form = PartyMemberForm(request.POST or None, editor=request.user, initial=initial)
    return _form_page(
        request,
        form,
        member=None,
        saved=lambda member: (
            _("%(member)s was added to %(organisation)s.") % {"member": member, "organisation": member.organisation}
        ),
        title=_("New party member"),
        submit=_("Save member"),
    )


def party_member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _visible_member(request, pk)
    _require_keeper(request.user, member)
    form = PartyMemberForm(request.POST or None, instance=member, editor=request.user)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda member: _("%(member)s was saved.") % {"member": member},
        title=_("Edit %(member)s") % {"member": member},
        submit=_("Save member"),
    )


# --- Mobile members --------------------------------------------------------------------------


@creates_once
def mobile_membership_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Start a member's mobile record (outflow or inflow)."""
    member = _visible_member(request, pk)
    _require_keeper(request.user, member)
    form = MobileMembershipForm(request.POST or None, member=member)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda record: _("The mobile record of %(member)s was saved.") % {"member": member},
        title=_("New mobile record"),
        submit=_("Save mobile record"),
    )


def mobile_membership_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change or end a mobile record (set its last day)."""
    record = get_object_or_404(
        MobileMembership.objects.visible_to(request.user).select_related("member__organisation"), pk=pk
    )
    member = record.member
    _require_keeper(request.user, member)
    form = MobileMembershipForm(request.POST or None, instance=record, member=member)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda record: _("The mobile record of %(member)s was saved.") % {"member": member},
        title=_("Edit mobile record"),
        submit=_("Save mobile record"),
        intro=_("To end the record, set its last day."),
    )


@creates_once
def attendance_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a session of organisational life a mobile member attended."""
    record = get_object_or_404(
        MobileMembership.objects.visible_to(request.user).select_related("member__organisation"), pk=pk
    )
    member = record.member
    _require_keeper(request.user, member)
    form = OrganisationalLifeForm(request.POST or None, mobile_membership=record)
    form.instance.recorded_by = request.user
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda attendance: (
            _("%(session)s on %(date)s was recorded for %(member)s.")
            % {"session": attendance.get_kind_display(), "date": attendance.date.isoformat(), "member": member}
        ),
        title=_("Organisational life attended"),
        submit=_("Record attendance"),
        intro=f"{record.get_direction_display()} · {record.place}",
    )


# --- In-work members -------------------------------------------------------------------------


@creates_once
def registration_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Register an in-work member with the community (双报到)."""
    member = _visible_member(request, pk)
    _require_keeper(request.user, member)
    form = InWorkRegistrationForm(request.POST or None, member=member, editor=request.user)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda registration: _("%(member)s is registered with the community.") % {"member": member},
        title=_("Register as an in-work member"),
        submit=_("Save registration"),
        intro=_("An in-work party member registers with the community where they live and serves it (双报到)."),
    )


def _visible_registration(request: HttpRequest, pk: int) -> InWorkRegistration:
    return get_object_or_404(
        InWorkRegistration.objects.visible_to(request.user).select_related(
            "member__organisation__community", "employer_organisation"
        ),
        pk=pk,
    )


def registration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    registration = _visible_registration(request, pk)
    member = registration.member
    _require_keeper(request.user, member)
    form = InWorkRegistrationForm(request.POST or None, instance=registration, member=member, editor=request.user)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda registration: _("The registration of %(member)s was saved.") % {"member": member},
        title=_("Edit registration"),
        submit=_("Save registration"),
        intro=_("To end the registration, set the day it ended."),
    )


@creates_once
def task_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Claim a community task for an in-work member (认领)."""
    registration = _visible_registration(request, pk)
    member = registration.member
    _require_keeper(request.user, member)
    form = ClaimedTaskForm(request.POST or None, registration=registration)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda task: _("%(member)s claimed “%(task)s”.") % {"member": member, "task": task},
        title=_("Claim a community task"),
        submit=_("Claim task"),
    )


def _visible_task(request: HttpRequest, pk: int) -> ClaimedTask:
    return get_object_or_404(
        ClaimedTask.objects.visible_to(request.user).select_related("registration__member__organisation"), pk=pk
    )


def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a claimed task: complete or withdraw it."""
    task = _visible_task(request, pk)
    member = task.registration.member
    _require_keeper(request.user, member)
    form = ClaimedTaskForm(request.POST or None, instance=task, registration=task.registration)
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda task: _("“%(task)s” was saved.") % {"task": task},
        title=_("Edit task"),
        submit=_("Save task"),
        intro=task.title,
    )


@creates_once
def hours_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record hours served on a claimed task."""
    task = _visible_task(request, pk)
    member = task.registration.member
    _require_keeper(request.user, member)
    form = ServiceHoursForm(request.POST or None, task=task)
    form.instance.recorded_by = request.user
    return _form_page(
        request,
        form,
        member=member,
        saved=lambda record: (
            _("%(hours)s hours on %(date)s were recorded for “%(task)s”.")
            % {"hours": record.hours, "date": record.served_on.isoformat(), "task": task}
        ),
        title=_("Record hours served"),
        submit=_("Record hours"),
        intro=task.title,
    )


# --- Yearly reports ----------------------------------------------------------------------------


def _year_or_404(year: int) -> int:
    if not 2000 <= year <= timezone.localdate().year:
        raise Http404
    return year


def in_work_report(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """The year's report of one in-work member for their employer's party organisation: the
    tasks of the year with the hours served on each, and the total (summed in SQL). Printable."""
    _year_or_404(year)
    registration = _visible_registration(request, pk)
    tasks = ClaimedTask.objects.visible_to(request.user).filter(registration=registration).in_year(year)
    tasks = tasks.with_hours(year).order_by("claimed_on", "pk")
    total = ServiceHours.objects.visible_to(request.user).filter(task__registration=registration).in_year(year).total()
    report = InWorkReport.objects.filter(registration=registration, year=year).select_related("sent_by").first()
    return render(
        request,
        "grids/party/report.html",
        {
            "registration": registration,
            "member": registration.member,
            "year": year,
            "tasks": tasks,
            "total": total,
            "report": report,
            "form": MarkReportSentForm(),
            "can_edit": can_keep_member(request.user, registration.member),
        },
    )


@require_POST
def in_work_report_sent(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    """Mark the year's report as sent to the employer's organisation (who and when are recorded)."""
    _year_or_404(year)
    registration = _visible_registration(request, pk)
    _require_keeper(request.user, registration.member)
    form = MarkReportSentForm(request.POST)
    if form.is_valid():
        try:
            # Sent already (ReportAlreadySent, saying by whom and when) rises to RefusalMiddleware.
            mark_in_work_report_sent(
                registration=registration, year=year, by=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The %(year)s report was marked as sent.") % {"year": year})
    return redirect("grids:in_work_report", pk=registration.pk, year=year)


def _year_registrations(request: HttpRequest, year: int) -> QuerySet:
    """The registrations of the year in the viewer's scope, with the year's hours (SQL SUM),
    the year's tasks and the year's report attached."""
    return (
        InWorkRegistration.objects.visible_to(request.user)
        .active_in(year)
        .with_hours(year)
        .select_related("member__organisation__community", "employer_organisation")
        .prefetch_related(
            Prefetch(
                "tasks",
                queryset=ClaimedTask.objects.in_year(year).with_hours(year).order_by("claimed_on", "pk"),
                to_attr="year_tasks",
            ),
            Prefetch(
                "reports",
                queryset=InWorkReport.objects.filter(year=year).select_related("sent_by"),
                to_attr="year_reports",
            ),
        )
        .order_by("member__organisation__community_id", "member__name", "pk")
    )


def in_work_report_list(request: HttpRequest, year: int) -> HttpResponse:
    """The year's reports of every in-work member in scope: hours, tasks, whether sent."""
    _year_or_404(year)
    registrations = _year_registrations(request, year)
    this_year = timezone.localdate().year
    return render(
        request,
        "grids/party/report_list.html",
        {
            "year": year,
            "registrations": registrations,
            "years": list(range(this_year, this_year - 5, -1)),
            "show_community": _sees_several_communities(request.user),
        },
    )


def in_work_report_export(request: HttpRequest, year: int) -> HttpResponse:
    """The year's reports of every in-work member in scope as an .xlsx file, one row each."""
    _year_or_404(year)
    registrations = _year_registrations(request, year)

    def sent(registration: InWorkRegistration) -> Any:
        return registration.year_reports[0].sent_at if registration.year_reports else None

    def sent_by(registration: InWorkRegistration) -> str:
        return str(registration.year_reports[0].sent_by) if registration.year_reports else ""

    columns = [
        Column(_("Party member"), "member.name"),
        Column(_("Party organisation"), "member.organisation.name"),
        Column(_("Employer's party organisation"), "employer", width=30),
        Column(_("Registered on"), "registered_on"),
        Column(
            _("Tasks"),
            lambda registration: "; ".join(
                f"{task.title} ({task.hours_total:.1f})" for task in registration.year_tasks
            ),
            width=60,
        ),
        Column(_("Hours served"), "hours_total"),
        Column(_("Report sent"), sent),
        Column(_("Sent by"), sent_by),
    ]
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    content = export_workbook(
        registrations,
        columns,
        sheet_title=_("In-work members %(year)s") % {"year": year},
        watermark=_("Exported by %(person)s at %(time)s") % {"person": request.user, "time": when},
    )
    record_access(action=AccessAction.EXPORT, request=request, target=f"party:in-work-reports:{year}")
    return xlsx_response(content, _("in-work-party-members-%(year)s") % {"year": year})
