"""The statistics API (DESIGN.md section 7) on the hand-built dataset of stats_data.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from dashboards.models import RollupRun, SurveyResponse
from dashboards.rollup import run_rollup
from governance.models import Area, Role
from tests.base import api_client, make_area, make_user, second_connection
from tests.dashboards import stats_data


@pytest.fixture
def data(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    run_rollup(full=True)
    return cast


def test_the_registry_lists_code_name_unit_direction_and_description(data):
    response = api_client(data.analyst).get("/api/v1/stats/indicators/")
    assert response.status_code == 200
    police = next(r for r in response.json()["results"] if r["code"] == "police_preventable_cases_per_10k")
    assert police["unit"] == "per_10k" and police["direction"] == "lower_better" and police["name"]


def test_values_filter_by_indicator_period_level_and_parent(data):
    client = api_client(data.analyst)
    response = client.get(
        "/api/v1/stats/values/",
        {
            "indicator": "survey_safety_rate",
            "period": "2026-11",
            "level": "grid",
            "parent": data.community_a1a.code,
        },
    )
    assert response.status_code == 200
    rows = {r["area"]: r for r in response.json()["results"]}
    assert set(rows) == {data.grid_a.code, data.grid_b.code, data.grid_e.code, data.grid_f.code}
    a = rows[data.grid_a.code]
    assert (a["value"], a["previous_value"], a["delta"], a["rank"], a["rank_change"]) == (
        93.2,
        90.53,
        2.67,
        1,
        2,
    )
    assert a["unit"] == "percent" and a["parent"] == data.community_a1a.code and a["yoy_value"] == 88.0
    # A blank parent is no filter, and the level still applies (it was dropped with the parent).
    response = client.get(
        "/api/v1/stats/values/",
        {"indicator": "survey_safety_rate", "period": "2026-11", "level": "grid", "parent": " "},
    )
    assert response.status_code == 200 and {r["level"] for r in response.json()["results"]} == {"grid"}
    one = client.get(
        "/api/v1/stats/values/",
        {"indicator": "survey_safety_rate", "period": "2026Q4", "area": data.grid_a.code},
    )
    assert one.json()["count"] == 1 and one.json()["results"][0]["period"] == "2026Q4"


def test_a_bad_period_is_a_400_naming_the_field(data):
    client = api_client(data.analyst)
    response = client.get("/api/v1/stats/values/", {"period": "2026-13"})
    assert response.status_code == 400 and "period" in response.json()["errors"]
    response = client.get("/api/v1/stats/values/", {"period": "0000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "the year must be between 1900 and 2999" in response.json()["errors"]["period"][0]


def test_a_period_of_another_type_than_period_type_is_a_400_naming_period_type(data):
    # 2026Q4 with period_type=month matched nothing: an empty 200 that reads as "no data yet".
    client = api_client(data.analyst)
    params = {"indicator": "survey_safety_rate", "period": "2026Q4"}
    response = client.get(
        "/api/v1/stats/values/", {**params, "period_type": "month"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"period_type": ["2026Q4 is not of period_type month."]}
    agreeing = client.get("/api/v1/stats/values/", {**params, "period_type": "quarter"})
    assert (
        agreeing.status_code == 200
        and agreeing.json()["count"] == client.get("/api/v1/stats/values/", params).json()["count"] > 0
    )


def test_an_unknown_indicator_in_values_is_a_400_naming_the_field(data):
    # A misspelt code answered 200 with no rows, which reads as "no data yet"; rankings and series
    # already refuse it, and the registry is public (stats/indicators), so nothing leaks.
    client = api_client(data.analyst)
    response = client.get("/api/v1/stats/values/", {"indicator": "survey_safty_rate"})
    assert response.status_code == 400 and "indicator" in response.json()["errors"]
    assert "survey_safty_rate" in response.json()["errors"]["indicator"][0]
    response = client.get("/api/v1/stats/values/", {"indicator": "survey_safety_rate", "format": "csv"})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["area", "parent"])
def test_an_unknown_area_code_in_values_is_a_400_naming_the_field(data, name):
    # A misspelt code answered 200 with no rows, read as "no data yet" (docs/api.md: an area filter
    # outside the scope or unknown is a 400 "Unknown area code").
    params = {"indicator": "survey_safety_rate", "period": "2026-11"}
    for user in (data.analyst, data.outsider):
        response = api_client(user).get("/api/v1/stats/values/", {**params, name: "340102001009"})
        assert response.status_code == 400
        assert response.json()["errors"] == {name: ["Unknown area code 340102001009."]}
    # Outside the scope is the same 400 as missing...
    response = api_client(data.outsider).get("/api/v1/stats/values/", {**params, name: data.grid_a.code})
    assert response.status_code == 400 and list(response.json()["errors"]) == [name]
    # ...but the parent of an area in scope is known: its rows name it.
    client = api_client(data.street_handler)
    rows = client.get("/api/v1/stats/values/", {**params, "parent": data.district_a.code}).json()["results"]
    assert [r["area"] for r in rows] == [data.street_a1.code]
    assert client.get("/api/v1/stats/values/", {**params, "parent": data.city.code}).status_code == 400
    assert client.get("/api/v1/stats/values/", {**params, name: data.community_a1a.code}).status_code == 200


def test_rankings_list_the_children_of_a_parent_in_rank_order(data):
    response = api_client(data.analyst).get(
        "/api/v1/stats/rankings/",
        {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code},
    )
    assert response.status_code == 200
    assert [(r["area"][-3:], r["rank"]) for r in response.json()["results"]] == [
        ("001", 1), ("002", 2), ("003", 2), ("004", 4)
    ]  # fmt: skip


def test_rankings_list_every_child_in_service_those_without_a_value_last_as_the_league_page(data, client):
    # A grid without answers in the month has no stored row. The league page listed it at the bottom
    # ("not ranked", "no value") and the map drew it grey, while rankings left it out: a client read
    # a community of five grids as four, and "rank 4 of 4" as last of all.
    empty = make_area(
        "340102001001005", "春晖第5网格", "grid", data.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    retired = make_area(
        "340102001001006", "已撤并网格", "grid", data.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    later = make_area("340102001001007", "新划网格", "grid", data.community_a1a, (117.0, 31.8, 117.01, 31.81))
    Area.objects.filter(pk=retired.pk).update(in_service_until=dt.date(2026, 10, 31))
    Area.objects.filter(pk=later.pk).update(in_service_from=dt.date(2026, 12, 1))
    run_rollup(full=True)
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code}
    response = api_client(data.analyst).get("/api/v1/stats/rankings/", params)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5 and response["X-Total-Count"] == "5"
    assert [(r["area"][-3:], r["rank"]) for r in body["results"]] == [
        ("001", 1), ("002", 2), ("003", 2), ("004", 4), ("005", None)
    ]  # fmt: skip
    assert body["results"][-1] == {
        "indicator": "survey_safety_rate", "unit": "percent", "period": "2026-11", "period_type": "month",
        "area": empty.code, "area_name": "春晖第5网格", "level": "grid", "parent": data.community_a1a.code,
        "numerator": None, "denominator": None, "value": None, "rank": None, "rank_of": 4,
        "previous_value": None, "delta": None, "previous_rank": None, "rank_change": None,
        "yoy_value": None, "yoy_delta": None, "run": None,
    }  # fmt: skip
    # The CSV has the same line, its empty cells for the nulls.
    lines = api_client(data.analyst).get("/api/v1/stats/rankings/", {**params, "format": "csv"})
    lines = lines.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 6
    assert lines[-1] == (
        f"survey_safety_rate,percent,2026-11,month,{empty.code},春晖第5网格,grid,{data.community_a1a.code}"
        ",,,,,4,,,,,,,"
    )
    # The page lists the same areas in the same order.
    client.force_login(data.analyst)
    html = client.get("/dashboards/league/", params).content.decode()
    assert re.findall(r'data-area="(\d+)"', html) == [r["area"] for r in body["results"]]
    # Pages of it: the stand-in is on the last one, nothing counted twice.
    second = api_client(data.analyst).get("/api/v1/stats/rankings/", {**params, "page_size": 3, "page": 2})
    assert [r["area"][-3:] for r in second.json()["results"]] == ["004", "005"]
    # A month without any value under the parent stays an empty league, as the page says "no values".
    empty_month = api_client(data.analyst).get("/api/v1/stats/rankings/", {**params, "period": "2019-01"})
    assert empty_month.status_code == 200 and empty_month.json()["count"] == 0


def test_rankings_need_indicator_period_and_parent(data):
    response = api_client(data.analyst).get("/api/v1/stats/rankings/", {"indicator": "nope"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"indicator", "period", "parent"}  # every mistake at once
    response = api_client(data.analyst).get(
        "/api/v1/stats/rankings/", {"indicator": "nope", "period": "2026", "parent": data.city.code}
    )
    assert response.status_code == 400 and "indicator" in response.json()["errors"]


def test_rankings_and_series_name_every_bad_parameter_in_one_400(data):
    """A request with a misspelt indicator and a bad period was told only of the indicator; fixed and
    sent again, it was told of the period: one round trip per mistake. Every parameter the endpoint
    can check by itself is named at once (the area, which needs the scope, after them)."""
    client = api_client(data.analyst)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = client.get(
        "/api/v1/stats/rankings/", {"indicator": "nope", "period": "2026Q9", "parent": data.city.code}, **en
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["indicator"] == ["Unknown indicator 'nope'."]
    assert set(errors) == {"indicator", "period"} and "2026Q9" in errors["period"][0]
    response = client.get("/api/v1/stats/rankings/", {"indicator": "nope", "period": "2026Q9"}, **en)
    assert list(response.json()["errors"]) == ["indicator", "period", "parent"]  # as the docs list them
    response = client.get(
        "/api/v1/stats/series/",
        {"indicator": "nope", "area": data.grid_a.code, "period_type": "week", "from": "x", "to": "2026-13"},
        **en,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"indicator", "period_type", "from", "to"}
    # from and to of another type than period_type are both named, with the area still to check.
    response = client.get(
        "/api/v1/stats/series/",
        {"indicator": "survey_safety_rate", "period_type": "quarter", "from": "2026-01", "to": "2026"},
        **en,
    )
    assert response.json()["errors"] == {
        "area": ["This parameter is required."],
        "from": ["Give a period of type quarter."],
        "to": ["Give a period of type quarter."],
    }
    # The parameters are checked before the area's scope, whose 404 follows once they are good: the
    # 400 is the same inside the scope and outside it, and tells nothing of the area.
    series = {"indicator": "survey_safety_rate", "area": data.grid_a.code}
    outside = api_client(data.outsider)
    for client_ in (client, outside):
        refused = client_.get("/api/v1/stats/series/", {**series, "from": "x"})
        assert refused.status_code == 400 and list(refused.json()["errors"]) == ["from"]
    assert outside.get("/api/v1/stats/series/", series).status_code == 404


def test_values_names_every_bad_parameter_in_one_400_as_rankings_and_series_do(data):
    """``indicator=nope&period=2026Q9&level=town`` was told of the level alone; sent again with the
    level fixed, of the indicator; then of the period: three round trips for three mistakes, where
    rankings and series name them all at once. An unknown or out-of-scope area is named beside them,
    the same 400 for both (nothing is told of an area outside the scope), and nothing is listed."""
    client = api_client(data.analyst)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = client.get(
        "/api/v1/stats/values/",
        {"indicator": "nope", "period": "2026Q9", "level": "town", "period_type": "week"},
        **en,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["indicator", "period", "level", "period_type"]  # in the filters' order
    assert errors["indicator"] == ["Unknown indicator 'nope'."] and "2026Q9" in errors["period"][0]
    assert "results" not in response.json()
    for user in (data.analyst, data.outsider):
        response = api_client(user).get(
            "/api/v1/stats/values/",
            {"indicator": "nope", "area": data.grid_a.code if user is data.outsider else "340102001009"},
            **en,
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["indicator", "area"]
        assert response.json()["errors"]["area"][0].startswith("Unknown area code")
    # A period not begun and an unknown parent, both named.
    response = client.get("/api/v1/stats/values/", {"period": "2099-01", "parent": "340102001009"}, **en)
    assert list(response.json()["errors"]) == ["period", "parent"]
    # Good parameters still list their rows.
    response = client.get("/api/v1/stats/values/", {"indicator": "survey_safety_rate", "period": "2026-11"})
    assert response.status_code == 200 and response.json()["count"] > 0


def test_a_bad_parameter_holding_a_percent_sign_is_named_not_a_500(data):
    """The messages that name a bad value quote it, and the REST framework formats each message with
    its parameters: a value such as ``%s`` or ``100%`` (``?indicator=%25s``) made the 400 a 500
    ("not enough arguments for format string"), found by the schema fuzzer."""
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    for value in ("%s", "100%", "%(x)s"):
        response = api_client(data.analyst).get(
            "/api/v1/stats/values/", {"indicator": value, "period": value, "area": value}, **en
        )
        assert response.status_code == 400, (value, response.content[:300])
        errors = response.json()["errors"]
        assert list(errors) == ["indicator", "period", "area"]
        assert errors["indicator"] == [f"Unknown indicator '{value}'."]


def test_a_parameter_given_twice_with_two_values_is_a_400_naming_it_not_the_last_one_alone(data):
    """?indicator=a&indicator=b answered b's rows only, read by a client as the rows of both; a
    league with two periods was the second one's. Each statistics parameter takes one value."""
    client = api_client(data.analyst)
    twice = [
        ("/api/v1/stats/values/", "indicator=survey_safety_rate&indicator=incidents_reported&period=2026-11"),
        ("/api/v1/stats/values/", "level=grid&level=community"),
        (
            "/api/v1/stats/rankings/",
            f"indicator=survey_safety_rate&period=2026-11&period=2026-10&parent={data.community_a1a.code}",
        ),
        (
            "/api/v1/stats/series/",
            f"indicator=survey_safety_rate&area={data.grid_a.code}&area={data.grid_b.code}",
        ),
        ("/api/v1/assessments/", "year=2025&year=2026"),
    ]
    for path, query in twice:
        response = client.get(f"{path}?{query}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, (path, query)
        [(name, messages)] = response.json()["errors"].items()
        assert f"{name}=" in query and messages == ["Give this parameter once: it takes one value."]
    # The same value twice asks for one thing: it is answered.
    same = client.get(
        "/api/v1/stats/values/?indicator=survey_safety_rate&indicator=survey_safety_rate&period=2026-11"
    )
    assert same.status_code == 200 and {r["indicator"] for r in same.json()["results"]} == {
        "survey_safety_rate"
    }
    chinese = client.get("/api/v1/stats/values/?level=grid&level=city", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["errors"] == {"level": ["此参数只能给出一次：它只取一个值。"]}


def test_a_period_not_begun_is_a_400_naming_period_not_an_empty_league(data):
    """rankings and values answered a period to come (next month, next year: a client's off-by-one)
    with an empty 200, which reads as "no data for that period"; the rollup has none to give yet."""
    today = timezone.localdate()
    next_month = (today.replace(day=28) + dt.timedelta(days=4)).strftime("%Y-%m")
    quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    client = api_client(data.analyst)
    reads = (
        ("/api/v1/stats/rankings/", {"indicator": "survey_safety_rate", "parent": data.community_a1a.code}),
        ("/api/v1/stats/values/", {"indicator": "survey_safety_rate"}),
    )
    for path, params in reads:
        for period, latest in ((next_month, today.strftime("%Y-%m")), (str(today.year + 1), str(today.year))):
            response = client.get(path, {**params, "period": period}, HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 400, (path, period)
            assert response.json()["errors"] == {
                "period": [f"{period} has not begun yet: the latest is {latest}."]
            }
        # The current periods, begun and not over, are answered.
        for period in (today.strftime("%Y-%m"), quarter, str(today.year)):
            assert client.get(path, {**params, "period": period}).status_code == 200, (path, period)
    chinese = client.get("/api/v1/stats/values/", {"period": next_month}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["errors"]["period"] == [f"{next_month} 尚未开始：最近的统计周期是 {today:%Y-%m}。"]


def test_a_grid_as_parent_is_a_400_naming_parent_not_an_empty_league_or_list(data):
    # A grid has no areas below it: its "league" was a 200 with no rows, read as "no data yet",
    # where values answers level=grid&parent=<grid> with a 400 naming the filter.
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.grid_a.code}
    response = api_client(data.analyst).get("/api/v1/stats/rankings/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == {"parent": [f"{data.grid_a.code} is a grid: no area lies below it."]}
    chinese = (
        api_client(data.analyst).get("/api/v1/stats/rankings/", params, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    )
    assert chinese["errors"] == {"parent": [f"{data.grid_a.code} 是网格，其下没有区域。"]}
    # Outside the scope it is still the 404 of an area that does not exist.
    assert api_client(data.outsider).get("/api/v1/stats/rankings/", params).status_code == 404
    # values: parent=<grid> selected its children, none ever; with a level, the level is named.
    values = api_client(data.analyst).get("/api/v1/stats/values/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert values.status_code == 400
    assert values.json()["errors"] == {"parent": [f"{data.grid_a.code} is a grid: no area lies below it."]}
    with_level = api_client(data.analyst).get("/api/v1/stats/values/", {**params, "level": "grid"})
    assert with_level.status_code == 400 and list(with_level.json()["errors"]) == ["level"]


def test_series_gives_one_area_over_time(data):
    response = api_client(data.analyst).get(
        "/api/v1/stats/series/",
        {"indicator": "survey_safety_rate", "area": data.grid_a.code, "from": "2025-11", "to": "2026-11"},
    )
    assert response.status_code == 200
    assert [(r["period"], r["value"]) for r in response.json()["results"]] == [
        ("2025-11", 88.0), ("2026-10", 90.53), ("2026-11", 93.2)
    ]  # fmt: skip
    years = api_client(data.analyst).get(
        "/api/v1/stats/series/",
        {"indicator": "survey_safety_rate", "area": data.grid_a.code, "period_type": "year"},
    )
    assert [r["period"] for r in years.json()["results"]] == ["2025", "2026"]
    bad = api_client(data.analyst).get(
        "/api/v1/stats/series/",
        {"indicator": "survey_safety_rate", "area": data.grid_a.code, "from": "2026Q1"},
    )
    assert bad.status_code == 400 and "from" in bad.json()["errors"]


def test_a_series_whose_from_is_after_its_to_is_a_400_naming_from(data):
    # A swapped range answered 200 with no rows, which reads as "no data in this range".
    response = api_client(data.analyst).get(
        "/api/v1/stats/series/",
        {"indicator": "survey_safety_rate", "area": data.grid_a.code, "from": "2026-11", "to": "2025-11"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["from"]
    assert "2026-11" in response.json()["errors"]["from"][0]


def test_a_series_from_a_period_that_has_not_begun_is_a_400_naming_from(data):
    # A from next month (or next year) can match no row: the answer was an empty list, read as "no
    # data since then", as values and rankings answered a period to come before they refused it. A
    # to still to come is a range left open (through this year's end) and keeps its rows.
    client = api_client(data.analyst)
    today = timezone.localdate()
    next_month = (today.replace(day=1) + dt.timedelta(days=32)).strftime("%Y-%m")
    series = {"indicator": "survey_safety_rate", "area": data.grid_a.code}
    for kind, period, latest in (
        ("month", next_month, f"{today:%Y-%m}"),
        ("year", str(today.year + 1), str(today.year)),
    ):
        response = client.get(
            "/api/v1/stats/series/",
            {**series, "period_type": kind, "from": period},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400, (kind, period)
        assert response.json()["errors"] == {"from": [f"{period} has not begun yet: the latest is {latest}."]}
    response = client.get("/api/v1/stats/series/", {**series, "from": "2025-11", "to": next_month})
    assert response.status_code == 200 and response.json()["count"] == 3
    this_month = client.get("/api/v1/stats/series/", {**series, "from": f"{today:%Y-%m}"})
    assert this_month.status_code == 200


def test_a_nul_character_in_a_parameter_is_a_400_naming_it_in_the_request_s_language(data):
    # The refusal came before the language was chosen, and without the parameter: an English client
    # read Chinese (the site's language), with no ``errors`` to tell which parameter to fix.
    client = api_client(data.analyst)
    for path, params in (
        ("/api/v1/stats/values/", "indicator=survey_safety_rate&area=34%00"),
        ("/api/v1/stats/series/", "indicator=survey_safety_rate&area=34%00"),
        ("/api/v1/stats/rankings/", "indicator=survey_safety_rate&period=2026-11&parent=34%00"),
    ):
        field = "parent" if "parent" in params else "area"
        response = client.get(f"{path}?{params}", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, path
        message = "The request contains a NUL character, which is never valid here."
        # Worded as every other refused parameter (docs/api.md "Errors": ``detail`` repeats ``errors``).
        assert response.json() == {
            "detail": f"Invalid input: {field}: {message}",
            "errors": {field: [message]},
        }, path
        chinese = client.get(f"{path}?{params}", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
        assert chinese["detail"] == f"输入有误：{field}: 请求中包含空字符（NUL），此处不允许使用。"
        assert list(chinese["errors"]) == [field]


def test_an_outsider_gets_404_for_an_area_outside_their_scope_and_sees_no_values_of_it(data):
    client = api_client(data.outsider)
    params = {"indicator": "survey_safety_rate", "period": "2026-11"}
    assert (
        client.get("/api/v1/stats/rankings/", {**params, "parent": data.community_a1a.code}).status_code
        == 404
    )
    series = {"indicator": "survey_safety_rate", "area": data.grid_a.code}  # series takes no period
    assert client.get("/api/v1/stats/series/", series).status_code == 404
    response = client.get("/api/v1/stats/values/", {**params, "area": data.grid_a.code})
    assert response.status_code == 400  # the same answer as for a code that does not exist
    assert response.json()["errors"] == {"area": [f"Unknown area code {data.grid_a.code}."]}


def test_csv_by_format_parameter_or_accept_header(data):
    client = api_client(data.analyst)
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code}
    response = client.get("/api/v1/stats/rankings/", {**params, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("indicator,unit,period,") and len(lines) == 5
    assert ",93.2,1,4,90.53,2.67,3,2,88.0,5.2," in lines[1]
    by_accept = client.get("/api/v1/stats/rankings/", params, HTTP_ACCEPT="text/csv")
    assert by_accept["Content-Type"].startswith("text/csv")


def test_an_empty_csv_still_has_its_header_row(data):
    # With no rows the CSV was the BOM alone: no header, so a client's CSV reader saw no columns.
    client = api_client(data.analyst)
    response = client.get(
        "/api/v1/stats/values/", {"indicator": "survey_safety_rate", "period": "2001-01", "format": "csv"}
    )
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").splitlines() == [
        "indicator,unit,period,period_type,area,area_name,level,parent,numerator,denominator,value,"
        "rank,rank_of,previous_value,delta,previous_rank,rank_change,yoy_value,yoy_delta,run"
    ]
    again = client.get(
        "/api/v1/stats/values/",
        {"indicator": "survey_safety_rate", "period": "2001-01", "format": "csv"},
        HTTP_IF_NONE_MATCH=response["ETag"],
    )
    assert again.status_code == 304 and again.content == b""
    RollupRun.objects.all().delete()
    runs = client.get("/api/v1/stats/rollups/", {"format": "csv"}).content.decode("utf-8-sig")
    assert runs.splitlines()[0].startswith("id,kind,status,trigger,")


def test_an_error_is_json_even_when_csv_was_asked_for(data):
    client = api_client(data.analyst)
    for response in (
        client.get("/api/v1/stats/values/", {"period": "bad", "format": "csv"}),
        client.get("/api/v1/stats/rankings/", HTTP_ACCEPT="text/csv"),
    ):
        assert response.status_code == 400 and response["Content-Type"] == "application/json"
        assert set(response.json()["errors"]) <= {"period", "indicator", "parent"}
        assert response.json()["detail"].startswith("Invalid input: ")
    outside = client.get(
        "/api/v1/stats/series/", {"indicator": "survey_safety_rate", "area": "999", "format": "csv"}
    )
    assert outside.status_code == 404 and outside.json() == {
        "detail": "No such record, or it is outside your area."
    }


def test_unchanged_data_answers_304_until_a_new_run(data):
    client = api_client(data.analyst)
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    assert client.get(url + "&level=grid", HTTP_IF_NONE_MATCH=etag).status_code == 200
    run_rollup(full=True)
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_if_none_match_compares_weakly_as_behind_a_compressing_proxy(data):
    # nginx with gzip passes our ETag "x" on as W/"x", and clients ask again with that: RFC 9110
    # compares If-None-Match weakly, so it is still a 304 (it was a full 200 every time).
    client = api_client(data.analyst)
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    etag = client.get(url)["ETag"]
    for header in (f"W/{etag}", f'"other", W/{etag}', "*"):
        response = client.get(url, HTTP_IF_NONE_MATCH=header)
        assert (response.status_code, response["ETag"]) == (304, etag)
    assert client.get(url, HTTP_IF_NONE_MATCH=f'W/"{etag[1:-2]}"').status_code == 200


def test_a_request_that_would_fail_is_not_a_304_whatever_its_preconditions(data):
    """RFC 9110 13.2.1: preconditions count only when the answer would otherwise be a 2xx. "*" and
    If-Modified-Since name no representation of this URL, and they made a bad parameter, an area
    outside the scope or a page that does not exist a 304: a client kept a copy as current that it
    may no longer see, and never learnt that its request was wrong."""
    client = api_client(data.outsider)
    modified = client.get("/api/v1/stats/indicators/")["Last-Modified"]
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    params = {"indicator": "survey_safety_rate", "period": "2026-11"}
    requests = [
        ("/api/v1/stats/rankings/", {**params, "parent": data.community_a1a.code}, 404),
        ("/api/v1/stats/series/", {"indicator": "survey_safety_rate", "area": data.grid_a.code}, 404),
        ("/api/v1/stats/values/", {"indicator": "nope"}, 400),
        ("/api/v1/stats/values/", {"perod": "2026-11"}, 400),
        ("/api/v1/stats/values/", {"page": "9"}, 400),
        ("/api/v1/stats/rankings/", {}, 400),
    ]
    for path, query, expected in requests:
        for headers in ({"HTTP_IF_NONE_MATCH": "*"}, {"HTTP_IF_MODIFIED_SINCE": later}):
            response = client.get(path, query, **headers)
            assert response.status_code == expected, (path, query, headers)
            assert "ETag" not in response and response.json()["detail"]
    # A request that succeeds still gets its 304 from either.
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    assert client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304


def test_the_etag_differs_by_scope_and_language_and_the_headers_say_private(data):
    """docs/statistics.md: the ETag covers the user's scope and the language, so one user's
    validator never gets another user (or language) a 304 for what they have not seen."""
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    analyst = api_client(data.analyst).get(url)
    assert analyst["Cache-Control"] == "private, no-cache"
    assert analyst["Vary"] == "Accept, Authorization, Cookie, Accept-Language"
    officer = api_client(data.district_officer)
    assert officer.get(url)["ETag"] != analyst["ETag"]
    assert officer.get(url, HTTP_IF_NONE_MATCH=analyst["ETag"]).status_code == 200
    client = api_client(data.analyst)
    english = client.get("/api/v1/stats/indicators/", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.get("/api/v1/stats/indicators/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert english["ETag"] != chinese["ETag"]
    again = client.get(
        "/api/v1/stats/indicators/", HTTP_ACCEPT_LANGUAGE="zh-hans", HTTP_IF_NONE_MATCH=english["ETag"]
    )
    assert again.status_code == 200


def _token_client(user):
    from rest_framework.test import APIClient

    from governance.services import user_token_issue

    client = APIClient()  # a real token: the user and their memberships are read on every request
    client.credentials(HTTP_AUTHORIZATION=f"Token {user_token_issue(user=user)}")
    return client


def _validators_an_hour_old():
    """The run and the counters as if an hour had passed: HTTP dates have whole seconds, and a
    change within the second of the first answer would be indistinguishable by date."""
    from governance.models import SequenceCounter

    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    RollupRun.objects.update(finished_at=an_hour_ago)
    SequenceCounter.objects.exclude(changed_at=None).update(changed_at=an_hour_ago)


def test_a_widened_scope_is_not_a_304_without_a_run(data):
    """The ETag carried the scope but Last-Modified was the run's end only: after a district was
    added to the outsider's roles, If-Modified-Since still answered 304, and the client kept the
    rows of the old scope as current until the next run."""
    from governance.models import Membership, Role

    _validators_an_hour_old()
    client = _token_client(data.outsider)
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    first = client.get(url)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    added = Membership.objects.create(user=data.outsider, role=Role.ANALYST, area=data.district_a)
    for headers in (
        {"HTTP_IF_MODIFIED_SINCE": first["Last-Modified"]},
        {"HTTP_IF_NONE_MATCH": first["ETag"]},
    ):
        wider = client.get(url, **headers)
        assert wider.status_code == 200 and wider.json()["count"] > first.json()["count"]
    assert data.district_a.code in {r["area"] for r in wider.json()["results"]}
    assert wider["Last-Modified"] != first["Last-Modified"]
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=wider["Last-Modified"]).status_code == 304
    # Narrowed again (a role removed): the same.
    _validators_an_hour_old()
    before = client.get(url)
    added.delete()
    narrower = client.get(url, HTTP_IF_MODIFIED_SINCE=before["Last-Modified"])
    assert narrower.status_code == 200 and narrower.json()["count"] == first.json()["count"]


def test_a_user_made_superuser_is_not_a_304_without_a_run(data):
    """A superuser sees every area: the flag widens the scope as a membership does."""
    _validators_an_hour_old()
    client = _token_client(data.outsider)
    url = "/api/v1/stats/values/?indicator=survey_safety_rate&period=2026-11"
    first = client.get(url)
    data.outsider.is_superuser = True
    data.outsider.save()
    wider = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert wider.status_code == 200 and wider.json()["count"] > first.json()["count"]
    # A sign-in saves last_login alone: no change of scope, still a 304.
    from governance.models import SequenceCounter

    version = SequenceCounter.current("memberships")
    data.outsider.save(update_fields=["last_login"])
    assert SequenceCounter.current("memberships") == version


def test_a_renamed_area_is_not_a_304_without_a_run(data):
    """Value rows carry the area's name: renamed in the admin, it kept the old one behind a 304 (by
    tag and by date) until the next run."""
    _validators_an_hour_old()
    client = _token_client(data.analyst)
    url = f"/api/v1/stats/rankings/?indicator=survey_safety_rate&period=2026-11&parent={data.district_a.code}"
    first = client.get(url)
    assert first.status_code == 200 and client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    street = data.street_a1
    street.name = "新名街道"
    street.save()
    for headers in (
        {"HTTP_IF_MODIFIED_SINCE": first["Last-Modified"]},
        {"HTTP_IF_NONE_MATCH": first["ETag"]},
    ):
        renamed = client.get(url, **headers)
        assert renamed.status_code == 200
        assert "新名街道" in {r["area_name"] for r in renamed.json()["results"]}
    assert client.get(url, HTTP_IF_NONE_MATCH=renamed["ETag"]).status_code == 304


def test_the_registry_is_never_older_than_the_process_that_serves_it(data):
    """A deploy changes the registry without a run and restarts the processes: the registry's
    Last-Modified is not before this process started, so If-Modified-Since with a date from before
    the deploy gets the new list."""
    from dashboards import api

    RollupRun.objects.update(finished_at=api.PROCESS_STARTED - dt.timedelta(hours=1))
    client = _token_client(data.analyst)
    response = client.get("/api/v1/stats/indicators/")
    assert response["Last-Modified"] == http_date(api.PROCESS_STARTED.timestamp())
    before_deploy = http_date((api.PROCESS_STARTED - dt.timedelta(minutes=5)).timestamp())
    assert client.get("/api/v1/stats/indicators/", HTTP_IF_MODIFIED_SINCE=before_deploy).status_code == 200
    again = client.get("/api/v1/stats/indicators/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


def test_the_run_list_changes_its_etag_when_a_run_starts_or_fails(data):
    """Not only when one succeeds: a client polling after POST sees the running run, then its end."""
    client = api_client(data.analyst)
    url = "/api/v1/stats/rollups/"
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    run = RollupRun.objects.create(started_at=timezone.now(), kind="incremental", trigger="api")
    running = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert running.status_code == 200 and running.json()["results"][0]["status"] == "running"
    RollupRun.objects.filter(pk=run.pk).update(status=RollupRun.Status.FAILED, finished_at=timezone.now())
    failed = client.get(url, HTTP_IF_NONE_MATCH=running["ETag"])
    assert failed.status_code == 200 and failed.json()["results"][0]["status"] == "failed"
    assert client.get(url, HTTP_IF_NONE_MATCH=failed["ETag"]).status_code == 304


def test_a_read_costs_the_same_queries_whatever_the_number_of_areas(data, monkeypatch):
    client = api_client(data.analyst)
    ranking = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code}
    params = {
        "/api/v1/stats/rankings/": ranking,
        "/api/v1/stats/values/": ranking,  # the rows of every grid of the community
        "/api/v1/stats/series/": {"indicator": "survey_safety_rate", "area": data.grid_a.code},
    }

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(path, params[path]).status_code == 200
        return len(ctx)

    paths = list(params)
    queries(paths[0])  # the test client keeps the user object: its memberships are then cached
    before = {p: queries(p) for p in paths}
    for i in range(5, 25):
        grid = make_area(
            f"340102001001{i:03d}", f"g{i}", "grid", data.community_a1a, (117.0, 31.8, 117.01, 31.81)
        )
        if i % 2:  # half of them without answers: listed by rankings without a stored row
            continue
        SurveyResponse.objects.bulk_create(stats_data.answers(grid, stats_data.NOV, safe=40, unsafe=2))
    run_rollup(full=True)
    after = {p: queries(p) for p in before}
    assert after == before and max(after.values()) <= 6
    listed = client.get("/api/v1/stats/rankings/", {**ranking, "page_size": 100}).json()["results"]
    assert len(listed) == 24 and [r["value"] for r in listed].count(None) == 10


def test_the_analyst_token_reads_statistics(data):
    from governance.services import user_token_issue

    token = user_token_issue(user=data.analyst)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/stats/indicators/").status_code == 200
    assert api_client().get("/api/v1/stats/indicators/").status_code == 401


def test_runs_are_listed_and_only_an_admin_starts_one(data):
    client = api_client(data.analyst)
    listed = client.get("/api/v1/stats/rollups/").json()["results"]
    assert listed[0]["status"] == "success" and listed[0]["kind"] == "full"
    assert client.post("/api/v1/stats/rollups/", {"full": True}, format="json").status_code == 403
    admin = api_client(data.admin)
    bad = admin.post("/api/v1/stats/rollups/", {"since": "2026-13"}, format="json")
    # It said "This value does not match the required pattern." without saying which pattern.
    assert bad.status_code == 400 and bad.json()["errors"] == {"since": ["Enter a month as YYYY-MM."]}
    # Year 0 matched the pattern: 202, and the task failed reading it, with no run to show for it.
    year_zero = admin.post("/api/v1/stats/rollups/", {"since": "0000-01"}, format="json")
    assert year_zero.status_code == 400 and year_zero.json()["errors"] == {
        "since": ["Enter a month as YYYY-MM."]
    }
    # A field named by digits is named as sent, not as the item of a list ("[0]").
    digits = admin.post("/api/v1/stats/rollups/", {"full": True, "0": True}, format="json")
    assert digits.status_code == 400 and list(digits.json()["errors"]) == ["0"]
    # A month after this one was queued as a run that recomputed nothing (202, a RollupRun row).
    runs = RollupRun.objects.count()
    next_year = f"{timezone.localdate().year + 1}-01"
    response = admin.post("/api/v1/stats/rollups/", {"since": next_year}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["since"]
    assert RollupRun.objects.count() == runs
    with_capture = admin.post("/api/v1/stats/rollups/", {"full": True}, format="json")
    assert with_capture.status_code == 202


def test_a_run_s_seconds_are_given_to_the_millisecond_in_json_and_csv(data):
    """The monotonic clock's difference came as 4.545385736000014 (a float's noise, in the CSV too),
    where docs/statistics.md shows 0.34: the API gives the milliseconds, the admin the hundredths."""
    RollupRun.objects.update(seconds=4.545385736000014)
    client = api_client(data.analyst)
    assert {r["seconds"] for r in client.get("/api/v1/stats/rollups/").json()["results"]} == {4.545}
    csv_text = client.get("/api/v1/stats/rollups/", {"format": "csv"}).content.decode("utf-8-sig")
    assert ",4.545," in csv_text and "4.5453857" not in csv_text
    RollupRun.objects.update(seconds=None)  # a run still going has none
    assert {r["seconds"] for r in client.get("/api/v1/stats/rollups/").json()["results"]} == {None}


def test_a_since_month_typed_in_full_width_digits_is_read_as_the_command_reads_it(data, monkeypatch):
    # "２０２５－０１" (a Chinese input method in full-width mode) passed the pattern, then compared as
    # text after every ASCII month: 400 "The month is in the future." for a month long past, while
    # ``manage.py rollup --since`` and every period parameter of the API read it as 2025-01.
    from dashboards import api as stats_api

    queued = []
    monkeypatch.setattr(stats_api.outbox, "enqueue", lambda name, **kw: queued.append(kw))
    admin = api_client(data.admin)
    response = admin.post("/api/v1/stats/rollups/", {"since": "２０２５-０１"}, format="json")
    assert response.status_code == 202, response.json()
    assert queued[-1]["since"] == "2025-01-01"
    other = admin.post(
        "/api/v1/stats/rollups/", {"since": "٢٠٢٥-01"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert other.status_code == 400 and other.json()["errors"] == {"since": ["Enter a month as YYYY-MM."]}
    # Mixed digits and the full-width hyphen too, as the command reads them (one parser for both).
    for mixed in ("２０２５-01", "2025-０２", "２０２５－０３"):
        response = admin.post("/api/v1/stats/rollups/", {"since": mixed}, format="json")
        assert response.status_code == 202, (mixed, response.json())
    assert [kw["since"] for kw in queued[-3:]] == ["2025-01-01", "2025-02-01", "2025-03-01"]
    # The month is queued as it was read, the year in four digits ("%Y" writes 999 for 0999).
    assert admin.post("/api/v1/stats/rollups/", {"since": "０９９９-１２"}, format="json").status_code == 202
    assert queued[-1]["since"] == "0999-12-01"
    for bad in ("٢٠٢٥-٠١", "２０２６-１３"):
        refused = admin.post(
            "/api/v1/stats/rollups/", {"since": bad}, format="json", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert refused.status_code == 400
        assert refused.json()["errors"] == {"since": ["Enter a month as YYYY-MM."]}


def test_a_rollup_request_with_a_field_it_does_not_read_is_a_400_naming_it(data):
    """{"ful": true} was answered 202 and queued an incremental run in place of the full rebuild
    the administrator meant: an unknown field is refused with the others, and nothing is queued."""
    from governance.models import OutboxMessage

    admin = api_client(data.admin)
    runs, queued = RollupRun.objects.count(), OutboxMessage.objects.count()
    response = admin.post(
        "/api/v1/stats/rollups/", {"ful": True, "since": "2026-13"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "since": ["Enter a month as YYYY-MM."],
        "ful": ["Unknown field; the fields are: full, since."],
    }
    form = admin.post(  # a form too
        "/api/v1/stats/rollups/", "full=true&sinse=2026-01", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 400 and list(form.json()["errors"]) == ["sinse"]
    assert (RollupRun.objects.count(), OutboxMessage.objects.count()) == (runs, queued)


@pytest.mark.django_db(transaction=True)
def test_an_admin_post_runs_a_rollup_through_the_task(monkeypatch):
    from tests.base import build_cast

    cast = build_cast()
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    response = api_client(cast.admin).post("/api/v1/stats/rollups/", {"full": True}, format="json")
    assert response.status_code == 202
    run = RollupRun.objects.get()
    assert (run.status, run.trigger, run.requested_by) == ("success", "api", cast.admin)


@pytest.mark.django_db(transaction=True)
def test_a_run_left_running_by_a_dead_worker_does_not_refuse_the_next_but_a_live_run_does(
    postgres, monkeypatch
):
    """A row marked running whose worker was killed made every POST a 409 "in progress", so the next
    run, which marks that row failed, could never be asked for. The API asks the engine's lock."""

    from dashboards.rollup import ADVISORY_LOCK_KEY
    from tests.base import build_cast

    cast = build_cast()
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    admin = api_client(cast.admin)
    dead = RollupRun.objects.create(started_at=timezone.now() - dt.timedelta(minutes=30), kind="full")
    assert admin.post("/api/v1/stats/rollups/", {"full": True}, format="json").status_code == 202
    dead.refresh_from_db()
    assert dead.status == RollupRun.Status.FAILED and "died" in dead.error
    assert RollupRun.objects.exclude(pk=dead.pk).get().status == RollupRun.Status.SUCCESS
    # A live run: another process holds the lock (and its row).
    other = second_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        live = RollupRun.objects.create(started_at=timezone.now(), kind="full")
        response = admin.post("/api/v1/stats/rollups/", {}, format="json")
        assert response.status_code == 409 and "in progress" in response.json()["detail"]
        live.refresh_from_db()
        assert live.status == RollupRun.Status.RUNNING and RollupRun.objects.count() == 3
    finally:
        other.close()


def test_a_format_the_endpoint_does_not_serve_is_a_400_naming_it(data):
    """Not DRF's bare 404, which read "No such record, or it is outside your area"."""
    client = api_client(data.analyst)
    response = client.get("/api/v1/stats/indicators/", {"format": "xml"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400 and response["Content-Type"].startswith("application/json")
    assert response.json()["errors"]["format"] == ["No format 'xml' here; use one of: json, csv, api."]
    response = client.get("/api/v1/areas/", {"format": "csv"})  # CSV is for the statistics
    assert response.status_code == 400 and "format" in response.json()["errors"]
    assert client.get("/api/v1/stats/indicators/", {"format": "csv"}).status_code == 200


def test_the_schema_describes_each_parameter_and_the_shape_of_a_refused_import(data):
    """values' indicator, period, area and parent were bare strings in /api/schema/, and an import's
    400 was the generic error, whose `errors` is field -> [messages]; it is a list of rows."""
    import jsonschema

    schema = api_client(data.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = (
        "/api/v1/stats/values/",
        "/api/v1/stats/rankings/",
        "/api/v1/stats/series/",
        "/api/v1/assessments/",
    )
    for path in paths:
        for param in schema["paths"][path]["get"]["parameters"]:
            if param["name"] not in ("format", "level", "period_type"):
                assert param.get("description"), (path, param["name"])
    components = schema["components"]["schemas"]
    count = components["CaseCountRowRequest"]["properties"]["count"]
    assert count["maximum"] == 1_000_000
    row = [{"area": data.community_a1a.code, "month": "2026-10", "kind": "fraud", "count": 3}]
    refused = api_client(data.analyst).post("/api/v1/stats/case-counts/", row, format="json")
    assert refused.status_code == 400
    for path in ("/api/v1/stats/case-counts/", "/api/v1/surveys/responses/"):
        answer = schema["paths"][path]["post"]["responses"]["400"]["content"]["application/json"]["schema"]
        jsonschema.validate(refused.json(), {**answer, "components": schema["components"]})
        rows = components["ImportErrors"]["properties"]["rows"]["items"]["$ref"]
        assert components[rows.rsplit("/", 1)[1]]["required"] == ["field", "line", "message"]


def test_a_parameter_an_endpoint_does_not_read_is_a_400_naming_it_not_the_unfiltered_list(data):
    """?indicator=...&perod=2026-11 answered every period of the indicator, read as November's;
    series with a period (it takes from and to) answered the whole series."""
    client = api_client(data.analyst)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    response = client.get(
        "/api/v1/stats/values/", {"indicator": "survey_safety_rate", "perod": "2026-11"}, **en
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["perod"]
    assert response.json()["errors"]["perod"] == [
        "Unknown parameter; the parameters are: indicator, period, area, level, parent, period_type, "
        "page, page_size, format."
    ]
    series = {"indicator": "survey_safety_rate", "area": data.grid_a.code, "period": "2026-11"}
    response = client.get("/api/v1/stats/series/", series, **en)
    assert response.status_code == 400 and list(response.json()["errors"]) == ["period"]
    ranking = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code}
    for path, params in (
        ("/api/v1/stats/rankings/", {**ranking, "level": "grid"}),
        ("/api/v1/stats/indicators/", {"unit": "percent"}),
        ("/api/v1/stats/rollups/", {"status": "failed", "format": "csv"}),
        ("/api/v1/assessments/", {"yaer": "2026"}),
        ("/api/v1/assessments/1/results/", {"rnu": "1"}),
    ):
        response = client.get(path, params)
        assert response.status_code == 400 and response["Content-Type"] == "application/json", path
        assert set(response.json()["errors"]) == set(params) - set(ranking) - {"format"}, path
    # What each endpoint reads is still read, with the paging and format parameters.
    assert client.get("/api/v1/stats/rankings/", {**ranking, "page": 1, "page_size": 5}).status_code == 200
    assert client.get("/api/v1/stats/indicators/", {"format": "csv"}).status_code == 200
    assert client.head("/api/v1/stats/values/", {"indicator": "survey_safety_rate"}).status_code == 200


def test_the_registry_is_not_a_304_once_an_indicator_changes_without_a_run(data, monkeypatch):
    """The registry's ETag came from the last run only: after a deploy that changed an indicator
    (here its minimum sample) clients kept getting 304 for the old list until the next run."""
    import dataclasses

    from governance import indicators as registry_api

    client = api_client(data.analyst)
    first = client.get("/api/v1/stats/indicators/")
    assert client.get("/api/v1/stats/indicators/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    specs = dict(registry_api.registry())
    specs["survey_safety_rate"] = dataclasses.replace(specs["survey_safety_rate"], min_sample=50)
    monkeypatch.setattr(registry_api, "registry", lambda: specs)
    changed = client.get("/api/v1/stats/indicators/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]
    row = next(r for r in changed.json()["results"] if r["code"] == "survey_safety_rate")
    assert row["min_sample"] == 50


def test_a_csv_page_says_in_its_headers_that_more_rows_follow_and_how_many_there_are(data):
    """A CSV answer is the rows of one page and nothing else: a client asking for format=csv got the
    first page of a longer list (50 rows by default) with no sign that any more existed."""
    from urllib.parse import parse_qsl, urlsplit

    client = api_client(data.analyst)
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "page_size": 2, "format": "csv"}
    first = client.get("/api/v1/stats/values/", params)
    total = client.get("/api/v1/stats/values/", {k: v for k, v in params.items() if k != "page_size"})
    rows = len(total.content.decode("utf-8-sig").splitlines()) - 1
    assert rows > 4 and first["X-Total-Count"] == str(rows) == total["X-Total-Count"]
    assert len(first.content.decode("utf-8-sig").splitlines()) == 3
    link, rel = first["Link"].split("; ")
    url = urlsplit(link.strip("<>"))
    assert rel == 'rel="next"' and url.path == "/api/v1/stats/values/"
    assert dict(parse_qsl(url.query)) == {k: str(v) for k, v in {**params, "page": 2}.items()}
    last_page = (rows + 1) // 2
    last = client.get("/api/v1/stats/values/", {**params, "page": last_page})
    assert last["Link"].endswith('rel="previous"') and 'rel="next"' not in last["Link"]
    assert "Link" not in total
    assert client.get("/api/v1/stats/values/", params, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_values_by_level_and_parent_list_that_level_in_the_parents_subtree(data):
    """DESIGN.md section 7, `level` + `parent`: every community of a district (its streets'
    children) answered an empty list, read as "no data", because only the district's own children
    (streets) have it as their parent."""
    client = api_client(data.analyst)
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.district_a.code}
    communities = client.get("/api/v1/stats/values/", {**params, "level": "community"}).json()["results"]
    assert [(r["area"], r["value"], r["rank"]) for r in communities] == [
        (data.community_a1a.code, 93.009709, 1),
        (data.community_a1b.code, 95.0, None),
    ]
    grids = client.get("/api/v1/stats/values/", {**params, "level": "grid"}).json()["results"]
    assert len(grids) == 5 and {r["level"] for r in grids} == {"grid"}
    # The children's level and parent alone are the children, as before.
    streets = client.get("/api/v1/stats/values/", {**params, "level": "street"}).json()["results"]
    assert [r["area"] for r in streets] == [data.street_a1.code]
    assert client.get("/api/v1/stats/values/", params).json()["results"] == streets
    # Within the scope only: a community officer asking for the grids of their street gets their own.
    own = api_client(data.community_handler).get(
        "/api/v1/stats/values/", {**params, "parent": data.street_a1.code, "level": "grid"}
    )
    assert {r["area"][-3:] for r in own.json()["results"]} == {"001", "002", "003", "004"}
    assert all(r["parent"] == data.community_a1a.code for r in own.json()["results"])
    # A level at or above the parent's never matches: a 400 naming it.
    response = client.get("/api/v1/stats/values/", {**params, "level": "city"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "level": [f"{data.district_a.code} is a district / county: no city lies below it."]
    }


def test_a_choice_filter_out_of_its_choices_names_the_values_it_takes(data):
    """series answered period_type=week with "Use one of: month, quarter, half, year."; values, with
    the same parameter, "Select a valid choice. week is not one of the available choices.", and the
    client had to find the choices in the schema. The choice filters of the statistics and the
    assessments list them, as series does."""
    client = api_client(data.analyst)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    levels = "Use one of: city, district, street, community, grid."
    for path, params, expected in (
        (
            "/api/v1/stats/values/",
            {"period_type": "week"},
            {"period_type": ["Use one of: month, quarter, half, year."]},
        ),
        (
            "/api/v1/stats/series/",
            {"indicator": "survey_safety_rate", "area": data.grid_a.code, "period_type": "week"},
            {"period_type": ["Use one of: month, quarter, half, year."]},
        ),
        ("/api/v1/stats/values/", {"level": "town"}, {"level": [levels]}),
        ("/api/v1/assessments/", {"level": "town"}, {"level": [levels]}),
    ):
        response = client.get(path, params, **en)
        assert response.status_code == 400 and response.json()["errors"] == expected, (path, response.json())
    zh = client.get("/api/v1/stats/values/", {"level": "town"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert zh.json()["errors"]["level"] == ["可选值：city, district, street, community, grid。"]


def test_an_area_with_a_level_or_parent_it_does_not_have_is_a_400_naming_that_filter(data):
    """values?area=<a community>&level=grid answered an empty list, read as "no data for it": the
    area's rows were filtered again by a level it does not have (or a parent it does not lie under).
    The filters that contradict the area are named; those that agree with it still filter."""
    client = api_client(data.analyst)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    base = {"indicator": "survey_safety_rate", "period": "2026-11", "area": data.community_a1a.code}
    response = client.get("/api/v1/stats/values/", {**base, "level": "grid"}, **en)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "level": [f"{data.community_a1a.code} is a community / village, not a grid."]
    }
    # parent alone selects its children; with a level further down, that level in its subtree.
    for parent, level in ((data.grid_a, ""), (data.city, ""), (data.district_b, "community")):
        response = client.get("/api/v1/stats/values/", {**base, "parent": parent.code, "level": level}, **en)
        assert response.status_code == 400
        assert response.json()["errors"] == {
            "parent": [f"{data.community_a1a.code} is not among the areas parent {parent.code} selects."]
        }, parent
    agreeing_filters = (
        {"level": "community"},
        {"parent": data.street_a1.code},
        {"parent": data.city.code, "level": "community"},
    )
    for agreeing in agreeing_filters:
        response = client.get("/api/v1/stats/values/", {**base, **agreeing}, **en)
        assert response.status_code == 200 and response.json()["count"] == 1, agreeing


def test_who_started_a_run_is_named_to_administrators_only(data):
    """The analyst role reads statistics in its scope "and nothing personal": the run list named
    the administrator who had started each run to every analyst and analyst token. An administrator
    (role or superuser) still sees the username; everyone else null, and ``trigger`` says how the run
    was started (api: by someone, through the API)."""
    from governance.models import Role
    from tests.base import make_user

    run = RollupRun.objects.create(
        started_at=timezone.now(), kind="incremental", trigger="api", requested_by=data.admin
    )
    url = "/api/v1/stats/rollups/"
    for reader in (api_client(data.analyst), _token_client(data.analyst), api_client(data.district_officer)):
        for response in (reader.get(url), reader.get(url, {"format": "csv"})):
            assert response.status_code == 200 and "admin" not in response.content.decode("utf-8-sig")
        first = reader.get(url).json()["results"][0]
        assert (first["id"], first["requested_by"], first["trigger"]) == (run.pk, None, "api")
    role_admin = make_user("district_admin", Role.ADMIN, data.district_a)
    for reader in (api_client(data.admin), _token_client(role_admin)):
        first = reader.get(url).json()["results"][0]
        assert (first["id"], first["requested_by"], first["trigger"]) == (run.pk, "admin", "api")
    schema = api_client(data.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    field = schema["components"]["schemas"]["RollupRun"]["properties"]["requested_by"]
    assert field["nullable"] is True and "administrators only" in field["description"]


def test_the_run_list_is_no_304_for_a_user_made_administrator(data):
    """The username depends on the reader's role: a validator held before the role was given must
    not keep the answer without it, by tag or by date."""
    from governance.models import Membership, Role

    RollupRun.objects.create(
        started_at=timezone.now(), kind="incremental", trigger="api", requested_by=data.admin
    )
    _validators_an_hour_old()
    RollupRun.objects.update(started_at=timezone.now() - dt.timedelta(hours=1))
    client = _token_client(data.analyst)
    url = "/api/v1/stats/rollups/"
    first = client.get(url)
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    Membership.objects.create(user=data.analyst, role=Role.ADMIN, area=data.city)
    for headers in (
        {"HTTP_IF_MODIFIED_SINCE": first["Last-Modified"]},
        {"HTTP_IF_NONE_MATCH": first["ETag"]},
    ):
        named = client.get(url, **headers)
        assert named.status_code == 200 and named.json()["results"][0]["requested_by"] == "admin"


def test_csv_cells_write_booleans_times_and_codes_in_one_documented_form(data):
    """docs/statistics.md, "CSV": a boolean is true or false (it was Python's True and False), a time
    is ISO 8601 to the second with the offset of TIME_ZONE (it was whatever isoformat gave: with
    microseconds or without, as they happened to be 0), null is an empty cell, and an area code is
    the bare code, as the JSON has it (the league page's CSV is the one that wraps it for Excel)."""
    import csv

    RollupRun.objects.all().delete()
    utc = dt.UTC
    RollupRun.objects.create(
        started_at=dt.datetime(2026, 11, 23, 8, 44, 15, 239495, tzinfo=utc),
        finished_at=dt.datetime(2026, 11, 23, 8, 44, 16, tzinfo=utc),
        status="success",
        kind="incremental",
        trigger="api",
    )
    RollupRun.objects.create(started_at=dt.datetime(2026, 11, 23, 17, 0, 0, 5, tzinfo=utc), kind="full")
    client = api_client(data.analyst)

    def rows(path: str, params: dict) -> list[dict]:
        response = client.get(path, {**params, "format": "csv"})
        assert response.status_code == 200
        return list(csv.DictReader(response.content.decode("utf-8-sig").splitlines()))

    runs = rows("/api/v1/stats/rollups/", {})
    assert [(r["started_at"], r["finished_at"], r["requested_by"]) for r in runs] == [
        ("2026-11-24T01:00:00+08:00", "", ""),  # the next local day
        ("2026-11-23T16:44:15+08:00", "2026-11-23T16:44:16+08:00", ""),
    ]
    headline = {r["code"]: r["headline"] for r in rows("/api/v1/stats/indicators/", {})}
    assert headline and set(headline.values()) <= {"true", "false"}
    params = {"indicator": "survey_safety_rate", "period": "2026-11", "parent": data.community_a1a.code}
    grid = next(r for r in rows("/api/v1/stats/rankings/", params) if r["rank"] == "1")
    assert (grid["area"], grid["parent"], grid["value"]) == (
        data.grid_a.code,
        data.community_a1a.code,
        "93.2",
    )


def test_a_csv_cell_by_type():
    from dashboards.api import csv_cell

    aware = dt.datetime(2026, 11, 23, 8, 44, 15, 999999, tzinfo=dt.UTC)
    assert [csv_cell(v) for v in (True, False, None, 0, 93.2, aware, ["a", 1], "=1+1", "-2.67")] == [
        "true", "false", None, 0, 93.2, "2026-11-23T16:44:15+08:00", '["a", 1]', "'=1+1", "-2.67",
    ]  # fmt: skip
    assert csv_cell("2026-11-23T08:44:15Z", time=True) == "2026-11-23T16:44:15+08:00"
    assert csv_cell("2026-11-23T16:44:15", time=True) == "2026-11-23T16:44:15+08:00"  # naive: TIME_ZONE's
    assert csv_cell("23/11/2026 16:44", time=True) == "23/11/2026 16:44"  # no ISO time: as it is
    assert csv_cell("", time=True) == ""


def test_an_analyst_of_one_district_reads_its_statistics_and_gets_404_for_the_other_s(data):
    """DESIGN.md section 7: the analyst role reads the statistics of its scope. District B's areas
    (grid D) are no areas for an analyst of district A: 404 where a path names an area (rankings,
    series), the 400 "Unknown area code" of every area filter in values, and no row of them in any
    list. The city, just above the scope, lists district A's row among its children in values; its
    league (rankings) is the city's, not the analyst's: 404."""
    analyst = make_user("district_a_analyst", Role.ANALYST, data.district_a)
    # (The data fixture has answers in district A only: one month of grid D's too.)
    SurveyResponse.objects.bulk_create(stats_data.answers(data.grid_d, stats_data.NOV, safe=40, unsafe=10))
    run_rollup(full=True)
    client = api_client(analyst)
    safety = {"indicator": "survey_safety_rate", "period": "2026-11"}
    for path, params in (
        ("rankings", {**safety, "parent": data.community_b1a.code}),
        ("rankings", {**safety, "parent": data.city.code}),
        ("series", {"indicator": "survey_safety_rate", "area": data.grid_d.code}),
        ("series", {"indicator": "survey_safety_rate", "area": data.grid_d.code, "format": "csv"}),
    ):
        response = client.get(f"/api/v1/stats/{path}/", params)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", (path, params)
    for name in ("area", "parent"):
        response = client.get("/api/v1/stats/values/", {**safety, name: data.grid_d.code})
        assert response.status_code == 400 and list(response.json()["errors"]) == [name]
    rows = client.get("/api/v1/stats/values/", {**safety, "page_size": 500}).json()["results"]
    assert rows and all(r["area"].startswith("340102") for r in rows)
    city = client.get("/api/v1/stats/values/", {**safety, "parent": data.city.code}).json()["results"]
    assert [r["area"] for r in city] == [data.district_a.code] and city[0]["rank_of"] == 2
    # What the city analyst sees of grid D, this one does not.
    assert (
        api_client(data.analyst)
        .get("/api/v1/stats/series/", {"indicator": "survey_safety_rate", "area": data.grid_d.code})
        .json()["count"]
        == 1
    )


def _count_statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]


def test_a_broad_values_list_counts_its_rows_up_to_a_bound_and_says_so(data, monkeypatch):
    """An unfiltered stats/values/ counted every stored row for `count` (4.7 million at a city's
    scale, most of the request's 0.25-0.5 s): the count now stops past a bound, `count_exact` says
    whether it is the number of rows or an estimate, and the pages and their links stay exact."""
    from governance.pagination import BoundedCountPaginator

    client = api_client(data.analyst)
    whole = client.get("/api/v1/stats/values/", {"page_size": 500}).json()
    total = whole["count"]
    assert whole["count_exact"] is True and total == len(whole["results"]) and total > 12
    monkeypatch.setattr(BoundedCountPaginator, "limit", 5)

    with CaptureQueriesContext(connection) as ctx:
        first = client.get("/api/v1/stats/values/", {"page_size": 4})
    assert first.status_code == 200
    body = first.json()
    assert body["count_exact"] is False and body["count"] >= 6 and len(body["results"]) == 4
    assert body["previous"] is None and "page=2" in body["next"]
    assert "X-Total-Count" not in first  # a header named the total carries no estimate
    (counting,) = _count_statements(ctx)
    assert "LIMIT 6" in counting  # bounded: never the whole table

    # Following `next` reads every row once, in order, and the last page says it is the last.
    seen, url = [], "/api/v1/stats/values/?page_size=4"
    while url:
        page = client.get(url).json()
        seen += [(r["indicator"], r["period"], r["area"]) for r in page["results"]]
        assert page["count"] >= len(seen)  # never below the rows the client has read
        url = page["next"]
    assert seen == [(r["indicator"], r["period"], r["area"]) for r in whole["results"]]
    assert page["count_exact"] is False and len(page["results"]) == total - 4 * ((total - 1) // 4)

    # The last page asked for by name, and a page past it, count exactly (as they must).
    last = client.get("/api/v1/stats/values/", {"page_size": 4, "page": "last"}).json()
    assert last["count"] == total and last["count_exact"] is True and last["next"] is None
    for page in ((total + 3) // 4 + 1, "abc", 0):
        past = client.get("/api/v1/stats/values/", {"page_size": 4, "page": page})
        assert past.status_code == 400
        assert past.json()["errors"]["page"] == [
            f"There is no page {page}: pages run from 1 to {(total + 3) // 4}."
        ]

    # A filtered list within the bound counts exactly, with the total in the header, as before.
    narrow = client.get(
        "/api/v1/stats/values/",
        {"area": data.grid_a.code, "indicator": "survey_safety_rate", "period": "2026-11"},
    )
    assert narrow.json()["count_exact"] is True
    assert narrow["X-Total-Count"] == str(narrow.json()["count"]) == str(len(narrow.json()["results"]))


def test_the_schema_describes_count_exact_on_the_values_list(data):
    schema = api_client(data.analyst).get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    page = schema.json()["components"]["schemas"]["PaginatedIndicatorValueList"]
    assert "count_exact" in page["required"] and page["properties"]["count_exact"]["type"] == "boolean"
    assert "estimate" in page["properties"]["count"]["description"]
