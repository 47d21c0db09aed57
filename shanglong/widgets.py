"""The core's own start-page widgets and navigation entries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shanglong.dashboard import ALL_ROLES, NavItem, Widget, register_nav, register_widget
from shanglong.models import Community, Notification
from shanglong.roles import Role

STAFF_ROLES = frozenset({Role.COMMUNITY_ADMIN, Role.STAFF})


def _community_facts(request: HttpRequest) -> dict[str, Any] | None:
    if not request.user.is_authenticated:
        return None
    community = (
        Community.objects.visible_to(request.user)
        .select_related("subdistrict")
        .filter(pk=request.user.community_id)
        .first()
    )
    if community is None:
        return None
    return {"community": community, "facts": community.facts or {}}


def _subdistrict_communities(request: HttpRequest) -> dict[str, Any] | None:
    communities = (
        Community.objects.visible_to(request.user)
        .select_related("subdistrict")
        .annotate(people=Count("users", filter=Q(users__is_active=True)))
        .order_by("code")
    )
    return {"communities": communities}


def _inbox(request: HttpRequest) -> dict[str, Any] | None:
    latest = list(Notification.objects.visible_to(request.user).unread().only("pk", "title", "created_at", "url")[:5])
    return {"latest": latest}


def register() -> None:
    register_widget(Widget("core.inbox", "includes/widget_inbox.html", ALL_ROLES, _inbox, order=10))
    register_widget(
        Widget(
            "core.community_facts",
            "includes/widget_community_facts.html",
            frozenset({*STAFF_ROLES, Role.GRID_WORKER, Role.DEPARTMENT}),
            _community_facts,
            order=90,
        )
    )
    register_widget(
        Widget(
            "core.subdistrict_communities",
            "includes/widget_communities.html",
            frozenset({Role.SUBDISTRICT_STAFF}),
            _subdistrict_communities,
            order=20,
        )
    )
    register_nav(NavItem("home", _("Home"), "home", order=0))
    register_nav(NavItem("notifications", _("Messages"), "notification_list", order=90))
    register_nav(
        NavItem("accounts", _("Accounts"), "account_list", frozenset({*STAFF_ROLES, Role.SUBDISTRICT_STAFF}), order=95)
    )
    register_nav(
        NavItem("calendar", _("Working-day calendar"), "calendar", frozenset({Role.COMMUNITY_ADMIN}), order=96)
    )
    register_nav(NavItem("audit", _("Access audit"), "audit_log", frozenset({Role.AUDIT_ADMIN}), order=97))
    register_nav(NavItem("admin", _("Administration"), "admin:index", order=99, superuser_only=True))
