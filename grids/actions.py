"""The grids app's writes that need more than a form's save: the organisation, people, patrols and
the ledger (pages, API and tasks all write through these)."""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, F, Max, OuterRef, ProtectedError, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from grids.models import (
    AFTERCARE_YEARS,
    MAX_FINDING_PHOTOS,
    Checklist,
    ChecklistItem,
    Compound,
    Dwelling,
    ExportApproval,
    ExportStatus,
    Finding,
    FindingFollowUp,
    FindingStatus,
    Grid,
    GridAssignment,
    GroupKind,
    GroupMembership,
    Household,
    InWorkReport,
    LedgerSubject,
    OrganisationKind,
    Outcome,
    Patrol,
    PatrolResult,
    PatrolStatus,
    Relation,
    ReportAlreadySent,
    Resident,
    ResidentialBuilding,
    ServiceHours,
    SiteType,
    SubjectKind,
    Tenancy,
    Visit,
    checklist_templates,
)
from grids.models.patrols import may_patrol
from grids.models.people import GroupSight, export_deciders, years_after
from shanglong import roles
from shanglong.actions import record_access
from shanglong.media import store_attachment
from shanglong.models import AccessAction, Department, User
from shanglong.notifications import Message, notify


class AssignmentAlreadyEnded(Exception):
    """Someone else ended the assignment (earlier) while this person was looking at it."""


def end_assignment(*, assignment: GridAssignment, until: datetime.date, by: Any) -> GridAssignment:
    """End a person's duty in a grid: `until` is their last day on duty.

    The row is re-read under a lock; an assignment that already ended before today is left as
    it is (ending it again would rewrite its history), and the caller tells the person.
    """
    with transaction.atomic():
        current = GridAssignment.objects.select_for_update().get(pk=assignment.pk)
        if current.until is not None and current.until < timezone.localdate():
            raise AssignmentAlreadyEnded
        current.until = until
        current._history_user = by  # simple_history records who ended it
        current.save(update_fields=["until"])
    return current


# --- People: residents, households, rented flats, groups, reveals and exports ---------------
# (grids.models.people; the pages and the API both write through these.)


REVEALABLE_FIELDS = ("id_number", "mobile")
EXPORT_APPROVAL_HOURS = 24


def find_or_create_dwelling(*, compound: Compound, building: str, unit: str, room: str) -> Dwelling:
    """The dwelling at a standard address, created (with its building) the first time it is named."""
    building_row, _created = ResidentialBuilding.objects.get_or_create(compound=compound, name=building.strip())
    dwelling, _created = Dwelling.objects.get_or_create(building=building_row, unit=unit.strip(), room=room.strip())
    return dwelling


def _place_in_household(resident: Resident, *, by: Any) -> None:
    """A householder leads a household at their dwelling (a new one unless they lead one
    there); a relative joins the household at their dwelling; a resident with no relation
    belongs to none. Called with the resident saved."""
    if resident.relation == Relation.SELF:
        household = resident.households_led.filter(dwelling_id=resident.dwelling_id).first()
        if household is None:
            household = Household(dwelling_id=resident.dwelling_id, householder=resident)
            household._history_user = by
            household.save()
    elif resident.relation and resident.relation != Relation.NONE:
        household = Household.objects.joinable().filter(dwelling_id=resident.dwelling_id).order_by("-pk").first()
    else:
        household = None
    if resident.household_id != (household.pk if household else None):
        resident.household = household
        resident._history_user = by
        resident.save(update_fields=["household"])


def save_resident(*, resident: Resident, id_number: str | None, by: Any) -> Resident:
    """Create or change a resident (the form or serializer has checked the values): the
    identity number and its keyed hash are set together, and the resident is placed in the
    household at their address. simple_history records who changed what."""
    with transaction.atomic():
        if id_number:
            resident.set_identity_number(id_number)
        resident._history_user = by
        resident.save()
        _place_in_household(resident, by=by)
    return resident


class ResidentAlreadyMovedOut(Exception):
    """The resident had already moved out; moving them out again would rewrite the record."""


def move_out_resident(*, resident: Resident, on: datetime.date, by: Any) -> Resident:
    """Record that a resident left (the record stays, with the date); their open group
    memberships and tenancies end the same day."""
    with transaction.atomic():
        current = Resident.objects.select_for_update().get(pk=resident.pk)
        if current.moved_out is not None:
            raise ResidentAlreadyMovedOut
        if current.moved_in and on < current.moved_in:
            raise ValidationError(_("The moving-out date cannot be before the moving-in date."))
        current.moved_out = on
        current._history_user = by
        current.save(update_fields=["moved_out"])
        for membership in GroupMembership.objects.filter(resident=current).filter(
            Q(until__isnull=True) | Q(until__gt=on)
        ):
            membership.until = max(on, membership.since)
            membership._history_user = by
            membership.save(update_fields=["until"])
        for tenancy in Tenancy.objects.filter(tenant=current).filter(Q(until__isnull=True) | Q(until__gt=on)):
            tenancy.until = max(on, tenancy.since)
            tenancy._history_user = by
            tenancy.save(update_fields=["until"])
    return current


def record_group_membership(*, membership: GroupMembership, by: Any) -> GroupMembership:
    """Record (or change) a resident's membership of a special group or the key persons. The
    aftercare of a released prisoner ends five years after release when no end is given."""
    if membership.kind == GroupKind.RELEASED_PRISONER and membership.until is None:
        membership.until = years_after(membership.since, AFTERCARE_YEARS)
    membership.full_clean()
    membership._history_user = by
    membership.save()
    return membership


class MembershipAlreadyEnded(Exception):
    """Someone ended the membership (earlier) while this person was looking at it."""


def end_group_membership(*, membership: GroupMembership, until: datetime.date, by: Any) -> GroupMembership:
    """Record that a resident left a group: `until` is the last day. The record stays."""
    with transaction.atomic():
        current = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        if current.until is not None and current.until < timezone.localdate():
            raise MembershipAlreadyEnded
        if until < current.since:
            raise ValidationError(_("The end of a membership cannot be before its start."))
        current.until = until
        current._history_user = by
        current.save(update_fields=["until"])
    return current


def record_tenancy(*, tenancy: Tenancy, by: Any) -> Tenancy:
    """Record a rented flat: the dwelling, its owner, the tenant and the dates."""
    tenancy.full_clean()
    tenancy._history_user = by
    tenancy.save()
    return tenancy


def end_tenancy(*, tenancy: Tenancy, until: datetime.date, by: Any) -> Tenancy:
    """Record the last day of a rented flat: the tenancy keeps its record."""
    with transaction.atomic():
        current = Tenancy.objects.select_for_update().get(pk=tenancy.pk)
        if until < current.since:
            raise ValidationError(_("The end of a tenancy cannot be before its start."))
        current.until = until
        current._history_user = by
        current.save(update_fields=["until"])
    return current


def reveal_resident_field(*, resident: Resident, field: str, request: Any) -> str:
    """Show one masked value of a resident (identity number or mobile) in full to a person
    entitled to it, and record it in the access log. Raises PermissionDenied otherwise."""
    if field not in REVEALABLE_FIELDS:
        raise PermissionDenied(_("This value cannot be revealed."))
    if not Resident.objects.revealable_by(request.user).filter(pk=resident.pk).exists():
        raise PermissionDenied(_("You may not see this resident's full details."))
    record_access(action=AccessAction.REVEAL, request=request, target=f"resident:{resident.pk}:{field}")
    return getattr(resident, field) or ""


EXPORT_REQUEST_KIND = "export_request"
EXPORT_DECISION_KIND = "export_decision"


def can_request_unmasked_export(user: Any) -> bool:
    """Who may ask for an unmasked export: community staff and grid workers of a community."""
    return bool(user.community_id) and (roles.is_community_staff(user) or roles.is_grid_worker(user))


def request_unmasked_export(*, by: Any, reason: str) -> ExportApproval:
    """Ask for one unmasked export of the residents registry; those who may decide (the
    community admin, the subdistrict's staff) are told in their inbox."""
    if not can_request_unmasked_export(by):
        raise PermissionDenied(_("Only community staff and grid workers may ask for an unmasked export."))
    with transaction.atomic():
        approval = ExportApproval.objects.create(community_id=by.community_id, requested_by=by, reason=reason.strip())
        url = reverse("grids:export_requests")
        notify(
            Message(
                recipient_id=decider_id,
                kind=EXPORT_REQUEST_KIND,
                dedupe_key=f"export-request:{approval.pk}",
                title=_("%(person)s asks for an unmasked export") % {"person": by.display_name},
                body=approval.reason,
                url=url,
            )
            for decider_id in export_deciders(approval).values_list("pk", flat=True)
        )
    return approval


class ExportAlreadyDecided(Exception):
    """The request was approved or refused already (by someone else, or in another tab)."""


def decide_export_request(
    *, approval: ExportApproval, approve: bool, by: Any, hours: int = EXPORT_APPROVAL_HOURS
) -> ExportApproval:
    """The community admin approves (valid for `hours`, for one export) or refuses a request.
    Nobody approves their own request."""
    if not ExportApproval.objects.decidable_by(by).filter(pk=approval.pk).exists():
        raise PermissionDenied(_("Only the community admin or the subdistrict decides on unmasked exports."))
    if approval.requested_by_id == by.pk and not by.is_superuser:
        raise PermissionDenied(_("You cannot approve your own request; another administrator must decide."))
    now = timezone.now()
    changes: dict[str, Any] = {
        "status": ExportStatus.APPROVED if approve else ExportStatus.REFUSED,
        "decided_by": by,
        "decided_at": now,
        "valid_until": now + datetime.timedelta(hours=hours) if approve else None,
    }
    with transaction.atomic():
        claimed = ExportApproval.objects.filter(pk=approval.pk, status=ExportStatus.REQUESTED).update(**changes)
        if not claimed:
            raise ExportAlreadyDecided
        approval.refresh_from_db()
        if approve:
            title = _("Your unmasked export was approved: one export until %(until)s") % {
                "until": timezone.localtime(approval.valid_until).strftime("%Y-%m-%d %H:%M")
            }
        else:
            title = _("Your request for an unmasked export was refused")
        notify(
            [
                Message(
                    recipient_id=approval.requested_by_id,
                    kind=EXPORT_DECISION_KIND,
                    dedupe_key=f"export-decision:{approval.pk}",
                    title=title,
                    url=reverse("grids:export_requests"),
                )
            ]
        )
    return approval


class ExportRefused(Exception):
    """An unmasked export without a usable approval; `message` says what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def claim_export_approval(*, by: Any) -> ExportApproval:
    """Use one of the person's approved, unused, valid approvals (single use: a guarded
    update, so two exports at once cannot share it). Raises ExportRefused when there is none."""
    now = timezone.now()
    for approval in ExportApproval.objects.usable_by(by, now).order_by("valid_until"):
        if ExportApproval.objects.filter(pk=approval.pk, used_at__isnull=True).update(used_at=now):
            approval.used_at = now
            return approval
    raise ExportRefused(
        _(
            "An export with full identity numbers and phone numbers needs the community admin's approval. "
            "Ask for it on the export requests page; an approval is valid for one export."
        )
    )


# --- Party members: the yearly report of in-work members (双报到) -------------------------------
# (grids.models.party; the pages and the API both write through this.)


def mark_in_work_report_sent(*, registration: Any, year: int, by: Any, note: str = "") -> Any:
    """Record that the year's report of an in-work member's service (the hours summed in SQL at
    this moment, and the tasks) was sent back to their employer's party organisation, by whom
    and when. The first sending stays: marking it again raises ReportAlreadySent."""
    if year > timezone.localdate().year:
        raise ValidationError(_("A report cannot be sent for a year that has not begun."))
    hours = ServiceHours.objects.filter(task__registration=registration).in_year(year).total()
    try:
        with transaction.atomic():
            return InWorkReport.objects.create(
                registration=registration, year=year, sent_by=by, hours_reported=hours, note=note
            )
    except IntegrityError:
        raise ReportAlreadySent(InWorkReport.objects.get(registration=registration, year=year)) from None


# --- Patrols: checklists, patrols, findings and their follow-ups ----------------------------
# (grids.models.patrols; the pages and the API both write through these.)


class PatrolError(Exception):
    """A patrol write that cannot be done as asked; the message is for the person."""

    message = ""

    def __str__(self) -> str:
        return str(self.message)


class PatrolAlreadyEnded(PatrolError):
    message = gettext_lazy("This patrol has already ended; nothing was changed.")


class NotYourGrid(PatrolError):
    message = gettext_lazy("You can patrol and record findings only in the grids you are on duty in.")


class ItemNotOnPatrol(PatrolError):
    message = gettext_lazy("This item is not on the checklist of this patrol.")


class FindingAlreadyFollowedUp(PatrolError):
    message = gettext_lazy("The finding of this item is already being followed up, so the item stays failed.")


class FindingClosed(PatrolError):
    message = gettext_lazy("This finding is closed; nothing was changed.")


class FindingChanged(PatrolError):
    message = gettext_lazy("Someone else followed up this finding meanwhile. Read their note and try again.")


class CompoundNotInGrid(PatrolError):
    message = gettext_lazy("This compound is not in the finding's grid.")


class TooManyPhotos(PatrolError):
    def __str__(self) -> str:
        return gettext_lazy("A finding can carry at most %(count)d photos.") % {"count": MAX_FINDING_PHOTOS}


def _require_patrollable(grid: Grid, by: Any) -> None:
    if not may_patrol(by, grid.pk):
        raise NotYourGrid


def ensure_checklist(*, grid: Grid) -> Checklist:
    """The grid's checklist, created empty the first time it is needed."""
    checklist, _created = Checklist.objects.get_or_create(grid=grid)
    return checklist


def apply_checklist_template(*, grid: Grid, site_type: str, by: Any) -> list[ChecklistItem]:
    """Add a site type's template items (grids/data/checklist_templates.json) to the grid's
    checklist, after its items. Idempotent: an item the template already gave the checklist,
    retired or not, is not added again. Returns the items added."""
    template = checklist_templates()[SiteType(site_type).value]
    season = template["season"] or (None, None)
    with transaction.atomic():
        checklist = ensure_checklist(grid=grid)
        # One applier at a time per checklist (SQLite serialises writers anyway).
        checklist = Checklist.objects.select_for_update().get(pk=checklist.pk)
        present = set(checklist.items.exclude(template_key="").values_list("template_key", flat=True))
        position = checklist.items.aggregate(last=Max("position"))["last"] or 0
        added = []
        for entry in template["items"]:
            key = f"{site_type}.{entry['key']}"
            if key in present:
                continue
            position += 1
            item = ChecklistItem(
                checklist=checklist,
                text=entry["text"],
                guidance=entry.get("guidance", ""),
                site_type=site_type,
                template_key=key,
                position=position,
                season_from=season[0],
                season_until=season[1],
            )
            item._history_user = by
            item.save()
            added.append(item)
    return added


def add_checklist_item(
    *,
    grid: Grid,
    text: str,
    by: Any,
    guidance: str = "",
    site_type: str = SiteType.OTHER,
    season_from: int | None = None,
    season_until: int | None = None,
) -> ChecklistItem:
    """Add an item of the editors' own at the end of the grid's checklist."""
    with transaction.atomic():
        checklist = ensure_checklist(grid=grid)
        checklist = Checklist.objects.select_for_update().get(pk=checklist.pk)
        last = checklist.items.aggregate(last=Max("position"))["last"] or 0
        item = ChecklistItem(
            checklist=checklist,
            text=text.strip(),
            guidance=guidance.strip(),
            site_type=site_type,
            season_from=season_from,
            season_until=season_until,
            position=last + 1,
        )
        item._history_user = by
        item.save()
    return item


def move_checklist_item(*, item: ChecklistItem, up: bool, by: Any) -> bool:
    """Move an item in use one place up or down among the items in use. The positions are
    renumbered 1..n on the way, so equal or missing positions sort themselves out. Returns
    False when it is already first (or last)."""
    with transaction.atomic():
        Checklist.objects.select_for_update().get(pk=item.checklist_id)
        order = list(
            ChecklistItem.objects.filter(checklist_id=item.checklist_id)
            .in_use()
            .order_by("position", "pk")
            .values_list("pk", "position")
        )
        pks = [pk for pk, _position in order]
        if item.pk not in pks:
            return False
        index = pks.index(item.pk)
        other = index - 1 if up else index + 1
        if other < 0 or other >= len(pks):
            return False
        pks[index], pks[other] = pks[other], pks[index]
        old = dict(order)
        for number, pk in enumerate(pks, start=1):
            if old[pk] != number:
                # Order only: no change-history row for a position.
                ChecklistItem.objects.filter(pk=pk).update(position=number)
    return True


def retire_checklist_item(*, item: ChecklistItem, by: Any) -> bool:
    """Take an item off future patrols. It stays with its results (it is never deleted once
    used). Returns False when it was already retired."""
    with transaction.atomic():
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if current.retired_at is not None:
            return False
        current.retired_at = timezone.now()
        current._history_user = by
        current.save(update_fields=["retired_at"])
    return True


def restore_checklist_item(*, item: ChecklistItem, by: Any) -> bool:
    """Put a retired item back on the checklist, at its end."""
    with transaction.atomic():
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if current.retired_at is None:
            return False
        last = ChecklistItem.objects.filter(checklist_id=current.checklist_id).aggregate(last=Max("position"))
        current.retired_at = None
        current.position = (last["last"] or 0) + 1
        current._history_user = by
        current.save(update_fields=["retired_at", "position"])
    return True


def start_patrol(*, grid: Grid, by: Any) -> tuple[Patrol, bool]:
    """Start a patrol of one of the person's grids, or return the one they have open there
    (a second tap on Start, or a second device, resumes it). Returns (patrol, created)."""
    _require_patrollable(grid, by)
    with transaction.atomic():
        open_patrol = (
            Patrol.objects.select_for_update()
            .filter(grid=grid, started_by=by, status=PatrolStatus.IN_PROGRESS)
            .order_by("-started_at")
            .first()
        )
        if open_patrol is not None:
            return open_patrol, False
        return Patrol.objects.create(grid=grid, started_by=by), True


def end_patrol(*, patrol: Patrol, by: Any) -> Patrol:
    """End a patrol. A guarded update: ending an ended patrol changes nothing and raises
    PatrolAlreadyEnded, so the caller can say so."""
    now = timezone.now()
    changed = Patrol.objects.filter(pk=patrol.pk, status=PatrolStatus.IN_PROGRESS).update(
        status=PatrolStatus.ENDED, ended_at=now
    )
    if not changed:
        raise PatrolAlreadyEnded
    patrol.status, patrol.ended_at = PatrolStatus.ENDED, now
    return patrol


def _withdraw_finding(finding: Finding) -> None:
    """Take back the finding of a mis-tapped fail, while nobody has acted on it yet."""
    if finding.status != FindingStatus.OPEN or finding.follow_ups.exists():
        raise FindingAlreadyFollowedUp
    files = [attachment.file for attachment in finding.attachments.all()]
    try:
        with transaction.atomic():
            finding.attachments.all().delete()
            finding.delete()
    except ProtectedError as error:  # something (a visit, later a case) points at it already
        raise FindingAlreadyFollowedUp from error
    for stored in files:
        transaction.on_commit(lambda stored=stored: stored.delete(save=False))


def mark_patrol_item(
    *, patrol: Patrol, item: ChecklistItem, outcome: str, by: Any
) -> tuple[PatrolResult, Finding | None]:
    """Mark one item of an open patrol pass, fail or not applicable.

    One result per item and patrol: marking again (a double tap, a second device) changes the
    outcome of the same row. A fail opens the item's finding; changing a fail back takes the
    finding back while nobody has followed it up (after that the item stays failed). Returns
    the result and its finding (None unless failed)."""
    outcome = Outcome(outcome).value
    with transaction.atomic():
        locked = Patrol.objects.select_for_update().get(pk=patrol.pk)
        if locked.status != PatrolStatus.IN_PROGRESS:
            raise PatrolAlreadyEnded
        if not locked.items().filter(pk=item.pk).exists():
            raise ItemNotOnPatrol
        result = PatrolResult.objects.select_for_update().filter(patrol=locked, item=item).first()
        if result is None:
            try:
                with transaction.atomic():
                    result = PatrolResult(patrol=locked, item=item, outcome=outcome, marked_by=by)
                    result._history_user = by
                    result.save()
            except IntegrityError:  # the other tap won the race: change its row instead
                result = PatrolResult.objects.select_for_update().get(patrol=locked, item=item)
        finding = Finding.objects.filter(result=result).first()
        if result.outcome != outcome:
            if finding is not None and outcome != Outcome.FAIL:
                _withdraw_finding(finding)
                finding = None
            result.outcome = outcome
            result.marked_by = by
            result.marked_at = timezone.now()
            result._history_user = by
            result.save(update_fields=["outcome", "marked_by", "marked_at"])
        if outcome == Outcome.FAIL and finding is None:
            finding = Finding.objects.create(
                grid_id=locked.grid_id, patrol=locked, result=result, item=item, reported_by=by
            )
    patrol.status = locked.status
    return result, finding


def _store_photos(finding: Finding, photos: Iterable[UploadedFile], by: Any) -> int:
    photos = [photo for photo in photos if photo]
    if not photos:
        return 0
    if finding.attachments.count() + len(photos) > MAX_FINDING_PHOTOS:
        raise TooManyPhotos
    for photo in photos:
        store_attachment(record=finding, uploaded=photo, user=by, images_only=True)
    return len(photos)


def describe_finding(
    *,
    finding: Finding,
    by: Any,
    description: str | None = None,
    place: str | None = None,
    compound: Compound | None = None,
    clear_compound: bool = False,
    merchant_name: str | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    photos: Iterable[UploadedFile] = (),
) -> Finding:
    """Add what the reporter saw to an open finding: a note, the place, the compound, the
    merchant's name, a position (only one the worker chose to add) and photos. Values left
    None stay as they were (clear_compound takes the compound off); photos are added to those
    already there. Nothing is required."""
    with transaction.atomic():
        current = Finding.objects.select_for_update().get(pk=finding.pk)
        if current.status == FindingStatus.CLOSED:
            raise FindingClosed
        changed = []
        for name, value in (
            ("description", description),
            ("place", place),
            ("merchant_name", merchant_name),
        ):
            if value is not None and getattr(current, name) != value.strip():
                setattr(current, name, value.strip())
                changed.append(name)
        if compound is not None and compound.grid_id != current.grid_id:
            raise CompoundNotInGrid
        if compound is not None and current.compound_id != compound.pk:
            current.compound = compound
            changed.append("compound")
        elif compound is None and clear_compound and current.compound_id is not None:
            current.compound = None
            changed.append("compound")
        if latitude is not None and longitude is not None:
            current.latitude, current.longitude = latitude, longitude
            changed += ["latitude", "longitude"]
        if changed:
            current.save(update_fields=changed)
        _store_photos(current, photos, by)
    return current


def record_finding(
    *,
    grid: Grid,
    by: Any,
    description: str,
    place: str = "",
    compound: Compound | None = None,
    merchant_name: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    photos: Iterable[UploadedFile] = (),
) -> Finding:
    """Record a finding seen outside a patrol (on a visit, on the way) in one of the person's
    grids."""
    _require_patrollable(grid, by)
    if compound is not None and compound.grid_id != grid.pk:
        raise CompoundNotInGrid
    with transaction.atomic():
        finding = Finding.objects.create(
            grid=grid,
            description=description.strip(),
            place=place.strip(),
            compound=compound,
            merchant_name=merchant_name.strip(),
            latitude=latitude if longitude is not None else None,
            longitude=longitude if latitude is not None else None,
            reported_by=by,
        )
        _store_photos(finding, photos, by)
    return finding


def follow_up_finding(
    *, finding: Finding, note: str, close: bool, by: Any, version: int | None = None
) -> FindingFollowUp:
    """Append a follow-up to an unresolved finding: it becomes followed up, or closed.

    A guarded update on (pk, not closed, version): when someone else followed it up since the
    person read it (version given and changed) it raises FindingChanged; a closed finding
    raises FindingClosed. Only people who may patrol the grid follow up its findings."""
    _require_patrollable(finding.grid, by)
    status = FindingStatus.CLOSED if close else FindingStatus.FOLLOWED_UP
    now = timezone.now()
    with transaction.atomic():
        guard = Finding.objects.filter(pk=finding.pk).exclude(status=FindingStatus.CLOSED)
        if version is not None:
            guard = guard.filter(version=version)
        changed = guard.update(status=status, version=F("version") + 1, closed_at=now if close else None)
        if not changed:
            current = Finding.objects.get(pk=finding.pk)
            if current.status == FindingStatus.CLOSED:
                raise FindingClosed
            raise FindingChanged
        follow_up = FindingFollowUp.objects.create(finding=finding, by=by, at=now, note=note.strip(), status=status)
    finding.refresh_from_db(fields=["status", "version", "closed_at"])
    return follow_up


# --- Ledger: subjects, visits and the morning reminders -------------------------------------
# (grids.models.ledger; the pages, the API and the reminder task all write through these.)


VISIT_REMINDER_KIND = "visit_reminder"
OVERDUE_SUMMARY_KIND = "visit_overdue_summary"
# Names listed in one reminder; the rest are counted ("and 12 more") and shown on My day.
REMINDER_MAX_LINES = 30


class LedgerError(Exception):
    """A ledger write that cannot be done as asked; the message is for the person."""

    message = ""

    def __str__(self) -> str:
        return str(self.message)


class NotYourSubject(LedgerError):
    message = gettext_lazy("You cannot record visits for this subject.")


class VisitAlreadyCorrected(LedgerError):
    message = gettext_lazy("This visit has already been corrected: correct the correction instead.")


class FindingNotAllowed(LedgerError):
    message = gettext_lazy(
        "A problem becomes a finding only in a grid you may patrol; it is kept on the visit. Ask the grid's workers."
    )


def save_ledger_subject(*, subject: LedgerSubject, team: Iterable[Any], by: Any) -> LedgerSubject:
    """Create or change a ledger subject with its responsible team (包保). Unless the rule is
    custom, it follows the management level. simple_history records who changed what."""
    team = list(team)
    with transaction.atomic():
        subject.apply_default_rule()
        subject.has_team = bool(team)
        subject._history_user = by
        subject.save()
        subject.team.set(team)
    return subject


def refresh_has_team(subjects: models.QuerySet) -> int:
    """Set has_team from the team links, for subjects whose team was written some other way
    (the admin's form): one UPDATE."""
    links = LedgerSubject.team.through.objects.filter(ledgersubject_id=OuterRef("pk"))
    return subjects.update(has_team=Exists(links))


def end_ledger_subject(*, subject: LedgerSubject, left_on: datetime.date, by: Any) -> LedgerSubject:
    """The subject leaves the ledger on `left_on` (its reminders end then); the line and its
    visits stay, as the trace of the work."""
    with transaction.atomic():
        current = LedgerSubject.objects.select_for_update().get(pk=subject.pk)
        current.left_on = left_on
        current._history_user = by
        current.save(update_fields=["left_on"])
    return current


def record_visit(
    *,
    subject: LedgerSubject,
    by: Any,
    way: str,
    visited_at: datetime.datetime | None = None,
    workers: Iterable[Any] = (),
    joint_department: Department | None = None,
    found: str = "",
    help_given: str = "",
    problems: str = "",
    raise_finding: bool = False,
    photos: Iterable[UploadedFile] = (),
    signature: UploadedFile | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    corrects: Visit | None = None,
    correction_reason: str = "",
) -> Visit:
    """Record a visit (走访) to a subject the person may visit: the visit, its workers (the
    person who records it among them), its photos and the signature of the person visited,
    and, when asked, a grid Finding from the problems raised, linked to the visit.

    The signature image is an attachment of the subject (the visit is written once, with it);
    photos are attachments of the visit. Nothing is ever edited: see correct_visit."""
    if not LedgerSubject.objects.visitable_by(by).filter(pk=subject.pk).exists():
        raise NotYourSubject
    problems = problems.strip()
    with transaction.atomic():
        finding = None
        if raise_finding and problems:
            try:
                finding = record_finding(
                    grid=subject.grid,
                    by=by,
                    description=problems,
                    # An enterprise may be named; a person in a group is not (findings are seen by
                    # everyone who works in the grid).
                    place=subject.name if subject.kind == SubjectKind.KEY_ENTERPRISE else "",
                    latitude=latitude,
                    longitude=longitude,
                )
            except NotYourGrid:
                raise FindingNotAllowed from None
        signature_file = (
            store_attachment(record=subject, uploaded=signature, user=by, images_only=True) if signature else None
        )
        try:
            with transaction.atomic():
                visit = Visit.objects.create(
                    subject=subject,
                    visited_at=visited_at or timezone.now(),
                    way=way,
                    joint_department=joint_department,
                    found=found.strip(),
                    help_given=help_given.strip(),
                    problems=problems,
                    finding=finding,
                    signature=signature_file,
                    latitude=latitude if longitude is not None else None,
                    longitude=longitude if latitude is not None else None,
                    corrects=corrects,
                    correction_reason=correction_reason.strip(),
                    recorded_by=by,
                )
        except IntegrityError:
            if corrects is not None:  # someone corrected the same visit a moment earlier
                raise VisitAlreadyCorrected from None
            raise
        visit.workers.set({by.pk, *(getattr(worker, "pk", worker) for worker in workers)})
        for photo in photos:
            store_attachment(record=visit, uploaded=photo, user=by, images_only=True)
    return visit


def correct_visit(*, visit: Visit, by: Any, correction_reason: str, **values: Any) -> Visit:
    """Correct a visit: a new visit of the same subject that replaces it in every count and
    says why. The original stays as it was. A visit is corrected once; to change it again,
    correct the correction."""
    if Visit.objects.filter(corrects=visit).exists():
        raise VisitAlreadyCorrected
    return record_visit(subject=visit.subject, by=by, corrects=visit, correction_reason=correction_reason, **values)


@dataclass(frozen=True)
class DueLine:
    """One subject of the morning's due set, as the reminders list it."""

    pk: int
    name: str
    kind: str
    grid_id: int
    resident_id: int | None
    group: str
    is_overdue: bool
    visits_needed: int
    period_last_day: datetime.date


def due_set(day: datetime.date) -> dict[int, DueLine]:
    """Every subject in the ledger that needs a visit on the day (due or overdue), computed in
    one SQL query (LedgerSubjectQuerySet.with_status), by primary key."""
    rows = (
        LedgerSubject.objects.active(day)
        .with_status(day)
        .needing_visits()
        .values_list(
            "pk", "name", "kind", "grid_id", "resident_id", "group", "is_overdue", "visits_needed", "period_last_day"
        )
    )
    return {row[0]: DueLine(*row) for row in rows.iterator(chunk_size=20_000)}


def _care_of(due: dict[int, DueLine], day: datetime.date) -> dict[int, list[int]]:
    """Who answers for which due subject: the members of its responsible team, or, for a subject
    with no team, the people on duty in its grid (LedgerSubjectQuerySet.in_care_of, as a set:
    two queries)."""
    care: dict[int, list[int]] = defaultdict(list)
    with_team: set[int] = set()
    links = LedgerSubject.team.through.objects.filter(ledgersubject__in=LedgerSubject.objects.active(day))
    for subject_id, user_id in links.values_list("ledgersubject_id", "user_id").iterator(chunk_size=50_000):
        with_team.add(subject_id)
        if subject_id in due:
            care[user_id].append(subject_id)
    teamless: dict[int, list[int]] = defaultdict(list)
    for line in due.values():
        if line.pk not in with_team:
            teamless[line.grid_id].append(line.pk)
    if teamless:
        on_duty = GridAssignment.objects.current(day).filter(grid_id__in=list(teamless))
        for user_id, grid_id in on_duty.values_list("user_id", "grid_id"):
            care[user_id].extend(teamless[grid_id])
    return care


def _group_sight(day: datetime.date, people: list[Any]) -> GroupSight:
    """The people registry's group rule (GroupMembership.objects.visible_to) for all these
    people over the memberships of the residents in the ledger on the day, in three queries."""
    in_ledger = LedgerSubject.objects.active(day).filter(resident__isnull=False).order_by().values("resident_id")
    return GroupMembership.objects.filter(resident_id__in=in_ledger).sight(people)


def _visible_lines(person: Any, subject_ids: list[int], due: dict[int, DueLine], sight: GroupSight) -> list[DueLine]:
    """The lines among these that the person may see, for lines known to be in the person's
    scope (what someone who works for the community has in their care; the grids of the
    branches a secretary leads): the ledger rule's group half (groups_visible_to): key
    enterprises, and group lines whose resident's membership the person sees."""
    return [
        due[pk]
        for pk in subject_ids
        if due[pk].kind == SubjectKind.KEY_ENTERPRISE or sight.sees(person, due[pk].resident_id, due[pk].group)
    ]


def _worker_reminder(person: Any, lines: list[DueLine], day: datetime.date, url: str) -> Message:
    """One person's reminder: their due and overdue subjects, overdue first."""
    lines = sorted(lines, key=lambda line: (not line.is_overdue, line.period_last_day, line.name, line.pk))
    overdue = sum(1 for line in lines if line.is_overdue)
    kind_labels = dict(SubjectKind.choices)
    text = []
    for line in lines[:REMINDER_MAX_LINES]:
        if line.is_overdue:
            state = _("overdue")
        else:
            state = ngettext("%(count)d visit by %(date)s", "%(count)d visits by %(date)s", line.visits_needed) % {
                "count": line.visits_needed,
                "date": line.period_last_day.strftime("%m-%d"),
            }
        text.append(f"· {line.name} ({kind_labels[line.kind]}): {state}")
    if len(lines) > REMINDER_MAX_LINES:
        text.append(_("… and %(count)d more on My day.") % {"count": len(lines) - REMINDER_MAX_LINES})
    return Message(
        recipient_id=person.pk,
        kind=VISIT_REMINDER_KIND,
        dedupe_key=f"visit-reminder:{day.isoformat()}",
        title=_("Visits today: %(due)d due, %(overdue)d overdue") % {"due": len(lines) - overdue, "overdue": overdue},
        body="\n".join(text),
        url=url,
    )


def _overdue_summary(
    secretary: Any, grids: list[tuple[int, str]], counts: Counter[int], day: datetime.date, url: str
) -> Message:
    """A branch secretary's summary: the overdue subjects they may see, per grid of their branches."""
    total = sum(counts.values())
    return Message(
        recipient_id=secretary.pk,
        kind=OVERDUE_SUMMARY_KIND,
        dedupe_key=f"visit-overdue-summary:{day.isoformat()}",
        title=ngettext(
            "%(count)d overdue ledger visit in your grids", "%(count)d overdue ledger visits in your grids", total
        )
        % {"count": total},
        body="\n".join(f"· {name}: {counts[grid_id]}" for grid_id, name in grids if counts[grid_id]),
        url=url,
    )


def send_visit_reminders(*, on: datetime.date | None = None) -> int:
    """The morning sweep: to each person who answers for subjects, one reminder listing their
    due and overdue subjects; to each branch secretary, one summary of the overdue subjects per
    grid of their branches.

    Set-based: the due set is one SQL query for the whole installation; who answers for what,
    two more; who sees which group, three more (GroupMembershipQuerySet.sight: the people
    registry's rule for everyone at once, so nobody is told of a group they may not see); the
    branches, one. The messages are inserted in bulk with a dedupe key of kind and date per
    recipient, so a rerun, or two workers at once, tell nobody anything twice. Returns the
    number of messages offered."""
    day = on or timezone.localdate()
    due = due_set(day)
    care = _care_of(due, day)
    people = list(User.objects.filter(is_active=True, pk__in=list(care)).order_by("pk"))

    overdue_by_grid: dict[int, list[int]] = defaultdict(list)
    for line in due.values():
        if line.is_overdue:
            overdue_by_grid[line.grid_id].append(line.pk)
    branch_grids: dict[int, list[tuple[int, str]]] = defaultdict(list)
    led = Grid.objects.filter(branch__kind=OrganisationKind.GRID_BRANCH, branch__secretary__is_active=True)
    for grid_id, name, secretary_id in led.order_by("community_id", "code").values_list(
        "pk", "name", "branch__secretary_id"
    ):
        branch_grids[secretary_id].append((grid_id, name))
    secretaries = [
        secretary
        for secretary in User.objects.filter(pk__in=list(branch_grids)).order_by("pk")
        if any(overdue_by_grid[grid_id] for grid_id, _name in branch_grids[secretary.pk])
    ]
    sight = _group_sight(day, people + secretaries)

    messages: list[Message] = []
    with translation.override(django_settings.LANGUAGE_CODE):
        url = reverse("grids:my_day")
        for person in people:
            if roles.works_for_community(person):
                # What someone who works for the community has in their care is in their scope.
                lines = _visible_lines(person, care[person.pk], due, sight)
            else:
                # Anyone else (rare: a merchant left on a team) is asked the whole ledger rule.
                visible = LedgerSubject.objects.visible_to(person).filter(pk__in=care[person.pk])
                lines = [due[pk] for pk in visible.values_list("pk", flat=True)]
            if lines:
                messages.append(_worker_reminder(person, lines, day, url))
        for secretary in secretaries:
            # The grids of the branches one leads are in one's scope (visible_grid_ids).
            candidates = [pk for grid_id, _name in branch_grids[secretary.pk] for pk in overdue_by_grid[grid_id]]
            counts = Counter(line.grid_id for line in _visible_lines(secretary, candidates, due, sight))
            if counts:
                messages.append(_overdue_summary(secretary, branch_grids[secretary.pk], counts, day, url))
    notify(messages)
    return len(messages)
