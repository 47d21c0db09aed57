"""The grids app's pages, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members)."""

from __future__ import annotations

from grids.views.organisation import (  # noqa: F401
    BRANCH_COLOURS,
    KIND_ORDER,
    PAGE_SIZE,
    assignment_create,
    assignment_end,
    compound_create,
    compound_edit,
    compound_list,
    grid_create,
    grid_detail,
    grid_edit,
    grid_list,
    grid_map,
    map_data,
    organisation_tree,
)
