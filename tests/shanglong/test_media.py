"""Uploads: checked by content, cleaned of EXIF (location included), resized, and served only to
people who may see the record they belong to."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from shanglong.media import prepare_upload, store_attachment
from shanglong.models import Attachment
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
MAKE = 0x010F


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in their English source text, whatever the default language."""
    with translation.override("en"):
        yield


def jpeg_with_location(size: tuple[int, int] = (640, 480)) -> bytes:
    """A camera photo: EXIF with the camera make and a GPS position in Shanglong."""
    exif = Image.Exif()
    exif[MAKE] = "TestCam"
    exif[GPS_IFD] = {1: "N", 2: (37.0, 27.0, 46.8), 3: "E", 4: (118.0, 29.0, 42.0)}
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_files(root) -> list:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


@pytest.fixture
def photo(media_root, community, staff) -> Attachment:
    return store_attachment(record=community, uploaded=upload(jpeg_with_location()), user=staff)


def test_the_test_photo_really_carries_a_location():
    with Image.open(io.BytesIO(jpeg_with_location())) as image:
        exif = image.getexif()
        assert exif[MAKE] == "TestCam"
        assert exif.get_ifd(GPS_IFD)[1] == "N"


def test_stored_photo_has_no_exif_at_all(photo, media_root):
    assert photo.content_type_header == "image/jpeg"
    assert photo.original_name == "photo.jpg"
    assert photo.uploaded_by.username == "staff1"
    with photo.file.open("rb") as stored:
        content = stored.read()
    assert photo.size == len(content)
    assert b"Exif" not in content
    assert b"TestCam" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == "JPEG"
        assert image.size == (640, 480)
        assert "exif" not in image.info
        exif = image.getexif()
        assert len(exif) == 0
        assert exif.get_ifd(GPS_IFD) == {}
    # The file is under MEDIA_ROOT, with a random name rather than the uploaded one.
    assert [path.name for path in stored_files(media_root)] == [photo.file.name.rsplit("/", 1)[-1]]
    assert "photo" not in photo.file.name


@pytest.mark.parametrize(("image_format", "content_type"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_photos_lose_their_exif_too(media_root, community, staff, image_format, content_type):
    exif = Image.Exif()
    exif[MAKE] = "TestCam"
    exif[GPS_IFD] = {1: "N", 2: (37.0, 27.0, 46.8), 3: "E", 4: (118.0, 29.0, 42.0)}
    original = io.BytesIO()
    Image.new("RGB", (320, 240), (20, 120, 30)).save(original, format=image_format, exif=exif)
    assert b"TestCam" in original.getvalue()
    attachment = store_attachment(
        record=community, uploaded=upload(original.getvalue(), name="pic", content_type=content_type), user=staff
    )
    assert attachment.content_type_header == content_type
    with attachment.file.open("rb") as stored:
        content = stored.read()
    assert b"TestCam" not in content
    with Image.open(io.BytesIO(content)) as image:
        assert image.format == image_format
        assert len(image.getexif()) == 0


def test_a_too_large_file_is_refused_and_nothing_is_stored(media_root, community, staff, settings):
    settings.UPLOAD_MAX_BYTES = 2_000
    content = jpeg_with_location((800, 600))
    assert len(content) > 2_000
    with pytest.raises(ValidationError) as caught:
        store_attachment(record=community, uploaded=upload(content), user=staff)
    assert caught.value.code == "too_large"
    assert "too large" in caught.value.messages[0]
    assert "2.0\xa0KB" in caught.value.messages[0]  # the limit, in words a person understands
    assert Attachment.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_file_that_is_not_an_image_but_named_jpg_is_refused(media_root, community, staff):
    fake = upload(b"MZ\x90\x00 this is a program, not a photo " * 50, name="holiday.jpg")
    with pytest.raises(ValidationError) as caught:
        store_attachment(record=community, uploaded=fake, user=staff, images_only=True)
    assert caught.value.code == "file_type"
    assert "not a photo we can read" in caught.value.messages[0]
    assert "JPEG, PNG or WebP" in caught.value.messages[0]
    assert Attachment.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_fake_jpg_is_refused_where_documents_are_accepted_too(media_root, community, staff):
    fake = upload(b"<html><script>alert(1)</script></html>" * 20, name="scan.jpg")
    with pytest.raises(ValidationError) as caught:
        store_attachment(record=community, uploaded=fake, user=staff)
    assert caught.value.code == "file_type"
    assert "This file type is not accepted" in caught.value.messages[0]
    assert Attachment.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_huge_image_is_resized_to_the_maximum_side(media_root, community, staff, settings):
    assert settings.UPLOAD_IMAGE_MAX_SIDE == 2048
    attachment = store_attachment(record=community, uploaded=upload(jpeg_with_location((5000, 2500))), user=staff)
    with attachment.file.open("rb") as stored, Image.open(stored) as image:
        assert max(image.size) <= settings.UPLOAD_IMAGE_MAX_SIDE
        assert image.size == (2048, 1024)  # proportions kept


def test_prepare_upload_checks_without_storing(media_root):
    prepared = prepare_upload(upload(jpeg_with_location()), images_only=True)
    assert prepared.content_type == "image/jpeg"
    assert prepared.suffix == ".jpg"
    assert b"Exif" not in prepared.content
    assert stored_files(media_root) == []


# --- Serving -------------------------------------------------------------------------------


def test_staff_of_the_community_gets_the_file(photo):
    response = client_for(photo.uploaded_by).get(reverse("attachment", args=[photo.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    with photo.file.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()


@pytest.mark.parametrize("viewer", ["other_staff", "outsider", "merchant_user"])
def test_people_who_may_not_see_the_community_get_404(request, photo, viewer):
    user = request.getfixturevalue(viewer)
    response = client_for(user).get(reverse("attachment", args=[photo.pk]))
    assert response.status_code == 404
    assert not getattr(response, "streaming", False)
    assert b"\xff\xd8\xff" not in response.content  # no JPEG bytes


def test_anonymous_gets_no_file(client, photo):
    response = client.get(reverse("attachment", args=[photo.pk]))
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response.url.startswith(reverse("login"))
    assert not getattr(response, "streaming", False)
    assert b"\xff\xd8\xff" not in response.content


def test_a_missing_attachment_is_404(staff, media_root):
    assert client_for(staff).get(reverse("attachment", args=[999_999])).status_code == 404
