"""Helpers of the patrol tests: checklists from the templates, patrols with results, and a
camera photo that carries a GPS position in its EXIF."""

from __future__ import annotations

import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grids.actions import apply_checklist_template, mark_patrol_item, start_patrol
from grids.models import ChecklistItem, Grid, Patrol

GPS_IFD = 0x8825
MAKE = 0x010F


def jpeg_with_location(size: tuple[int, int] = (320, 240)) -> bytes:
    """A camera photo: EXIF with the camera make and a GPS position in Shanglong."""
    exif = Image.Exif()
    exif[MAKE] = "TestCam"
    exif[GPS_IFD] = {1: "N", 2: (37.0, 27.0, 46.8), 3: "E", 4: (118.0, 29.0, 42.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def photo_upload(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_location(), content_type="image/jpeg")


def has_location(content: bytes) -> bool:
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        return GPS_IFD in exif or MAKE in exif or bool(exif.get_ifd(GPS_IFD))


def gas_checklist(grid: Grid, by) -> list[ChecklistItem]:
    """The grid's checklist with the restaurant gas safety template (7 items)."""
    return apply_checklist_template(grid=grid, site_type="restaurant_gas", by=by)


def item(grid: Grid, key: str) -> ChecklistItem:
    return ChecklistItem.objects.get(checklist__grid=grid, template_key=key)


def walked_patrol(grid: Grid, walker, outcomes: dict[ChecklistItem, str], *, started_at=None) -> Patrol:
    """A patrol of the grid by the walker with the given outcomes, ended; at `started_at` when
    given (its results marked then too)."""
    patrol, _created = start_patrol(grid=grid, by=walker)
    if started_at is not None:
        Patrol.objects.filter(pk=patrol.pk).update(started_at=started_at)
        patrol.refresh_from_db()
    for checklist_item, outcome in outcomes.items():
        result, _finding = mark_patrol_item(patrol=patrol, item=checklist_item, outcome=outcome, by=walker)
        if started_at is not None:
            type(result).objects.filter(pk=result.pk).update(marked_at=started_at + datetime.timedelta(minutes=5))
    Patrol.objects.filter(pk=patrol.pk).update(status="ended", ended_at=patrol.started_at)
    patrol.refresh_from_db()
    return patrol


def english_client(user):
    """A test client logged in as the person, answering in English (messages are asserted in
    their English source text)."""
    from django.test import Client

    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client
