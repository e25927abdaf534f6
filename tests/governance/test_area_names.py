"""The area box of the list pages (the incident inbox, the dispute case list, the petition registry)
reads a name typed instead of a code picked from its list: one area of that exact name in the user's
scope is that area, as if its code had been picked; a name several areas share is a 400 listing their
codes; a name of nothing in scope is the unknown-area 400 a code gets (governance.views
``area_typed_by_name``). The API's ``area`` stays a code."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.base import api_client, make_area, queries_of

pytestmark = pytest.mark.django_db

# page, the user whose scope holds street A1 (甲一街道: 春晖社区, 园丁社区)
PAGES = [
    ("/grids/inbox/", "street_handler"),
    ("/mediation/cases/", "street_handler"),
    ("/petitions/", "petition_officer"),
]

BOX = (117.0, 31.8, 117.001, 31.801)


def page(client, url: str, area: str):
    response = client.get(url, {"area": area})
    return response, html_lib.unescape(response.content.decode())


def box_value(html: str) -> str:
    return re.search(r'<input name="area" value="([^"]*)"', html).group(1)


def summary(html: str) -> str:
    return html.split('<span class="filters-active">', 1)[1].split("</span>", 1)[0]


@pytest.mark.parametrize("url,who", PAGES)
def test_a_name_of_one_area_in_scope_is_that_area(cast, client, url, who):
    # The same name outside the user's scope makes it no less unique for them.
    make_area("340103001002", "春晖社区", "community", cast.street_b1, BOX)
    client.force_login(getattr(cast, who))
    response, html = page(client, url, " 春晖社区 ")
    assert response.status_code == 200, html
    # As if picked: the box holds the code (its list says the name), the summary names the area.
    assert box_value(html) == cast.community_a1a.code
    assert summary(html) == "Area: 春晖社区"
    assert "Unknown area" not in html


@pytest.mark.parametrize("url,who", PAGES)
def test_a_name_is_read_in_chinese_too(cast, client, settings, url, who):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(getattr(cast, who))
    response, html = page(client, url, "甲一街道")
    assert response.status_code == 200, html
    assert box_value(html) == cast.street_a1.code
    assert summary(html) == "区域：甲一街道"


@pytest.mark.parametrize("url,who", PAGES)
def test_a_name_several_areas_share_is_a_400_listing_their_codes(cast, client, url, who):
    make_area("340102001003", "春晖社区", "community", cast.street_a1, BOX)
    client.force_login(getattr(cast, who))
    response, html = page(client, url, "春晖社区")
    assert response.status_code == 400
    assert (
        "Area: 春晖社区 is the name of 2 areas: type or pick the code "
        "(340102001001 (甲一街道 · 春晖社区), 340102001003 (甲一街道 · 春晖社区))." in html
    )
    assert box_value(html) == "春晖社区"  # kept as typed, to be corrected
    assert 'id="row-' not in html


@pytest.mark.parametrize("url,who", PAGES)
def test_an_ambiguous_name_is_said_in_chinese(cast, client, settings, url, who):
    settings.LANGUAGE_CODE = "zh-hans"
    make_area("340102001003", "春晖社区", "community", cast.street_a1, BOX)
    client.force_login(getattr(cast, who))
    response, html = page(client, url, "春晖社区")
    assert response.status_code == 400
    assert re.search(
        "区域[:：] ?春晖社区 是 2 个区域的名称：请输入或选择代码"
        r"（340102001001 \(甲一街道 · 春晖社区\)、340102001003 \(甲一街道 · 春晖社区\)）。",
        html,
    )


@pytest.mark.parametrize("url,who", PAGES)
@pytest.mark.parametrize("name", ["无此社区", "金桥社区"])  # missing; outside the scope (district B)
def test_a_name_of_nothing_in_scope_is_an_unknown_area(cast, client, url, who, name):
    client.force_login(getattr(cast, who))
    response, html = page(client, url, name)
    assert response.status_code == 400
    assert f"Area: Unknown area code {name}." in html  # the same words for both: nothing confirmed


@pytest.mark.parametrize("url,who", PAGES)
def test_an_unknown_name_is_said_in_chinese(cast, client, settings, url, who):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(getattr(cast, who))
    response, html = page(client, url, "金桥社区")
    assert response.status_code == 400
    assert re.search("区域[:：] ?未知的区划代码 金桥社区。", html)  # the inbox's list has its own colon


@pytest.mark.parametrize("url,who", PAGES)
def test_a_name_costs_the_queries_a_code_does(cast, client, url, who):
    client.force_login(getattr(cast, who))
    queries_of(client, url, area=cast.community_a1a.code)  # warm up: memberships, sessions
    by_code = queries_of(client, url, area=cast.community_a1a.code)
    assert queries_of(client, url, area="春晖社区") == by_code
    make_area("340102001003", "园丁社区", "community", cast.street_a1, BOX)
    make_area("340102001004", "园丁社区", "community", cast.street_a1, BOX)
    response_queries = _queries_refused(client, url, "园丁社区")
    assert response_queries <= by_code


def _queries_refused(client, url: str, area: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, {"area": area}).status_code == 400
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/v1/incidents/", "/api/v1/disputes/", "/api/v1/petitions/"])
def test_the_api_area_stays_a_code(cast, url):
    client = api_client(cast.district_officer if "petitions" not in url else cast.petition_officer)
    response = client.get(url, {"area": "春晖社区"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"area": ["Unknown area code 春晖社区."]}
