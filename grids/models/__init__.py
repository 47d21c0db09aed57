"""The grids app's records, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.models.organisation import (  # noqa: F401
    COMMUNITY_WORK_ROLES,
    Compound,
    CompoundQuerySet,
    Duty,
    Grid,
    GridAssignment,
    GridAssignmentQuerySet,
    GridQuerySet,
    OrganisationKind,
    PartyOrganisation,
    PartyOrganisationQuerySet,
    can_edit,
    community_scope,
    visible_grid_ids,
)
