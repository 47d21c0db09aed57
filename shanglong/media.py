"""Uploads: the one helper every app uses to take a file from a person.

It checks the file's real type (from its content, not its name) and size, re-encodes images
(resized to a sane size, turned upright, with all EXIF data, location included, left behind)
and stores the result as an Attachment of one record. Files are served only by
shanglong.views.serve_attachment, which checks the viewer may see that record.
"""

from __future__ import annotations

import io
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from shanglong.models import Attachment
from shanglong.roles import Viewer

# Image formats we accept, by what Pillow finds inside the file.
IMAGE_FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
# Documents we accept, by their first bytes.
DOCUMENT_SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"PK\x03\x04": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
}
DOCUMENT_SUFFIXES = {".pdf": b"%PDF-", ".xlsx": b"PK\x03\x04"}

# Refuse decompression bombs: above this many pixels an image is not decoded at all.
MAX_IMAGE_PIXELS = 60_000_000
# Photos one form or API call may bring at once (a record may cap its own total lower).
MAX_PHOTOS_AT_ONCE = 6


class PreparedUpload:
    """A checked upload, ready to store: content, type and a safe name."""

    def __init__(self, *, content: bytes, content_type: str, suffix: str, original_name: str) -> None:
        self.content = content
        self.content_type = content_type
        self.suffix = suffix
        self.original_name = original_name


def prepare_upload(uploaded: UploadedFile, *, images_only: bool = False) -> PreparedUpload:
    """Check an upload and return it cleaned, or raise ValidationError in the user's language."""
    original_name = Path(uploaded.name or "file").name[:255]
    if uploaded.size is not None and uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(settings.UPLOAD_MAX_BYTES)},
            code="too_large",
        )
    uploaded.seek(0)
    raw = uploaded.read()
    if not raw:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(raw) > settings.UPLOAD_MAX_BYTES:
        raise ValidationError(
            _("The file is too large; the limit is %(limit)s.") % {"limit": filesizeformat(settings.UPLOAD_MAX_BYTES)},
            code="too_large",
        )
    image = _clean_image(raw)
    if image is not None:
        content, content_type, suffix = image
        return PreparedUpload(content=content, content_type=content_type, suffix=suffix, original_name=original_name)
    if not images_only:
        for signature, (content_type, suffix) in DOCUMENT_SIGNATURES.items():
            if raw.startswith(signature) and Path(original_name).suffix.lower() == suffix:
                return PreparedUpload(
                    content=raw, content_type=content_type, suffix=suffix, original_name=original_name
                )
    if images_only:
        message = _("This is not a photo we can read. Please choose a JPEG, PNG or WebP image.")
    else:
        message = _("This file type is not accepted. Please choose a photo (JPEG, PNG, WebP), a PDF or an .xlsx file.")
    raise ValidationError(message, code="file_type")


def _clean_image(raw: bytes) -> tuple[bytes, str, str] | None:
    """Re-encode an image without its metadata; None when the bytes are not an image."""
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            probe.verify()
            too_many_pixels = probe.size[0] * probe.size[1] > MAX_IMAGE_PIXELS
        if too_many_pixels:
            message = _("This picture is too large to process. Please send a smaller photo.")
            raise ValidationError(message, code="too_large")
        image: Image.Image = Image.open(io.BytesIO(raw))
        image_format = image.format
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        return None
    if image_format not in IMAGE_FORMATS:
        return None
    image = ImageOps.exif_transpose(image)  # keep the picture upright once the EXIF tag is gone
    max_side = settings.UPLOAD_IMAGE_MAX_SIDE
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    content_type, suffix = IMAGE_FORMATS[image_format]
    out = io.BytesIO()
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=85, optimize=True)  # no exif= argument: none is written
    elif image_format == "PNG":
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="WEBP", quality=85)
    return out.getvalue(), content_type, suffix


def store_attachment(
    *, record: models.Model, uploaded: UploadedFile, user: Viewer, images_only: bool = False
) -> Attachment:
    """Check, clean and store an upload as an attachment of `record`."""
    prepared = prepare_upload(uploaded, images_only=images_only)
    attachment = Attachment(
        record=record,
        original_name=prepared.original_name,
        content_type_header=prepared.content_type,
        size=len(prepared.content),
        uploaded_by=user if user.is_authenticated else None,
    )
    attachment.file.save(f"{get_random_string(24)}{prepared.suffix}", ContentFile(prepared.content), save=False)
    attachment.save()
    return attachment


def visible_attachment(user: Viewer, pk: int) -> Attachment | None:
    """The attachment, if the viewer may see the record it belongs to; otherwise None."""
    attachment = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if attachment is None:
        return None
    model = attachment.content_type.model_class()
    manager = getattr(model, "objects", None) if model is not None else None
    visible_to = getattr(manager, "visible_to", None)
    if visible_to is None:  # a record with no scoping rule is shown to nobody
        return None
    if not visible_to(user).filter(pk=attachment.object_id).exists():
        return None
    return attachment
