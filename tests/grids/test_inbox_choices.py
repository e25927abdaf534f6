"""The inbox's grid and department selects name each choice so that one can be told from another
of the same name in another community or street (docs/incidents.md, Pages: the inbox)."""

from __future__ import annotations

import re

import pytest

from governance.models import Department, Role
from tests.base import make_area, make_user, queries_of


def _select(html: str, name: str) -> str:
    select = html[html.index(f'<select name="{name}"') :]
    return select[: select.index("</select>")]


def _groups(select: str) -> dict[str, list[str]]:
    """Each optgroup's label and the texts of its options."""
    return {
        label: re.findall(r"<option [^>]*>([^<]*)</option>", body)
        for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    }


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
    street = make_area("340103002000", "乙二街道", "street", cast.district_b, (117.1, 31.82, 117.12, 31.83))
    community = make_area(
        "340103002001", cast.community_a1a.name, "community", street, (117.1, 31.82, 117.12, 31.83)
    )
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
    street = make_area("340103002000", "乙二街道", "street", cast.district_b, (117.1, 31.82, 117.12, 31.83))
    community = make_area(
        "340103002001", cast.community_a1a.name, "community", street, (117.1, 31.82, 117.12, 31.83)
    )
    Department.objects.create(name="社区综治中心", area=community)
    assert queries_of(client, "/grids/departments/") == few
