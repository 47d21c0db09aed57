"""Pages of the people registry: residents (list with search, page, create, edit, move out),
reveals of masked values, group memberships, rented flats, the group access table, exports
(masked by default; unmasked with the community admin's approval) and the .xlsx import.

Every queryset goes through visible_to (residents: Resident.objects.visible_to; groups:
GroupMembership.objects.visible_to, the one rule for who sees which group); changes go through
editable_by and grids.actions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from grids import importing
from grids.access import can_edit_people
from grids.actions import (
    REVEAL_REASON_TEXT_LENGTH,
    ExportRefused,
    RevealReasonMissing,
    can_request_unmasked_export,
    claim_export_approval,
    decide_export_request,
    end_group_membership,
    end_tenancy,
    find_or_create_dwelling,
    move_out_resident,
    record_group_membership,
    record_tenancy,
    request_unmasked_export,
    reveal_resident_field,
    save_resident,
)
from grids.forms.people import (
    EndMembershipForm,
    ExportDecisionForm,
    ExportRequestForm,
    GroupAccessRuleForm,
    GroupMembershipForm,
    MoveOutForm,
    ResidentForm,
    ResidentImportForm,
    ResidentSearchForm,
    TenancyForm,
    dwelling_for,
)
from grids.models import (
    Dwelling,
    ExportApproval,
    ExportStatus,
    GroupAccessRule,
    GroupKind,
    GroupMembership,
    Resident,
    Tenancy,
    manageable_group_kinds,
)
from grids.models.people import category_of
from shanglong import roles
from shanglong.actions import record_access
from shanglong.form_tokens import creates_once, form_created
from shanglong.models import AccessAction, Community, RevealReason
from shanglong.refusals import Refusal, refuse_form
from shanglong.xlsx import Column, export_workbook, xlsx_response

PAGE_SIZE = 50


def _require_people_access(user: Any) -> None:
    """The people registry is for people who work for a community; merchants, volunteers and
    the public get 403 (and their visible_to is empty anyway)."""
    if not (user.is_superuser or roles.works_for_community(user)):
        raise PermissionDenied


def _sees_groups(user: Any) -> bool:
    """Whether to offer group filters: subdistrict staff never see groups."""
    return bool(user.is_superuser or (roles.works_for_community(user) and not roles.is_subdistrict_staff(user)))


def _people_nav(user: Any) -> dict[str, bool]:
    """What the registry's sub-navigation offers the person, on every page that shows it."""
    return {
        "can_import": can_edit_people(user),
        "show_group_access": user.is_superuser or roles.is_community_staff(user),
    }


def _editable_resident(request: HttpRequest, pk: int) -> Resident:
    """The resident of a page that changes them: one the person sees and may change, or 404."""
    _require_people_access(request.user)
    return get_object_or_404(Resident.objects.visible_to(request.user).editable_by(request.user).with_address(), pk=pk)


def visible_groups_prefetch(user: Any, *, current_only: bool) -> Prefetch:
    groups = GroupMembership.objects.visible_to(user).select_related("department").order_by("kind", "-since")
    if current_only:
        groups = groups.current()
    return Prefetch("group_memberships", queryset=groups, to_attr="visible_groups")


def filtered_residents(request: HttpRequest, form: ResidentSearchForm) -> QuerySet:
    """The residents of the list, the export and the API, searched and filtered; group filters
    through GroupMembership.visible_to only."""
    user = request.user
    residents = Resident.objects.visible_to(user)
    data = form.cleaned_data if form.is_valid() else {}
    if data.get("q"):
        residents = residents.search(data["q"])
    if data.get("kind"):
        members = GroupMembership.objects.visible_to(user).current().filter(kind=data["kind"])
        residents = residents.filter(pk__in=members.values("resident_id"))
    if not data.get("moved_out"):
        residents = residents.living_here()
    return residents.order_by("name", "pk")


# --- List and page -------------------------------------------------------------------------


def resident_list(request: HttpRequest) -> HttpResponse:
    """Residents in the viewer's scope, with search; each with the groups the viewer may see."""
    _require_people_access(request.user)
    form = ResidentSearchForm(request.GET or None)
    residents = (
        filtered_residents(request, form)
        .with_address()
        .prefetch_related(visible_groups_prefetch(request.user, current_only=True))
    )
    page = Paginator(residents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grids/people/resident_list.html",
        {
            "page": page,
            "form": form,
            "sees_groups": _sees_groups(request.user),
            "can_edit": can_edit_people(request.user),
            **_people_nav(request.user),
        },
    )


def _address_history(resident: Resident) -> list[dict[str, Any]]:
    """Where the resident lived, from the change history: one line per address, oldest first."""
    records = list(resident.history.order_by("history_date", "history_id").values("dwelling_id", "history_date"))
    lines: list[dict[str, Any]] = []
    for record in records:
        if not lines or lines[-1]["dwelling_id"] != record["dwelling_id"]:
            lines.append({"dwelling_id": record["dwelling_id"], "since": record["history_date"]})
    dwellings = Dwelling.objects.with_address().in_bulk([line["dwelling_id"] for line in lines])
    for line in lines:
        dwelling = dwellings.get(line["dwelling_id"])
        line["address"] = dwelling.address if dwelling else "—"
    return lines


def _change_history(resident: Resident) -> list[dict[str, Any]]:
    """Each saved change: when, by whom, which fields (names only for masked values)."""
    records = list(resident.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])
    changes = []
    for record, older in zip(records, [*records[1:], None], strict=True):
        if older is None:
            fields = []
        else:
            delta = record.diff_against(older)
            fields = [
                str(Resident._meta.get_field(change.field).verbose_name)
                for change in delta.changes
                if change.field != "id_number_hash"
            ]
        changes.append(
            {
                "when": record.history_date,
                "who": record.history_user.display_name if record.history_user else _("the system"),
                "type": record.get_history_type_display(),
                "fields": fields,
            }
        )
    return changes


def _resident_page(
    request: HttpRequest,
    pk: int,
    *,
    revealed: dict[str, str] | None = None,
    reveal_refused: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    resident = get_object_or_404(
        Resident.objects.visible_to(user).select_related("dwelling__building__compound__grid__community", "household"),
        pk=pk,
    )
    groups = list(
        GroupMembership.objects.visible_to(user)
        .filter(resident=resident)
        .select_related("department")
        .order_by("-since", "kind")
    )
    editable_groups = set(
        GroupMembership.objects.editable_by(user).filter(resident=resident).values_list("pk", flat=True)
    )
    members = []
    if resident.household_id:
        members = list(
            Resident.objects.visible_to(user).filter(household_id=resident.household_id).order_by("birth_date", "pk")
        )
    tenancies = list(
        Tenancy.objects.visible_to(user)
        .filter(Q(tenant=resident) | Q(dwelling_id=resident.dwelling_id))
        .select_related("owner", "tenant", "dwelling__building__compound")
    )
    can_edit = Resident.objects.editable_by(user).filter(pk=resident.pk).exists()
    can_reveal = Resident.objects.revealable_by(user).filter(pk=resident.pk).exists()
    revealed = revealed or {}
    response = render(
        request,
        "grids/people/resident_detail.html",
        {
            "resident": resident,
            "groups": [
                {
                    "membership": group,
                    "category": category_of(group.kind).label,
                    "editable": group.pk in editable_groups,
                }
                for group in groups
            ],
            "members": members,
            "tenancies": tenancies,
            "address_history": _address_history(resident),
            "changes": _change_history(resident),
            "can_edit": can_edit,
            "can_reveal": can_reveal,
            "can_add_group": can_edit and bool(manageable_group_kinds(user, resident)) and not resident.has_moved_out,
            "id_number_shown": revealed.get("id_number") or resident.masked_id_number,
            "mobile_shown": revealed.get("mobile") or resident.masked_mobile or "—",
            "revealed": revealed,
            "reveal_reasons": RevealReason.choices,
            "reveal_reason_other": RevealReason.OTHER,
            "reveal_reason_length": REVEAL_REASON_TEXT_LENGTH,
            # A reveal refused for want of a reason: its form opens again with the message and
            # what was chosen and typed.
            "reveal_refused": reveal_refused or {},
            **_people_nav(user),
        },
        status=status,
    )
    if revealed:
        response["Cache-Control"] = "private, no-store"
    return response


def resident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident: identity (masked), address and household, rented flats, the groups the
    viewer may see, where they lived and what changed."""
    _require_people_access(request.user)
    return _resident_page(request, pk)


@require_POST
@never_cache
def resident_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a masked value in full (identity number or mobile) to a person entitled to it, for
    the reason they choose, recorded in the access log. Answers JSON to the page's script, or
    the page again; without a reason the reveal form comes back with a 400 and nothing shown."""
    _require_people_access(request.user)
    resident = get_object_or_404(Resident.objects.visible_to(request.user), pk=pk)
    field = request.POST.get("field", "")
    reason = request.POST.get("reason", "")
    reason_text = request.POST.get("reason_text", "")
    wants_json = request.headers.get("accept", "").startswith("application/json")
    try:
        value = reveal_resident_field(
            resident=resident, field=field, reason=reason, reason_text=reason_text, request=request
        )
    except RevealReasonMissing as refusal:
        if wants_json:
            return JsonResponse(
                {"detail": str(refusal), "code": refusal.code, "field": refusal.field}, status=refusal.status_code
            )
        refused = {"field": field, "message": str(refusal), "reason": reason, "reason_text": reason_text}
        return _resident_page(request, pk, reveal_refused=refused, status=refusal.status_code)
    if wants_json:
        return JsonResponse({"field": field, "value": value or "—"}, headers={"Cache-Control": "private, no-store"})
    return _resident_page(request, pk, revealed={field: value or "—"})


# --- Create, edit, move out ----------------------------------------------------------------


@creates_once
def resident_create(request: HttpRequest) -> HttpResponse:
    _require_people_access(request.user)
    if not can_edit_people(request.user):
        raise PermissionDenied
    return _resident_form_page(request, None)


def resident_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _resident_form_page(request, _editable_resident(request, pk))


def _resident_form_page(request: HttpRequest, resident: Resident | None) -> HttpResponse:
    """A new resident (`resident` None) or a change: the address names a dwelling, found or
    created; the number, when typed, is stored with its keyed hash (grids.actions.save_resident)."""
    form = ResidentForm(request.POST or None, instance=resident, editor=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save(commit=False)
        saved.dwelling = find_or_create_dwelling(**dwelling_for(form))
        save_resident(resident=saved, id_number=form.cleaned_data.get("id_number"), by=request.user)
        form_created(request, saved)
        done = _("%(name)s was saved.") if resident is not None else _("%(name)s was added to the registry.")
        messages.success(request, done % {"name": saved.name})
        return redirect("grids:resident_detail", pk=saved.pk)
    return render(request, "grids/people/resident_form.html", {"form": form, "resident": resident})


def resident_move_out(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that a resident left: the record stays with the date (nothing is deleted)."""
    resident = _editable_resident(request, pk)
    form = MoveOutForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            move_out_resident(resident=resident, on=form.cleaned_data["moved_out"], by=request.user)
        except Refusal as refusal:
            status = refuse_form(form, refusal)
        except ValidationError as error:
            form.add_error("moved_out", error)
        else:
            messages.success(request, _("%(name)s moved out; the record stays.") % {"name": resident.name})
            return redirect("grids:resident_detail", pk=resident.pk)
    return render(request, "grids/people/move_out.html", {"form": form, "resident": resident}, status=status)


# --- Groups --------------------------------------------------------------------------------


@creates_once
def membership_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a resident's special group or key-person membership (kinds the editor may see)."""
    resident = _editable_resident(request, pk)
    if not manageable_group_kinds(request.user, resident):
        raise PermissionDenied
    form = GroupMembershipForm(request.POST or None, editor=request.user, resident=resident)
    if request.method == "POST" and form.is_valid():
        try:
            membership = record_group_membership(membership=form.save(commit=False), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form_created(request, membership)
            messages.success(
                request,
                _("%(name)s is recorded in the group %(group)s.")
                % {"name": resident.name, "group": membership.get_kind_display()},
            )
            return redirect("grids:resident_detail", pk=resident.pk)
    return render(request, "grids/people/membership_form.html", {"form": form, "resident": resident})


def membership_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a membership: the last day in the group (leaving is recorded, never deleted)."""
    _require_people_access(request.user)
    membership = get_object_or_404(GroupMembership.objects.editable_by(request.user).select_related("resident"), pk=pk)
    form = EndMembershipForm(request.POST or None, membership=membership)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            end_group_membership(membership=membership, until=form.cleaned_data["until"], by=request.user)
        except Refusal as refusal:
            status = refuse_form(form, refusal)
        else:
            messages.success(request, _("The membership ends on %(until)s.") % {"until": form.cleaned_data["until"]})
            return redirect("grids:resident_detail", pk=membership.resident_id)
    return render(request, "grids/people/membership_end.html", {"form": form, "membership": membership}, status=status)


# --- Rented flats --------------------------------------------------------------------------


@creates_once
def tenancy_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record that the resident rents the flat they live in (出租房屋)."""
    resident = _editable_resident(request, pk)
    form = TenancyForm(request.POST or None, tenant=resident)
    if request.method == "POST" and form.is_valid():
        tenancy = record_tenancy(tenancy=form.save(commit=False), by=request.user)
        form_created(request, tenancy)
        messages.success(request, _("The rented flat was recorded."))
        return redirect("grids:resident_detail", pk=resident.pk)
    return render(request, "grids/people/tenancy_form.html", {"form": form, "resident": resident})


def tenancy_end(request: HttpRequest, pk: int) -> HttpResponse:
    _require_people_access(request.user)
    tenancy = get_object_or_404(Tenancy.objects.visible_to(request.user).editable_by(request.user), pk=pk)
    form = MoveOutForm(request.POST or None)
    form.fields["moved_out"].label = _("Last day of the tenancy")
    if request.method == "POST" and form.is_valid():
        try:
            end_tenancy(tenancy=tenancy, until=form.cleaned_data["moved_out"], by=request.user)
        except ValidationError as error:
            form.add_error("moved_out", error)
        else:
            messages.success(request, _("The tenancy was ended."))
            return redirect("grids:resident_detail", pk=tenancy.tenant_id)
    return render(request, "grids/people/tenancy_end.html", {"form": form, "tenancy": tenancy})


# --- Group access table --------------------------------------------------------------------


def group_access(request: HttpRequest) -> HttpResponse:
    """The community's table of who sees which group. The admin changes it; staff read it."""
    user = request.user
    if not (user.is_superuser or roles.is_community_staff(user)) or not user.community_id:
        raise PermissionDenied
    community = get_object_or_404(Community, pk=user.community_id)
    editable = GroupAccessRule.objects.editable_by(user).filter(community=community).exists()
    rules = {
        rule.kind: rule
        for rule in GroupAccessRule.objects.visible_to(user)
        .filter(community=community)
        .select_related("designated_officer")
    }
    # The table is made with the community (a GET never writes); a kind without a row yet (one
    # added later) is shown at the defaults it works by, and saved when the admin changes it.
    ordered = [rules.get(kind) or GroupAccessRule.at_defaults(community, kind) for kind in GroupKind.values]
    data = request.POST if request.method == "POST" and editable else None
    forms = [GroupAccessRuleForm(data, instance=rule, editor=user, prefix=rule.kind) for rule in ordered]
    if data is not None and all(form.is_valid() for form in forms):
        for form in forms:
            if form.has_changed():
                rule = form.save(commit=False)
                rule._history_user = user
                rule.save()
        messages.success(request, _("The group access table was saved."))
        return redirect("grids:group_access")
    return render(
        request,
        "grids/people/group_access.html",
        {"forms": forms, "editable": editable, "community": community, **_people_nav(user)},
    )


# --- Export --------------------------------------------------------------------------------


def _groups_text(resident: Resident) -> str:
    parts = []
    for membership in resident.visible_groups:
        text = membership.get_kind_display()
        if membership.level:
            text += f" ({membership.get_level_display()})"
        if membership.disability_grade:
            text += f" ({_('grade %(grade)d') % {'grade': membership.disability_grade}})"
        parts.append(text)
    return "; ".join(parts)


def export_columns(*, unmasked: bool) -> list[Column]:
    return [
        Column(gettext_lazy("Name"), "name"),
        Column(gettext_lazy("Gender"), "get_gender_display"),
        Column(gettext_lazy("Date of birth"), "birth_date"),
        Column(gettext_lazy("Identity document"), "get_id_type_display"),
        Column(gettext_lazy("Identity number"), "id_number" if unmasked else "masked_id_number", width=22),
        Column(gettext_lazy("Mobile"), "mobile" if unmasked else "masked_mobile"),
        Column(gettext_lazy("Compound"), "dwelling.building.compound.name"),
        Column(gettext_lazy("Building"), "dwelling.building.name"),
        Column(gettext_lazy("Unit"), "dwelling.unit"),
        Column(gettext_lazy("Room"), "dwelling.room"),
        Column(gettext_lazy("Grid"), "dwelling.building.compound.grid.name"),
        Column(gettext_lazy("Relation to the householder"), "get_relation_display"),
        Column(gettext_lazy("Registration"), "get_registration_status_display"),
        Column(gettext_lazy("Moved in"), "moved_in"),
        Column(gettext_lazy("Moved out"), "moved_out"),
        Column(gettext_lazy("Groups"), _groups_text, width=40),
    ]


def resident_export(request: HttpRequest) -> HttpResponse:
    """The residents of the list (same search and filters) as .xlsx, masked. With full=1: the
    full numbers of the residents the person may reveal, once, with the community admin's
    approval; refused (403, saying why) without it. Every export is logged and watermarked."""
    _require_people_access(request.user)
    user = request.user
    unmasked = request.GET.get("full") == "1"
    form = ResidentSearchForm(request.GET or None)
    residents = filtered_residents(request, form)
    if unmasked:
        if not Resident.objects.revealable_by(user).exists():
            return _export_refused(request, _("Your role does not see full identity numbers and phone numbers."))
        try:
            approval = claim_export_approval(by=user)
        except ExportRefused as refusal:  # its own page: it links to where an approval is asked for
            return _export_refused(request, str(refusal))
        residents = residents.revealable_by(user)
    residents = residents.with_address().prefetch_related(visible_groups_prefetch(user, current_only=True))
    now = timezone.localtime()
    watermark = _("Exported by %(name)s (%(username)s) at %(time)s. Personal information: do not pass on.") % {
        "name": user.display_name,
        "username": user.username,
        "time": now.strftime("%Y-%m-%d %H:%M"),
    }
    rows = list(residents)
    content = export_workbook(rows, export_columns(unmasked=unmasked), sheet_title=_("Residents"), watermark=watermark)
    if unmasked:
        record_access(
            action=AccessAction.EXPORT_UNMASKED,
            request=request,
            target="residents",
            detail=f"approval={approval.pk} rows={len(rows)} query={request.GET.urlencode()}",
        )
    else:
        record_access(
            action=AccessAction.EXPORT,
            request=request,
            target="residents",
            detail=f"rows={len(rows)} query={request.GET.urlencode()}",
        )
    return xlsx_response(content, f"residents-{now:%Y%m%d-%H%M}.xlsx")


def _export_refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "grids/people/export_refused.html", {"message": message}, status=403)


@creates_once
def export_requests(request: HttpRequest) -> HttpResponse:
    """Ask for an unmasked export; see one's requests; the community admin and the subdistrict's
    staff see and decide those they may (ExportApprovalQuerySet.decidable_by)."""
    _require_people_access(request.user)
    user = request.user
    form = ExportRequestForm(request.POST or None) if can_request_unmasked_export(user) else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            form_created(request, request_unmasked_export(by=user, reason=form.cleaned_data["reason"]))
            messages.success(request, _("Your request was sent to the community admin and the subdistrict."))
            return redirect("grids:export_requests")
    approvals = list(
        ExportApproval.objects.visible_to(user)
        .select_related("requested_by", "decided_by", "community")
        .order_by("-requested_at")[:100]
    )
    decidable = set(ExportApproval.objects.decidable_by(user).values_list("pk", flat=True))
    return render(
        request,
        "grids/people/export_requests.html",
        {
            "form": form,
            "approvals": [
                {
                    "approval": approval,
                    "can_decide": approval.pk in decidable
                    and approval.status == ExportStatus.REQUESTED
                    and (approval.requested_by_id != user.pk or user.is_superuser),
                    "usable": approval.requested_by_id == user.pk and approval.is_usable,
                }
                for approval in approvals
            ],
            "decision_form": ExportDecisionForm(),
            **_people_nav(user),
        },
    )


@require_POST
def export_decide(request: HttpRequest, pk: int) -> HttpResponse:
    approval = get_object_or_404(ExportApproval.objects.decidable_by(request.user), pk=pk)
    form = ExportDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or refuse."))
        return redirect("grids:export_requests")
    # A request decided meanwhile (ExportAlreadyDecided) rises to RefusalMiddleware.
    decide_export_request(
        approval=approval,
        approve=form.cleaned_data["decision"] == ExportStatus.APPROVED,
        by=request.user,
        hours=form.cleaned_data["hours"],
    )
    messages.success(request, _("The decision was recorded."))
    return redirect("grids:export_requests")


# --- Import --------------------------------------------------------------------------------


def _require_importer(user: Any) -> None:
    """Community staff import into their community, grid workers into the grids they are on
    duty in (the compounds offered are editable_by theirs)."""
    if not can_edit_people(user):
        raise PermissionDenied


@creates_once
def resident_import(request: HttpRequest) -> HttpResponse:
    """Upload residents from the .xlsx template: all rows or none, with a row-by-row report."""
    _require_importer(request.user)
    form = ResidentImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = importing.import_residents(form.cleaned_data["file"], by=request.user)
        except ValidationError as error:
            form.add_error("file", error)
        else:
            if result.ok:
                form_created(request)
                messages.success(request, _("%(count)d residents were imported.") % {"count": result.written})
                return redirect("grids:resident_list")
    return render(
        request,
        "grids/people/import.html",
        {"form": form, "result": result, "columns": importing.COLUMNS, **_people_nav(request.user)},
    )


def import_template(request: HttpRequest) -> HttpResponse:
    _require_importer(request.user)
    return xlsx_response(importing.template(), "居民导入模板.xlsx")
