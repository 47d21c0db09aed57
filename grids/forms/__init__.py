"""The grids app's forms, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.forms.ledger import (  # noqa: F401, E402
    EndSubjectForm,
    LedgerFilterForm,
    LedgerSubjectForm,
    VisitCorrectionForm,
    VisitForm,
)
from grids.forms.organisation import (  # noqa: F401
    AssignmentForm,
    BoundaryField,
    CompoundForm,
    EndAssignmentForm,
    GridForm,
    PersonChoiceField,
)
from grids.forms.party import (  # noqa: F401, E402
    ClaimedTaskForm,
    InWorkRegistrationForm,
    MarkReportSentForm,
    MemberFilterForm,
    MobileMembershipForm,
    OrganisationalLifeForm,
    PartyMemberForm,
    ServiceHoursForm,
    year_from,
)
from grids.forms.patrols import (  # noqa: F401, E402
    ApplyTemplateForm,
    ChecklistItemForm,
    FindingDetailsForm,
    FindingForm,
    FollowUpForm,
    MarkForm,
    MoveItemForm,
    PhotosField,
)
from grids.forms.people import (  # noqa: F401, E402
    EndMembershipForm,
    ExportDecisionForm,
    ExportRequestForm,
    GroupAccessRuleForm,
    GroupMembershipForm,
    MoveOutForm,
    ResidentForm,
    ResidentImportForm,
    ResidentSearchForm,
    TenancyForm,
    dwelling_for,
)
