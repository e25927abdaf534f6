"""Thumbnails: made with each photo (small, upright, without metadata), served to the photo's
readers only, shown by the pages linking to the photo, and made afterwards for photos stored before."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from PIL import Image

from governance import pictures
from grids import services
from grids.models import IncidentPhoto
from tests.grids.conftest import jpeg_bytes
from tests.grids.test_photo_pixels import phone_exif, saved


def two_colours(size=(800, 600)) -> Image.Image:
    """Red on the left half, blue on the right: which way up a copy is shows in its corners."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def photo_upload(data: bytes, name: str = "IMG_0001.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def reddish(pixel) -> bool:
    return pixel[0] > 150 and pixel[2] < 100


def bluish(pixel) -> bool:
    return pixel[2] > 150 and pixel[0] < 100


@pytest.mark.django_db
def test_a_thumbnail_is_stored_with_the_photo_upright_at_most_320_px_and_without_metadata(cast, report):
    # Orientation 6: the phone was turned a quarter right; the stored photo is 600 x 800, upright.
    data = saved(two_colours(), "JPEG", exif=phone_exif(6))
    incident = report(photos=[photo_upload(data)])
    photo = IncidentPhoto.objects.get(incident=incident)
    assert (photo.width, photo.height) == (600, 800)
    assert photo.thumbnail.name.startswith("incidents/") and photo.thumbnail.name.endswith("-small.jpg")
    small = Image.open(photo.thumbnail.path)
    assert small.format == "JPEG" and small.size == (240, 320)
    assert (photo.thumbnail_width, photo.thumbnail_height) == (240, 320)
    assert not small.getexif() and b"SN-0042-7731" not in Path(photo.thumbnail.path).read_bytes()
    # Turned like the photo: the halves are top and bottom in both, in the same order.
    whole = Image.open(photo.file.path).convert("RGB")
    small = small.convert("RGB")
    for (x, y), (sx, sy) in (((300, 10), (120, 5)), ((300, 790), (120, 315))):
        assert reddish(whole.getpixel((x, y))) == reddish(small.getpixel((sx, sy)))
        assert bluish(whole.getpixel((x, y))) == bluish(small.getpixel((sx, sy)))
    assert reddish(small.getpixel((120, 5))) != reddish(small.getpixel((120, 315)))


@pytest.mark.django_db
def test_a_small_photo_is_not_enlarged_and_a_transparent_png_gets_a_transparent_webp(cast, report):
    png = Image.new("RGBA", (40, 30), (200, 30, 30, 0))
    incident = report(
        photos=[
            SimpleUploadedFile("a.jpg", jpeg_bytes(size=(40, 30)), content_type="image/jpeg"),
            SimpleUploadedFile("b.png", saved(png, "PNG"), content_type="image/png"),
        ]
    )
    jpeg, webp = IncidentPhoto.objects.filter(incident=incident).order_by("pk")
    assert Image.open(jpeg.thumbnail.path).size == (40, 30)
    small = Image.open(webp.thumbnail.path)
    assert small.format == "WEBP" and small.size == (40, 30) and webp.thumbnail.name.endswith(".webp")
    assert small.convert("RGBA").getpixel((0, 0))[3] == 0


def test_a_thumbnail_of_a_stored_jpeg_is_decoded_reduced_within_the_budget(monkeypatch):
    # The budget as small as a quarter of the picture: read at 1/4 by the JPEG decoder, not refused.
    monkeypatch.setattr(pictures, "MAX_DECODED_PIXELS", 1_000_000)
    small = pictures.thumbnail_picture(saved(two_colours((2000, 1500)), "JPEG"), "a.jpg", "file")
    assert (small.width, small.height, small.content_type) == (320, 240, "image/jpeg")
    # A PNG has no reduced decode: above the budget it is refused from its header, as at upload.
    big_png = saved(Image.new("RGB", (1200, 1000)), "PNG")
    with pytest.raises(ValidationError) as exc:
        pictures.thumbnail_picture(big_png, "b.png", "file")
    assert "1 megapixels" in exc.value.message_dict["file"][0]


@pytest.fixture
def with_photo(cast, report):
    incident = report(photos=[photo_upload(saved(two_colours(), "JPEG"))])
    return IncidentPhoto.objects.get(incident=incident)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "suffix", "size"),
    [("small", "-small", (320, 240)), ("display", "-640", (640, 480))],
    ids=["thumbnail", "display copy"],
)
def test_the_thumbnail_is_served_only_to_the_photos_readers(cast, client, with_photo, path, suffix, size):
    url = f"/grids/photos/{with_photo.pk}/{path}/"
    for user, expected in (
        (cast.worker_a, 200),
        (cast.street_handler, 200),
        (cast.worker_b, 404),
        (cast.outsider, 404),
        (cast.analyst, 404),  # reads the incident masked: no photo, whatever its size
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == expected, user
        if expected == 200:
            body = b"".join(response.streaming_content)
            assert Image.open(io.BytesIO(body)).size == size
            assert response["Content-Type"] == "image/jpeg"
            assert response["Content-Disposition"] == f'inline; filename="photo-{with_photo.pk}{suffix}.jpg"'
            assert response["Content-Security-Policy"] == "sandbox"
            assert response["Cache-Control"] == "private, no-store"
            assert response["X-Content-Type-Options"] == "nosniff"
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(url, HTTP_AUTHORIZATION="Token wrong").status_code == 401
    assert client.get(f"/grids/photos/999999/{path}/").status_code == 302


@pytest.mark.django_db
def test_the_page_shows_thumbnails_sized_and_linked_to_the_display_copy(cast, client, with_photo):
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{with_photo.incident.code}/").content.decode()
    assert (
        f'<a href="/grids/photos/{with_photo.pk}/display/"><img src="/grids/photos/{with_photo.pk}/small/" '
        'alt="Photo 1" width="320" height="240" loading="lazy"'
    ) in html
    # The photo itself, whole, linked apart for whoever needs every pixel.
    assert f'<a href="/grids/photos/{with_photo.pk}/" aria-label="Original photo 1 (800 × 600)">1</a>' in html


@pytest.mark.django_db
def test_a_photo_without_a_thumbnail_is_shown_whole_in_its_place(cast, client, with_photo):
    IncidentPhoto.objects.filter(pk=with_photo.pk).update(thumbnail="", thumbnail_width=0, thumbnail_height=0)
    client.force_login(cast.worker_a)
    response = client.get(f"/grids/photos/{with_photo.pk}/small/")
    assert response.status_code == 200
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (800, 600)
    html = client.get(f"/grids/incidents/{with_photo.incident.code}/").content.decode()
    # Drawn no larger than its thumbnail would be.
    assert f'src="/grids/photos/{with_photo.pk}/small/" alt="Photo 1" width="320" height="240"' in html
    # A thumbnail whose file is lost: the photo too.
    IncidentPhoto.objects.filter(pk=with_photo.pk).update(thumbnail="incidents/gone-small.jpg")
    response = client.get(f"/grids/photos/{with_photo.pk}/small/")
    assert Image.open(io.BytesIO(b"".join(response.streaming_content))).size == (800, 600)


@pytest.mark.django_db
def test_the_page_asks_the_same_queries_whatever_the_number_of_photos(cast, client, incident_in):
    def queries(incident) -> int:
        client.get(f"/grids/incidents/{incident.code}/")  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/grids/incidents/{incident.code}/").status_code == 200
        return len(ctx)

    client.force_login(cast.worker_a)
    one = incident_in("fed_back", photos=[photo_upload(jpeg_bytes())])
    many = incident_in("handling", photos=[photo_upload(jpeg_bytes()) for _ in range(5)])
    services.incident_transition(
        incident=many,
        actor=cast.admin,
        action="feedback",
        resolution="修好了",
        photos=[photo_upload(jpeg_bytes()) for _ in range(4)],
    )
    assert many.photos.count() == 9
    assert queries(many) == queries(one)


@pytest.mark.django_db
def test_the_backfill_costs_one_statement_per_photo_it_gives_a_thumbnail(cast, report):
    from grids.photos import thumbnails_backfill

    def without_thumbnails(n: int) -> int:
        incident = report(photos=[photo_upload(jpeg_bytes()) for _ in range(n)])
        IncidentPhoto.objects.filter(incident=incident).update(
            thumbnail="", thumbnail_width=0, thumbnail_height=0
        )
        with CaptureQueriesContext(connection) as ctx:
            assert thumbnails_backfill(chunk_size=100).made == n
        return len(ctx.captured_queries)

    one, three = without_thumbnails(1), without_thumbnails(3)
    # Each photo's conditional update, nothing more: a deferred field read per photo was a refetch.
    assert three - one == 2


@pytest.mark.django_db
def test_the_command_makes_the_missing_thumbnails_and_can_run_again(cast, report, caplog):
    incident = report(
        photos=[photo_upload(saved(two_colours(), "JPEG", exif=phone_exif(6))) for _ in range(3)]
    )
    photos = list(IncidentPhoto.objects.filter(incident=incident).order_by("pk"))
    for photo in photos:  # as stored before thumbnails were
        photo.thumbnail.delete(save=False)
    IncidentPhoto.objects.filter(incident=incident).update(
        thumbnail="", thumbnail_width=0, thumbnail_height=0
    )
    Path(photos[2].file.path).unlink()  # a photo whose file is gone
    out, err = io.StringIO(), io.StringIO()
    call_command("grids_photo_thumbnails", "--chunk-size", "1", stdout=out, stderr=err)
    # The display copies were made with the photos: none to make.
    assert out.getvalue().strip() == "2 thumbnails made.\n0 display copies made."
    assert err.getvalue().strip() == "1 photo has a missing or unreadable file: see the log."
    assert f"photo {photos[2].pk}: no thumbnail made" in caplog.text
    for photo in photos[:2]:
        photo.refresh_from_db()
        assert (photo.thumbnail_width, photo.thumbnail_height) == (240, 320)
        assert Image.open(photo.thumbnail.path).size == (240, 320)
    out = io.StringIO()
    call_command("grids_photo_thumbnails", stdout=out, stderr=io.StringIO())
    # The lost file is tried again, nothing else.
    assert out.getvalue().strip() == "0 thumbnails made.\n0 display copies made."
    with pytest.raises(CommandError, match="at least 1"):
        call_command("grids_photo_thumbnails", "--chunk-size", "0")


@pytest.mark.django_db
def test_the_thumbnail_leaves_storage_with_its_photo(cast, with_photo, django_capture_on_commit_callbacks):
    paths = [Path(with_photo.file.path), Path(with_photo.thumbnail.path)]
    assert all(p.is_file() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        with_photo.delete()
    assert not any(p.exists() for p in paths)


@pytest.mark.django_db
def test_the_api_gives_the_thumbnail_url_which_a_token_client_fetches(cast, client, with_photo):
    from governance.services import user_token_issue
    from tests.base import api_client

    detail = api_client(cast.worker_a).get(f"/api/v1/incidents/{with_photo.incident.code}/").json()
    (item,) = detail["photos"]
    assert item["thumbnail_url"] == f"/grids/photos/{with_photo.pk}/small/"
    for user, expected in ((cast.worker_a, 200), (cast.worker_b, 404)):
        token = user_token_issue(user=user)
        response = client.get(item["thumbnail_url"], headers={"Authorization": f"Token {token}"})
        assert response.status_code == expected, user
    wrong = client.get(item["thumbnail_url"], headers={"Authorization": "Token not-a-token"})
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("copy", "url", "width", "height"), [("thumbnail", "small", 320, 240), ("display", "display", 640, 480)]
)
@pytest.mark.django_db
def test_the_admin_shows_each_copy_read_only_through_the_scoped_url(
    cast, client, report, copy, url, width, height
):
    # The thumbnail fields (file, width, height) were in no admin page: an administrator checking the
    # backfill saw neither whether a photo had its thumbnail nor what it looked like. Nor the 640 px
    # display copy (what a tap on a thumbnail opens), now shown next to the thumbnail.
    incident = report(photos=[photo_upload(saved(two_colours(), "JPEG"))])
    photo = IncidentPhoto.objects.get(incident=incident)
    client.force_login(cast.admin)
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/").content.decode()
    # A preview drawn at its own size, served by the access-checked view (never under /media/).
    assert f'<img src="/grids/photos/{photo.pk}/{url}/" width="{width}" height="{height}"' in html
    assert html.index(f"/grids/photos/{photo.pk}/small/") < html.index(f"/grids/photos/{photo.pk}/display/")
    assert "/media/" not in html
    file = getattr(photo, copy)
    assert f"{file.name}: {width} × {height} px, {Path(file.path).stat().st_size} bytes" in html
    for field in (copy, f"{copy}_width", f"{copy}_height"):
        assert f'name="{field}"' not in html  # read-only, not inputs
    listed = client.get("/admin/grids/incidentphoto/").content.decode()
    assert f"{width} × {height}" in listed
    # Its file gone from the disk: said so, and the page still opens.
    Path(file.path).unlink()
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/").content.decode()
    assert f"{file.name}: its file is missing (the photo is shown instead)" in html
    # One stored before such copies were, and not yet given one: said so, no preview.
    IncidentPhoto.objects.filter(pk=photo.pk).update(**{copy: "", f"{copy}_width": 0, f"{copy}_height": 0})
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/").content.decode()
    assert f"/{url}/" not in html and "none yet (grids_photo_thumbnails makes it)" in html


@pytest.mark.django_db
def test_the_admin_photo_list_asks_the_same_queries_whatever_the_number_of_photos(cast, client, report):
    client.force_login(cast.admin)

    def queries() -> int:
        client.get("/admin/grids/incidentphoto/")  # warm-up
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/admin/grids/incidentphoto/").status_code == 200
        return len(ctx)

    report(photos=[photo_upload(jpeg_bytes())])
    one = queries()
    report(photos=[photo_upload(jpeg_bytes()) for _ in range(4)])
    assert queries() == one


@pytest.mark.django_db
def test_the_admin_names_the_photo_s_step_by_its_label_and_time(cast, client, report):
    # The photo page named its step "3946 report": a database id and the action's code, in English
    # on the Chinese admin. A step reads as its label and local time, without a query for the item.
    incident = report(photos=[photo_upload(saved(two_colours(), "JPEG"))])
    event = IncidentPhoto.objects.select_related("event").get(incident=incident).event
    when = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")
    with CaptureQueriesContext(connection) as queries, translation.override("zh-hans"):
        assert str(event) == f"上报 {when}"
    assert len(queries) == 0
    client.force_login(cast.admin)
    photo = IncidentPhoto.objects.get(incident=incident)
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/", HTTP_ACCEPT_LANGUAGE="en").content
    assert f"report {when}".encode() in html and f"{event.pk} report".encode() not in html


@pytest.mark.django_db
def test_the_admin_names_a_photo_by_its_stage_and_time_not_its_file_path(cast, client, report):
    # The photo page's title and breadcrumb read "incidents/2026/12/8f4f…e6c57.jpg · 上报时": a
    # generated storage path where a name belongs.
    incident = report(photos=[photo_upload(saved(two_colours(), "JPEG"))])
    photo = IncidentPhoto.objects.get(incident=incident)
    when = timezone.localtime(photo.uploaded_at).strftime("%Y-%m-%d %H:%M")
    with CaptureQueriesContext(connection) as queries, translation.override("zh-hans"):
        assert str(photo) == f"上报时 · {when}"
    assert len(queries) == 0
    client.force_login(cast.admin)
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    title = re.search(r"<title>(.*?)</title>", html.content.decode()).group(1)
    assert title.startswith(f"上报时 · {when} |") and photo.file.name not in title
