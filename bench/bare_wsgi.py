"""The bare Django view that bench/page_cost.py compares every page with.

    gunicorn --chdir bench -w 2 bare_wsgi:application

Django itself (its WSGI handler, URL resolution, a view returning a small HttpResponse) with
no middleware, no apps, no templates and no database: what any request costs before the portal
adds anything. Served by gunicorn exactly like the portal, so the ratio of the two medians is
the portal's own cost.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-bare-view",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_I18N=False,
    USE_TZ=True,
    LOGGING_CONFIG=None,
)


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>bare</title><p>bare</p>", content_type="text/html; charset=utf-8")


urlpatterns = [path("", bare)]

from django.core.wsgi import get_wsgi_application  # noqa: E402  (after settings.configure)

application = get_wsgi_application()
