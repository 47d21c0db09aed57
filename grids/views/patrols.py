"""Pages of the patrol work: the patrol start page, a patrol on the phone, each grid's patrol
history with its checklist coverage, the checklist and its editing, findings and follow-ups.

Every queryset goes through visible_to; starting patrols and recording findings are bounded by
patrollable_grid_ids, checklist editing by checklist_editable_grid_ids. The patrol page marks
items with small vanilla JS (static/grids/patrol.js: a fetch that gets the item's fragment back)
and works as plain forms without it. Photos and positions are never required (基层减负).
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import BooleanField, Count, ExpressionWrapper, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids import actions
from grids.access import (
    checklist_editable_grid_ids,
    may_keep_checklist,
    may_patrol,
    patrollable_grid_ids,
    require_grid_work_access,
)
from grids.forms.patrols import (
    ApplyTemplateForm,
    ChecklistItemForm,
    FindingDetailsForm,
    FindingForm,
    FollowUpForm,
    MarkForm,
    MoveItemForm,
)
from grids.models import (
    ChecklistItem,
    Compound,
    Finding,
    FindingStatus,
    Grid,
    Outcome,
    Patrol,
    PatrolResult,
    SiteType,
    checklist_templates,
    month_bounds,
)
from grids.models.patrols import FINDING_WORKFLOW
from shanglong import roles
from shanglong.form_tokens import creates_once, form_created
from shanglong.refusals import ActionRefused, Conflict, Refusal, refuse_form

HISTORY_PAGE_SIZE = 20
FINDINGS_PAGE_SIZE = 30
HOME_PAGE_SIZE = 50

# The filters of the findings list: "unresolved" (open or followed up) first, as the default.
FINDING_FILTERS = ["unresolved", *FindingStatus.values, "all"]


def _is_fetch(request: HttpRequest) -> bool:
    """A request from static/grids/patrol.js, which wants the item's fragment back."""
    return request.headers.get("X-Requested-With") == "fetch"


def _compounds_of(user: Any, grids: Any) -> list[Compound]:
    return list(
        Compound.objects.visible_to(user).filter(grid__in=grids).select_related("grid").order_by("grid__code", "name")
    )


# --- Start page ----------------------------------------------------------------------------


def patrol_home(request: HttpRequest) -> HttpResponse:
    """Where a patrol starts: the viewer's open patrols, and the grids in scope with this
    month's patrols and unresolved findings (grid counts, never per person), each with Start
    (for the viewer's own grids), its history and its checklist."""
    user = request.user
    require_grid_work_access(user)
    start, end = month_bounds(timezone.localdate())
    patrols_this_month = (
        Patrol.objects.filter(grid=OuterRef("pk"), started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("grid")
        .annotate(number=Count("pk"))
        .values("number")
    )
    unresolved = (
        Finding.objects.filter(grid=OuterRef("pk"))
        .unresolved()
        .order_by()
        .values("grid")
        .annotate(number=Count("pk"))
        .values("number")
    )
    grids = (
        Grid.objects.visible_to(user)
        .select_related("community")
        .annotate(
            patrols_this_month=Coalesce(Subquery(patrols_this_month, output_field=IntegerField()), Value(0)),
            unresolved_findings=Coalesce(Subquery(unresolved, output_field=IntegerField()), Value(0)),
            can_patrol=ExpressionWrapper(Q(pk__in=patrollable_grid_ids(user)), output_field=BooleanField()),
        )
        .order_by("-can_patrol", "community_id", "code")
    )
    page = Paginator(grids, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    open_patrols = list(Patrol.objects.visible_to(user).in_progress().filter(started_by=user).select_related("grid"))
    return render(
        request,
        "grids/patrols/home.html",
        {
            "page": page,
            "open_patrols": open_patrols,
            "may_record": any(grid.can_patrol for grid in page),
            "show_community": user.is_superuser or roles.is_subdistrict_staff(user),
        },
    )


@require_POST
def patrol_start(request: HttpRequest, grid_pk: int) -> HttpResponse:
    """Start a patrol of one of the viewer's grids (or carry on the one they have open there)."""
    require_grid_work_access(request.user)
    grid = get_object_or_404(Grid.objects.visible_to(request.user), pk=grid_pk)
    # A grid the person may see but not patrol: NotYourGrid (403) rises to RefusalMiddleware.
    patrol, created = actions.start_patrol(grid=grid, by=request.user)
    if not created:
        messages.info(request, _("Your patrol of %(grid)s was still open: carry on.") % {"grid": grid})
    return redirect("grids:patrol_detail", pk=patrol.pk)


# --- A patrol ------------------------------------------------------------------------------


def _patrol_entries(
    request: HttpRequest, patrol: Patrol, *, bound: dict[int, FindingDetailsForm] | None = None
) -> list[dict[str, Any]]:
    """The patrol's items, each with its result, its finding (photos prefetched) and, for a
    failed item the viewer may still describe, the details form. Four queries, whatever the
    number of items: items, results, findings with their photos (two)."""
    user = request.user
    can_mark = patrol.can_be_marked_by(user)
    items = list(patrol.items())
    results = {result.item_id: result for result in PatrolResult.objects.filter(patrol=patrol)}
    findings = {
        finding.result_id: finding
        for finding in Finding.objects.visible_to(user)
        .filter(patrol=patrol, result__isnull=False)
        .select_related("item")  # its title names the item until the worker's line is given
        .prefetch_related("attachments")
    }
    compounds: list[Compound] | None = None
    entries = []
    for item in items:
        result = results.get(item.pk)
        finding = findings.get(result.pk) if result is not None else None
        form = None
        if can_mark and finding is not None:
            form = (bound or {}).get(item.pk)
            if form is None:
                if compounds is None:  # once, for every form of the page
                    compounds = _compounds_of(user, [patrol.grid_id])
                form = FindingDetailsForm(
                    compounds=compounds,
                    prefix=f"item{item.pk}",
                    initial={
                        "description": finding.description,
                        "place": finding.place,
                        "compound": finding.compound_id,
                        "merchant_name": finding.merchant_name,
                    },
                )
        entries.append({"item": item, "result": result, "finding": finding, "form": form})
    return entries


def _patrol_context(request: HttpRequest, patrol: Patrol, **extra: Any) -> dict[str, Any]:
    return {
        "patrol": patrol,
        "can_mark": patrol.can_be_marked_by(request.user),
        "outcomes": Outcome,
        **extra,
    }


def _patrol_page(
    request: HttpRequest, patrol: Patrol, *, bound: dict[int, FindingDetailsForm] | None = None, status: int = 200
) -> HttpResponse:
    """The whole patrol page (with a refused details form and what was typed, when bound)."""
    entries = _patrol_entries(request, patrol, bound=bound)
    context = _patrol_context(
        request,
        patrol,
        entries=entries,
        marked=sum(1 for entry in entries if entry["result"] is not None),
        failed=sum(1 for entry in entries if entry["finding"] is not None),
    )
    return render(request, "grids/patrols/patrol.html", context, status=status)


def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A patrol: while open, its walker marks each item pass, fail or not applicable (each
    saved as it is marked) and adds what they saw to a fail; ended, it is the record."""
    require_grid_work_access(request.user)
    patrol = get_object_or_404(Patrol.objects.visible_to(request.user).select_related("grid", "started_by"), pk=pk)
    return _patrol_page(request, patrol)


def _item_response(
    request: HttpRequest,
    patrol: Patrol,
    item: ChecklistItem,
    *,
    status: int = 200,
    form: FindingDetailsForm | None = None,
    note: str = "",
) -> HttpResponse:
    """After a write on one item: its fragment for the script, else back to the patrol page at
    the item."""
    if not _is_fetch(request):
        if note:
            (messages.success if status == 200 else messages.error)(request, note)
        return redirect(reverse("grids:patrol_detail", args=[patrol.pk]) + f"#item-{item.pk}")
    bound = {item.pk: form} if form is not None else None
    entries = [entry for entry in _patrol_entries(request, patrol, bound=bound) if entry["item"].pk == item.pk]
    # An item taken off the checklist since the page was shown is not among them (ItemNotOnPatrol):
    # its fragment still carries the refusal.
    entry = entries[0] if entries else {"item": item, "result": None, "finding": None, "form": None}
    context = _patrol_context(request, patrol, entry=entry, note=note, note_is_error=status != 200)
    return render(request, "grids/patrols/patrol.html#item", context, status=status)


def _patrol_and_item(request: HttpRequest, pk: int, item_pk: int) -> tuple[Patrol, ChecklistItem]:
    patrol = get_object_or_404(Patrol.objects.visible_to(request.user).select_related("grid", "started_by"), pk=pk)
    item = get_object_or_404(
        ChecklistItem.objects.visible_to(request.user).filter(checklist__grid_id=patrol.grid_id), pk=item_pk
    )
    if not patrol.is_walked_by(request.user):
        raise PermissionDenied
    return patrol, item


@require_POST
def patrol_mark(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Mark one item. Saved at once; marking again changes the same result."""
    require_grid_work_access(request.user)
    patrol, item = _patrol_and_item(request, pk, item_pk)
    form = MarkForm(request.POST)
    if not form.is_valid():
        return _item_response(request, patrol, item, status=400, note=_("Choose pass, fail or not applicable."))
    outcome, description = form.cleaned_data["outcome"], form.cleaned_data["description"].strip()
    try:
        _result, finding = actions.mark_patrol_item(patrol=patrol, item=item, outcome=outcome, by=request.user)
        if finding is not None and description:
            actions.describe_finding(finding=finding, by=request.user, description=description)
    except actions.PatrolError as error:  # the item's fragment carries the refusal for the script
        return _item_response(request, patrol, item, status=error.status_code, note=str(error))
    if finding is not None and not description and not finding.description:
        # The fail is saved; the details form below asks for the line that titles it.
        return _item_response(request, patrol, item, note=_("Not met. Say in one line what is wrong."))
    return _item_response(request, patrol, item)


def _refused_details(
    request: HttpRequest, patrol: Patrol, item: ChecklistItem, form: FindingDetailsForm, status: int = 400
) -> HttpResponse:
    """The details form again with its errors (and what was typed): the item's fragment for
    the script, else the whole patrol page."""
    if _is_fetch(request):
        return _item_response(request, patrol, item, status=status, form=form)
    return _patrol_page(request, patrol, bound={item.pk: form}, status=status)


@require_POST
def patrol_describe(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """Add what was seen to a failed item's finding: a note, the place, photos, a position."""
    require_grid_work_access(request.user)
    patrol, item = _patrol_and_item(request, pk, item_pk)
    finding = Finding.objects.visible_to(request.user).filter(patrol=patrol, result__item=item).first()
    if not patrol.is_open:
        return _item_response(request, patrol, item, status=409, note=str(actions.PatrolAlreadyEnded.message))
    if finding is None:
        return _item_response(request, patrol, item, status=409, note=_("Mark the item as failed first."))
    form = FindingDetailsForm(
        request.POST, request.FILES, compounds=_compounds_of(request.user, [patrol.grid_id]), prefix=f"item{item.pk}"
    )
    if not form.is_valid():
        return _refused_details(request, patrol, item, form)
    data = form.cleaned_data
    try:
        actions.describe_finding(
            finding=finding,
            by=request.user,
            description=data["description"],
            place=data["place"],
            compound=data["compound"],
            clear_compound=data["compound"] is None,
            merchant_name=data["merchant_name"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            photos=data["photos"],
        )
    except actions.PatrolError as error:
        if error.field in form.fields:  # about what was typed (too many photos): on the form, with it
            return _refused_details(request, patrol, item, form, status=refuse_form(form, error))
        return _item_response(request, patrol, item, status=error.status_code, note=str(error))
    return _item_response(request, patrol, item, note=_("Saved."))


@require_POST
def patrol_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End the patrol. Ending it again changes nothing and says so."""
    require_grid_work_access(request.user)
    patrol = get_object_or_404(Patrol.objects.visible_to(request.user).with_tally(), pk=pk)
    if not patrol.is_walked_by(request.user):
        raise PermissionDenied
    if patrol.is_open and request.POST.get("confirm") != "1":
        left = patrol.items().count() - patrol.marked
        if left > 0:  # ask first, saying how many are left (patrol.js asks in the page)
            return render(request, "grids/patrols/end_confirm.html", {"patrol": patrol, "left": left})
    try:
        actions.end_patrol(patrol=patrol, by=request.user)
    except actions.PatrolAlreadyEnded as error:
        messages.info(request, str(error))
    else:
        messages.success(
            request,
            _("Patrol ended: %(marked)d items marked, %(failed)d failed.")
            % {"marked": patrol.marked, "failed": patrol.failed},
        )
    return redirect("grids:patrol_detail", pk=patrol.pk)


# --- History and coverage ------------------------------------------------------------------


def _month_from(value: str | None) -> datetime.date:
    today = timezone.localdate()
    if value:
        try:
            chosen = datetime.datetime.strptime(value, "%Y-%m").date()  # noqa: DTZ007 (a calendar month)
        except ValueError:
            return today.replace(day=1)
        if datetime.date(2000, 1, 1) <= chosen <= today:
            return chosen
    return today.replace(day=1)


def patrol_history(request: HttpRequest, grid_pk: int) -> HttpResponse:
    """A grid's patrols in a month and the checklist's coverage: how often each item was
    checked, failed or found not applicable, counted in the database in one query. It
    describes the checklist's coverage, never the people (no per-person counts)."""
    user = request.user
    require_grid_work_access(user)
    grid = get_object_or_404(
        Grid.objects.visible_to(user)
        .select_related("community")
        .annotate(can_patrol=ExpressionWrapper(Q(pk__in=patrollable_grid_ids(user)), output_field=BooleanField())),
        pk=grid_pk,
    )
    month = _month_from(request.GET.get("month"))
    start, end = month_bounds(month)
    coverage = list(
        ChecklistItem.objects.visible_to(user)
        .filter(checklist__grid=grid)
        .with_coverage(start, end)
        # Items in use, and retired ones that were still marked that month.
        .filter(Q(retired_at__isnull=True) | Q(checked__gt=0) | Q(not_applicable__gt=0))
        .order_by("position", "pk")
    )
    patrols = (
        Patrol.objects.visible_to(user)
        .filter(grid=grid)
        .started_between(start, end)
        .select_related("started_by")
        .with_tally()
        .order_by("-started_at", "-pk")
    )
    page = Paginator(patrols, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    previous_month = (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    following = (month.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return render(
        request,
        "grids/patrols/history.html",
        {
            "grid": grid,
            "month": month,
            "coverage": coverage,
            "patrol_count": page.paginator.count,
            "never_checked": sum(1 for item in coverage if item.checked == 0 and item.applies_in(month.month)),
            "page": page,
            "previous_month": previous_month,
            "next_month": following if following <= timezone.localdate() else None,
            "can_patrol": grid.can_patrol and grid.is_active,
        },
    )


# --- Checklist -----------------------------------------------------------------------------


def checklist_detail(request: HttpRequest, grid_pk: int) -> HttpResponse:
    """A grid's checklist: the items in use in their order, the retired ones, and for its
    editors the tools to keep it (templates, new items, order, retire)."""
    user = request.user
    require_grid_work_access(user)
    grid = get_object_or_404(
        Grid.objects.visible_to(user)
        .select_related("community", "branch")
        .annotate(editable=ExpressionWrapper(Q(pk__in=checklist_editable_grid_ids(user)), output_field=BooleanField())),
        pk=grid_pk,
    )
    items = list(ChecklistItem.objects.visible_to(user).filter(checklist__grid=grid).order_by("position", "pk"))
    in_use = [item for item in items if not item.is_retired]
    applied = {item.template_key.split(".", 1)[0] for item in items if item.template_key}
    templates = checklist_templates()
    return render(
        request,
        "grids/patrols/checklist.html",
        {
            "grid": grid,
            "in_use": in_use,
            "retired": [item for item in items if item.is_retired],
            "month": timezone.localdate().month,
            "can_edit": grid.editable,
            "template_form": ApplyTemplateForm() if grid.editable else None,
            "templates": [
                {"value": value, "label": label, "applied": value in applied, "size": len(templates[value]["items"])}
                for value, label in SiteType.choices
                if value in templates
            ],
        },
    )


def _editable_grid(request: HttpRequest, grid_pk: int) -> Grid:
    grid = get_object_or_404(Grid.objects.visible_to(request.user), pk=grid_pk)
    if not may_keep_checklist(request.user, grid.pk):
        raise PermissionDenied
    return grid


def _editable_item(request: HttpRequest, pk: int) -> ChecklistItem:
    item = get_object_or_404(ChecklistItem.objects.visible_to(request.user).select_related("checklist__grid"), pk=pk)
    if not may_keep_checklist(request.user, item.checklist.grid_id):
        raise PermissionDenied
    return item


@require_POST
def checklist_apply_template(request: HttpRequest, grid_pk: int) -> HttpResponse:
    """Add a template's items the checklist does not have yet."""
    require_grid_work_access(request.user)
    grid = _editable_grid(request, grid_pk)
    form = ApplyTemplateForm(request.POST)
    if form.is_valid():
        site_type = form.cleaned_data["site_type"]
        added = actions.apply_checklist_template(grid=grid, site_type=site_type, by=request.user)
        label = SiteType(site_type).label
        if added:
            messages.success(
                request,
                _("%(count)d items of the template “%(template)s” were added.")
                % {"count": len(added), "template": label},
            )
        else:
            messages.info(
                request,
                _("The checklist already has every item of the template “%(template)s”; nothing was added.")
                % {"template": label},
            )
    else:
        messages.error(request, _("Choose a template."))
    return redirect("grids:checklist", grid_pk=grid.pk)


@creates_once
def checklist_item_create(request: HttpRequest, grid_pk: int) -> HttpResponse:
    require_grid_work_access(request.user)
    grid = _editable_grid(request, grid_pk)
    form = ChecklistItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        item = actions.add_checklist_item(
            grid=grid,
            text=data["text"],
            guidance=data["guidance"],
            site_type=data["site_type"],
            season_from=data["season_from"],
            season_until=data["season_until"],
            by=request.user,
        )
        form_created(request, item)
        messages.success(request, _("The item was added to the checklist of %(grid)s.") % {"grid": grid})
        return redirect("grids:checklist", grid_pk=grid.pk)
    return render(request, "grids/patrols/checklist_item_form.html", {"form": form, "grid": grid, "item": None})


def checklist_item_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_grid_work_access(request.user)
    item = _editable_item(request, pk)
    grid = item.checklist.grid
    form = ChecklistItemForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item._history_user = request.user
        item.save()
        messages.success(request, _("The item was saved."))
        return redirect("grids:checklist", grid_pk=grid.pk)
    return render(request, "grids/patrols/checklist_item_form.html", {"form": form, "grid": grid, "item": item})


@require_POST
def checklist_item_move(request: HttpRequest, pk: int) -> HttpResponse:
    require_grid_work_access(request.user)
    item = _editable_item(request, pk)
    form = MoveItemForm(request.POST)
    if form.is_valid():
        actions.move_checklist_item(item=item, up=form.cleaned_data["direction"] == "up", by=request.user)
    return redirect(reverse("grids:checklist", args=[item.checklist.grid_id]) + f"#checklist-item-{item.pk}")


@require_POST
def checklist_item_retire(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an item off future patrols; it stays with its results."""
    require_grid_work_access(request.user)
    item = _editable_item(request, pk)
    if actions.retire_checklist_item(item=item, by=request.user):
        messages.success(request, _("“%(item)s” was retired. Its past results stay.") % {"item": item.text})
    else:
        messages.info(request, _("This item had already been retired; nothing was changed."))
    return redirect("grids:checklist", grid_pk=item.checklist.grid_id)


@require_POST
def checklist_item_restore(request: HttpRequest, pk: int) -> HttpResponse:
    require_grid_work_access(request.user)
    item = _editable_item(request, pk)
    if actions.restore_checklist_item(item=item, by=request.user):
        messages.success(request, _("“%(item)s” is back on the checklist.") % {"item": item.text})
    return redirect("grids:checklist", grid_pk=item.checklist.grid_id)


# --- Findings ------------------------------------------------------------------------------


def finding_list(request: HttpRequest) -> HttpResponse:
    """The findings of the grids in scope, newest first: unresolved ones by default."""
    user = request.user
    require_grid_work_access(user)
    shown = request.GET.get("status") or "unresolved"
    if shown not in FINDING_FILTERS:
        shown = "unresolved"
    grids = list(Grid.objects.visible_to(user).only("pk", "code", "name").order_by("community_id", "code"))
    grid_id = request.GET.get("grid", "")
    findings = (
        Finding.objects.visible_to(user)
        .select_related("grid", "item", "compound", "reported_by")
        .annotate(photo_count=Count("attachments"))
        .order_by("-reported_at", "-pk")
    )
    if shown == "unresolved":
        findings = findings.unresolved()
    elif shown != "all":
        findings = findings.filter(status=shown)
    chosen_grid = next((grid for grid in grids if str(grid.pk) == grid_id), None)
    if chosen_grid is not None:
        findings = findings.filter(grid=chosen_grid)
    page = Paginator(findings, FINDINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    labels = dict(FindingStatus.choices)
    return render(
        request,
        "grids/patrols/finding_list.html",
        {
            "page": page,
            "grids": grids,
            "chosen_grid": chosen_grid,
            "shown": shown,
            "filters": [
                (key, _("Unresolved") if key == "unresolved" else _("All") if key == "all" else labels[key])
                for key in FINDING_FILTERS
            ],
        },
    )


@creates_once
def finding_create(request: HttpRequest) -> HttpResponse:
    """Record a finding seen outside a patrol, in one of the viewer's grids."""
    user = request.user
    require_grid_work_access(user)
    grids = list(
        Grid.objects.visible_to(user)
        .filter(pk__in=patrollable_grid_ids(user))
        .active()
        .order_by("community_id", "code")
    )
    if not grids:
        raise PermissionDenied
    initial = {}
    if request.GET.get("grid", "").isdigit():
        initial["grid"] = int(request.GET["grid"])
    form = FindingForm(
        request.POST or None, request.FILES or None, grids=grids, compounds=_compounds_of(user, grids), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            finding = actions.record_finding(
                grid=data["grid"],
                by=user,
                description=data["description"],
                place=data["place"],
                compound=data["compound"],
                merchant_name=data["merchant_name"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                photos=data["photos"],
            )
        except Refusal as refusal:
            return render(request, "grids/patrols/finding_form.html", {"form": form}, status=refuse_form(form, refusal))
        form_created(request, finding)
        messages.success(request, _("The finding was recorded."))
        return redirect("grids:finding_detail", pk=finding.pk)
    return render(request, "grids/patrols/finding_form.html", {"form": form}, status=400 if form.errors else 200)


def _finding_page(request: HttpRequest, finding: Finding, form: FollowUpForm | None, status: int = 200) -> HttpResponse:
    """The finding, its photos, its timeline, and the follow-up form while the viewer has a
    step of FINDING_WORKFLOW to take on it."""
    can_follow_up = bool(FINDING_WORKFLOW.available(request.user, finding))
    if can_follow_up and form is None:
        form = FollowUpForm(initial={"version": finding.version})
    timeline = list(FINDING_WORKFLOW.timeline_of(finding, request.user))
    return render(
        request,
        "grids/patrols/finding_detail.html",
        {
            "finding": finding,
            "photos": list(finding.attachments.order_by("pk")),
            "timeline": timeline,
            "form": form if can_follow_up else None,
        },
        status=status,
    )


def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A finding with its photos and follow-ups, and the follow-up form for its grid's people."""
    require_grid_work_access(request.user)
    finding = get_object_or_404(
        Finding.objects.visible_to(request.user).select_related(
            "grid", "item", "compound", "reported_by", "patrol__started_by"
        ),
        pk=pk,
    )
    return _finding_page(request, finding, None)


@require_POST
def finding_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Append a follow-up; it may close the finding. A finding changed meanwhile is told."""
    require_grid_work_access(request.user)
    finding = get_object_or_404(
        Finding.objects.visible_to(request.user).select_related("grid", "item", "compound", "reported_by"), pk=pk
    )
    if not may_patrol(request.user, finding.grid_id):
        raise PermissionDenied
    form = FollowUpForm(request.POST, request.FILES)
    if not form.is_valid():
        return _finding_page(request, finding, form, status=400)
    try:
        actions.follow_up_finding(
            finding=finding,
            note=form.cleaned_data["note"],
            close=form.cleaned_data["close"],
            by=request.user,
            version=form.cleaned_data["version"],
            attachments=form.cleaned_data["photos"],
        )
    except (ActionRefused, Conflict) as refusal:
        # The page as it is now (the other person's step in the timeline), the refusal in the
        # page's messages, and what was typed kept, with the version just shown: sending it
        # again after reading counts. (NotAllowed rises to RefusalMiddleware.)
        messages.error(request, str(refusal))
        finding.refresh_from_db(fields=["status", "version", "closed_at"])
        kept = request.POST.copy()
        kept["version"] = str(finding.version)
        return _finding_page(request, finding, FollowUpForm(kept), status=refusal.status_code)
    if form.cleaned_data["close"]:
        messages.success(request, _("The finding was closed."))
    else:
        messages.success(request, _("The follow-up was added."))
    return redirect("grids:finding_detail", pk=finding.pk)
