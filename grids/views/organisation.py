"""Pages of the organisation registry: grids, compounds, party organisations and the map.

Every queryset goes through visible_to (or, for the map's boundaries, mapped_for); editing is
for community staff and goes through editable_by (grids.access, column "edit registry").
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import can_edit_registry, require_grid_work_access
from grids.actions import end_assignment
from grids.forms.organisation import (
    AssignmentForm,
    CompoundForm,
    EndAssignmentForm,
    GridFilterForm,
    GridForm,
    JointMeetingMemberForm,
)
from grids.models import (
    Compound,
    Grid,
    GridAssignment,
    GridKind,
    JointMeetingMember,
    OrganisationKind,
    PartyOrganisation,
    may_keep_roster,
)
from shanglong import roles
from shanglong.form_tokens import creates_once, form_created
from shanglong.models import Community
from shanglong.refusals import NotAllowed, Refusal, refuse_form

PAGE_SIZE = 50


def _require_editor(user: Any) -> None:
    if not can_edit_registry(user):
        raise NotAllowed


def _sees_several_communities(user: Any) -> bool:
    return user.is_superuser or roles.is_subdistrict_staff(user)


# --- Grids ---------------------------------------------------------------------------------


def grid_list(request: HttpRequest) -> HttpResponse:
    """The grids in the viewer's scope with their kind, branch and who is on duty today;
    filterable by kind (一般/专属网格) and site."""
    require_grid_work_access(request.user)
    filters = GridFilterForm(request.GET)
    grids = filters.filter(
        Grid.objects.visible_to(request.user)
        .select_related("branch", "community")
        .with_people_on_duty(request.user)
        .order_by("community_id", "code")
    )
    page = Paginator(grids, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "grids/grid_list.html",
        {
            "page": page,
            "filters": filters,
            "can_edit": can_edit_registry(request.user),
            "show_community": _sees_several_communities(request.user),
        },
    )


def grid_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One grid: its branch, compounds and the people on duty now."""
    require_grid_work_access(request.user)
    grid = get_object_or_404(
        Grid.objects.visible_to(request.user)
        .select_related("branch__secretary", "community")
        .with_people_on_duty(request.user),
        pk=pk,
    )
    compounds = Compound.objects.visible_to(request.user).filter(grid=grid).order_by("name")
    editable = Grid.objects.editable_by(request.user).filter(pk=grid.pk).exists()
    return render(request, "grids/grid_detail.html", {"grid": grid, "compounds": compounds, "can_edit": editable})


@creates_once
def grid_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request.user)
    form = GridForm(request.POST or None, editor=request.user)
    if request.method == "POST" and form.is_valid():
        grid = form.save()
        form_created(request, grid)
        messages.success(request, _("Grid %(grid)s was created.") % {"grid": grid})
        return redirect("grids:grid_detail", pk=grid.pk)
    return render(request, "grids/grid_form.html", {"form": form, "grid": None})


def grid_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request.user)
    grid = get_object_or_404(Grid.objects.visible_to(request.user).editable_by(request.user), pk=pk)
    form = GridForm(request.POST or None, instance=grid, editor=request.user)
    if request.method == "POST" and form.is_valid():
        grid = form.save()
        messages.success(request, _("Grid %(grid)s was saved.") % {"grid": grid})
        return redirect("grids:grid_detail", pk=grid.pk)
    return render(request, "grids/grid_form.html", {"form": form, "grid": grid})


# --- Assignments ---------------------------------------------------------------------------


@creates_once
def assignment_create(request: HttpRequest) -> HttpResponse:
    """Put a person on duty in a grid."""
    _require_editor(request.user)
    initial = {}
    if request.GET.get("grid", "").isdigit():
        initial["grid"] = int(request.GET["grid"])
    form = AssignmentForm(request.POST or None, editor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        assignment = form.save()
        form_created(request, assignment)
        messages.success(
            request,
            _("%(person)s is on duty in %(grid)s as %(duty)s.")
            % {"person": assignment.user, "grid": assignment.grid, "duty": assignment.get_duty_display()},
        )
        return redirect("grids:grid_detail", pk=assignment.grid_id)
    return render(request, "grids/assignment_form.html", {"form": form})


def assignment_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a person's duty in a grid (the record stays: it is part of the grid's trace)."""
    _require_editor(request.user)
    assignment = get_object_or_404(
        GridAssignment.objects.visible_to(request.user).editable_by(request.user).select_related("grid", "user"),
        pk=pk,
    )
    form = EndAssignmentForm(request.POST or None, assignment=assignment)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            end_assignment(assignment=assignment, until=form.cleaned_data["until"], by=request.user)
        except Refusal as refusal:
            status = refuse_form(form, refusal)
        else:
            messages.success(
                request,
                _("%(person)s's duty in %(grid)s ends on %(until)s.")
                % {"person": assignment.user, "grid": assignment.grid, "until": form.cleaned_data["until"]},
            )
            return redirect("grids:grid_detail", pk=assignment.grid_id)
    return render(request, "grids/assignment_end.html", {"form": form, "assignment": assignment}, status=status)


# --- Compounds -----------------------------------------------------------------------------


def compound_list(request: HttpRequest) -> HttpResponse:
    require_grid_work_access(request.user)
    query = (request.GET.get("q") or "").strip()
    compounds = (
        Compound.objects.visible_to(request.user)
        .select_related("grid")
        .order_by("grid__community_id", "grid__code", "name")
    )
    if query:
        compounds = compounds.filter(Q(name__icontains=query) | Q(address__icontains=query))
    page = Paginator(compounds, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "grids/compound_list.html", {"page": page, "query": query, "can_edit": can_edit_registry(request.user)}
    )


@creates_once
def compound_create(request: HttpRequest) -> HttpResponse:
    _require_editor(request.user)
    form = CompoundForm(request.POST or None, editor=request.user)
    if request.method == "POST" and form.is_valid():
        compound = form.save()
        form_created(request, compound)
        messages.success(
            request, _("%(compound)s was saved in %(grid)s.") % {"compound": compound, "grid": compound.grid}
        )
        return redirect("grids:compound_list")
    return render(request, "grids/compound_form.html", {"form": form, "compound": None})


def compound_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_editor(request.user)
    compound = get_object_or_404(
        Compound.objects.visible_to(request.user).editable_by(request.user).select_related("grid__community"), pk=pk
    )
    form = CompoundForm(request.POST or None, instance=compound, editor=request.user)
    if request.method == "POST" and form.is_valid():
        compound = form.save()
        messages.success(
            request, _("%(compound)s was saved in %(grid)s.") % {"compound": compound, "grid": compound.grid}
        )
        return redirect("grids:compound_list")
    return render(request, "grids/compound_form.html", {"form": form, "compound": compound})


# --- Party organisations -------------------------------------------------------------------

KIND_ORDER = {kind: number for number, kind in enumerate(OrganisationKind.values)}


def organisation_tree(request: HttpRequest) -> HttpResponse:
    """The party organisations as a tree (committee, joint committee and its member
    organisations, grid branches) with each branch's grids."""
    require_grid_work_access(request.user)
    organisations = list(
        PartyOrganisation.objects.visible_to(request.user).select_related("secretary", "community", "subdistrict")
    )
    grids_by_branch: dict[int, list[Grid]] = {}
    for grid in (
        Grid.objects.visible_to(request.user).filter(branch__isnull=False).only("pk", "code", "name", "branch_id")
    ).order_by("code"):
        grids_by_branch.setdefault(grid.branch_id, []).append(grid)
    by_pk = {organisation.pk: organisation for organisation in organisations}
    children: dict[int | None, list[PartyOrganisation]] = {}
    for organisation in organisations:
        parent = organisation.parent_id if organisation.parent_id in by_pk else None
        children.setdefault(parent, []).append(organisation)

    def node(organisation: PartyOrganisation) -> dict[str, Any]:
        return {
            "organisation": organisation,
            "grids": grids_by_branch.get(organisation.pk, []),
            "children": [node(child) for child in ordered(children.get(organisation.pk, []))],
        }

    def ordered(items: list[PartyOrganisation]) -> list[PartyOrganisation]:
        # Branches follow their first grid (by name 第三 would come before 第二), the others their name.
        def first_code(o: PartyOrganisation) -> str:
            grids = grids_by_branch.get(o.pk)
            return grids[0].code if grids else ""

        # The subdistrict's own organisations (no community) come first: they lead the others.
        return sorted(items, key=lambda o: (o.community_id or 0, KIND_ORDER.get(o.kind, 99), first_code(o), o.name))

    tree = [node(root) for root in ordered(children.get(None, []))]
    return render(
        request,
        "grids/organisation_tree.html",
        {"tree": tree, "show_community": _sees_several_communities(request.user)},
    )


def organisation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One party organisation: its owner, the communities it spans, what it leads and, for a
    business-district joint committee, its joint meeting's roster (current seats, then those
    who left)."""
    require_grid_work_access(request.user)
    visible = PartyOrganisation.objects.visible_to(request.user)
    organisation = get_object_or_404(
        visible.select_related("community", "subdistrict", "parent", "secretary").prefetch_related("communities"),
        pk=pk,
    )
    children = visible.filter(parent=organisation).order_by("kind", "name")
    seats: list[JointMeetingMember] = []
    if organisation.is_joint_committee:
        seats = list(
            JointMeetingMember.objects.visible_to(request.user)
            .filter(committee=organisation)
            .select_related("organisation", "department")
            .order_by("order", "since", "pk")
        )
    today = timezone.localdate()
    return render(
        request,
        "grids/organisation_detail.html",
        {
            "organisation": organisation,
            "children": children,
            "current_seats": [seat for seat in seats if seat.is_current(today)],
            "former_seats": [seat for seat in seats if not seat.is_current(today)],
            "can_keep_roster": may_keep_roster(request.user, organisation),
        },
    )


def _keepable_committee(request: HttpRequest, pk: int) -> PartyOrganisation:
    committee = get_object_or_404(
        PartyOrganisation.objects.visible_to(request.user).filter(kind=OrganisationKind.DISTRICT_JOINT_COMMITTEE), pk=pk
    )
    if not may_keep_roster(request.user, committee):
        raise NotAllowed
    return committee


@creates_once
def seat_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Give a seat at the joint meeting to an organisation or a department."""
    committee = _keepable_committee(request, pk)
    form = JointMeetingMemberForm(request.POST or None, committee=committee, editor=request.user)
    if request.method == "POST" and form.is_valid():
        seat = form.save()
        form_created(request, seat)
        messages.success(request, _("%(holder)s has a seat at the joint meeting.") % {"holder": seat.holder})
        return redirect("grids:organisation_detail", pk=committee.pk)
    return render(request, "grids/seat_form.html", {"form": form, "committee": committee, "seat": None})


def seat_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a seat: its representative, or its last day (leaving is recorded, not deleted)."""
    seat = get_object_or_404(
        JointMeetingMember.objects.visible_to(request.user).select_related("committee", "organisation", "department"),
        pk=pk,
    )
    committee = _keepable_committee(request, seat.committee_id)
    form = JointMeetingMemberForm(request.POST or None, instance=seat, committee=committee, editor=request.user)
    if request.method == "POST" and form.is_valid():
        seat = form.save()
        messages.success(request, _("The seat of %(holder)s was saved.") % {"holder": seat.holder})
        return redirect("grids:organisation_detail", pk=committee.pk)
    return render(request, "grids/seat_form.html", {"form": form, "committee": committee, "seat": seat})


# --- Map -----------------------------------------------------------------------------------

# Branch colours on the map; static/grids/grids.css has the same list for the legend.
BRANCH_COLOURS = 8

# Schematic base maps (streets, landmark buildings) drawn under the grids, so the map reads as a
# place without a tile server: grids/data/basemap_<last part of the community code>.geojson.
BASEMAP_DIR = Path(__file__).resolve().parent.parent / "data"
BASEMAP_KINDS = {"street", "building"}


@functools.cache
def _basemap_file(name: str) -> dict[str, Any] | None:
    path = BASEMAP_DIR / f"basemap_{name}.geojson"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def tile_layers() -> dict[str, Any] | None:
    """MAP_TILE_URL as layers drawn in order: one URL template, or several separated by spaces
    (天地图's vec_w base, then its cva_w labels). 天地图 serves from t0 to t7."""
    urls = settings.MAP_TILE_URL.split()
    if not urls:
        return None
    return {
        "url": urls[0],
        "overlays": urls[1:],
        "attribution": settings.MAP_TILE_ATTRIBUTION,
        "subdomains": "01234567" if "tianditu.gov.cn" in urls[0] else "abc",
    }


def basemap_for(community: Community) -> list[dict[str, Any]]:
    """The community's base-map features; none for a community without a file of its own (the
    file names its community's full code, so a namesake elsewhere gets nothing)."""
    collection = _basemap_file(community.code.rsplit("-", 1)[-1])
    if collection is None or collection.get("community") != community.code:
        return []
    return [feature for feature in collection["features"] if feature["properties"].get("kind") in BASEMAP_KINDS]


def grid_map(request: HttpRequest, community_pk: int | None = None) -> HttpResponse:
    """The community's map: every grid boundary, coloured by branch; who is on duty only for
    the viewer's own grids (see GridQuerySet.mapped_for). People who oversee several communities
    first choose one."""
    if not (request.user.is_superuser or roles.works_for_community(request.user)):
        raise PermissionDenied
    communities = Community.objects.visible_to(request.user)
    if community_pk is None:
        if request.user.community_id is None:
            return render(request, "grids/map_communities.html", {"communities": communities.order_by("code")})
        community_pk = request.user.community_id
    community = get_object_or_404(communities, pk=community_pk)
    data = map_data(request, community)
    return render(request, "grids/map.html", {"community": community, "map_data": data})


def map_data(request: HttpRequest, community: Community) -> dict[str, Any]:
    """What the map script draws, as plain data for json_script."""
    user = request.user
    grids = list(Grid.objects.mapped_for(user).filter(community=community, is_active=True).order_by("code"))
    # Branches in the order of their first grid, so the colours follow the territory.
    branches = list(dict.fromkeys(grid.branch for grid in grids if grid.branch_id))
    colour_of = {branch.pk: number % BRANCH_COLOURS for number, branch in enumerate(branches)}
    compounds = (
        Compound.objects.visible_to(user)
        .filter(grid__community=community, grid__is_active=True, latitude__isnull=False, longitude__isnull=False)
        .only("pk", "name", "latitude", "longitude", "grid_id")
        .order_by("name")
    )
    return {
        "tiles": tile_layers(),
        "community": {"name": community.name, "boundary": community.boundary},
        "basemap": basemap_for(community),
        "branches": [{"id": branch.pk, "name": branch.name, "colour": colour_of[branch.pk]} for branch in branches],
        "grids": [
            {
                "id": grid.pk,
                "code": grid.code,
                "name": grid.name,
                "branch": grid.branch.name if grid.branch_id else None,
                # 专属网格 are drawn over the ordinary grids they stand in, with their site.
                "dedicated": grid.kind == GridKind.DEDICATED,
                "site": grid.get_dedicated_site_display() if grid.kind == GridKind.DEDICATED else None,
                "colour": colour_of.get(grid.branch_id),
                "boundary": grid.boundary,
                "people_visible": bool(grid.people_visible),
                "on_duty": [
                    {"name": assignment.user.display_name, "duty": assignment.get_duty_display()}
                    for assignment in grid.people_on_duty
                ]
                if grid.people_visible
                else None,
                "url": reverse("grids:grid_detail", args=[grid.pk]) if grid.people_visible else None,
            }
            for grid in grids
        ],
        "all_people_visible": all(grid.people_visible for grid in grids),
        "any_dedicated": any(grid.kind == GridKind.DEDICATED for grid in grids),
        "compounds": [
            {
                "name": compound.name,
                "latitude": float(compound.latitude),
                "longitude": float(compound.longitude),
                "grid": compound.grid_id,
            }
            for compound in compounds
        ],
        "labels": {
            "branch": _("Branch"),
            "no_branch": _("No branch"),
            "on_duty": _("On duty now"),
            "nobody": _("Nobody is on duty."),
            "not_yours": _("People on duty are shown for your own grids only."),
            "open": _("Open the grid"),
            "compound": _("Compound"),
            "zoom_in": _("Zoom in"),
            "zoom_out": _("Zoom out"),
            "basemap": _("Streets and buildings"),
            "dedicated": _("Dedicated grid"),
        },
    }
