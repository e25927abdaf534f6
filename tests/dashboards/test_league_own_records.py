"""The league table's row of the records filed at the parent itself, on the hand-built dataset of
stats_data.py plus records of community A1a (春晖社区) itself, rolled up for real.

    safety, community A1a itself: 30 "safe" of 40 valid in Nov 2026, 9 of 10 in Oct 2026
        its grids (A, B, E, F), Nov 2026: 9320 + 90 + 90 + 80 = 9580 of 10000 + 3 x 100 = 10300
        the community, Nov 2026: 9610 of 10340         -> itself: 30 of 40 = 75.00%
        the community, 2026Q4: its grids' 9580 + 9332 of 20600, its own 39 of 50 -> itself 78.00%
    police, community A1a: 3 preventable cases of its own in Nov 2026 (stats_data), 1 more filed at
        grid A (population 1500); the community divides all 4 by its own 1500 residents (a stock,
        counted once) -> itself: numerator 3, denominator 1500 - 1500 = 0, and no rate
    the street A1 has nothing of its own: its communities add up to it, and no such row is shown.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from dashboards.models import PreventableCaseCount, SurveyResponse
from dashboards.rollup import run_rollup
from tests.base import api_client, make_area
from tests.dashboards import stats_data
from tests.dashboards.assessment_data import indicator_value

SAFE = "survey_safety_rate"
POLICE = "police_preventable_cases_per_10k"
COMMUNITY = "340102001001"
ITSELF = "Counted at 春晖社区 itself, not in any area listed"


@pytest.fixture
def data(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.community_a1a, stats_data.NOV, safe=30, unsafe=10)
        + stats_data.answers(cast.community_a1a, stats_data.OCT, safe=9, unsafe=1)
    )
    PreventableCaseCount.objects.create(
        area=cast.grid_a, month=dt.date(2026, 11, 1), kind="burglary", count=1, updated_at=timezone.now()
    )
    run_rollup(full=True)
    return cast


def league(client, language="en", **params):
    return client.get("/dashboards/league/", params, HTTP_ACCEPT_LANGUAGE=language)


def csv_rows(client, **params) -> list[list[str]]:
    response = league(client, format="csv", **params)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def twelve_more_grids(cast) -> None:
    """Twelve more grids under community A1a, 8 "safe" of 10 answers each in Nov 2026, rolled up:
    the grids add up to the community as before, its own 30 of 40 stay its own."""
    answers = []
    for i in range(12):
        grid = make_area(
            f"3401020010010{50 + i}",
            f"春晖第{50 + i}网格",
            "grid",
            cast.community_a1a,
            (117.0, 31.8, 117.01, 31.81),
        )
        answers += stats_data.answers(grid, stats_data.NOV, safe=8, unsafe=2)
    SurveyResponse.objects.bulk_create(answers)
    run_rollup(full=True)


def own_row(html: str) -> str:
    match = re.search(r'<tr[^>]*id="league-own".*?</tr>', html, re.S)
    assert match, "no row of the records filed at the parent itself"
    return match.group(0)


def test_the_records_filed_at_the_parent_itself_get_their_own_unranked_row(client, data):
    client.force_login(data.community_handler)
    html = league(client, indicator=SAFE, period="2026-11", parent=COMMUNITY).content.decode()
    row = own_row(html)
    assert ITSELF in row and "not ranked" in row
    assert "75.00%" in row and "numerator 30 / denominator 40" in row
    assert "data-area" not in row and "<polyline" not in row  # no map shape, no trend
    # After the four grids, whatever the order of the grids.
    assert html.count("data-area=") == 4 and html.rindex("data-area=") < html.index('id="league-own"')
    for sort, direction in (("value", "desc"), ("name", "asc"), ("rank", "desc")):
        html = league(
            client, indicator=SAFE, period="2026-11", parent=COMMUNITY, sort=sort, dir=direction
        ).content.decode()
        assert html.rindex("data-area=") < html.index('id="league-own"'), sort
    # A quarter sums the months, the community's own records too: 39 of 50.
    html = league(client, indicator=SAFE, period="2026Q4", parent=COMMUNITY).content.decode()
    assert "78.00%" in own_row(html) and "numerator 39 / denominator 50" in own_row(html)


def test_the_row_reads_in_chinese(client, data):
    client.force_login(data.community_handler)
    html = league(
        client, indicator=SAFE, period="2026-11", parent=COMMUNITY, language="zh-hans"
    ).content.decode()
    row = own_row(html)
    assert "计在春晖社区本级（不属于上列任何区域）" in row and "不参与排名" in row
    assert "计入春晖社区的数值，不在上面任何一行中。" in row


def test_no_such_row_when_the_children_add_up_to_the_parent(client, data):
    client.force_login(data.street_handler)
    html = league(client, indicator=SAFE, period="2026-11", parent="340102001000").content.decode()
    assert html.count("data-area=") == 2 and 'id="league-own"' not in html
    rows = csv_rows(client, indicator=SAFE, period="2026-11", parent="340102001000")
    assert len(rows) == 4 and "Counted at" not in rows[-1][2]


def test_a_rate_per_10000_residents_gives_the_differences_and_no_rate(client, data):
    # The community divides by its own population, which counts its grids' residents: the
    # difference of the denominators is no population of its own, so no rate is made of it.
    client.force_login(data.community_handler)
    html = league(client, indicator=POLICE, period="2026-11", parent=COMMUNITY).content.decode()
    row = own_row(html)
    assert "numerator 3 / denominator 0" in row and "%" not in row
    assert (
        "No rate: 春晖社区 divides by its own population, which already counts the residents of the areas listed."
        in row
    )


def test_the_exports_end_with_the_same_row(client, data):
    client.force_login(data.community_handler)
    params = {"indicator": SAFE, "period": "2026-11", "parent": COMMUNITY}
    rows = csv_rows(client, **params)
    assert len(rows) == 2 + 4 + 1
    assert rows[-1] == ["not ranked", "", ITSELF, "75.0", "30.0", "40.0", "", "", "", "", ""]
    sheet = load_workbook(io.BytesIO(league(client, format="xlsx", **params).content)).active
    assert [c.value for c in sheet[7]][:6] == ["not ranked", None, ITSELF, 75.0, 30.0, 40.0]
    assert sheet.max_row == 7
    police = csv_rows(client, indicator=POLICE, period="2026-11", parent=COMMUNITY)
    assert police[-1][:6] == ["not ranked", "", ITSELF, "", "3.0", "0.0"]


def test_the_map_has_no_shape_for_the_row(client, data):
    client.force_login(data.community_handler)
    body = client.get(
        "/dashboards/league/map-data/", {"indicator": SAFE, "period": "2026-11", "parent": COMMUNITY}
    ).json()
    assert sorted(body["areas"]) == [
        "340102001001001",
        "340102001001002",
        "340102001001003",
        "340102001001004",
    ]


def test_bad_input_and_outsiders(client, data):
    client.force_login(data.community_handler)
    response = league(client, indicator=SAFE, period="2026-13", parent=COMMUNITY)
    assert response.status_code == 400 and "period" in response.content.decode()
    client.force_login(data.outsider)
    assert league(client, indicator=SAFE, period="2026-11", parent=COMMUNITY).status_code == 404
    assert league(client, indicator=SAFE, period="2026-11", parent=COMMUNITY, format="csv").status_code == 404


def test_the_row_costs_the_same_queries_for_more_grids(client, data, django_assert_max_num_queries):
    client.force_login(data.community_handler)
    params = {"indicator": SAFE, "period": "2026-11", "parent": COMMUNITY}
    league(client, **params)  # warm up (sessions, content types)
    with CaptureQueriesContext(connection) as few:
        assert 'id="league-own"' in league(client, **params).content.decode()
    twelve_more_grids(data)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = league(client, **params).content.decode()
    assert html.count("data-area=") == 16 and "numerator 30 / denominator 40" in own_row(html)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert league(client, format="csv", **params).status_code == 200


def test_the_rows_value_is_rounded_as_the_stored_values_are(client, data):
    # 23 of 160 is 14.375%, which the float division makes 14.374999999999998: rounded to 2 decimals
    # as it came, it read "14.37%"; the rollup stores 6 decimals (14.375) and shows "14.38%".
    indicator_value(SAFE, data.grid_a, "2026-06", 50.0, 100, 200, rank=1, rank_of=1)
    indicator_value(SAFE, data.community_a1a, "2026-06", 34.166667, 123, 360, rank=1, rank_of=2)
    client.force_login(data.community_handler)
    row = own_row(league(client, indicator=SAFE, period="2026-06", parent=COMMUNITY).content.decode())
    assert "14.38%" in row and "numerator 23 / denominator 160" in row
    rows = csv_rows(client, indicator=SAFE, period="2026-06", parent=COMMUNITY)
    assert rows[-1][3:6] == ["14.38", "23.0", "160.0"]


def test_a_parent_whose_children_have_no_value_says_so_above_its_own_row(client, cast, monkeypatch):
    # September: answers filed at the community only, none at its grids. "No values for this
    # period." above a row with a value read as a contradiction; the page says whose values are missing.
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.community_a1a, dt.date(2026, 9, 10), safe=45, unsafe=5)
    )
    run_rollup(full=True)
    client.force_login(cast.community_handler)
    html = league(client, indicator=SAFE, period="2026-09", parent=COMMUNITY).content.decode()
    assert "numerator 45 / denominator 50" in own_row(html) and "90.00%" in own_row(html)
    assert "No area under 春晖社区 has a value for this period." in html
    assert "No values for this period." not in html
    zh = league(client, "zh-hans", indicator=SAFE, period="2026-09", parent=COMMUNITY).content.decode()
    assert "春晖社区的下级区域本期均无数据。" in zh
    # Without records of the parent's own, the page says what it always said.
    html = league(client, indicator=SAFE, period="2026-08", parent=COMMUNITY).content.decode()
    assert "No values for this period." in html and 'id="league-own"' not in html


# --- stats/rankings/: the same row, for a REST client summing the children -----------------------

RANKINGS = "/api/v1/stats/rankings/"


def rankings(user, **params):
    return api_client(user).get(RANKINGS, params)


def test_rankings_give_the_parents_own_records_beside_the_children(data):
    # 9580 of 10300 over the four grids + 30 of 40 of its own = the community's 9610 of 10340.
    body = rankings(data.analyst, indicator=SAFE, period="2026-11", parent=COMMUNITY).json()
    assert body["count"] == 4 and len(body["results"]) == 4
    assert body["parent_own_records"] == {"numerator": 30.0, "denominator": 40.0, "value": 75.0}
    listed = sum(r["numerator"] for r in body["results"]), sum(r["denominator"] for r in body["results"])
    assert listed == (9580.0, 10300.0)
    # Of the whole list, on every page: page 2 of 2 has no grid that adds up to the rest.
    second = rankings(data.analyst, indicator=SAFE, period="2026-11", parent=COMMUNITY, page_size=3, page=2)
    assert len(second.json()["results"]) == 1
    assert second.json()["parent_own_records"] == {"numerator": 30.0, "denominator": 40.0, "value": 75.0}
    # A quarter sums the months, the community's own records too: 39 of 50.
    quarter = rankings(data.analyst, indicator=SAFE, period="2026Q4", parent=COMMUNITY).json()
    assert quarter["parent_own_records"] == {"numerator": 39.0, "denominator": 50.0, "value": 78.0}


def test_rankings_give_null_when_the_children_add_up_to_the_parent(data):
    body = rankings(data.analyst, indicator=SAFE, period="2026-11", parent="340102001000").json()
    assert body["count"] == 2 and body["parent_own_records"] is None


def test_rankings_give_the_differences_and_no_rate_per_10000_residents(data):
    body = rankings(data.analyst, indicator=POLICE, period="2026-11", parent=COMMUNITY).json()
    assert body["parent_own_records"] == {"numerator": 3.0, "denominator": 0.0, "value": None}


def test_rankings_give_no_negative_difference(cast):
    # A stored parent row out of step with its children (80 of 200 under a grid's 100 of 200) holds
    # no records of the parent's own: null, as the page shows no row.
    indicator_value(SAFE, cast.grid_a, "2026-06", 50.0, 100, 200, rank=1, rank_of=1)
    indicator_value(SAFE, cast.community_a1a, "2026-06", 40.0, 80, 200, rank=1, rank_of=2)
    body = rankings(cast.community_handler, indicator=SAFE, period="2026-06", parent=COMMUNITY).json()
    assert body["results"][0]["area"] == cast.grid_a.code and body["results"][0]["numerator"] == 100.0
    assert body["parent_own_records"] is None


def test_rankings_round_the_value_as_the_stored_values_are(data):
    indicator_value(SAFE, data.grid_a, "2026-06", 50.0, 100, 200, rank=1, rank_of=1)
    indicator_value(SAFE, data.community_a1a, "2026-06", 34.166667, 123, 360, rank=1, rank_of=2)
    body = rankings(data.analyst, indicator=SAFE, period="2026-06", parent=COMMUNITY).json()
    assert body["parent_own_records"] == {"numerator": 23.0, "denominator": 160.0, "value": 14.375}


def test_rankings_of_a_parent_whose_children_have_no_value_still_give_its_own(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.community_a1a, dt.date(2026, 9, 10), safe=45, unsafe=5)
    )
    run_rollup(full=True)
    body = rankings(cast.analyst, indicator=SAFE, period="2026-09", parent=COMMUNITY).json()
    assert body["count"] == 0 and body["results"] == []
    assert body["parent_own_records"] == {"numerator": 45.0, "denominator": 50.0, "value": 90.0}
    august = rankings(cast.analyst, indicator=SAFE, period="2026-08", parent=COMMUNITY).json()
    assert august["count"] == 0 and august["parent_own_records"] is None


def test_the_rankings_csv_stays_one_line_per_child(data):
    # Programs read the CSV as one line per child (docs/statistics.md): the parent's own records are
    # in the JSON only, and the league page's export has them as a row for people.
    response = api_client(data.analyst).get(
        RANKINGS, {"indicator": SAFE, "period": "2026-11", "parent": COMMUNITY, "format": "csv"}
    )
    lines = response.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + 4 and response["X-Total-Count"] == "4"
    assert all(
        line.startswith("survey_safety_rate,percent,2026-11,month,3401020010010") for line in lines[1:]
    )
    assert "parent_own_records" not in lines[0]


def test_rankings_with_the_parents_own_records_cost_the_same_queries_and_still_answer_304(
    data, django_assert_num_queries
):
    client = api_client(data.analyst)
    params = {"indicator": SAFE, "period": "2026-11", "parent": COMMUNITY}
    client.get(RANKINGS, params)  # warm up (the user's memberships, content types)
    with CaptureQueriesContext(connection) as few:
        first = client.get(RANKINGS, params)
    few = len(few)  # now: the next request clears the connection's query log, which this reads
    assert first.json()["parent_own_records"]["numerator"] == 30.0
    twelve_more_grids(data)
    client.get(RANKINGS, params)
    with django_assert_num_queries(few):
        more = client.get(RANKINGS, params)
    assert more.json()["count"] == 16
    assert more.json()["parent_own_records"] == {"numerator": 30.0, "denominator": 40.0, "value": 75.0}
    again = client.get(RANKINGS, params, HTTP_IF_NONE_MATCH=more["ETag"])
    assert again.status_code == 304 and again.content == b""
