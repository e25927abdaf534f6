from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from governance.models import Role, SequenceCounter
from grids import services
from grids.models import Incident, IncidentEvent, IncidentPhoto
from tests.base import api_client, make_user
from tests.grids.conftest import IN_GRID_A, IN_GRID_B, IN_GRID_D, OUTSIDE, jpeg_bytes

URL = "/api/v1/incidents/"


def post(user, data, fmt="json"):
    return api_client(user).post(URL, data, format=fmt)


@pytest.mark.django_db
def test_a_grid_worker_reports_with_a_point_and_gets_number_grid_status_and_due(cast, categories):
    response = post(
        cast.worker_a,
        {"category": "sanitation", "description": "垃圾", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
         "occurred_at": "2026-11-20T09:00:00+08:00", "address": "3号楼"},
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["grid"] == cast.grid_a.code and body["status"] == "reported" and body["due_at"]
    assert body["code"].startswith("INC-")
    incident = Incident.objects.get(code=body["code"])
    assert incident.reporter == cast.worker_a and incident.address == "3号楼"


@pytest.mark.django_db
def test_a_report_may_name_the_grid_instead_of_a_point(cast, categories):
    response = post(cast.worker_a, {"category": "sanitation", "description": "x", "grid": cast.grid_a.code})
    assert response.status_code == 201 and response.json()["grid"] == cast.grid_a.code


@pytest.mark.django_db
def test_a_point_in_no_grid_is_taken_with_the_reporters_own_grid_named(cast, categories):
    # The page tells a worker whose pin fell outside every grid "move it into your grid, or choose
    # the grid below"; choosing the grid with the pin still set was refused on lat and lng.
    near = (31.805, 116.998)  # about 190 m west of grid A's edge, in no grid
    body = {"category": "sanitation", "description": "x", "lat": near[0], "lng": near[1]}
    refused = post(cast.worker_a, body)
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"lat", "lng"}
    # A grid outside the reporter's area is no way in.
    assert set(post(cast.worker_a, {**body, "grid": cast.grid_b.code}).json()["errors"]) == {"grid"}
    # Nor is a point far from the grid named (a fix 60 km off, a typing slip): a junk place on the map.
    far = post(cast.worker_a, {**body, "lat": OUTSIDE[0], "lng": OUTSIDE[1], "grid": cast.grid_a.code})
    assert far.status_code == 400 and set(far.json()["errors"]) == {"lat", "lng"}
    assert "km from" in far.json()["errors"]["lat"][0]
    assert not Incident.objects.exists()
    response = post(cast.worker_a, {**body, "grid": cast.grid_a.code})
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(code=response.json()["code"])
    assert incident.grid == cast.grid_a  # the point is kept as recorded
    assert (incident.lat, incident.lng) == near


@pytest.mark.django_db
def test_a_read_only_role_reporting_gets_403_not_outside_your_area(cast, categories):
    body = {"category": "sanitation", "description": "x", "grid": cast.grid_a.code}
    for user in (cast.analyst, cast.mediator, cast.petition_officer):  # all have grid A in their scope
        response = post(user, body)
        assert response.status_code == 403, (user, response.json())
        assert response.json()["detail"] == "Only grid workers and handlers report incidents."
        assert post(user, {}).status_code == 403  # refused before the input is even read
    assert not Incident.objects.exists()
    # A reporting role outside its area is still a 400 naming the field.
    outside = post(cast.outsider, body)
    assert outside.status_code == 400 and "grid" in outside.json()["errors"]
    assert post(cast.community_handler, body).status_code == 201


@pytest.mark.django_db
def test_a_report_tells_nothing_of_grids_outside_the_reporters_area(cast, categories):
    """A grid code outside the area answers like a missing one, and a point in someone else's grid is
    refused without naming that grid (areas/locate/ and areas/{code}/ answer 404 for both)."""
    body = {"category": "sanitation", "description": "x"}
    theirs = post(cast.worker_a, {**body, "grid": cast.grid_b.code}).json()["errors"]["grid"]
    missing = post(cast.worker_a, {**body, "grid": "340102001001999"}).json()["errors"]["grid"]
    assert [m.replace(cast.grid_b.code, "?") for m in theirs] == [
        m.replace("340102001001999", "?") for m in missing
    ]
    response = post(
        cast.worker_a, {**body, "grid": cast.grid_a.code, "lat": IN_GRID_B[0], "lng": IN_GRID_B[1]}
    )
    assert response.status_code == 400 and set(response.json()["errors"]) == {"lat", "lng"}
    assert cast.grid_b.name not in response.content.decode()
    _assert_nothing_saved()
    # Within the area, a point in the other grid still names it.
    response = post(
        cast.community_handler, {**body, "grid": cast.grid_a.code, "lat": IN_GRID_B[0], "lng": IN_GRID_B[1]}
    )
    assert response.status_code == 400 and cast.grid_b.name in response.json()["errors"]["grid"][0]


@pytest.mark.django_db
def test_photos_are_uploaded_as_multipart(cast, categories):
    photos = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(2)]
    response = post(
        cast.worker_a,
        {
            "category": "sanitation",
            "description": "x",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": photos,
        },
        fmt="multipart",
    )
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(code=response.json()["code"])
    assert incident.photos.count() == 2
    detail = api_client(cast.worker_a).get(f"{URL}{incident.code}/").json()
    assert len(detail["photos"]) == 2 and detail["photos"][0]["url"].startswith("/grids/photos/")


def _assert_nothing_saved():
    assert not Incident.objects.exists()
    assert not IncidentPhoto.objects.exists()
    year = timezone.localtime().year
    assert SequenceCounter.current("INC", year) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"category": "sanitation", "description": "x", "lat": OUTSIDE[0], "lng": OUTSIDE[1]}, {"lat", "lng"}),
        ({"category": "no-such", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}, {"category"}),
        # "²" passes str.isdigit, not int(); the schema fuzzer found it.
        ({"category": "²", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}, {"category"}),
        ({"category": "9" * 30, "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}, {"category"}),
        ({"description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}, {"category"}),
        ({"category": "sanitation", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}, {"description"}),
        ({"category": "sanitation", "description": "x"}, {"lat"}),
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_A[0]}, {"lng"}),
        ({"category": "sanitation", "description": "x", "lat": 95, "lng": 117}, {"lat"}),
        ({"category": "sanitation", "description": "x", "grid": "999"}, {"grid"}),
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_D[0], "lng": IN_GRID_D[1]}, {"lat"}),
        ({"category": "sanitation", "description": "x", "grid": "340102001001001", "lat": IN_GRID_B[0],
          "lng": IN_GRID_B[1]}, {"lat"}),
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
          "occurred_at": "2099-01-01T00:00:00Z"}, {"occurred_at"}),
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
          "occurred_at": "0001-01-01T00:00:00Z"}, {"occurred_at"}),
        # Naive, so read as local time: DRF's check converted it to UTC and overflowed (a 500).
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
          "occurred_at": "0001-01-01T00:00"}, {"occurred_at"}),
        ({"category": "sanitation", "description": "x", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
          "kind": "on_the_spot"}, {"resolution"}),
        # What an item resolved on the spot lacks is said along with the other errors, not after them.
        ({"category": "sanitation", "description": "x", "kind": "on_the_spot"}, {"lat", "resolution", "photos"}),
    ],
)  # fmt: skip
def test_bad_reports_are_400_naming_the_field_and_save_nothing(cast, categories, data, fields):
    response = post(cast.worker_a, data)
    assert response.status_code == 400, response.json()
    assert fields <= set(response.json()["errors"]), response.json()
    _assert_nothing_saved()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["lat", "lng"])
@pytest.mark.parametrize("value", [True, False])
def test_true_or_false_for_a_coordinate_is_no_number_and_saves_nothing(cast, categories, field, value):
    """DRF's FloatField reads JSON true as 1.0 and false as 0.0: a point at (31.805, 1) was looked up
    and refused as lying "outside every grid of your area", both coordinates blamed for a type error
    in one of them."""
    data = {
        "category": "sanitation",
        "description": "x",
        "lat": IN_GRID_A[0],
        "lng": IN_GRID_A[1],
        field: value,
    }
    response = post(cast.worker_a, data)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {field: ["A valid number is required."]}
    _assert_nothing_saved()


@pytest.mark.django_db
def test_a_nul_character_in_a_text_is_refused_in_plain_chinese(cast, categories, client):
    # Django's Chinese for "Null characters are not allowed." reads "不允许是用空字符串" (a typo, and
    # "empty string" besides), which the report answered on the API and the page alike.
    data = {"category": "sanitation", "description": "垃圾\x00", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    response = api_client(cast.worker_a).post(URL, data, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400
    assert response.json()["errors"] == {"description": ["不能包含空字符（NUL）。"]}
    client.force_login(cast.worker_a)
    page = client.post(
        "/grids/report/",
        {**data, "kind": "promised"},
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert page.status_code == 400 and page.json()["errors"] == {"description": ["不能包含空字符（NUL）。"]}
    _assert_nothing_saved()


@pytest.mark.django_db
def test_a_text_file_named_jpg_is_refused(cast, categories):
    fake = SimpleUploadedFile("photo.jpg", b"this is not an image at all", content_type="image/jpeg")
    response = post(
        cast.worker_a,
        {
            "category": "sanitation",
            "description": "x",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": [fake],
        },
        fmt="multipart",
    )
    assert response.status_code == 400 and "photos" in response.json()["errors"]
    _assert_nothing_saved()


@pytest.mark.django_db
def test_a_file_that_only_starts_like_a_jpeg_is_refused(cast, categories):
    fake = SimpleUploadedFile("photo.jpg", jpeg_bytes()[:60] + b"garbage" * 100, content_type="image/jpeg")
    response = post(
        cast.worker_a,
        {
            "category": "sanitation",
            "description": "x",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": [fake],
        },
        fmt="multipart",
    )
    assert response.status_code == 400 and "photos" in response.json()["errors"]
    _assert_nothing_saved()


@pytest.mark.django_db
def test_an_11_mb_photo_is_refused(cast, categories):
    big = SimpleUploadedFile("big.jpg", jpeg_bytes() + b"\0" * (11 * 1024 * 1024), content_type="image/jpeg")
    response = post(
        cast.worker_a,
        {
            "category": "sanitation",
            "description": "x",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": [big],
        },
        fmt="multipart",
    )
    assert response.status_code == 400 and "10 MB" in str(response.json()["errors"]["photos"])
    _assert_nothing_saved()


@pytest.mark.django_db
def test_more_than_six_photos_are_refused(cast, categories):
    photos = [
        SimpleUploadedFile(f"p{i}.png", jpeg_bytes(fmt="PNG"), content_type="image/png") for i in range(7)
    ]
    response = post(
        cast.worker_a,
        {
            "category": "sanitation",
            "description": "x",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
            "photos": photos,
        },
        fmt="multipart",
    )
    assert response.status_code == 400 and "photos" in response.json()["errors"]
    _assert_nothing_saved()


@pytest.mark.django_db
def test_scope_a_worker_of_grid_a_gets_404_on_grid_b_items_and_a_street_handler_sees_the_subtree(
    cast, report
):
    mine = report()
    theirs = report(actor=cast.worker_b, lat=IN_GRID_B[0], lng=IN_GRID_B[1])
    for path in ("", "events/"):
        assert api_client(cast.worker_a).get(f"{URL}{theirs.code}/{path}").status_code == 404
        assert api_client(cast.outsider).get(f"{URL}{mine.code}/{path}").status_code == 404
        assert api_client(cast.worker_a).get(f"{URL}{mine.code}/{path}").status_code == 200
    assert {r["code"] for r in api_client(cast.worker_a).get(URL).json()["results"]} == {mine.code}
    assert {r["code"] for r in api_client(cast.street_handler).get(URL).json()["results"]} == {
        mine.code,
        theirs.code,
    }
    assert api_client(cast.outsider).get(URL).json()["count"] == 0
    missing = api_client(cast.worker_a).get(f"{URL}INC-2026-999999/")
    assert missing.status_code == 404
    assert missing.json()["detail"] == api_client(cast.worker_a).get(f"{URL}{theirs.code}/").json()["detail"]


@pytest.mark.django_db
def test_anonymous_users_are_refused(cast, report):
    assert api_client().get(URL).status_code in (401, 403)


@pytest.mark.django_db
def test_list_filters(cast, report, incident_in):
    fresh = report()
    late = report(category="fire_hazard")
    Incident.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(minutes=5))
    closed = incident_in("closed")
    other_grid = report(actor=cast.worker_b, lat=IN_GRID_B[0], lng=IN_GRID_B[1])
    Incident.objects.filter(pk=other_grid.pk).update(reported_at=timezone.now() - dt.timedelta(days=40))
    client = api_client(cast.street_handler)

    def codes(query):
        response = client.get(URL + query)
        assert response.status_code == 200, response.json()
        return {r["code"] for r in response.json()["results"]}

    assert codes("?status=closed") == {closed.code}
    assert codes("?status=closed&status=reported") == {closed.code, fresh.code, late.code, other_grid.code}
    assert codes("?category=fire_hazard") == {late.code}
    assert codes("?overdue=true") == {late.code}
    assert codes(f"?area={cast.grid_b.code}") == {other_grid.code}
    assert codes(f"?area={cast.community_a1a.code}") == {fresh.code, late.code, closed.code, other_grid.code}
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert codes(f"?reported_from={since}") == {fresh.code, late.code, closed.code}
    until = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    assert codes(f"?reported_to={until}") == {other_grid.code}
    assert codes(f"?department={cast.police.pk}") == {closed.code}  # dispatched to the police
    assert codes(f"?department={cast.urban.pk}") == set()
    for bad in ("abc", "1e30", str(10**20), "0"):
        response = client.get(f"{URL}?department={bad}")
        assert response.status_code == 400 and "department" in response.json()["errors"], bad
    assert client.get(URL + "?area=000").status_code == 400
    assert client.get(URL + "?status=nonsense").status_code == 400
    assert api_client(cast.street_handler).get(URL).json()["results"][0]["overdue"] in (True, False)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["open", "overdue"])
def test_a_yes_no_filter_given_neither_is_a_400_naming_it(cast, report, name):
    # django-filter read ?open=maybe as no filter at all: every incident, a 200 that answered a
    # question the client did not ask.
    report()
    client = api_client(cast.street_handler)
    for bad in ("maybe", "yes", "2"):
        response = client.get(URL, {name: bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"] == {name: ["Use true or false."]}
    for good in ("true", "false", "1", "0", "True", ""):
        assert client.get(URL, {name: good}).status_code == 200, good


@pytest.mark.django_db
def test_an_unknown_category_filter_is_a_400_naming_it(cast, report):
    # A misspelt code answered 200 with no rows, which reads as "none of this kind".
    report(category="fire_hazard")
    client = api_client(cast.street_handler)
    response = client.get(URL, {"category": "fire_hazards"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"category": ["Unknown category fire_hazards."]}
    assert client.get(URL, {"category": "fire_hazard"}).json()["count"] == 1
    assert client.get(URL, {"category": "sanitation"}).json()["count"] == 0  # known, none of it


@pytest.mark.django_db
def test_a_date_filter_beyond_the_calendar_is_a_400_naming_the_field(cast, report):
    report()
    client = api_client(cast.street_handler)
    message = ["Enter a date between 1900-01-01 and 2999-12-31."]
    for field, day in (("reported_to", "9999-12-31"), ("reported_from", "0001-01-01")):
        response = client.get(URL, {field: day})  # was an OverflowError, a 500
        assert response.status_code == 400
        assert response.json()["errors"] == {field: message}
    today = timezone.localdate().isoformat()
    assert client.get(URL, {"reported_from": "1900-01-01", "reported_to": today}).json()["count"] == 1
    assert client.get(URL, {"reported_to": "2999-12-31"}).json()["count"] == 1


@pytest.mark.django_db
def test_an_area_filter_outside_the_scope_is_the_same_400_as_a_missing_code(cast, report):
    report(actor=cast.worker_a)
    client = api_client(cast.community_handler)
    out_of_scope = client.get(URL, {"area": cast.grid_d.code})  # exists, in district B
    missing = client.get(URL, {"area": "340103001001009"})
    assert (out_of_scope.status_code, missing.status_code) == (400, 400)
    assert out_of_scope.json()["errors"] == {"area": [f"Unknown area code {cast.grid_d.code}."]}
    assert missing.json()["errors"] == {"area": ["Unknown area code 340103001001009."]}
    assert client.get(URL, {"area": cast.grid_a.code}).json()["count"] == 1


@pytest.mark.django_db
def test_the_list_query_count_does_not_grow_with_the_items(cast, report, django_assert_max_num_queries):
    client = api_client(cast.street_handler)
    report()
    with django_assert_max_num_queries(8) as small:
        assert client.get(URL).status_code == 200
    for i in range(12):
        item = report(actor=cast.worker_b if i % 2 else cast.worker_a, lat=(IN_GRID_B if i % 2 else IN_GRID_A)[0],
                      lng=(IN_GRID_B if i % 2 else IN_GRID_A)[1], category="fire_hazard" if i % 3 else "sanitation",
                      kind="coordination" if i % 4 == 0 else "promised")  # fmt: skip
        if i % 4 == 0:  # coordination items with their supporting departments (one prefetch for all)
            services.incident_transition(incident=item, actor=cast.admin, action="accept")
            services.incident_transition(incident=item, actor=cast.admin, action="dispatch", department=cast.police.pk,
                                         supporting_departments=[cast.urban.pk, cast.street_team.pk][: 1 + i % 8 // 4])  # fmt: skip
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(URL).json()
    assert body["count"] == 13
    assert sorted(
        len(r["supporting_departments"]) for r in body["results"] if r["supporting_departments"]
    ) == [1, 1, 2]


@pytest.mark.django_db
def test_the_events_list_is_the_timeline(cast, incident_in, django_assert_max_num_queries):
    incident = incident_in("closed")
    with django_assert_max_num_queries(10):
        response = api_client(cast.worker_a).get(f"{URL}{incident.code}/events/")
    actions = [e["action"] for e in response.json()["results"]]
    assert actions == ["report", "accept", "dispatch", "handle", "feedback", "verify", "close"]
    assert response.json()["results"][2]["department"] == cast.police.name


@pytest.mark.django_db
def test_feedback_photos_go_with_the_feedback_event(cast, incident_in):
    incident = incident_in("handling")
    photos = [SimpleUploadedFile("r.webp", jpeg_bytes(fmt="WEBP"), content_type="image/webp")]
    response = api_client(cast.department_user).post(
        f"{URL}{incident.code}/transition/",
        {"action": "feedback", "resolution": "done", "photos": photos},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    event = incident.events.get(action="feedback")
    assert event.photos.get().content_type == "image/webp"


@pytest.mark.django_db
def test_an_unknown_action_is_a_400_naming_action(cast, incident_in):
    # It was a 400 with a detail alone: the one validation error that named no field.
    incident = incident_in("reported")
    response = api_client(cast.community_handler).post(
        f"{URL}{incident.code}/transition/", {"action": "acept"}, format="json"
    )
    assert response.status_code == 400
    message = response.json()["errors"]["action"][0]
    assert message.startswith("Unknown action acept; expected one of: accept, reject")
    assert response.json()["detail"] == f"Invalid input: action: {message}"
    assert Incident.objects.get(pk=incident.pk).status == "reported"


@pytest.mark.django_db
def test_the_detail_lists_the_actions_the_user_may_take(cast, incident_in):
    incident = incident_in("fed_back")
    assert api_client(cast.worker_a).get(f"{URL}{incident.code}/").json()["actions"] == ["verify"]
    assert api_client(cast.community_handler).get(f"{URL}{incident.code}/").json()["actions"] == []


@pytest.mark.django_db
def test_the_schema_describes_the_incident_endpoints(cast):
    response = api_client(cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"] if response["Content-Type"].startswith("application/json") else None
    text = response.content.decode()
    for path in (
        "/api/v1/incidents/",
        "/api/v1/incidents/{code}/transition/",
        "/api/v1/incidents/{code}/events/",
    ):
        assert path in (paths or text)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_get_distinct_gapless_numbers_on_postgres(postgres, cast, categories):
    barrier = threading.Barrier(6)
    codes: list[str] = []
    errors: list[BaseException] = []

    def worker(i: int):
        try:
            barrier.wait()
            for _ in range(4):
                codes.append(
                    services.incident_report(
                        actor=cast.worker_a,
                        category="sanitation",
                        description=f"w{i}",
                        lat=IN_GRID_A[0],
                        lng=IN_GRID_A[1],
                    ).code
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in codes)
    assert numbers == list(range(1, 25))
    assert Incident.objects.count() == 24


@pytest.mark.django_db
def test_the_detail_lists_the_departments_dispatch_may_name(cast, incident_in):
    """dispatch takes a department id, and no endpoint listed departments: a client could not dispatch."""
    incident = incident_in("accepted")
    client = api_client(cast.community_handler)
    body = client.get(f"{URL}{incident.code}/").json()
    choices = {d["id"]: d for d in body["dispatch_departments"]}
    assert cast.police.pk in choices and cast.street_team.pk in choices
    assert cast.police_b.pk not in choices  # another district's
    assert choices[cast.street_team.pk]["area"] == cast.street_a1.code
    response = client.post(
        f"{URL}{incident.code}/transition/",
        {"action": "dispatch", "department": cast.street_team.pk},
        format="json",
    )
    assert response.status_code == 200 and response.json()["department"] == cast.street_team.pk
    # Dispatched, the centre may still dispatch again: the choices stay (they went missing, and a
    # client could not re-dispatch); the department it went to, which may not, is offered none.
    again = {d["id"] for d in response.json()["dispatch_departments"]}
    assert cast.police.pk in again and "dispatch" in response.json()["actions"]
    team_user = make_user("team_user", Role.HANDLER, cast.street_a1, cast.street_team)
    assert api_client(team_user).get(f"{URL}{incident.code}/").json()["dispatch_departments"] == []


@pytest.mark.django_db
def test_texts_longer_than_the_pages_take_are_refused_naming_the_field(cast, categories, incident_in):
    """The pages stop a description, note or resolution at 4,000 characters; the API took any length."""
    long = "长" * 4001
    point = {"lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    for field, extra in (("description", {}), ("resolution", {"kind": "on_the_spot"})):
        data = {"category": "sanitation", "description": "x", **point, **extra, field: long}
        response = post(cast.worker_a, data)
        assert response.status_code == 400 and field in response.json()["errors"], field
    assert not Incident.objects.filter(reporter=cast.worker_a).exists()
    incident = incident_in("reported")
    url = f"{URL}{incident.code}/transition/"
    for data, field in (
        ({"action": "reject", "note": long}, "note"),
        ({"action": "accept", "note": long}, "note"),
    ):
        response = api_client(cast.community_handler).post(url, data, format="json")
        assert response.status_code == 400 and field in response.json()["errors"]
    incident.refresh_from_db()
    assert incident.status == "reported" and incident.events.count() == 1
    fed = incident_in("handling")
    response = api_client(cast.department_user).post(
        f"{URL}{fed.code}/transition/", {"action": "feedback", "resolution": long}, format="json"
    )
    assert response.status_code == 400 and "resolution" in response.json()["errors"]
    fed.refresh_from_db()
    assert fed.status == "handling" and not fed.resolution


@pytest.mark.django_db
def test_a_report_sent_again_with_its_submission_key_saves_one_incident(cast, categories):
    """A phone that lost the answer on a weak network sends the report again: it was saved twice."""
    import uuid

    key = str(uuid.uuid4())
    data = {"category": "sanitation", "description": "井盖丢失", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    first = post(cast.worker_a, {**data, "submission": key})
    again = post(cast.worker_a, {**data, "submission": key})
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"]
    assert Incident.objects.count() == 1 and IncidentEvent.objects.count() == 1
    # Keys are the reporter's own; without one every send is a report, as before.
    other = post(cast.worker_b, {**data, "lat": IN_GRID_B[0], "lng": IN_GRID_B[1], "submission": key})
    assert other.status_code == 201 and other.json()["code"] != first.json()["code"]
    assert post(cast.worker_a, data).status_code == post(cast.worker_a, data).status_code == 201
    assert Incident.objects.count() == 4
    bad = post(cast.worker_a, {**data, "submission": "not-a-key"})
    assert bad.status_code == 400 and "submission" in bad.json()["errors"]
    assert Incident.objects.count() == 4


@pytest.mark.django_db
def test_a_report_sent_again_after_the_reporter_moved_names_the_incident_only(cast, categories, client):
    # The replay answered 201 with the incident in full (status, department, resolution) to a
    # worker moved to another grid, to whom the incident itself is a 404.
    import uuid

    from governance.models import Membership, Role, User

    key = str(uuid.uuid4())
    data = {"category": "sanitation", "description": "井盖丢失", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
            "submission": key}  # fmt: skip
    code = post(cast.worker_a, data).json()["code"]
    Membership.objects.filter(user=cast.worker_a).update(area=cast.grid_d, role=Role.GRID_WORKER)
    moved = User.objects.get(pk=cast.worker_a.pk)
    assert api_client(moved).get(f"/api/v1/incidents/{code}/").status_code == 404
    again = post(moved, data)
    assert again.status_code == 409 and again.json() == {
        "detail": f"This report was saved already, as incident {code}, which is no longer in your area."
    }
    assert Incident.objects.count() == 1
    # The page's draft resent: the worker's grid page says so, instead of a 404 page.
    client.force_login(moved)
    page = client.post("/grids/report/", {**data, "kind": "promised"}, HTTP_ACCEPT="application/json")
    assert page.status_code == 201 and page.json()["redirect"] == "/grids/my/"
    assert code in client.get("/grids/my/").content.decode() and Incident.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_report_sent_twice_at_once_with_one_key_saves_one_incident_on_postgres(postgres, cast, categories):
    import uuid

    key = uuid.uuid4()
    barrier = threading.Barrier(4)
    codes: list[str] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            codes.append(
                services.incident_report(
                    actor=cast.worker_a, category="sanitation", description="x", lat=IN_GRID_A[0],
                    lng=IN_GRID_A[1], submission=key,
                ).code
            )  # fmt: skip
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(set(codes)) == 1 and len(codes) == 4
    assert Incident.objects.count() == 1 and SequenceCounter.objects.get(key="INC").value == 1


@pytest.mark.django_db
def test_a_step_retried_with_the_state_it_was_sent_from_is_taken_once(cast, incident_in):
    """A client that lost the answer of an escalation sent it again: the item went up two levels."""
    incident = incident_in("reported")
    url = f"{URL}{incident.code}/transition/"
    client = api_client(cast.district_officer)
    body = {"action": "escalate", "note": "needs the street", "state": "reported/community"}
    first = client.post(url, body, format="json")
    again = client.post(url, body, format="json")
    assert first.status_code == again.status_code == 200
    assert again.json()["level"] == "street" and incident.events.filter(action="escalate").count() == 1
    # Without the state, or after someone else acted, the step is taken (or refused) as before.
    assert (
        client.post(url, {"action": "escalate", "note": "district"}, format="json").json()["level"]
        == "district"
    )
    accept = {"action": "accept", "state": "reported/district"}
    assert client.post(url, accept, format="json").status_code == 200
    refused = api_client(cast.admin).post(url, accept, format="json")
    assert refused.status_code == 409 and incident.events.filter(action="accept").count() == 1


@pytest.mark.django_db
def test_a_path_without_its_final_slash_is_a_308_that_keeps_the_method_and_body(cast, categories, settings):
    # It was Django's 301 (HTML, empty): clients repeat a 301 as a GET, so ``POST /api/v1/incidents``
    # came back 200 with the list and no incident was saved; under DEBUG, Django refused it with a 500.
    api = api_client(cast.worker_a)
    report = {"category": "sanitation", "description": "垃圾堆放", "grid": cast.grid_a.code}
    for debug in (False, True):
        settings.DEBUG = debug
        response = api.post("/api/v1/incidents?x=1", report, format="json")
        assert response.status_code == 308, debug
        assert response["Location"] == "/api/v1/incidents/?x=1"
        assert response["Content-Type"] == "application/json"
        assert "/api/v1/incidents/?x=1" in response.json()["detail"]
        assert not Incident.objects.exists()
    settings.DEBUG = False
    followed = api.post("/api/v1/incidents", report, format="json", follow=True)
    assert followed.status_code == 201 and Incident.objects.count() == 1
    assert api.get(f"/api/v1/areas/{cast.grid_a.code}")["Location"] == f"/api/v1/areas/{cast.grid_a.code}/"
    assert api.get("/api/v1/nowhere").status_code == 404  # no endpoint with the slash either
    page = api_client()
    page.force_login(cast.worker_a)
    assert page.get("/grids/report").status_code == 301  # pages keep Django's redirect


@pytest.mark.django_db
def test_the_timeline_takes_a_constant_number_of_queries(cast, incident_in, django_assert_max_num_queries):
    client = api_client(cast.admin)
    short = incident_in("reported")
    with django_assert_max_num_queries(10) as few:
        assert client.get(f"{URL}{short.code}/events/").json()["count"] == 1
    queries = len(few.captured_queries)  # now: the next request empties the connection's log
    # A coordination item's whole loop: supporting departments named at dispatch, photos at feedback.
    long = incident_in("handling", kind="coordination")
    photos = [SimpleUploadedFile(f"{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(2)]
    fed_back = client.post(f"{URL}{long.code}/transition/", {"action": "feedback", "resolution": "done",
                           "photos": photos}, format="multipart")  # fmt: skip
    assert fed_back.status_code == 200, fed_back.json()
    with django_assert_max_num_queries(queries):
        events = client.get(f"{URL}{long.code}/events/").json()["results"]
    assert (
        len(events) == 5 and len(events[2]["supporting_departments"]) == 2 and len(events[4]["photos"]) == 2
    )


@pytest.mark.django_db
def test_one_refused_report_names_the_place_and_time_with_the_inputs_own_errors(cast, categories):
    """Without a category, a point outside the reporter's grids and a time to come came only in a
    second 400, once the category was fixed."""
    import datetime as dt

    from django.utils import timezone

    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    data = {"description": "x", "occurred_at": future, "lat": OUTSIDE[0], "lng": OUTSIDE[1]}
    response = post(cast.worker_a, data)
    errors = response.json()["errors"]
    assert response.status_code == 400 and set(errors) == {"category", "occurred_at", "lat", "lng"}, errors
    assert errors["occurred_at"] == ["The time it happened cannot be in the future."]
    # A latitude the input refuses keeps its own message, and the place is not guessed at.
    response = post(cast.worker_a, {**data, "lat": 200})
    assert set(response.json()["errors"]) == {"category", "occurred_at", "lat"}
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_an_unknown_category_is_named_with_the_inputs_other_errors(cast, categories):
    """An unknown category came only in a second 400, once a blank description was fixed: the API's
    category is a code the input reads as text, and only the report service looked it up."""
    data = {"category": "nope", "description": "", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    response = post(cast.worker_a, data)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "category": ["Unknown category nope."],
        "description": ["This field may not be blank."],
    }
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_a_role_that_may_not_take_the_step_gets_403_whatever_it_sent(cast, incident_in):
    """A grid worker sending a supervisor's step with a faulty body was told what to fix (400), as if
    the fixed step would be taken; it is the 403 a well-formed one gets."""
    incident = incident_in("reported")
    url = f"{URL}{incident.code}/transition/"
    faulty = {"action": "accept", "kind": "bogus"}
    assert api_client(cast.worker_a).post(url, faulty, format="json").status_code == 403
    assert api_client(cast.community_handler).post(url, faulty, format="json").status_code == 400


@pytest.mark.django_db
def test_the_403_of_a_step_names_it_in_a_sentence_that_reads(cast, incident_in):
    """The 403 "Your role may not %(action)s this incident." made "may not start handling this incident" and
    "may not return to the centre this incident" of the steps' labels."""
    incident = incident_in("reported")
    response = api_client(cast.worker_a).post(
        f"{URL}{incident.code}/transition/", {"action": "accept"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not take this step on the incident: accept."}


@pytest.mark.django_db
def test_the_schema_says_which_steps_take_photos_their_limits_and_the_400(cast):
    """A client learnt only by a 400 that a step's photos are refused: the field says which steps
    take them (the report has its own endpoint), how many and how large, and the 400 is described."""
    schema = api_client(cast.admin).get("/api/schema/?format=json").json()
    post = schema["paths"]["/api/v1/incidents/{code}/transition/"]["post"]
    ref = post["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    photos = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]["photos"]
    for words in ("feedback", "verify", "/api/v1/incidents/", "6", "10 MB", "400"):
        assert words in photos["description"], words
    assert "photos" in post["responses"]["400"]["description"]


@pytest.mark.django_db
def test_a_working_hour_due_date_in_a_year_without_a_calendar_is_named_in_the_list_and_the_detail(
    cast, report, incident_in
):
    # As the incident pages say: a working-hour deadline in a year the calendar has no dates for
    # counts plain weekdays and may move. A handling limit is clock hours: never named.
    from governance.models import Holiday

    year = timezone.localdate().year
    for y in (year, year + 1):
        Holiday.objects.get_or_create(date=dt.date(y, 1, 1), defaults={"name": "元旦"})
    SequenceCounter.bump("calendar")
    far = timezone.make_aware(dt.datetime(2031, 3, 3, 10, 0))
    waiting, handling, fresh = report(), incident_in("handling"), report()
    Incident.objects.filter(pk__in=[waiting.pk, handling.pk]).update(due_at=far)
    client = api_client(cast.community_handler)
    listed = {r["code"]: r["provisional_due_years"] for r in client.get(URL).json()["results"]}
    assert listed == {waiting.code: [2031], handling.code: [], fresh.code: []}
    assert client.get(f"{URL}{waiting.code}/").json()["provisional_due_years"] == [2031]
    assert client.get(f"{URL}{handling.code}/").json()["provisional_due_years"] == []
    assert api_client(cast.outsider).get(f"{URL}{waiting.code}/").status_code == 404
    Holiday.objects.create(date=dt.date(2031, 1, 1), name="元旦")
    assert client.get(f"{URL}{waiting.code}/").json()["provisional_due_years"] == []
