import pytest

from governance.geo import locator
from governance.models import SequenceCounter
from tests.base import api_client, out_of_service_today, rect
from tests.grids.conftest import categories  # noqa: F401 (a fixture)


def test_a_point_inside_a_grid_finds_it(cast):
    assert locator.locate(31.805, 117.005) == cast.grid_a.code
    assert locator.locate(31.805, 117.015) == cast.grid_b.code


def test_a_point_outside_every_grid_finds_nothing(cast):
    assert locator.locate(31.805, 117.06) is None
    assert locator.locate(0, 0) is None


def test_a_point_on_a_shared_border_resolves_to_one_grid_deterministically(cast):
    # 117.01 is the border between grid A and grid B: the smaller code wins, every time.
    assert {locator.locate(31.805, 117.01) for _ in range(5)} == {cast.grid_a.code}
    locator.reset()
    assert locator.locate(31.805, 117.01) == cast.grid_a.code


@pytest.mark.usefixtures("categories")
def test_a_border_belongs_to_each_grid_that_shares_it(cast):
    """The smaller code took the border for everyone: grid B's worker standing on the edge of
    their own grid was told it lay outside their area (locate 404, a report 400), and a handler
    naming grid B with that point was told it lay in grid A."""
    border = {"lat": 31.805, "lng": 117.01}
    assert locator.locate_all(**border) == [cast.grid_a.code, cast.grid_b.code]
    for user, grid in ((cast.worker_a, cast.grid_a), (cast.worker_b, cast.grid_b)):
        located = api_client(user).get("/api/v1/areas/locate/", border)
        assert located.status_code == 200 and located.json()["grid"]["code"] == grid.code
        report = {"category": "sanitation", "description": "路面破损", **border}
        reported = api_client(user).post("/api/v1/incidents/", report, format="json")
        assert reported.status_code == 201 and reported.json()["grid"] == grid.code
    handler = api_client(cast.community_handler)
    assert handler.get("/api/v1/areas/locate/", border).json()["grid"]["code"] == cast.grid_a.code
    named = {"category": "sanitation", "description": "路面破损", "grid": cast.grid_b.code, **border}
    reported = handler.post("/api/v1/incidents/", named, format="json")
    assert reported.status_code == 201 and reported.json()["grid"] == cast.grid_b.code
    # A point inside grid A alone with grid B named is still refused, naming the grid it lies in.
    inside_a = {**named, "lng": 117.005}
    refused = handler.post("/api/v1/incidents/", inside_a, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["grid"]
    # Outside anyone's area on the border: the outsider (district B) sees neither grid.
    assert api_client(cast.outsider).get("/api/v1/areas/locate/", border).status_code == 404


def test_the_index_is_rebuilt_when_boundaries_change(cast):
    assert locator.locate(31.805, 117.06) is None
    cast.grid_c.boundary = rect(117.02, 31.8, 117.07, 31.81)
    cast.grid_c.save()
    SequenceCounter.bump("geo")
    assert locator.locate(31.805, 117.06) == cast.grid_c.code


def test_locate_api_returns_the_grid_and_its_ancestors(cast):
    response = api_client(cast.worker_a).get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.005})
    assert response.status_code == 200
    body = response.json()
    assert body["grid"]["code"] == cast.grid_a.code
    assert [a["code"] for a in body["ancestors"]] == [
        "340100000000",
        "340102000000",
        "340102001000",
        "340102001001",
    ]
    # Named, not described: the district and city lie above a grid worker's scope, whose figures
    # ``areas/<code>/`` refuses to them (404).
    assert body["ancestors"][0] == {"code": "340100000000", "name": "示例市", "level": "city", "parent": None}
    assert api_client(cast.worker_a).get("/api/v1/areas/340100000000/").status_code == 404
    assert "population" in body["grid"]


def test_locate_api_says_no_grid_here_outside_every_grid(cast):
    response = api_client(cast.worker_a).get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.06})
    assert response.status_code == 404
    assert "No grid here" in response.json()["detail"]


def test_locate_api_names_the_bad_parameter(cast):
    response = api_client(cast.worker_a).get("/api/v1/areas/locate/", {"lat": "north", "lng": 200})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"lat", "lng"}


def test_locate_api_hides_a_grid_outside_the_users_area(cast):
    response = api_client(cast.worker_a).get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.015})
    assert response.status_code == 404
    # The same answer as a point in no grid at all: the two messages differed, and probing points
    # mapped where grids lie outside the user's area.
    nowhere = api_client(cast.worker_a).get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.06})
    assert nowhere.status_code == 404 and nowhere.json() == response.json()


@pytest.mark.usefixtures("categories")
def test_a_report_in_a_grid_outside_the_area_is_refused_as_one_in_no_grid(cast):
    client = api_client(cast.worker_a)
    body = {"category": "sanitation", "description": "井盖丢失"}
    theirs = client.post("/api/v1/incidents/", {**body, "lat": 31.805, "lng": 117.015}, format="json")
    nowhere = client.post("/api/v1/incidents/", {**body, "lat": 31.805, "lng": 117.06}, format="json")
    assert theirs.status_code == nowhere.status_code == 400
    assert set(theirs.json()["errors"]) == set(nowhere.json()["errors"]) == {"lat", "lng"}
    assert (
        theirs.json()["errors"]["lat"][0].replace("117.015000", "117.060000")
        == nowhere.json()["errors"]["lat"][0]
    )


def test_the_index_follows_a_grid_recoded_or_deleted_in_the_admin(client, cast):
    import json

    from governance.models import Area

    grid = cast.grid_c
    lat, lng = grid.centroid_lat, grid.centroid_lng
    assert locator.locate(lat, lng) == grid.code  # the index is built
    client.force_login(cast.admin)
    form = client.get(f"/admin/governance/area/{grid.pk}/change/").context["adminform"].form
    data = {k: ("" if v is None else v) for k, v in form.initial.items() if k in form.fields}
    data.update(boundary=json.dumps(grid.boundary), code="340102001002009")
    assert client.post(f"/admin/governance/area/{grid.pk}/change/", data).status_code == 302
    assert locator.locate(lat, lng) == "340102001002009"  # was the old code: the API answered 404
    assert client.post(f"/admin/governance/area/{grid.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Area.objects.filter(pk=grid.pk).exists()
    assert locator.locate(lat, lng) is None


@pytest.mark.usefixtures("categories")
def test_a_point_on_a_border_skips_a_grid_out_of_service_today(cast):
    """Grid A was merged away yesterday, grid B drawn tomorrow: on their shared border, neither is
    in service today. Locating and reporting there skip them; grid A's own interior is no grid now."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Area

    today = timezone.localdate()
    Area.objects.filter(pk=cast.grid_a.pk).update(in_service_until=today - dt.timedelta(days=1))
    border, inside_a = {"lat": 31.805, "lng": 117.01}, {"lat": 31.805, "lng": 117.005}
    handler = api_client(cast.community_handler)
    assert handler.get("/api/v1/areas/locate/", border).json()["grid"]["code"] == cast.grid_b.code
    assert handler.get("/api/v1/areas/locate/", inside_a).status_code == 404
    report = {"category": "sanitation", "description": "路面破损", **border}
    reported = api_client(cast.worker_b).post("/api/v1/incidents/", report, format="json")
    assert reported.status_code == 201 and reported.json()["grid"] == cast.grid_b.code
    refused = api_client(cast.worker_a).post("/api/v1/incidents/", {**report, **inside_a}, format="json")
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"lat", "lng"}
    # In service from tomorrow: not yet today.
    Area.objects.filter(pk=cast.grid_a.pk).update(in_service_until=None)
    Area.objects.filter(pk=cast.grid_b.pk).update(in_service_from=today + dt.timedelta(days=1))
    assert handler.get("/api/v1/areas/locate/", border).json()["grid"]["code"] == cast.grid_a.code
    assert handler.get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.015}).status_code == 404
    # ... and on its first day it is.
    Area.objects.filter(pk=cast.grid_b.pk).update(in_service_from=today)
    assert handler.get("/api/v1/areas/locate/", {"lat": 31.805, "lng": 117.015}).status_code == 200


@pytest.mark.usefixtures("categories")
def test_a_grid_named_out_of_service_today_is_refused_as_an_unknown_one(cast):
    """A grid named by its code was taken whatever its service dates, and with a point inside the
    retired grid the "near the grid" check measured its own boundary (0 m) and took it too."""

    from django.utils import timezone

    from governance.models import Area
    from grids.models import Incident

    today = timezone.localdate()
    inside_a = {"lat": 31.805, "lng": 117.005}
    for _ in out_of_service_today(cast.grid_a):
        for point in ({}, inside_a):
            body = {"category": "sanitation", "description": "路面破损", "grid": cast.grid_a.code, **point}
            refused = api_client(cast.worker_a).post("/api/v1/incidents/", body, format="json")
            assert refused.status_code == 400, refused.json()
            assert set(refused.json()["errors"]) == {"grid"}
            assert (
                refused.json()["errors"]["grid"][0]
                == f"Unknown grid {cast.grid_a.code}, or it is outside your area."
            )
    assert not Incident.objects.exists()
    # On its first and last day it is in service.
    for dates in ({"in_service_until": today}, {"in_service_from": today}):
        Area.objects.filter(pk=cast.grid_a.pk).update(
            **{"in_service_from": None, "in_service_until": None, **dates}
        )
        body = {"category": "sanitation", "description": "路面破损", "grid": cast.grid_a.code}
        assert api_client(cast.worker_a).post("/api/v1/incidents/", body, format="json").status_code == 201


@pytest.mark.usefixtures("categories")
def test_the_report_page_offers_and_takes_only_grids_in_service_today(cast, client):
    import re

    from governance.models import Membership, Role
    from grids.models import Incident

    # Grid B's worker works in grid A too: the page's select offers both while both are in service.
    Membership.objects.create(user=cast.worker_b, area=cast.grid_a, role=Role.GRID_WORKER)
    client.force_login(cast.worker_b)

    def offered() -> set[str]:
        select = re.findall(
            r'<select name="grid".*?</select>', client.get("/grids/report/").content.decode(), re.S
        )
        return set(re.findall(r'<option value="(\d+)"', select[0])) if select else set()

    assert offered() == {cast.grid_a.code, cast.grid_b.code}
    for _ in out_of_service_today(cast.grid_a):
        assert offered() == {cast.grid_b.code}
        data = {"category": "sanitation", "description": "x", "kind": "promised", "grid": cast.grid_a.code}
        assert client.post("/grids/report/", data).status_code == 400
    assert not Incident.objects.exists()


@pytest.mark.django_db
def test_the_schema_describes_lat_and_lng_with_their_bounds(cast):
    """/api/schema/ said only "number" of both: not which is which, their range, or the 400."""
    schema = api_client(cast.worker_a).get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    parameters = {p["name"]: p for p in schema.json()["paths"]["/api/v1/areas/locate/"]["get"]["parameters"]}
    assert (parameters["lat"]["schema"]["minimum"], parameters["lat"]["schema"]["maximum"]) == (-90, 90)
    assert (parameters["lng"]["schema"]["minimum"], parameters["lng"]["schema"]["maximum"]) == (-180, 180)
    assert "latitude" in parameters["lat"]["description"] and "400" in parameters["lat"]["description"]
    assert "longitude" in parameters["lng"]["description"] and "400" in parameters["lng"]["description"]
