"""Party members: the yearly report of in-work members (双报到) (grids.models.party; the pages and
the API both write through this)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.models import (
    InWorkRegistration,
    InWorkReport,
    ReportAlreadySent,
    ServiceHours,
)
from shanglong.models import User


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
