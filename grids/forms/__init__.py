"""The grids app's forms, one module per part of the work: organisation (party organisations,
grids, duty, compounds), people (addresses, residents, groups), party (party members), patrols
(checklists, patrols, findings) and ledger (subjects, visits). Views import from the module."""
