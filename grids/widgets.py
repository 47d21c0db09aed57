"""The grids app's navigation entries and start-page widget, registered with the core."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids.models import COMMUNITY_WORK_ROLES, GridAssignment, PartyMember, PartyOrganisation
from shanglong.dashboard import ALL_ROLES, NavItem, Widget, register_nav, register_widget
from shanglong.roles import Role


def _my_grids(request: HttpRequest) -> dict[str, Any] | None:
    """The viewer's own duties and the branches they lead; nothing when they have neither."""
    user = request.user
    duties = list(GridAssignment.objects.visible_to(user).current().filter(user=user).select_related("grid").by_duty())
    branches = list(PartyOrganisation.objects.visible_to(user).branches().filter(secretary=user).order_by("name"))
    if not duties and not branches:
        return None
    return {"duties": duties, "branches": branches}


def _my_party_membership(request: HttpRequest) -> dict[str, Any] | None:
    """The viewer's own party-member record, when their account is linked to one (one query)."""
    member = (
        PartyMember.objects.visible_to(request.user)
        .filter(user_id=request.user.pk)
        .select_related("organisation")
        .first()
    )
    return None if member is None else {"member": member}


def register() -> None:
    register_nav(NavItem("grids", _("Grids"), "grids:grid_list", COMMUNITY_WORK_ROLES, order=20))
    register_nav(NavItem("grid_map", _("Map"), "grids:map", COMMUNITY_WORK_ROLES, order=21))
    register_nav(NavItem("patrols", _("Patrols"), "grids:patrol_home", COMMUNITY_WORK_ROLES, order=24))
    register_nav(NavItem("residents", _("Residents"), "grids:resident_list", COMMUNITY_WORK_ROLES, order=22))
    # Party members: staff, subdistrict staff, and grid workers (branch secretaries are often
    # grid workers); anyone else linked to a member reaches their own record by its address.
    party_roles = frozenset({Role.COMMUNITY_ADMIN, Role.STAFF, Role.GRID_WORKER, Role.SUBDISTRICT_STAFF})
    register_nav(NavItem("party_members", _("Party members"), "grids:party_member_list", party_roles, order=23))
    register_widget(
        Widget(
            "grids.my_party_membership",
            "grids/party/widget_my_membership.html",
            ALL_ROLES,
            _my_party_membership,
            order=16,
        )
    )
    register_widget(Widget("grids.my_grids", "grids/widget_my_grids.html", COMMUNITY_WORK_ROLES, _my_grids, order=15))
    # The visit ledger: My day is the grid worker's start page (see GridsConfig.ready).
    register_nav(NavItem("my_day", _("My day"), "grids:my_day", COMMUNITY_WORK_ROLES, order=10))
    register_nav(NavItem("ledger", _("Ledger"), "grids:ledger_list", COMMUNITY_WORK_ROLES, order=25))
