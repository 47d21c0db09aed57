from __future__ import annotations

from django.urls import path

from grids import views

app_name = "grids"

urlpatterns = [
    path("", views.grid_list, name="grid_list"),
    path("new/", views.grid_create, name="grid_create"),
    path("<int:pk>/", views.grid_detail, name="grid_detail"),
    path("<int:pk>/edit/", views.grid_edit, name="grid_edit"),
    path("assignments/new/", views.assignment_create, name="assignment_create"),
    path("assignments/<int:pk>/end/", views.assignment_end, name="assignment_end"),
    path("compounds/", views.compound_list, name="compound_list"),
    path("compounds/new/", views.compound_create, name="compound_create"),
    path("compounds/<int:pk>/edit/", views.compound_edit, name="compound_edit"),
    path("organisations/", views.organisation_tree, name="organisation_tree"),
    path("map/", views.grid_map, name="map"),
    path("map/<int:community_pk>/", views.grid_map, name="community_map"),
]
