from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from grids import services
from grids.models import Incident, IncidentPhoto
from tests.base import api_client
from tests.grids.conftest import IN_GRID_A, jpeg_bytes


@pytest.fixture
def with_photo(cast, report):
    photo = SimpleUploadedFile(
        "IMG_0001 secret-name.jpg", jpeg_bytes(exif_gps=True), content_type="image/jpeg"
    )
    return report(photos=[photo])


@pytest.mark.django_db
def test_exif_location_is_stripped_and_the_name_is_generated(with_photo, settings):
    source = Image.open(io.BytesIO(jpeg_bytes(exif_gps=True)))
    assert source.getexif().get(0x8825)  # the test file really carries a GPS block
    photo = IncidentPhoto.objects.get(incident=with_photo)
    assert "secret-name" not in photo.file.name and photo.file.name.startswith("incidents/")
    assert Path(settings.MEDIA_ROOT, photo.file.name).is_file()
    stored = Image.open(photo.file.path)
    assert stored.format == "JPEG"
    assert not stored.getexif().get(0x8825) and "exif" not in stored.info
    assert (photo.width, photo.height, photo.content_type) == (40, 30, "image/jpeg")


def test_a_jpeg_comment_or_xmp_block_is_dropped_with_the_exif():
    # Pillow's JPEG saver copies the source's comment: a phone number or a place typed into it was
    # stored and shown to every reader of the incident.
    from grids.photos import clean_photo

    source = io.BytesIO()
    secret = "GPS 31.805,117.005 王建国 13812345678"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><exif:GPSLatitude>31,48.3N</exif:GPSLatitude></x:xmpmeta>'
    Image.new("RGB", (40, 30), "red").save(source, "JPEG", comment=secret.encode(), xmp=xmp)
    assert b"13812345678" in source.getvalue() and b"GPSLatitude" in source.getvalue()
    upload = SimpleUploadedFile("a.jpg", source.getvalue(), content_type="image/jpeg")
    clean = clean_photo(upload)
    assert b"13812345678" not in clean.content and b"GPSLatitude" not in clean.content
    stored = Image.open(io.BytesIO(clean.content))
    assert "comment" not in stored.info and "xmp" not in stored.info


@pytest.mark.django_db
def test_photos_are_served_only_to_users_who_see_the_incident(cast, client, with_photo):
    photo = IncidentPhoto.objects.get(incident=with_photo)
    url = f"/grids/photos/{photo.pk}/"
    for user, expected in (
        (cast.worker_a, 200),
        (cast.street_handler, 200),
        (cast.worker_b, 404),
        (cast.outsider, 404),
    ):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == expected, user
        if expected == 200:
            assert response["Content-Type"] == "image/jpeg"
            # Shown, not saved to the device, and in an opaque origin (sandbox), never ours.
            assert response["Content-Disposition"] == f'inline; filename="photo-{photo.pk}.jpg"'
            assert response["Content-Security-Policy"] == "sandbox"
            assert response["X-Content-Type-Options"] == "nosniff"
            assert response["Cache-Control"] == "private, no-store"  # not kept after sign-out
            assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
    assert client.get(f"/media/{photo.file.name}").status_code == 404  # never public under MEDIA_URL


@pytest.mark.django_db
def test_photos_are_for_those_who_work_on_the_areas_incidents_not_its_other_readers(cast, client, with_photo):
    # An analyst (statistics and nothing personal), a mediator and a petition officer read the
    # incident with its numbers masked, but were served its photos whole: a doorway, a face, a number
    # plate cannot be masked. They are told how many photos there are.
    photo = IncidentPhoto.objects.get(incident=with_photo)
    for user in (cast.analyst, cast.mediator, cast.petition_officer):
        client.force_login(user)
        assert client.get(f"/grids/photos/{photo.pk}/").status_code == 404, user
        html = client.get(f"/grids/incidents/{with_photo.code}/").content.decode()
        assert "1 photo, shown only to those who work on this area's incidents." in html, user
        assert f"/grids/photos/{photo.pk}/" not in html
        detail = api_client(user).get(f"/api/v1/incidents/{with_photo.code}/").json()
        assert detail["photos"] == [], user
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{with_photo.code}/").content.decode()
    assert f"/grids/photos/{photo.pk}/" in html and 'id="photos-withheld"' not in html
    assert api_client(cast.community_handler).get(f"/api/v1/incidents/{with_photo.code}/").json()["photos"]


@pytest.mark.django_db
def test_png_and_webp_are_accepted_and_gif_is_not(cast, report):
    from django.core.exceptions import ValidationError

    ok = [
        SimpleUploadedFile("a.png", jpeg_bytes(fmt="PNG"), content_type="image/png"),
        SimpleUploadedFile("b.webp", jpeg_bytes(fmt="WEBP"), content_type="image/webp"),
    ]
    assert report(photos=ok).photos.count() == 2
    gif = SimpleUploadedFile("c.jpg", jpeg_bytes(fmt="GIF"), content_type="image/jpeg")
    with pytest.raises(ValidationError) as exc:
        report(photos=[gif])
    assert "photos" in exc.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_location_is_stripped_from_png_and_webp_too(cast, report, fmt):
    data = jpeg_bytes(exif_gps=True, fmt=fmt)
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825)
    incident = report(
        photos=[SimpleUploadedFile(f"a.{fmt.lower()}", data, content_type=f"image/{fmt.lower()}")]
    )
    stored = Image.open(IncidentPhoto.objects.get(incident=incident).file.path)
    assert stored.format == fmt and not stored.getexif().get(0x8825)


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_photo_whose_exif_block_is_not_exif_is_kept_without_it(cast, client, incident_in, fmt):
    """Pillow reads a PNG or WebP EXIF block only to turn the picture upright: a block that is not
    EXIF ("not a TIFF file") was a 500 on the report API and on the feedback page."""
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 30, 30)).save(out, fmt, exif=b"XXXXXXXXXXXXXXXXXXXX")
    data = out.getvalue()

    def upload(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, data, content_type=f"image/{fmt.lower()}")

    response = api_client(cast.worker_a).post(
        "/api/v1/incidents/",
        {"category": "sanitation", "description": "垃圾", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
         "photos": [upload("scene")]},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201
    incident = Incident.objects.get(code=response.json()["code"])
    stored = Image.open(IncidentPhoto.objects.get(incident=incident).file.path)
    assert stored.format == fmt and stored.size == (20, 10) and "exif" not in stored.info
    handling = incident_in("handling")
    client.force_login(cast.department_user)
    page = client.post(
        f"/grids/incidents/{handling.code}/act/",
        {"action": "feedback", "resolution": "已清理", "photos": upload("after")},
    )
    assert page.status_code == 302 and handling.photos.count() == 1


@pytest.mark.django_db
def test_a_phone_jpeg_with_extra_pictures_is_accepted_as_one_jpeg(cast, report):
    """Many phone cameras write JPEGs with a Multi-Picture segment (a large preview, an Ultra HDR gain
    map), which Pillow reads as format MPO: they were refused as "not a JPEG, PNG or WebP image"."""
    main, preview = Image.new("RGB", (64, 48), (200, 30, 30)), Image.new("RGB", (16, 12), (0, 0, 0))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 48.0, 18.0), 3: "E", 4: (117.0, 0.0, 18.0)}  # GPSInfo
    out = io.BytesIO()
    main.save(out, "MPO", save_all=True, append_images=[preview], exif=exif)
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    incident = report(photos=[SimpleUploadedFile("IMG_0002.jpg", out.getvalue(), content_type="image/jpeg")])
    photo = IncidentPhoto.objects.get(incident=incident)
    assert (photo.width, photo.height, photo.content_type) == (64, 48, "image/jpeg")
    assert photo.file.name.endswith(".jpg")
    stored = Image.open(photo.file.path)
    assert stored.format == "JPEG" and not stored.getexif().get(0x8825)


@pytest.mark.django_db
def test_a_rest_client_fetches_the_photo_url_the_api_gives_with_its_token(cast, client, with_photo):
    """The API's detail gives each photo's ``url``; a client signed in with a token (no session) was
    sent to the login page for it, so no REST client could ever see a photo."""
    from governance.services import user_token_issue
    from tests.base import api_client

    url = api_client(cast.worker_a).get(f"/api/v1/incidents/{with_photo.code}/").json()["photos"][0]["url"]
    for user, expected in ((cast.worker_a, 200), (cast.street_handler, 200), (cast.worker_b, 404)):
        token = user_token_issue(user=user)
        response = client.get(url, headers={"Authorization": f"Token {token}"})
        assert response.status_code == expected, user
        if expected == 200:
            assert b"".join(response.streaming_content).startswith(b"\xff\xd8")
    wrong = client.get(url, headers={"Authorization": "Token not-a-token"})
    assert wrong.status_code == 401 and wrong.json()["detail"]
    assert client.get(url).status_code == 302  # no session, no token: the login page as before


@pytest.mark.django_db
def test_the_photo_of_an_item_resolved_on_the_spot_is_shown_once_on_its_page(cast, client, report):
    photo = SimpleUploadedFile("scene.jpg", jpeg_bytes(), content_type="image/jpeg")
    incident = report(kind="on_the_spot", resolution="当场清理了", photos=[photo])
    (stored,) = IncidentPhoto.objects.filter(incident=incident)
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert html.count(f'src="/grids/photos/{stored.pk}/small/"') == 1
    # With the incident's facts, not again at the timeline's close step.
    assert f'src="/grids/photos/{stored.pk}/small/"' in html.split('class="timeline"')[0]


@pytest.mark.django_db
def test_feedback_photos_are_shown_at_their_step_on_the_timeline(cast, client, incident_in):
    incident = incident_in("handling")
    services.incident_transition(
        incident=incident,
        actor=cast.admin,
        action="feedback",
        resolution="修好了",
        photos=[SimpleUploadedFile("done.jpg", jpeg_bytes(), content_type="image/jpeg")],
    )
    (stored,) = IncidentPhoto.objects.filter(incident=incident, stage="feedback")
    client.force_login(cast.worker_a)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    assert html.count(f'src="/grids/photos/{stored.pk}/small/"') == 1
    assert f'src="/grids/photos/{stored.pk}/small/"' in html.split('class="timeline"')[1]


@pytest.mark.django_db
def test_every_refused_photo_is_named_in_one_answer(cast, report, client):
    # With two bad files of three, the second was named only once the first was replaced and sent again.
    from django.core.exceptions import ValidationError

    photos = [
        SimpleUploadedFile("good.jpg", jpeg_bytes(), content_type="image/jpeg"),
        SimpleUploadedFile("notes.jpg", b"not an image", content_type="image/jpeg"),
        SimpleUploadedFile("anim.jpg", jpeg_bytes(fmt="GIF"), content_type="image/jpeg"),
    ]
    with pytest.raises(ValidationError) as exc:
        report(photos=photos)
    assert exc.value.message_dict["photos"] == [
        "notes.jpg is not a JPEG, PNG or WebP image.",
        "anim.jpg is not a JPEG, PNG or WebP image.",
    ]
    assert not Incident.objects.exists() and not IncidentPhoto.objects.exists()
    for photo in photos:
        photo.seek(0)
    client.force_login(cast.worker_a)
    response = client.post(
        "/grids/report/",
        {
            "category": "sanitation",
            "description": "x",
            "kind": "promised",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": photos,
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "notes.jpg" in str(body) and "anim.jpg" in str(body)


@pytest.mark.django_db
def test_a_photo_deleted_by_any_path_leaves_storage_once_the_deletion_commits(
    cast, client, report, django_capture_on_commit_callbacks
):
    # The admin deleted the row and left the file in MEDIA_ROOT: a resident's photo stayed on disk.
    from django.db import transaction

    def photo() -> SimpleUploadedFile:
        return SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")

    incident = report(photos=[photo() for _ in range(5)])
    paths = {p.pk: Path(p.file.path) for p in IncidentPhoto.objects.filter(incident=incident)}
    thumbnails = {p.pk: Path(p.thumbnail.path) for p in IncidentPhoto.objects.filter(incident=incident)}
    one, two, three, four, five = paths
    assert all(path.is_file() for path in paths.values())

    # A deletion rolled back keeps its row, and the file the row names.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        IncidentPhoto.objects.get(pk=one).delete()
        raise RuntimeError
    assert not callbacks and IncidentPhoto.objects.filter(pk=one).exists() and paths[one].is_file()

    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/grids/incidentphoto/{one}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not paths[one].is_file()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/grids/incidentphoto/",
            {"action": "delete_selected", "_selected_action": [two, three], "post": "yes"},
        )
    assert response.status_code == 302 and not paths[two].is_file() and not paths[three].is_file()
    with django_capture_on_commit_callbacks() as callbacks:
        IncidentPhoto.objects.filter(pk=four).delete()
    assert paths[four].is_file() and len(callbacks) == 1  # not before the commit
    callbacks[0]()
    assert not paths[four].is_file() and paths[five].is_file()
    assert not thumbnails[four].is_file() and thumbnails[five].is_file()  # the thumbnail with its photo
    assert list(IncidentPhoto.objects.values_list("pk", flat=True)) == [five]
    # And with its incident (the cascade; the admin deletes no incident, a shell can).
    with django_capture_on_commit_callbacks(execute=True):
        Incident.objects.filter(pk=incident.pk).delete()
    assert not paths[five].is_file()


@pytest.mark.django_db
def test_the_admin_adds_no_photo_and_links_a_photo_through_the_scoped_view(cast, client, with_photo):
    # Added in the admin, a file skipped the cleaning (EXIF and GPS kept, any content) and its type and
    # size were typed in; and the change page linked the file under /media/, which is never served.
    photo = IncidentPhoto.objects.get(incident=with_photo)
    client.force_login(cast.admin)
    assert client.get("/admin/grids/incidentphoto/add/").status_code == 403
    assert "/admin/grids/incidentphoto/add/" not in client.get("/admin/grids/incidentphoto/").content.decode()
    html = client.get(f"/admin/grids/incidentphoto/{photo.pk}/change/").content.decode()
    assert f'href="/grids/photos/{photo.pk}/"' in html and "/media/" not in html
    assert client.get(f"/grids/photos/{photo.pk}/").status_code == 200


@pytest.mark.django_db
def test_the_on_site_check_takes_photos_shown_at_its_step(cast, client, incident_in):
    """The grid worker checking on site took no photo, though the report and the feedback take them
    (DOMAIN.md: verify on site). A failed check sent back without a picture left the department to
    guess what was still wrong. The check takes photos as the feedback does, cleaned the same way."""
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    page = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    form = page[page.index('data-action-form="verify"') :]
    form = form[: form.index("</form>")]
    assert 'type="file" name="photos" id="photos-verify"' in form and "data-photo-check" in form
    assert 'id="photo-messages"' in page  # what photo_check.js says of a refused photo
    response = client.post(
        f"/grids/incidents/{incident.code}/act/",
        {"action": "verify", "result": "fail", "note": "还有杂物",
         "photos": [SimpleUploadedFile("IMG_1 secret.jpg", jpeg_bytes(exif_gps=True), content_type="image/jpeg")]},
    )  # fmt: skip
    assert response.status_code == 302
    (stored,) = IncidentPhoto.objects.filter(incident=incident, stage="verify")
    assert stored.event.action == "verify" and stored.uploaded_by == cast.worker_a
    assert stored.thumbnail and stored.display and "secret" not in stored.file.name
    assert not Image.open(stored.file.path).getexif().get(0x8825)
    html = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    timeline = html.split('class="timeline"')[1]
    assert html.count(f'src="/grids/photos/{stored.pk}/small/"') == 1
    assert f'src="/grids/photos/{stored.pk}/small/"' in timeline[timeline.index("还有杂物") :]


@pytest.mark.django_db
def test_the_api_s_check_takes_photos_and_other_steps_still_refuse_them(cast, incident_in):
    incident = incident_in("fed_back")
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    response = api_client(cast.worker_a).post(
        f"/api/v1/incidents/{incident.code}/transition/",
        {"action": "verify", "result": "pass", "photos": [photo]},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    events = api_client(cast.worker_a).get(f"/api/v1/incidents/{incident.code}/events/").json()["results"]
    (check,) = [e for e in events if e["action"] == "verify"]
    assert len(check["photos"]) == 1 and check["photos"][0]["thumbnail_url"]
    accepted = incident_in("reported")
    response = api_client(cast.community_handler).post(
        f"/api/v1/incidents/{accepted.code}/transition/",
        {
            "action": "accept",
            "photos": [SimpleUploadedFile("b.jpg", jpeg_bytes(), content_type="image/jpeg")],
        },
        format="multipart",
    )
    assert response.status_code == 400 and "on-site check" in str(response.json()["errors"]["photos"])
    accepted.refresh_from_db()
    assert accepted.status == "reported" and not accepted.photos.exists()
