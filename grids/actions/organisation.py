"""Grid duty: ending a person's assignment in a grid (grids.models.organisation)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from grids.models import (
    GridAssignment,
)
from shanglong.history import set_history_author
from shanglong.models import User
from shanglong.refusals import Conflict


class AssignmentAlreadyEnded(Conflict):
    """Someone else ended the assignment (earlier) while this person was looking at it."""

    code = "assignment_already_ended"
    message = gettext_lazy("This assignment had already ended; nothing was changed.")


def end_assignment(*, assignment: GridAssignment, until: datetime.date, by: User) -> GridAssignment:
    """End a person's duty in a grid: `until` is their last day on duty.

    The row is re-read under a lock; an assignment that already ended before today is left as
    it is (ending it again would rewrite its history), and the caller tells the person.
    """
    with transaction.atomic():
        current = GridAssignment.objects.select_for_update().get(pk=assignment.pk)
        if current.until is not None and current.until < timezone.localdate():
            raise AssignmentAlreadyEnded
        current.until = until
        set_history_author(current, by)  # simple_history records who ended it
        current.save(update_fields=["until"])
    return current
