"""Patrols: checklists, patrols, findings and their follow-ups (grids.models.patrols; the pages
and the API both write through these)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from functools import partial

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Max, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext_lazy

from grids.access import may_patrol
from grids.models import (
    MAX_FINDING_PHOTOS,
    Checklist,
    ChecklistItem,
    Compound,
    Finding,
    FindingFollowUp,
    FindingStatus,
    Grid,
    Outcome,
    Patrol,
    PatrolResult,
    PatrolStatus,
    SiteType,
    checklist_templates,
)
from grids.models.patrols import (  # the refusals of the finding's workflow live beside it
    FINDING_WORKFLOW,
    FindingAction,
    FindingChanged,  # noqa: F401 (re-exported with the other patrol refusals)
    FindingClosed,
    NotYourGrid,
    PatrolError,
)
from shanglong.history import set_history_author
from shanglong.media import store_attachment
from shanglong.models import User
from shanglong.refusals import ActionRefused, Conflict


class PatrolAlreadyEnded(PatrolError, Conflict):
    code = "patrol_already_ended"
    message = gettext_lazy("This patrol has already ended; nothing was changed.")


class ItemNotOnPatrol(PatrolError, ActionRefused):
    code = "item_not_on_patrol"
    message = gettext_lazy("This item is not on the checklist of this patrol.")
    field = "item"


class FindingAlreadyFollowedUp(PatrolError, Conflict):
    code = "finding_already_followed_up"
    message = gettext_lazy("The finding of this item is already being followed up, so the item stays failed.")


class CompoundNotInGrid(PatrolError, ActionRefused):
    code = "compound_not_in_grid"
    message = gettext_lazy("This compound is not in the finding's grid.")
    field = "compound"


class TooManyPhotos(PatrolError, ActionRefused):
    code = "too_many_photos"
    field = "photos"

    def __str__(self) -> str:
        return gettext_lazy("A finding can carry at most %(count)d photos.") % {"count": MAX_FINDING_PHOTOS}


def _require_patrollable(grid: Grid, by: User) -> None:
    if not may_patrol(by, grid.pk):
        raise NotYourGrid


def ensure_checklist(*, grid: Grid) -> Checklist:
    """The grid's checklist, created empty the first time it is needed."""
    checklist, _created = Checklist.objects.get_or_create(grid=grid)
    return checklist


def apply_checklist_template(*, grid: Grid, site_type: str, by: User) -> list[ChecklistItem]:
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
            set_history_author(item, by)
            item.save()
            added.append(item)
    return added


def add_checklist_item(
    *,
    grid: Grid,
    text: str,
    by: User,
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
        set_history_author(item, by)
        item.save()
    return item


def move_checklist_item(*, item: ChecklistItem, up: bool, by: User) -> bool:
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


def retire_checklist_item(*, item: ChecklistItem, by: User) -> bool:
    """Take an item off future patrols. It stays with its results (it is never deleted once
    used). Returns False when it was already retired."""
    with transaction.atomic():
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if current.retired_at is not None:
            return False
        current.retired_at = timezone.now()
        set_history_author(current, by)
        current.save(update_fields=["retired_at"])
    return True


def restore_checklist_item(*, item: ChecklistItem, by: User) -> bool:
    """Put a retired item back on the checklist, at its end."""
    with transaction.atomic():
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        if current.retired_at is None:
            return False
        last = ChecklistItem.objects.filter(checklist_id=current.checklist_id).aggregate(last=Max("position"))
        current.retired_at = None
        current.position = (last["last"] or 0) + 1
        set_history_author(current, by)
        current.save(update_fields=["retired_at", "position"])
    return True


def start_patrol(*, grid: Grid, by: User) -> tuple[Patrol, bool]:
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


def end_patrol(*, patrol: Patrol, by: User) -> Patrol:
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
        transaction.on_commit(partial(stored.delete, save=False))


def mark_patrol_item(
    *, patrol: Patrol, item: ChecklistItem, outcome: str, by: User
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
                    set_history_author(result, by)
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
            set_history_author(result, by)
            result.save(update_fields=["outcome", "marked_by", "marked_at"])
        if outcome == Outcome.FAIL and finding is None:
            finding = Finding.objects.create(
                grid_id=locked.grid_id, patrol=locked, result=result, item=item, reported_by=by
            )
    patrol.status = locked.status
    return result, finding


def _store_photos(finding: Finding, photos: Iterable[UploadedFile], by: User) -> int:
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
    by: User,
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
    by: User,
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
    *,
    finding: Finding,
    note: str,
    close: bool,
    by: User,
    version: int | None = None,
    attachments: Iterable[UploadedFile] = (),
) -> FindingFollowUp:
    """Append a follow-up to an unresolved finding: it becomes followed up, or closed.

    A step of FINDING_WORKFLOW: a guarded update on (pk, status as read, version seen), so when
    someone else followed it up since the person read it (the version they give, else the one
    `finding` was read with) it raises FindingChanged; a closed finding raises FindingClosed;
    only people who may patrol the grid follow up its findings (NotYourGrid). Closing tells
    the reporter, after commit."""
    action = FindingAction.CLOSE if close else FindingAction.FOLLOW_UP
    follow_up = FINDING_WORKFLOW.transition(
        finding, action=action, by=by, note=note, version=version, attachments=attachments, images_only=True
    )
    assert isinstance(follow_up, FindingFollowUp)
    return follow_up
