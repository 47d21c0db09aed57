"""The grids app's admin. Registries keep their change history and are never deleted
(RegistryAdmin); trace records (patrols, findings, visits) are read only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from grids.actions import refresh_has_team
from grids.models import (
    Checklist,
    ChecklistItem,
    ClaimedTask,
    Compound,
    Dwelling,
    ExportApproval,
    Finding,
    FindingFollowUp,
    Grid,
    GridAssignment,
    GroupAccessRule,
    GroupMembership,
    Household,
    InWorkRegistration,
    InWorkReport,
    JointMeetingMember,
    LedgerSubject,
    MobileMembership,
    OrganisationalLifeAttendance,
    PartyMember,
    PartyOrganisation,
    Patrol,
    PatrolResult,
    Resident,
    ResidentialBuilding,
    ServiceHours,
    Tenancy,
    UnitRegistration,
    UnitRegistrationItem,
    Visit,
)


class RegistryAdmin(SimpleHistoryAdmin):
    """A registry's admin: its changes are kept (simple_history) and its rows are never deleted;
    they end by their dates or status, and the trace records that point at them stay whole."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PartyOrganisation)
class PartyOrganisationAdmin(RegistryAdmin):
    list_display = ["name", "kind", "community", "subdistrict", "parent", "secretary"]
    list_filter = ["kind", "community", "subdistrict"]
    search_fields = ["name"]
    list_select_related = ["community", "subdistrict", "parent", "secretary"]
    raw_id_fields = ["secretary"]
    filter_horizontal = ["communities"]


@admin.register(JointMeetingMember)
class JointMeetingMemberAdmin(RegistryAdmin):
    list_display = ["committee", "seat_kind", "organisation", "department", "representative", "since", "until"]
    list_filter = ["seat_kind"]
    list_select_related = ["committee", "organisation", "department"]


@admin.register(UnitRegistration)
class UnitRegistrationAdmin(RegistryAdmin):
    list_display = ["unit_organisation", "community", "registered_on", "ended_on", "contact_name"]
    list_filter = ["community"]
    list_select_related = ["unit_organisation", "community"]


@admin.register(UnitRegistrationItem)
class UnitRegistrationItemAdmin(admin.ModelAdmin):
    """A line moves only through its workflow (the pages and the API): read here."""

    list_display = ["title", "registration", "item_list", "status", "version"]
    list_filter = ["item_list", "status"]
    list_select_related = ["registration__unit_organisation", "registration__community"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Grid)
class GridAdmin(RegistryAdmin):
    list_display = ["code", "name", "kind", "dedicated_site", "community", "branch", "is_active"]
    list_filter = ["community", "kind", "dedicated_site", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["community", "branch"]


@admin.register(GridAssignment)
class GridAssignmentAdmin(RegistryAdmin):
    list_display = ["user", "grid", "duty", "since", "until"]
    list_filter = ["duty", "grid__community"]
    list_select_related = ["user", "grid"]
    raw_id_fields = ["user"]


@admin.register(Compound)
class CompoundAdmin(RegistryAdmin):
    list_display = ["name", "grid", "address", "buildings"]
    list_filter = ["grid__community"]
    search_fields = ["name", "address"]
    list_select_related = ["grid"]


# --- Party members ---------------------------------------------------------------------------


@admin.register(PartyMember)
class PartyMemberAdmin(RegistryAdmin):
    list_display = ["name", "organisation", "status", "joined_on", "shows_identity", "left_on"]
    list_filter = ["status", "organisation__community", "shows_identity"]
    search_fields = ["name"]
    list_select_related = ["organisation"]
    raw_id_fields = ["resident", "user"]


@admin.register(MobileMembership)
class MobileMembershipAdmin(RegistryAdmin):
    list_display = ["member", "direction", "place", "since", "until", "contact_method"]
    list_filter = ["direction", "contact_method"]
    list_select_related = ["member"]
    raw_id_fields = ["member"]


@admin.register(OrganisationalLifeAttendance)
class OrganisationalLifeAttendanceAdmin(admin.ModelAdmin):
    list_display = ["mobile_membership", "date", "kind", "way", "recorded_by"]
    list_filter = ["kind", "way"]
    list_select_related = ["mobile_membership__member", "recorded_by"]
    raw_id_fields = ["mobile_membership", "recorded_by"]


@admin.register(InWorkRegistration)
class InWorkRegistrationAdmin(RegistryAdmin):
    list_display = ["member", "employer_organisation", "employer_name", "registered_on", "ended_on"]
    list_select_related = ["member", "employer_organisation"]
    raw_id_fields = ["member"]


@admin.register(ClaimedTask)
class ClaimedTaskAdmin(RegistryAdmin):
    list_display = ["title", "registration", "claimed_on", "status", "completed_on"]
    list_filter = ["status"]
    list_select_related = ["registration__member"]
    raw_id_fields = ["registration"]


@admin.register(ServiceHours)
class ServiceHoursAdmin(admin.ModelAdmin):
    list_display = ["task", "served_on", "hours", "recorded_by"]
    list_select_related = ["task", "recorded_by"]
    raw_id_fields = ["task", "recorded_by"]


@admin.register(InWorkReport)
class InWorkReportAdmin(admin.ModelAdmin):
    list_display = ["registration", "year", "sent_at", "sent_by", "hours_reported"]
    list_select_related = ["registration__member", "sent_by"]
    raw_id_fields = ["registration", "sent_by"]


# --- Patrols -------------------------------------------------------------------------------
# Patrols, results, findings and follow-ups are trace records: the admin reads them only.


class ReadOnlyTraceAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    fields = ["position", "text", "site_type", "season_from", "season_until", "retired_at"]
    extra = 0
    can_delete = False


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin):
    list_display = ["grid", "created_at"]
    list_filter = ["grid__community"]
    list_select_related = ["grid"]
    inlines = [ChecklistItemInline]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(RegistryAdmin):
    list_display = ["text", "checklist", "site_type", "position", "retired_at"]
    list_filter = ["site_type", "checklist__grid__community"]
    search_fields = ["text"]
    list_select_related = ["checklist__grid"]

    # Retired, never deleted (RegistryAdmin).


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyTraceAdmin):
    list_display = ["grid", "started_by", "started_at", "ended_at", "status"]
    list_filter = ["status", "grid__community"]
    list_select_related = ["grid", "started_by"]


@admin.register(PatrolResult)
class PatrolResultAdmin(ReadOnlyTraceAdmin):
    list_display = ["patrol", "item", "outcome", "marked_at"]
    list_filter = ["outcome"]
    list_select_related = ["patrol__grid", "item"]


@admin.register(Finding)
class FindingAdmin(ReadOnlyTraceAdmin):
    list_display = ["__str__", "grid", "status", "reported_by", "reported_at"]
    list_filter = ["status", "grid__community"]
    search_fields = ["description", "place", "merchant_name"]
    list_select_related = ["grid", "item", "reported_by"]


@admin.register(FindingFollowUp)
class FindingFollowUpAdmin(ReadOnlyTraceAdmin):
    list_display = ["finding", "status", "by", "at"]
    list_select_related = ["finding__item", "by"]


# --- People ----------------------------------------------------------------------------------
# The admin never shows identity numbers or phones in full: the registry pages reveal them,
# with a log line; here they are left out of lists and forms.


@admin.register(ResidentialBuilding)
class ResidentialBuildingAdmin(RegistryAdmin):
    list_display = ["name", "compound"]
    list_filter = ["compound__grid__community"]
    search_fields = ["name", "compound__name"]
    list_select_related = ["compound"]


@admin.register(Dwelling)
class DwellingAdmin(RegistryAdmin):
    list_display = ["__str__", "building", "unit", "room"]
    search_fields = ["room", "building__name", "building__compound__name"]
    list_select_related = ["building__compound"]


@admin.register(Household)
class HouseholdAdmin(RegistryAdmin):
    list_display = ["__str__", "dwelling"]
    list_select_related = ["householder", "dwelling__building__compound"]
    raw_id_fields = ["dwelling", "householder"]


@admin.register(Resident)
class ResidentAdmin(RegistryAdmin):
    list_display = ["name", "gender", "birth_date", "registration_status", "moved_out"]
    list_filter = ["registration_status", "dwelling__building__compound__grid__community"]
    search_fields = ["name"]
    list_select_related = ["dwelling"]
    exclude = ["id_number", "mobile"]
    readonly_fields = ["id_number_hash"]
    raw_id_fields = ["dwelling", "household"]


@admin.register(Tenancy)
class TenancyAdmin(RegistryAdmin):
    list_display = ["dwelling", "tenant", "owner_name", "since", "until"]
    list_select_related = ["dwelling__building__compound", "tenant"]
    raw_id_fields = ["dwelling", "owner", "tenant"]


@admin.register(GroupMembership)
class GroupMembershipAdmin(RegistryAdmin):
    list_display = ["resident", "kind", "level", "department", "since", "until"]
    list_filter = ["kind", "level"]
    list_select_related = ["resident", "department"]
    raw_id_fields = ["resident"]


@admin.register(GroupAccessRule)
class GroupAccessRuleAdmin(SimpleHistoryAdmin):
    list_display = ["community", "kind", "grid_workers", "grid_helpers", "department", "designated_officer"]
    list_filter = ["community", "kind"]
    list_select_related = ["community", "designated_officer"]
    raw_id_fields = ["designated_officer"]


@admin.register(ExportApproval)
class ExportApprovalAdmin(RegistryAdmin):
    list_display = ["requested_by", "community", "status", "requested_at", "decided_by", "used_at"]
    list_filter = ["status", "community"]
    list_select_related = ["requested_by", "community", "decided_by"]
    readonly_fields = ["requested_by", "requested_at", "decided_by", "decided_at", "valid_until", "used_at"]


# --- Visit ledger ----------------------------------------------------------------------------
# Subjects keep a change history; visits are trace records: the admin reads them only.


@admin.register(LedgerSubject)
class LedgerSubjectAdmin(RegistryAdmin):
    list_display = ["name", "kind", "grid", "level", "visits_required", "period", "face_to_face_only", "left_on"]
    list_filter = ["kind", "level", "period", "grid__community"]
    search_fields = ["name"]
    list_select_related = ["grid"]
    raw_id_fields = ["resident", "team"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        refresh_has_team(LedgerSubject.objects.filter(pk=form.instance.pk))

    # A subject leaves the ledger by its date, never by deletion (RegistryAdmin).


@admin.register(Visit)
class VisitAdmin(ReadOnlyTraceAdmin):
    list_display = ["subject", "visited_at", "way", "recorded_by", "corrects"]
    list_filter = ["way", "subject__grid__community"]
    list_select_related = ["subject", "recorded_by", "corrects"]
    raw_id_fields = ["subject", "corrects", "finding", "signature"]
