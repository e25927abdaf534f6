"""The areas endpoints' filters that name areas (``?parent=``, ``?code=``): a code naming nothing the
user may see is a 400 naming the filter, the same for a missing area and one outside the scope; a
known code with no rows is an empty 200 (governance/api.py ``AreaFilter``)."""

from __future__ import annotations

import pytest

from tests.base import api_client, make_area, queries_of, refused_filter, unknown_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/areas/"


def codes(client, url=URL, **query) -> list[str]:
    response = client.get(url, query)
    assert response.status_code == 200, response.json()
    body = response.json()
    return (
        [row["code"] for row in body["results"]] if "results" in body else [f["id"] for f in body["features"]]
    )


@pytest.mark.parametrize("url", [URL, "/api/v1/areas/geojson/"])
def test_an_unknown_parent_is_a_400_naming_the_filter(cast, url):
    body = refused_filter(api_client(cast.street_handler), url, "parent", "NOPE")
    assert body == unknown_body("parent", "Unknown area code NOPE.")


@pytest.mark.parametrize("url", [URL, "/api/v1/areas/geojson/"])
def test_a_parent_outside_the_scope_answers_like_an_unknown_one(cast, url):
    code = cast.community_b1a.code
    body = refused_filter(api_client(cast.street_handler), url, "parent", code)
    assert body == unknown_body("parent", f"Unknown area code {code}.")
    # The city is above the street's district, which the street handler does not see: unknown too,
    # as in the statistics API.
    body = refused_filter(api_client(cast.street_handler), url, "parent", cast.city.code)
    assert body == unknown_body("parent", f"Unknown area code {cast.city.code}.")


def test_a_parent_in_scope_lists_its_children_or_none(cast):
    client = api_client(cast.street_handler)
    assert codes(client, parent=cast.street_a1.code) == [cast.community_a1a.code, cast.community_a1b.code]
    assert codes(client, parent=cast.grid_a.code) == []  # a grid has no children
    # The district above the street: its rows name it as their parent.
    assert codes(client, parent=cast.district_a.code) == [cast.street_a1.code]
    assert codes(client, "/api/v1/areas/geojson/", parent=cast.community_a1a.code) == [
        cast.grid_a.code,
        cast.grid_b.code,
    ]


def test_codes_naming_an_area_out_of_sight_are_a_400_naming_each(cast):
    client = api_client(cast.community_handler)
    body = refused_filter(client, URL, "code", f"{cast.grid_a.code},NOPE,{cast.grid_c.code}")
    assert body["errors"] == {"code": ["Unknown area code NOPE.", f"Unknown area code {cast.grid_c.code}."]}
    assert codes(client, code=f"{cast.grid_a.code},{cast.grid_b.code}") == [
        cast.grid_a.code,
        cast.grid_b.code,
    ]


def test_the_parent_lookup_is_one_query_whatever_the_rows(cast):
    client = api_client(cast.street_handler)

    def queries(**query) -> int:
        return queries_of(client, URL, **query)

    queries()  # the user's memberships, cached on the (forced) user from then on
    unfiltered = queries()
    filtered = queries(parent=cast.community_a1a.code)
    assert filtered == unfiltered + 1
    for n in range(3, 7):
        box = (117.0 + n / 1000, 31.8, 117.0 + (n + 1) / 1000, 31.801)
        make_area(f"34010200100100{n}", f"网格{n}", "grid", cast.community_a1a, box)
    assert queries(parent=cast.community_a1a.code) == filtered


@pytest.mark.parametrize("url", [URL, "/api/v1/areas/geojson/"])
def test_a_list_of_codes_is_read_with_blanks_and_a_trailing_comma_ignored(cast, url):
    # "a, b" (a space after the comma, as lists are written) and "a," (a trailing comma) were a 400
    # "Unknown area code  b." and "Unknown area code ." for areas the user sees.
    client = api_client(cast.community_handler)
    both = [cast.grid_a.code, cast.grid_b.code]
    assert codes(client, url, code=f"{cast.grid_a.code}, {cast.grid_b.code}") == both
    assert codes(client, url, code=f" {cast.grid_a.code},{cast.grid_b.code},") == both
    everything = codes(client, url)
    assert codes(client, url, code=",") == everything  # nothing named: no filter, as code= is
    body = refused_filter(client, url, "code", f"{cast.grid_a.code}, NOPE ,")
    assert body["errors"] == {"code": ["Unknown area code NOPE."]}


def test_an_empty_tolerance_is_the_default_simplification(cast):
    # An empty value is no filter on every list (a form's blank field); tolerance= was a 400.
    client = api_client(cast.community_handler)
    default = client.get("/api/v1/areas/geojson/").json()
    response = client.get("/api/v1/areas/geojson/", {"tolerance": ""})
    assert response.status_code == 200, response.json()
    assert response.json() == default
