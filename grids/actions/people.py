"""People: residents, households, rented flats, groups, reveals and exports (grids.models.people;
the pages and the API both write through these)."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.models import (
    AFTERCARE_YEARS,
    Compound,
    Dwelling,
    ExportApproval,
    ExportStatus,
    GroupKind,
    GroupMembership,
    Household,
    Relation,
    Resident,
    ResidentialBuilding,
    Tenancy,
)
from grids.models.people import export_deciders, years_after
from shanglong import roles
from shanglong.actions import record_access
from shanglong.history import set_history_author
from shanglong.models import AccessAction, RevealReason, User, reveal_detail
from shanglong.notifications import Message, notify
from shanglong.refusals import ActionRefused, Conflict, NotAllowed

REVEALABLE_FIELDS = ("id_number", "mobile")
EXPORT_APPROVAL_HOURS = 24


def find_or_create_dwelling(*, compound: Compound, building: str, unit: str, room: str) -> Dwelling:
    """The dwelling at a standard address, created (with its building) the first time it is named."""
    building_row, _created = ResidentialBuilding.objects.get_or_create(compound=compound, name=building.strip())
    dwelling, _created = Dwelling.objects.get_or_create(building=building_row, unit=unit.strip(), room=room.strip())
    return dwelling


def _place_in_household(resident: Resident, *, by: User) -> None:
    """A householder leads a household at their dwelling (a new one unless they lead one
    there); a relative joins the household at their dwelling; a resident with no relation
    belongs to none. Called with the resident saved."""
    if resident.relation == Relation.SELF:
        household = resident.households_led.filter(dwelling_id=resident.dwelling_id).first()
        if household is None:
            household = Household(dwelling_id=resident.dwelling_id, householder=resident)
            set_history_author(household, by)
            household.save()
    elif resident.relation and resident.relation != Relation.NONE:
        household = Household.objects.joinable().filter(dwelling_id=resident.dwelling_id).order_by("-pk").first()
    else:
        household = None
    if resident.household_id != (household.pk if household else None):
        resident.household = household
        set_history_author(resident, by)
        resident.save(update_fields=["household"])


def save_resident(*, resident: Resident, id_number: str | None, by: User) -> Resident:
    """Create or change a resident (the form or serializer has checked the values): the
    identity number and its keyed hash are set together, and the resident is placed in the
    household at their address. simple_history records who changed what."""
    with transaction.atomic():
        if id_number:
            resident.set_identity_number(id_number)
        set_history_author(resident, by)
        resident.save()
        _place_in_household(resident, by=by)
    return resident


class ResidentAlreadyMovedOut(Conflict):
    """The resident had already moved out; moving them out again would rewrite the record."""

    code = "resident_already_moved_out"
    message = gettext_lazy("This resident had already moved out; nothing was changed.")
    field = "moved_out"


def move_out_resident(*, resident: Resident, on: datetime.date, by: User) -> Resident:
    """Record that a resident left (the record stays, with the date); their open group
    memberships and tenancies end the same day."""
    with transaction.atomic():
        current = Resident.objects.select_for_update().get(pk=resident.pk)
        if current.moved_out is not None:
            raise ResidentAlreadyMovedOut
        if current.moved_in and on < current.moved_in:
            raise ValidationError(_("The moving-out date cannot be before the moving-in date."))
        current.moved_out = on
        set_history_author(current, by)
        current.save(update_fields=["moved_out"])
        for membership in GroupMembership.objects.filter(resident=current).filter(
            Q(until__isnull=True) | Q(until__gt=on)
        ):
            membership.until = max(on, membership.since)
            set_history_author(membership, by)
            membership.save(update_fields=["until"])
        for tenancy in Tenancy.objects.filter(tenant=current).filter(Q(until__isnull=True) | Q(until__gt=on)):
            tenancy.until = max(on, tenancy.since)
            set_history_author(tenancy, by)
            tenancy.save(update_fields=["until"])
    return current


def record_group_membership(*, membership: GroupMembership, by: User) -> GroupMembership:
    """Record (or change) a resident's membership of a special group or the key persons. The
    aftercare of a released prisoner ends five years after release when no end is given."""
    if membership.kind == GroupKind.RELEASED_PRISONER and membership.until is None:
        membership.until = years_after(membership.since, AFTERCARE_YEARS)
    membership.full_clean()
    set_history_author(membership, by)
    membership.save()
    return membership


class MembershipAlreadyEnded(Conflict):
    """Someone ended the membership (earlier) while this person was looking at it."""

    code = "membership_already_ended"
    message = gettext_lazy("This membership had already ended; nothing was changed.")


def end_group_membership(*, membership: GroupMembership, until: datetime.date, by: User) -> GroupMembership:
    """Record that a resident left a group: `until` is the last day. The record stays."""
    with transaction.atomic():
        current = GroupMembership.objects.select_for_update().get(pk=membership.pk)
        if current.until is not None and current.until < timezone.localdate():
            raise MembershipAlreadyEnded
        if until < current.since:
            raise ValidationError(_("The end of a membership cannot be before its start."))
        current.until = until
        set_history_author(current, by)
        current.save(update_fields=["until"])
    return current


def record_tenancy(*, tenancy: Tenancy, by: User) -> Tenancy:
    """Record a rented flat: the dwelling, its owner, the tenant and the dates."""
    tenancy.full_clean()
    set_history_author(tenancy, by)
    tenancy.save()
    return tenancy


def end_tenancy(*, tenancy: Tenancy, until: datetime.date, by: User) -> Tenancy:
    """Record the last day of a rented flat: the tenancy keeps its record."""
    with transaction.atomic():
        current = Tenancy.objects.select_for_update().get(pk=tenancy.pk)
        if until < current.since:
            raise ValidationError(_("The end of a tenancy cannot be before its start."))
        current.until = until
        set_history_author(current, by)
        current.save(update_fields=["until"])
    return current


class RevealReasonMissing(ActionRefused):
    """A reveal asks why: nothing is shown or logged without a reason."""

    code = "reveal_reason_missing"
    message = gettext_lazy("Choose why you need the full value.")
    field = "reason"


class RevealReasonTextMissing(RevealReasonMissing):
    message = gettext_lazy("Say in a few words why you need the full value.")
    field = "reason_text"


REVEAL_REASON_TEXT_LENGTH = 200


def reveal_resident_field(
    *, resident: Resident, field: str, reason: str, reason_text: str = "", request: HttpRequest
) -> str:
    """Show one masked value of a resident (identity number or mobile) in full to a person
    entitled to it, for a reason they give (a RevealReason, with words when it is "other"),
    and record both in the access log. Raises PermissionDenied when they may not; without a
    reason, RevealReasonMissing (400): nothing is shown and nothing logged."""
    if field not in REVEALABLE_FIELDS:
        raise PermissionDenied(_("This value cannot be revealed."))
    if not Resident.objects.revealable_by(request.user).filter(pk=resident.pk).exists():
        raise PermissionDenied(_("You may not see this resident's full details."))
    if reason not in RevealReason.values:
        raise RevealReasonMissing
    reason_text = " ".join((reason_text or "").split())[:REVEAL_REASON_TEXT_LENGTH]
    if reason == RevealReason.OTHER and not reason_text:
        raise RevealReasonTextMissing
    record_access(
        action=AccessAction.REVEAL,
        request=request,
        target=f"resident:{resident.pk}:{field}",
        detail=reveal_detail(reason=reason, text=reason_text),
    )
    return getattr(resident, field) or ""


EXPORT_REQUEST_KIND = "export_request"
EXPORT_DECISION_KIND = "export_decision"


def can_request_unmasked_export(user: User) -> bool:
    """Who may ask for an unmasked export: community staff and grid workers of a community."""
    return bool(user.community_id) and (roles.is_community_staff(user) or roles.is_grid_worker(user))


def request_unmasked_export(*, by: User, reason: str) -> ExportApproval:
    """Ask for one unmasked export of the residents registry; those who may decide (the
    community admin, the subdistrict's staff) are told in their inbox."""
    if not can_request_unmasked_export(by) or by.community_id is None:
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


class ExportAlreadyDecided(Conflict):
    """The request was approved or refused already (by someone else, or in another tab)."""

    code = "export_already_decided"
    message = gettext_lazy("This request was already decided; nothing was changed.")


def decide_export_request(
    *, approval: ExportApproval, approve: bool, by: User, hours: int = EXPORT_APPROVAL_HOURS
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


class ExportRefused(NotAllowed):
    """An unmasked export without a usable approval; the message says what to do."""

    code = "export_not_approved"
    message = gettext_lazy(
        "An export with full identity numbers and phone numbers needs the community admin's approval. "
        "Ask for it on the export requests page; an approval is valid for one export."
    )


def claim_export_approval(*, by: User) -> ExportApproval:
    """Use one of the person's approved, unused, valid approvals (single use: a guarded
    update, so two exports at once cannot share it). Raises ExportRefused when there is none."""
    now = timezone.now()
    for approval in ExportApproval.objects.usable_by(by, now).order_by("valid_until"):
        if ExportApproval.objects.filter(pk=approval.pk, used_at__isnull=True).update(used_at=now):
            approval.used_at = now
            return approval
    raise ExportRefused
