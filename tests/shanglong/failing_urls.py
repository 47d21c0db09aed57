"""The portal's URLs plus a page that fails, to see the portal's own 500 page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.urls import path

from shanglong.urls import handler403, handler404, handler500
from shanglong.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]


@login_not_required
def failing_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a page that fails")


urlpatterns = [*portal_urlpatterns, path("failing/", failing_page)]
