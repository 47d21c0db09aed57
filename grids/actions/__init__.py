"""The grids app's writes that need more than a form's save, one module per part of the work:
organisation (grid duty), people (residents, households, groups, reveals and exports), party (the
in-work members' yearly report), patrols (checklists, patrols, findings) and ledger (subjects,
visits, the morning reminders). Pages, API and tasks all write through these; callers may import
from the package or from the topic module."""

from __future__ import annotations

from grids.actions.ledger import (  # noqa: F401
    OVERDUE_SUMMARY_KIND,
    REMINDER_MAX_LINES,
    VISIT_REMINDER_KIND,
    DueLine,
    FindingNotAllowed,
    NotYourSubject,
    VisitAlreadyCorrected,
    correct_visit,
    due_set,
    end_aftercare_periods,
    end_ledger_subject,
    record_visit,
    refresh_has_team,
    save_ledger_subject,
    send_visit_reminders,
)
from grids.actions.organisation import (  # noqa: F401
    AssignmentAlreadyEnded,
    end_assignment,
)
from grids.actions.party import (  # noqa: F401
    AgreementFileRefused,
    attach_agreement,
    mark_in_work_report_sent,
    move_unit_registration_item,
)
from grids.actions.patrols import (  # noqa: F401
    CompoundNotInGrid,
    FindingAlreadyFollowedUp,
    FindingChanged,
    FindingClosed,
    ItemNotOnPatrol,
    NotYourGrid,
    PatrolAlreadyEnded,
    PatrolError,
    TooManyPhotos,
    add_checklist_item,
    apply_checklist_template,
    describe_finding,
    end_patrol,
    ensure_checklist,
    follow_up_finding,
    mark_patrol_item,
    move_checklist_item,
    record_finding,
    restore_checklist_item,
    retire_checklist_item,
    start_patrol,
)
from grids.actions.people import (  # noqa: F401
    EXPORT_APPROVAL_HOURS,
    EXPORT_DECISION_KIND,
    EXPORT_REQUEST_KIND,
    REVEAL_REASON_TEXT_LENGTH,
    REVEALABLE_FIELDS,
    ExportAlreadyDecided,
    ExportRefused,
    MembershipAlreadyEnded,
    ResidentAlreadyMovedOut,
    RevealReasonMissing,
    can_request_unmasked_export,
    claim_export_approval,
    decide_export_request,
    end_group_membership,
    end_tenancy,
    find_or_create_dwelling,
    move_out_resident,
    record_group_membership,
    record_tenancy,
    request_unmasked_export,
    reveal_resident_field,
    save_resident,
)
