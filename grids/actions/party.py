"""Party members: the yearly report of in-work members (双报到) (grids.models.party), and the units'
registration with the community (单位双报到, grids.models.cobuilding): its agreement file and the
steps of its list items. The pages and the API both write through this."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from grids.models import (
    UNIT_ITEM_WORKFLOW,
    InWorkRegistration,
    InWorkReport,
    ReportAlreadySent,
    ServiceHours,
    UnitRegistration,
    UnitRegistrationItem,
    UnitRegistrationItemStep,
)
from shanglong.media import prepare_upload, store_attachment
from shanglong.models import Attachment, User
from shanglong.refusals import ActionRefused

# What a co-building agreement may be: a PDF, or a photo of the signed pages.
AGREEMENT_CONTENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/webp"})


class AgreementFileRefused(ActionRefused):
    code = "agreement_file_refused"
    field = "agreement_file"
    message = _lazy("Choose the agreement as a PDF or a photo (JPEG, PNG, WebP).")


def mark_in_work_report_sent(*, registration: InWorkRegistration, year: int, by: User, note: str = "") -> InWorkReport:
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


def attach_agreement(*, registration: UnitRegistration, uploaded: UploadedFile, by: User) -> Attachment:
    """Store the signed co-building agreement (a PDF or a photo) with the unit's registration;
    any other file (a spreadsheet, a document the core cannot read) is refused and nothing is
    stored."""
    try:
        prepared = prepare_upload(uploaded)
    except ValidationError as error:
        raise AgreementFileRefused(" ".join(error.messages)) from error
    if prepared.content_type not in AGREEMENT_CONTENT_TYPES:
        raise AgreementFileRefused
    uploaded.seek(0)
    return store_attachment(record=registration, uploaded=uploaded, user=by)


def move_unit_registration_item(
    *, item: UnitRegistrationItem, action: str, by: User, note: str = "", version: int | None = None
) -> UnitRegistrationItemStep:
    """Take one step on a list item of a unit registration (UNIT_ITEM_WORKFLOW): matched, under
    way, done, or dropped. A guarded update on (pk, status as read, version seen): a step from
    a finished item is ItemFinished, one on an item moved meanwhile ItemChanged (both 409); only
    the community's staff keep the registration's items (NotYourUnitRegistration, 403)."""
    entry = UNIT_ITEM_WORKFLOW.transition(item, action=action, by=by, note=note, version=version)
    assert isinstance(entry, UnitRegistrationItemStep)
    return entry
