"""A report in a grid drawn without a boundary: its point is checked against the nearest area above
it drawn with one (docs/incidents.md "Workflow")."""

from __future__ import annotations

import re

import pytest

from governance.models import Role
from grids.models import Incident
from tests.base import api_client, make_area, make_user
from tests.grids.conftest import OUTSIDE

URL = "/api/v1/incidents/"
IN_COMMUNITY = (31.815, 117.01)  # inside the new community, in no grid
NORTH_OF_IT = (31.83, 117.01)  # about 1.1 km north of the community's edge, in no grid


@pytest.fixture
def unmapped(cast):
    """A community north of A1a whose one grid has no boundary yet, and that grid's worker."""
    community = make_area(
        "340102001003", "新建社区", "community", cast.street_a1, (117.0, 31.81, 117.02, 31.82)
    )
    grid = make_area("340102001003001", "新建第1网格", "grid", community, (0, 0, 1, 1))
    grid.boundary = None
    grid.save()
    return grid, make_user("worker_new", Role.GRID_WORKER, grid)


def _body(grid, point) -> dict:
    return {"category": "sanitation", "description": "x", "grid": grid.code, "lat": point[0], "lng": point[1]}


@pytest.mark.django_db
def test_a_point_far_from_the_community_of_a_grid_without_a_boundary_is_refused(cast, categories, unmapped):
    grid, worker = unmapped
    for point in (OUTSIDE, NORTH_OF_IT):
        response = api_client(worker).post(URL, _body(grid, point), format="json")
        assert response.status_code == 400, response.json()
        errors = response.json()["errors"]
        assert set(errors) == {"lat", "lng"}
        assert "from 新建社区, which grid 新建第1网格 belongs to" in errors["lat"][0]
    assert not Incident.objects.exists()
    response = api_client(worker).post(URL, _body(grid, IN_COMMUNITY), format="json")
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(code=response.json()["code"])
    assert incident.grid == grid and (incident.lat, incident.lng) == IN_COMMUNITY
    # Named alone, the grid is taken as before: there is no point to check.
    alone = api_client(worker).post(URL, {"category": "sanitation", "description": "y", "grid": grid.code})
    assert alone.status_code == 201


@pytest.mark.django_db
def test_the_report_page_refuses_a_point_far_from_the_community_of_a_grid_without_a_boundary(
    cast, client, categories, unmapped
):
    grid, worker = unmapped
    client.force_login(worker)
    data = {**_body(grid, OUTSIDE), "kind": "promised"}
    response = client.post("/grids/report/", data, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"lat", "lng"} and "which grid 新建第1网格 belongs to" in errors["lat"][0]
    assert not Incident.objects.exists()
    response = client.post("/grids/report/", {**data, "lat": IN_COMMUNITY[0], "lng": IN_COMMUNITY[1]})
    assert response.status_code == 302
    assert Incident.objects.get().grid == grid


@pytest.mark.django_db
def test_a_centre_handler_names_on_the_report_page_a_grid_not_mapped_yet(cast, client, categories, unmapped):
    # Nobody works in the grid and no point can find it: its centre could report there only
    # through the API (the page's grid select was a grid worker's own grids).
    grid, worker = unmapped
    worker.memberships.all().delete()
    client.force_login(cast.street_handler)
    html = client.get("/grids/report/").content.decode()
    assert f'<option value="{grid.code}">新建第1网格</option>' in html
    assert (
        cast.grid_a.code not in re.findall(r'<select name="grid".*?</select>', html, re.S)[0]
    )  # found by pin
    assert "choose below a grid not mapped yet" in html
    data = {"category": "sanitation", "description": "x", "kind": "promised", "grid": grid.code}
    response = client.post("/grids/report/", data)
    assert response.status_code == 302
    assert Incident.objects.get().grid == grid
    # Outside the handler's area a grid not mapped yet is not offered, and not taken.
    client.force_login(cast.outsider)
    assert grid.code not in client.get("/grids/report/").content.decode()
    assert client.post("/grids/report/", {**data, "description": "y"}).status_code == 400
    assert Incident.objects.count() == 1
