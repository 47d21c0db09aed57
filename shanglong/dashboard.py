"""The dashboard frame and the navigation: apps register their pieces here in AppConfig.ready().

The core imports no app; an app adds a start-page widget or a navigation entry for the roles
that use it, and the core's start page renders what is registered for the viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from shanglong.roles import Role, Viewer

ALL_ROLES: frozenset[str] = frozenset(Role)


@dataclass(frozen=True)
class Widget:
    """A box on a role's start page: a template fragment and the context it needs."""

    key: str
    template: str
    roles: frozenset[str]
    context: Callable[[HttpRequest], dict[str, Any] | None]
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Any
    url_name: str
    roles: frozenset[str] = ALL_ROLES
    order: int = 100
    superuser_only: bool = False
    icon: str = field(default="")


_widgets: dict[str, Widget] = {}
_nav: dict[str, NavItem] = {}
# The entries a role sees, with their URLs reversed, by (role, superuser, URLconf, prefix): the
# same for every request of that role, so no page pays a dozen reverse() calls for its header.
_nav_entries: dict[tuple[str, bool, str, str], tuple[tuple[NavItem, str], ...]] = {}


def register_widget(widget: Widget) -> None:
    _widgets[widget.key] = widget


def register_nav(item: NavItem) -> None:
    _nav[item.key] = item
    _nav_entries.clear()


def _allowed(user: Viewer, roles: frozenset[str]) -> bool:
    return getattr(user, "role", None) in roles or bool(getattr(user, "is_superuser", False))


def widgets_for(request: HttpRequest) -> list[tuple[Widget, dict[str, Any]]]:
    """The widgets of the viewer's role with their context; a widget may opt out with None."""
    shown = []
    for widget in sorted(_widgets.values(), key=lambda w: (w.order, w.key)):
        if not _allowed(request.user, widget.roles):
            continue
        context = widget.context(request)
        if context is not None:
            shown.append((widget, context))
    return shown


def _entries_for(role: str, is_superuser: bool) -> tuple[tuple[NavItem, str], ...]:
    key = (role, is_superuser, str(get_urlconf(settings.ROOT_URLCONF)), get_script_prefix())
    entries = _nav_entries.get(key)
    if entries is None:
        found = []
        for item in sorted(_nav.values(), key=lambda i: (i.order, i.key)):
            if item.superuser_only and not is_superuser:
                continue
            if not item.superuser_only and not (role in item.roles or is_superuser):
                continue
            try:
                found.append((item, reverse(item.url_name)))
            except NoReverseMatch:
                continue
        entries = _nav_entries[key] = tuple(found)
    return entries


def nav_for(request: HttpRequest) -> list[dict[str, Any]]:
    user = request.user
    entries = _entries_for(getattr(user, "role", None) or "", bool(getattr(user, "is_superuser", False)))
    current = request.path
    items = [
        {
            "key": item.key,
            "label": item.label,
            "url": url,
            "active": current == url if url == "/" else current.startswith(url),
            "icon": item.icon,
        }
        for item, url in entries
    ]
    # Only the most specific match is current: on /grids/map/ that is "Map", not also "Grids".
    longest = max((len(entry["url"]) for entry in items if entry["active"]), default=0)
    for entry in items:
        entry["active"] = entry["active"] and len(entry["url"]) == longest
    return items
