from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest

from shanglong import dashboard, form_tokens
from shanglong.models import Notification


def portal(request: HttpRequest) -> dict[str, Any]:
    """The header's navigation (by role) and the unread-notification count."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_count": 0}
    return {
        "nav_items": dashboard.nav_for(request),
        # Counted lazily, and once per page however many templates ask.
        "unread_count": functools.cache(lambda: Notification.objects.visible_to(user).unread().count()),
    }


def form_token(request: HttpRequest) -> dict[str, Any]:
    """`form_token`: the one-time token of the page's create forms (shanglong.form_tokens),
    made only when a template asks for it."""
    return {"form_token": functools.partial(form_tokens.form_token, request)}
