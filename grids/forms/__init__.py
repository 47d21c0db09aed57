"""The grids app's forms, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.forms.organisation import (  # noqa: F401
    AssignmentForm,
    BoundaryField,
    CompoundForm,
    EndAssignmentForm,
    GridForm,
    PersonChoiceField,
)
