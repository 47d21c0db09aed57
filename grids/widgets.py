"""The grids app's navigation entries and start-page widget, registered with the core."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from grids.models import COMMUNITY_WORK_ROLES, GridAssignment, PartyOrganisation
from shanglong.dashboard import NavItem, Widget, register_nav, register_widget


def _my_grids(request: HttpRequest) -> dict[str, Any] | None:
    """The viewer's own duties and the branches they lead; nothing when they have neither."""
    user = request.user
    duties = list(GridAssignment.objects.visible_to(user).current().filter(user=user).select_related("grid").by_duty())
    branches = list(PartyOrganisation.objects.visible_to(user).branches().filter(secretary=user).order_by("name"))
    if not duties and not branches:
        return None
    return {"duties": duties, "branches": branches}


def register() -> None:
    register_nav(NavItem("grids", _("Grids"), "grids:grid_list", COMMUNITY_WORK_ROLES, order=20))
    register_nav(NavItem("grid_map", _("Map"), "grids:map", COMMUNITY_WORK_ROLES, order=21))
    register_widget(Widget("grids.my_grids", "grids/widget_my_grids.html", COMMUNITY_WORK_ROLES, _my_grids, order=15))
