from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext as _

from shanglong import dashboard, form_tokens, roles
from shanglong.models import Community, Notification, Subdistrict

PLACE_SESSION_KEY = "viewer_place"


def _place_of(user: Any) -> dict[str, Any]:
    """The names the header and footer show a person: their own community (with its
    subdistrict and district), or the subdistrict for subdistrict staff; one query."""
    if user.community_id and not roles.is_subdistrict_staff(user):
        community = Community.objects.select_related("subdistrict").filter(pk=user.community_id).first()
        if community is not None:
            subdistrict = community.subdistrict
            return {
                "user": user.pk,
                "name": community.name,
                "subdistrict": subdistrict.name,
                "district": subdistrict.district,
            }
    subdistrict_id = user.subdistrict_id
    found = Subdistrict.objects.filter(pk=subdistrict_id).first() if subdistrict_id else None
    if found is None:
        return {"user": user.pk, "name": "", "subdistrict": "", "district": ""}
    return {"user": user.pk, "name": found.name, "subdistrict": "", "district": found.district}


@receiver(user_logged_in, dispatch_uid="shanglong.remember_viewer_place")
def remember_viewer_place(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Read the viewer's place once, at log-in, so no page pays a query for the header."""
    if request is not None and hasattr(request, "session"):
        request.session[PLACE_SESSION_KEY] = _place_of(user)


def _viewer_place(request: HttpRequest, user: Any) -> dict[str, str]:
    place = request.session.get(PLACE_SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(place, dict) or place.get("user") != user.pk:  # a session from before
        place = _place_of(user)
        if hasattr(request, "session"):
            request.session[PLACE_SESSION_KEY] = place
    if not place["name"]:
        return {}
    parts = {"community": place["name"], "subdistrict": place["subdistrict"], "district": place["district"]}
    if place["subdistrict"]:
        address = _("%(community)s, %(subdistrict)s, %(district)s") % parts
    else:
        address = _("%(subdistrict)s, %(district)s") % {"subdistrict": place["name"], "district": place["district"]}
    return {"place_name": place["name"], "place_address": address}


def portal(request: HttpRequest) -> dict[str, Any]:
    """The header's navigation (by role), the unread-notification count, and the viewer's
    own community or subdistrict for the header and footer (Shanglong's only for visitors)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0}
    return {
        **_viewer_place(request, user),
        "nav_items": dashboard.nav_for(request),
        # Counted lazily, and once per page however many templates ask.
        "unread_count": functools.cache(lambda: Notification.objects.visible_to(user).unread().count()),
    }


def form_token(request: HttpRequest) -> dict[str, Any]:
    """`form_token`: the one-time token of the page's create forms (shanglong.form_tokens),
    made only when a template asks for it."""
    return {"form_token": functools.partial(form_tokens.form_token, request)}
