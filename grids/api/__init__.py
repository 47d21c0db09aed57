"""The grids app's API endpoints, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.api.organisation import (  # noqa: F401
    CommunityStaffWrites,
    CompoundFilterSet,
    CompoundSerializer,
    CompoundViewSet,
    GridAssignmentFilterSet,
    GridAssignmentSerializer,
    GridAssignmentViewSet,
    GridFilterSet,
    GridSerializer,
    GridViewSet,
    PartyOrganisationFilterSet,
    PartyOrganisationSerializer,
    PartyOrganisationViewSet,
    register,
)
