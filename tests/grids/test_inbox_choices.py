"""The inbox's grid and department selects name each choice so that one can be told from another
of the same name in another community or street (docs/incidents.md, Pages: the inbox)."""

from __future__ import annotations

import re

import pytest

from governance.models import Department, Role
from tests.base import described_as, make_area, make_user, queries_of


def _select(html: str, name: str) -> str:
    select = html[html.index(f'<select name="{name}"') :]
    return select[: select.index("</select>")]


def _groups(select: str) -> dict[str, list[str]]:
    """Each optgroup's label and the texts of its options."""
    return {
        label: re.findall(r"<option [^>]*>([^<]*)</option>", body)
        for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    }


def _third_namesake_community(cast):
    """A third community named as A1a, in a new street 乙二街道 of district B."""
    street = make_area("340103002000", "乙二街道", "street", cast.district_b, (117.1, 31.82, 117.12, 31.83))
    return make_area(
        "340103002001", cast.community_a1a.name, "community", street, (117.1, 31.82, 117.12, 31.83)
    )


@pytest.fixture
def namesakes(cast):
    """A community of district B named as community A1a of district A, with a grid named as grid A
    and a centre named as A1a's: city staff saw two identical "春晖第1网格" in the grid filter."""
    cast.community_b1b = make_area(
        "340103001002", cast.community_a1a.name, "community", cast.street_b1, (117.1, 31.81, 117.12, 31.82)
    )
    cast.grid_e = make_area(
        "340103001002001", cast.grid_a.name, "grid", cast.community_b1b, (117.1, 31.81, 117.12, 31.82)
    )
    cast.centre_a = Department.objects.create(name="社区综治中心", area=cast.community_a1a)
    cast.centre_b = Department.objects.create(name="社区综治中心", area=cast.community_b1b)
    cast.city_handler = make_user("city_handler", Role.HANDLER, cast.city)
    return cast


@pytest.mark.django_db
def test_the_city_tells_namesake_grids_and_departments_apart_by_their_street(namesakes, client):
    cast = namesakes
    client.force_login(cast.city_handler)
    html = client.get("/grids/inbox/").content.decode()
    grids = _groups(_select(html, "grid"))
    # Grouped by community; a community's name alone where it is unique, its street's before it
    # where another community bears the same name.
    assert grids == {
        f"{cast.street_a1.name} · {cast.community_a1a.name}": [cast.grid_a.name, cast.grid_b.name],
        cast.community_a1b.name: [cast.grid_c.name],
        cast.community_b1a.name: [cast.grid_d.name],
        f"{cast.street_b1.name} · {cast.community_b1b.name}": [cast.grid_e.name],
    }
    departments = _groups(_select(html, "department"))
    assert departments[f"{cast.street_a1.name} · {cast.community_a1a.name}"] == ["社区综治中心"]
    assert departments[f"{cast.street_b1.name} · {cast.community_b1b.name}"] == ["社区综治中心"]
    assert set(departments[cast.district_a.name]) == {"公安分局", "城市管理局", "信访局"}
    assert departments[cast.street_a1.name] == ["城管中队"]


@pytest.mark.django_db
def test_a_community_s_handler_sees_its_grids_without_a_group(namesakes, client):
    # One community: nothing to tell apart, so no group heading above its grids.
    client.force_login(namesakes.community_handler)
    select = _select(client.get("/grids/inbox/").content.decode(), "grid")
    assert "<optgroup" not in select
    assert f'<option value="{namesakes.grid_a.code}">{namesakes.grid_a.name}</option>' in select


@pytest.mark.django_db
def test_the_labels_cost_no_query_whatever_the_number_of_communities(namesakes, client):
    cast = namesakes
    client.force_login(cast.city_handler)
    client.get("/grids/inbox/")  # warm up
    few = queries_of(client, "/grids/inbox/")
    community = _third_namesake_community(cast)
    make_area("340103002001001", cast.grid_a.name, "grid", community, (117.1, 31.82, 117.12, 31.83))
    Department.objects.create(name="社区综治中心", area=community)
    assert queries_of(client, "/grids/inbox/") == few


@pytest.mark.django_db
def test_the_departments_record_names_namesake_areas_by_their_street(namesakes, client):
    # Two rows "社区综治中心 · 春晖社区" on the city's departments' record: which community's was late?
    cast = namesakes
    client.force_login(cast.city_handler)
    html = client.get("/grids/departments/").content.decode()
    areas = re.findall(r'<td data-label="[^"]*">([^<]*)</td>\s*<td class="num"', html)
    assert f"{cast.street_a1.name} · {cast.community_a1a.name}" in areas
    assert f"{cast.street_b1.name} · {cast.community_b1b.name}" in areas
    assert cast.district_a.name in areas and cast.community_a1a.name not in areas
    few = queries_of(client, "/grids/departments/")
    community = _third_namesake_community(cast)
    Department.objects.create(name="社区综治中心", area=community)
    assert queries_of(client, "/grids/departments/") == few


def _row_grids(html: str) -> list[str]:
    """The grid column of each inbox row (its name as shown, before the level underneath)."""
    return re.findall(r'<td class="keep" data-label="[^"]*">([^<]*)<br>', html)


def _summary(html: str) -> str:
    """The filters in force as the page's summary names them."""
    summary = html[html.index('class="filters-active"') :]
    return summary[: summary.index("</span>")]


@pytest.fixture
def namesake_items(namesakes, report):
    """An open item in grid A and one in its namesake, grid E of district B."""
    cast = namesakes
    cast.item_a = report()
    cast.item_e = report(actor=cast.city_handler, lat=31.815, lng=117.11)
    assert cast.item_e.grid == cast.grid_e
    return cast


@pytest.mark.django_db
def test_the_city_s_inbox_rows_name_a_namesake_grid_by_its_street(namesake_items, client):
    # Two rows "春晖第1网格" in a city's inbox: which district's was it? The community's name, in the
    # grid's already, is not said twice.
    cast = namesake_items
    client.force_login(cast.city_handler)
    rows = _row_grids(client.get("/grids/inbox/").content.decode())
    assert sorted(rows) == sorted(
        [f"{cast.street_a1.name} · {cast.grid_a.name}", f"{cast.street_b1.name} · {cast.grid_e.name}"]
    )


@pytest.mark.django_db
def test_a_namesake_grid_keeps_its_street_on_a_page_without_its_namesake(namesake_items, client):
    # The label does not depend on which rows a page shows: the city has both grids.
    cast = namesake_items
    client.force_login(cast.city_handler)
    html = client.get("/grids/inbox/", {"grid": cast.grid_e.code}).content.decode()
    assert _row_grids(html) == [f"{cast.street_b1.name} · {cast.grid_e.name}"]
    # The filter summary names the grid so too, and a namesake community by its street.
    assert f"{cast.street_b1.name} · {cast.grid_e.name}" in _summary(html)
    html = client.get("/grids/inbox/", {"area": cast.community_b1b.code}).content.decode()
    assert f"{cast.street_b1.name} · {cast.community_b1b.name}" in _summary(html)


@pytest.mark.django_db
def test_a_community_s_handler_sees_plain_grid_names_in_the_rows(namesake_items, client):
    cast = namesake_items
    client.force_login(cast.community_handler)
    assert _row_grids(client.get("/grids/inbox/").content.decode()) == [cast.grid_a.name]


@pytest.mark.django_db
def test_a_row_swapped_in_after_a_step_keeps_its_street(namesake_items, client):
    cast = namesake_items
    client.force_login(cast.city_handler)
    response = client.post(
        f"/grids/incidents/{cast.item_e.code}/act/",
        {"from": "inbox", "action": "accept", "state": "reported/community"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert _row_grids(response.content.decode()) == [f"{cast.street_b1.name} · {cast.grid_e.name}"]


@pytest.mark.django_db
def test_the_row_labels_cost_one_query_whatever_the_number_of_rows(namesake_items, client, report):
    cast = namesake_items
    client.force_login(cast.city_handler)
    client.get("/grids/inbox/")  # warm up
    few = queries_of(client, "/grids/inbox/")
    for _ in range(3):
        report()
        report(actor=cast.city_handler, lat=31.815, lng=117.11)
    assert queries_of(client, "/grids/inbox/") == few


@pytest.mark.django_db
def test_the_home_page_names_a_namesake_grid_by_its_street(namesake_items, client):
    cast = namesake_items
    client.force_login(cast.city_handler)
    html = client.get("/").content.decode()
    assert f"· {cast.street_b1.name} · {cast.grid_e.name} " in html
    assert f"· {cast.street_a1.name} · {cast.grid_a.name} " in html
    client.force_login(cast.community_handler)
    html = client.get("/").content.decode()
    assert f"· {cast.grid_a.name} " in html and cast.street_a1.name not in html.split("<main", 1)[-1]


@pytest.mark.django_db
def test_the_incident_page_names_a_namesake_grid_and_level_area_as_the_inbox_does(namesake_items, client):
    # The inbox's row said "乙一街道 · 春晖第1网格"; the item's own page said "春晖第1网格" again.
    cast = namesake_items
    client.force_login(cast.city_handler)
    html = client.get(f"/grids/incidents/{cast.item_e.code}/").content.decode()
    assert described_as(html, "Grid").startswith(
        f"{cast.street_b1.name} · {cast.grid_e.name} {cast.grid_e.code}"
    )
    assert described_as(html, "Current level").endswith(
        f"· {cast.street_b1.name} · {cast.community_b1b.name}"
    )
    # One community: nothing to tell apart, the plain names.
    client.force_login(cast.community_handler)
    html = client.get(f"/grids/incidents/{cast.item_a.code}/").content.decode()
    assert described_as(html, "Grid").startswith(f"{cast.grid_a.name} {cast.grid_a.code}")
    assert described_as(html, "Current level").endswith(f"· {cast.community_a1a.name}")
    # Outside the user's area, the namesake's page is not found.
    assert client.get(f"/grids/incidents/{cast.item_e.code}/").status_code == 404


@pytest.mark.django_db
def test_the_incident_page_s_labels_cost_the_same_queries_whatever_the_namesakes(namesake_items, client):
    cast = namesake_items
    client.force_login(cast.city_handler)
    url = f"/grids/incidents/{cast.item_e.code}/"
    client.get(url)  # warm up
    few = queries_of(client, url)
    community = _third_namesake_community(cast)
    make_area("340103002001001", cast.grid_a.name, "grid", community, (117.1, 31.82, 117.12, 31.83))
    assert queries_of(client, url) == few
    assert described_as(client.get(url).content.decode(), "Grid").startswith(
        f"{cast.street_b1.name} · {cast.grid_e.name}"
    )


@pytest.mark.django_db
def test_the_filter_summary_names_a_namesake_department_by_its_area_as_the_options_group_it(
    namesakes, client
):
    # The select showed two "社区综治中心" under "甲一街道 · 春晖社区" and "乙一街道 · 春晖社区"; the
    # summary said "Department: 社区综治中心" of either.
    cast = namesakes
    client.force_login(cast.city_handler)
    html = client.get("/grids/inbox/", {"department": cast.centre_b.pk}).content.decode()
    assert f"Department: {cast.street_b1.name} · {cast.community_b1b.name} · 社区综治中心" in _summary(html)
    # A name nobody else's department bears stays alone.
    html = client.get("/grids/inbox/", {"department": cast.street_team.pk}).content.decode()
    assert "Department: 城管中队" in _summary(html)
    # One community: its centre is the only one of the name the user may choose.
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/", {"department": cast.centre_a.pk}).content.decode()
    assert "Department: 社区综治中心" in _summary(html) and cast.street_a1.name not in _summary(html)
    # Another community's centre is outside the user's area: refused, and not named.
    response = client.get("/grids/inbox/", {"department": cast.centre_b.pk})
    assert response.status_code == 400 and "社区综治中心" not in _summary(response.content.decode())


@pytest.mark.django_db
def test_the_department_s_label_costs_no_query_whatever_the_namesakes(namesakes, client):
    cast = namesakes
    client.force_login(cast.city_handler)
    url = f"/grids/inbox/?department={cast.centre_b.pk}"
    client.get(url)  # warm up
    few = queries_of(client, url)
    community = _third_namesake_community(cast)
    Department.objects.create(name="社区综治中心", area=community)
    assert queries_of(client, url) == few
