"""Writes of the core that have side effects: the access log."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from shanglong.models import AccessAction, AccessLog, User


def client_ip(request: HttpRequest | None) -> str | None:
    """The caller's address. Behind a reverse proxy set TRUSTED_PROXY_COUNT to the number of
    proxies, and the address is read from X-Forwarded-For."""
    if request is None:
        return None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def record_access(
    *,
    action: AccessAction | str,
    request: HttpRequest | None = None,
    user: User | None = None,
    username: str = "",
    target: str = "",
    detail: str = "",
) -> AccessLog:
    """Append one row to the access log: who did what sensitive thing, when, from where."""
    if user is None and request is not None and getattr(request, "user", None) is not None:
        user = request.user if request.user.is_authenticated else None
    if user is not None and not username:
        username = user.get_username()
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:255] if request is not None else ""
    return AccessLog.objects.create(
        action=action,
        user=user,
        username=username[:150],
        target=target[:255],
        detail=detail,
        ip=client_ip(request),
        user_agent=user_agent,
    )
