"""Pages of the units' registration with the community (单位双报到): the community's unit
registrations, a registration with its co-building agreement (共建协议) and its three lists
(资源清单, 需求清单, 项目清单), a line added to a list, and a step on a line.

Every queryset goes through visible_to (grids.models.cobuilding: the community's people, the
subdistrict's staff, the unit organisation's secretary); a row outside it is a 404. Writing is
for the community's staff and admin (editable_by, column "edit registry"); a row the person
sees but may not keep is a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grids.access import require_grid_work_access
from grids.actions import attach_agreement, move_unit_registration_item
from grids.forms.cobuilding import ItemStepForm, UnitRegistrationForm, UnitRegistrationItemForm
from grids.models import (
    UNIT_ITEM_WORKFLOW,
    ItemList,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong import roles
from shanglong.form_tokens import creates_once, form_created
from shanglong.refusals import ActionRefused, Conflict, NotAllowed, Refusal, refuse_form

PAGE_SIZE = 50


def _visible_registrations(request: HttpRequest) -> Any:
    return UnitRegistration.objects.visible_to(request.user).select_related("unit_organisation", "community")


def _kept_registration(request: HttpRequest, pk: int) -> UnitRegistration:
    registration = get_object_or_404(_visible_registrations(request), pk=pk)
    if not UnitRegistration.objects.editable_by(request.user).filter(pk=registration.pk).exists():
        raise NotAllowed
    return registration


def unit_registration_list(request: HttpRequest) -> HttpResponse:
    """The unit registrations the viewer sees, newest first, with how many lines of each list
    are open and done (counted in the same query)."""
    require_grid_work_access(request.user)
    registrations = _visible_registrations(request).with_item_counts().order_by("community_id", "-registered_on", "pk")
    page = Paginator(registrations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grids/cobuilding/registration_list.html",
        {
            "page": page,
            "can_create": UnitRegistration.objects.writable_by(request.user),
            "show_community": request.user.is_superuser or roles.is_subdistrict_staff(request.user),
            "year": timezone.localdate().year,
        },
    )


def _save_registration(request: HttpRequest, form: UnitRegistrationForm) -> UnitRegistration | None:
    """Save the registration and store the agreement file with it, in one transaction: a file
    the action refuses leaves nothing saved, and the refusal is shown on the form."""
    try:
        with transaction.atomic():
            registration = form.save()
            upload = form.cleaned_data.get("agreement_file")
            if upload:
                attach_agreement(registration=registration, uploaded=upload, by=request.user)
    except ActionRefused as refusal:
        refuse_form(form, refusal)
        return None
    return registration


@creates_once
def unit_registration_create(request: HttpRequest) -> HttpResponse:
    """A resident unit's party organisation reports to the community."""
    require_grid_work_access(request.user)
    if not UnitRegistration.objects.writable_by(request.user):
        raise NotAllowed
    form = UnitRegistrationForm(request.POST or None, request.FILES or None, editor=request.user)
    status = 200
    if request.method == "POST":
        registration = _save_registration(request, form) if form.is_valid() else None
        if registration is not None:
            form_created(request, registration)
            messages.success(request, _("%(unit)s is registered with the community.") % {"unit": registration})
            return redirect("grids:unit_registration_detail", pk=registration.pk)
        status = 400
    return render(
        request,
        "grids/cobuilding/registration_form.html",
        {"form": form, "registration": None, "title": _("New unit registration")},
        status=status,
    )


def unit_registration_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a registration: its contact, the agreement, its end (it is not deleted)."""
    require_grid_work_access(request.user)
    registration = _kept_registration(request, pk)
    form = UnitRegistrationForm(request.POST or None, request.FILES or None, instance=registration, editor=request.user)
    status = 200
    if request.method == "POST":
        saved = _save_registration(request, form) if form.is_valid() else None
        if saved is not None:
            messages.success(request, _("The registration was saved."))
            return redirect("grids:unit_registration_detail", pk=saved.pk)
        status = 400
    return render(
        request,
        "grids/cobuilding/registration_form.html",
        {"form": form, "registration": registration, "title": _("Edit the unit registration")},
        status=status,
    )


def _detail_page(
    request: HttpRequest,
    registration: UnitRegistration,
    *,
    failed: ItemStepForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    items = list(
        UnitRegistrationItem.objects.visible_to(user).filter(registration=registration).order_by("created_at", "pk")
    )
    steps: dict[int, list[UnitRegistrationItemStep]] = {}
    for entry in (
        UnitRegistrationItemStep.objects.visible_to(user)
        .filter(item__registration=registration)
        .select_related("by")
        .prefetch_related("attachments")
        .order_by("at", "pk")
    ):
        steps.setdefault(entry.item_id, []).append(entry)
    can_keep = UnitRegistration.objects.editable_by(user).filter(pk=registration.pk).exists()
    lists: dict[str, dict[str, Any]] = {
        value: {"code": value, "label": label, "items": []} for value, label in ItemList.choices
    }
    for item in items:
        # The steps the item's state allows; the keeper was asked once for the whole page.
        offered = UNIT_ITEM_WORKFLOW.actions_from(item.status)
        if failed is not None and failed.item.pk == item.pk:
            form = failed
        elif can_keep and offered:
            form = ItemStepForm(item=item, offered=offered)
        else:
            form = None
        lists[item.item_list]["items"].append({"item": item, "timeline": steps.get(item.pk, []), "form": form})
    return render(
        request,
        "grids/cobuilding/registration_detail.html",
        {
            "registration": registration,
            "agreements": list(registration.attachments.order_by("uploaded_at", "pk")),
            "lists": list(lists.values()),
            "can_keep": can_keep,
            "year": timezone.localdate().year,
        },
        status=status,
    )


def unit_registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A registration: the unit, the agreement (its file downloaded through the scope-checked
    attachment view), and its three lists with each line's status, timeline and step form."""
    require_grid_work_access(request.user)
    registration = get_object_or_404(_visible_registrations(request), pk=pk)
    return _detail_page(request, registration)


@creates_once
def unit_item_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a line to one of the registration's lists (?list=resource|need|project preselects it)."""
    require_grid_work_access(request.user)
    registration = _kept_registration(request, pk)
    initial = {"item_list": request.GET.get("list")} if request.GET.get("list") in ItemList.values else {}
    form = UnitRegistrationItemForm(request.POST or None, registration=registration, initial=initial)
    if request.method == "POST" and form.is_valid():
        item = form.save()
        form_created(request, item)
        messages.success(
            request,
            _("“%(title)s” was added to the %(list)s.")
            % {
                "title": item.title,
                "list": item.get_item_list_display(),
            },
        )
        return redirect("grids:unit_registration_detail", pk=registration.pk)
    return render(
        request,
        "grids/cobuilding/item_form.html",
        {"form": form, "registration": registration},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def unit_item_step(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a step on a line (matched, under way, done, dropped). A line moved or finished
    since the person read it is refused with a clear message and nothing changes; the page
    shows it as it is now, with what was typed and the version just shown."""
    require_grid_work_access(request.user)
    item = get_object_or_404(
        UnitRegistrationItem.objects.visible_to(request.user).select_related(
            "registration__unit_organisation", "registration__community"
        ),
        pk=pk,
    )
    registration = item.registration
    form = ItemStepForm(request.POST, item=item)
    if not form.is_valid():
        return _detail_page(request, registration, failed=form, status=400)
    try:
        entry = move_unit_registration_item(
            item=item,
            action=form.cleaned_data["action"],
            by=request.user,
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except (ActionRefused, Conflict) as refusal:
        # NotAllowed rises to RefusalMiddleware (403).
        return _refused_step(request, item, refusal)
    messages.success(
        request,
        _("“%(title)s”: %(status)s.") % {"title": item.title, "status": entry.status_label()},
    )
    return redirect("grids:unit_registration_detail", pk=registration.pk)


def _refused_step(request: HttpRequest, item: UnitRegistrationItem, refusal: Refusal) -> HttpResponse:
    messages.error(request, str(refusal))
    item.refresh_from_db(fields=["status", "version", "finished_at"])
    offered = UNIT_ITEM_WORKFLOW.actions_from(item.status)
    failed = None
    if offered:
        # What was typed is kept, with the version just shown: sending it again after reading counts.
        action = request.POST.get(f"item{item.pk}-action")
        initial = {
            "version": item.version,
            "note": request.POST.get(f"item{item.pk}-note", ""),
            "action": action if action in offered else None,
        }
        failed = ItemStepForm(item=item, offered=offered, initial=initial)
    return _detail_page(request, item.registration, failed=failed, status=refusal.status_code)
