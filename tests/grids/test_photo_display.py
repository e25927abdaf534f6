"""The display copy: made with each photo (at most 640 px, upright, without metadata), what a tap on
a thumbnail opens; the photo itself stays whole. Served to the photo's readers only and linked from
the page: test_photo_thumbnails, with the thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from grids.models import IncidentPhoto
from tests.grids.test_photo_pixels import phone_exif, saved
from tests.grids.test_photo_thumbnails import bluish, photo_upload, reddish, two_colours


@pytest.fixture
def big_photo(cast, report):
    # A phone photo turned a quarter right (orientation 6) with its GPS position and serial number.
    data = saved(two_colours((2000, 1500)), "JPEG", exif=phone_exif(6))
    incident = report(photos=[photo_upload(data)])
    return IncidentPhoto.objects.get(incident=incident)


@pytest.mark.django_db
def test_a_display_copy_is_stored_with_the_photo_upright_at_most_640_px_and_without_metadata(big_photo):
    photo = big_photo
    assert (photo.width, photo.height) == (1500, 2000)
    assert photo.display.name.startswith("incidents/") and photo.display.name.endswith("-640.jpg")
    shown = Image.open(photo.display.path)
    assert shown.format == "JPEG" and shown.size == (480, 640)
    assert (photo.display_width, photo.display_height) == (480, 640)
    assert not shown.getexif() and b"SN-0042-7731" not in Path(photo.display.path).read_bytes()
    # Turned like the photo: red on top, blue below (the stored photo's left and right halves).
    shown = shown.convert("RGB")
    assert reddish(shown.getpixel((240, 5))) and bluish(shown.getpixel((240, 635)))
    # The photo itself is kept whole beside it.
    assert Image.open(photo.file.path).size == (1500, 2000)


@pytest.mark.django_db
def test_a_small_photo_is_not_enlarged_and_a_png_gets_a_webp(cast, report):
    incident = report(
        photos=[
            SimpleUploadedFile("a.jpg", saved(two_colours((400, 300)), "JPEG"), content_type="image/jpeg"),
            SimpleUploadedFile("b.png", saved(Image.new("RGBA", (900, 600), (0, 0, 0, 0)), "PNG")),
        ]
    )
    jpeg, png = IncidentPhoto.objects.filter(incident=incident).order_by("pk")
    assert Image.open(jpeg.display.path).size == (400, 300)
    shown = Image.open(png.display.path)
    assert shown.format == "WEBP" and shown.size == (640, 427) and png.display.name.endswith("-640.webp")
    assert shown.convert("RGBA").getpixel((0, 0))[3] == 0


@pytest.mark.django_db
def test_a_photo_without_a_display_copy_opens_whole_until_the_command_makes_it(cast, client, big_photo):
    IncidentPhoto.objects.filter(pk=big_photo.pk).update(display="", display_width=0, display_height=0)
    Path(big_photo.display.path).unlink()
    client.force_login(cast.worker_a)
    response = client.get(f"/grids/photos/{big_photo.pk}/display/")
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (1500, 2000)
    out, err = io.StringIO(), io.StringIO()
    call_command("grids_photo_thumbnails", stdout=out, stderr=err)
    assert "1 display copy made." in out.getvalue() and err.getvalue() == ""
    photo = IncidentPhoto.objects.get(pk=big_photo.pk)
    assert (photo.display_width, photo.display_height) == (480, 640)
    assert Image.open(photo.display.path).size == (480, 640)
    out = io.StringIO()
    call_command("grids_photo_thumbnails", stdout=out)  # again: nothing left to make
    assert "0 display copies made." in out.getvalue()
    response = client.get(f"/grids/photos/{big_photo.pk}/display/")
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (480, 640)


@pytest.mark.django_db
def test_the_display_copy_leaves_storage_with_its_photo(big_photo, django_capture_on_commit_callbacks):
    path = Path(big_photo.display.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        big_photo.delete()
    assert not path.exists()


@pytest.mark.django_db
def test_the_api_gives_the_display_url(cast, client, big_photo):
    client.force_login(cast.worker_a)
    body = client.get(f"/api/v1/incidents/{big_photo.incident.code}/").json()
    assert body["photos"][0]["display_url"] == f"/grids/photos/{big_photo.pk}/display/"


@pytest.mark.django_db
def test_a_feedback_photo_gets_its_display_copy_too(cast, incident_in):
    from grids import services

    incident = incident_in("handling")
    services.incident_transition(
        incident=incident,
        actor=cast.admin,
        action="feedback",
        resolution="fixed it",
        photos=[photo_upload(saved(two_colours((1600, 1200)), "JPEG"))],
    )
    photo = IncidentPhoto.objects.get(incident=incident, stage=IncidentPhoto.Stage.FEEDBACK)
    assert (photo.display_width, photo.display_height) == (640, 480)
    assert Image.open(photo.display.path).size == (640, 480)
