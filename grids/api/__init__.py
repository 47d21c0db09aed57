"""The grids app's API endpoints, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members), cobuilding
(the joint meeting's roster, the units' registrations and their lists), patrols (checklists,
patrols, findings) and ledger (subjects, visits)."""

from __future__ import annotations

from grids.api import cobuilding, ledger, organisation, party, patrols, people


def register() -> None:
    """Put every viewset of the grids app on shanglong.api's router (from GridsConfig.ready)."""
    for part in (organisation, patrols, people, party, cobuilding, ledger):
        part.register()
