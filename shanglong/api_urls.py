"""/api/v1/: the core's endpoints and every viewset the apps registered on `api_router`."""

from __future__ import annotations

from django.urls import path

from shanglong.api import MeView, api_router

app_name = "api"

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    *api_router.urls,
]
