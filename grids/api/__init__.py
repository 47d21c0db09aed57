"""The grids app's API endpoints, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.api.ledger import (  # noqa: F401, E402
    LedgerDueViewSet,
    LedgerSubjectSerializer,
    LedgerSubjectViewSet,
    VisitSerializer,
    VisitViewSet,
)
from grids.api.ledger import register as register_ledger  # noqa: F401, E402
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
from grids.api.party import (  # noqa: F401, E402
    ClaimedTaskViewSet,
    InWorkRegistrationViewSet,
    MobileMembershipViewSet,
    OrganisationalLifeViewSet,
    PartyMemberSerializer,
    PartyMemberViewSet,
    ServiceHoursViewSet,
)
from grids.api.party import register as register_party  # noqa: F401, E402
from grids.api.patrols import (  # noqa: F401, E402
    ChecklistItemSerializer,
    ChecklistItemViewSet,
    ChecklistSerializer,
    ChecklistViewSet,
    FindingSerializer,
    FindingViewSet,
    PatrolResultSerializer,
    PatrolResultViewSet,
    PatrolSerializer,
    PatrolViewSet,
)
from grids.api.patrols import register as register_patrols  # noqa: F401, E402
from grids.api.people import (  # noqa: F401, E402
    DwellingViewSet,
    GroupAccessRuleViewSet,
    GroupMembershipViewSet,
    ResidentFilterSet,
    ResidentialBuildingViewSet,
    ResidentSerializer,
    ResidentViewSet,
    TenancyViewSet,
)
from grids.api.people import register as register_people  # noqa: F401, E402
