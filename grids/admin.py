from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from grids.models import Compound, Grid, GridAssignment, PartyOrganisation


@admin.register(PartyOrganisation)
class PartyOrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "kind", "community", "parent", "secretary"]
    list_filter = ["kind", "community"]
    search_fields = ["name"]
    list_select_related = ["community", "parent", "secretary"]
    raw_id_fields = ["secretary"]


@admin.register(Grid)
class GridAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "community", "branch", "is_active"]
    list_filter = ["community", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["community", "branch"]


@admin.register(GridAssignment)
class GridAssignmentAdmin(SimpleHistoryAdmin):
    list_display = ["user", "grid", "duty", "since", "until"]
    list_filter = ["duty", "grid__community"]
    list_select_related = ["user", "grid"]
    raw_id_fields = ["user"]


@admin.register(Compound)
class CompoundAdmin(SimpleHistoryAdmin):
    list_display = ["name", "grid", "address", "buildings"]
    list_filter = ["grid__community"]
    search_fields = ["name", "address"]
    list_select_related = ["grid"]
