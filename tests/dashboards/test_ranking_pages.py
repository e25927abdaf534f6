"""Ranking pages: overview, league table (sort, export, print, not-ranked, query count), map data,
trends, and the assessment pages, in English and Chinese; bad input and outsiders."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.utils import translation
from openpyxl import load_workbook

from dashboards import assessment, ranking
from dashboards.assessment_models import AssessmentRun
from dashboards.models import IndicatorValue
from tests.base import api_client, make_area, make_user
from tests.dashboards import assessment_data
from tests.dashboards.assessment_data import indicator_value

SAFE = "survey_safety_rate"
SAFE_NAME = "Sense of safety"


@pytest.fixture
def data(cast):
    iv = indicator_value
    iv(
        SAFE,
        cast.district_a,
        "2026-11",
        93.2,
        932,
        1000,
        rank=1,
        rank_of=2,
        previous_value=90.53,
        delta=2.67,
        previous_rank=5,
        rank_change=4,
    )
    iv(
        SAFE,
        cast.district_b,
        "2026-11",
        88.0,
        880,
        1000,
        rank=2,
        rank_of=2,
        delta=-1.0,
        previous_rank=1,
        rank_change=-1,
    )
    iv(SAFE, cast.district_a, "2026-10", 90.53, 905.3, 1000, rank=2, rank_of=2)
    iv(SAFE, cast.district_b, "2026-10", 89.0, 890, 1000, rank=1, rank_of=2)
    iv(SAFE, cast.street_a1, "2026-11", 93.2, 932, 1000, rank=1, rank_of=1)
    iv(SAFE, cast.city, "2026-11", 90.6, 1812, 2000)
    iv(SAFE, cast.district_a, "2026Q4", 92.0, 1840, 2000, rank=1, rank_of=2)
    iv(SAFE, cast.district_b, "2026Q4", 88.5, 1770, 2000, rank=2, rank_of=2)
    return cast


def league(client, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/dashboards/league/?{query}")


def league_csv_rows(client, **params) -> list[list[str]]:
    response = league(client, format="csv", **params)
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_overview_shows_value_change_in_points_and_places(client, data):
    client.force_login(data.district_officer)
    html = client.get("/dashboards/?period=2026-11").content.decode()
    assert "+2.67 pts on the previous period (90.53%) · " in html and "up 4 places" in html
    assert "Incidents" in html  # overdue counts through the grids selector
    zh = client.get("/dashboards/?period=2026-11", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "较上期 +2.67 个百分点（上期 90.53%）" in zh
    # A period without a previous value says so rather than showing dashes.
    html = client.get("/dashboards/?period=2026Q4").content.decode()
    assert "92.00%" in html and "no value for the previous period" in html


def test_the_league_table_ranks_children_with_hover_numbers_and_sparklines(client, data):
    client.force_login(data.analyst)
    response = league(client, indicator=SAFE, period="2026-11", parent="340100000000")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("甲区") < html.index("乙区")
    assert 'title="numerator 932 / denominator 1,000"' in html
    assert "▲ Up 4 places" in html and "▼ Down 1 place" in html
    assert "<polyline" in html and "Sample" in html


def test_sorting_by_value_ascending_puts_the_lowest_first(client, data):
    client.force_login(data.analyst)
    html = league(
        client, indicator=SAFE, period="2026-11", parent="340100000000", sort="value"
    ).content.decode()
    assert html.index('data-area="340103000000"') < html.index('data-area="340102000000"')


def test_areas_below_the_minimum_sample_are_shown_not_ranked(client, data, cast):
    street_b = make_area("340102002000", "甲二街道", "street", cast.district_a, (117.0, 31.8, 117.01, 31.81))
    indicator_value(SAFE, street_b, "2026-11", 100.0, 12, 12)
    client.force_login(data.district_officer)
    html = league(client, indicator=SAFE, period="2026-11", parent="340102000000").content.decode()
    assert 'class="not-ranked"' in html and "not ranked" in html


def test_the_sample_of_weighted_answers_is_not_rounded_up_to_the_minimum(client, data, cast):
    # Weighted answers summing to 29.6 were shown as a sample of "30" beside "not ranked", under a
    # note that areas with fewer than 30 valid answers are not ranked.
    street_b = make_area("340102002000", "甲二街道", "street", cast.district_a, (117.0, 31.8, 117.01, 31.81))
    indicator_value(SAFE, street_b, "2026-11", 93.243243, 27.6, 29.6)
    client.force_login(data.district_officer)
    html = league(client, indicator=SAFE, period="2026-11", parent="340102000000").content.decode()
    row = re.search(r'data-area="340102002000".*?</tr>', html, re.S).group(0)
    assert "not ranked" in row and 'data-label="Sample">29.6<' in row
    row = re.search(r'data-area="340102001000".*?</tr>', html, re.S).group(0)
    assert 'data-label="Sample">1,000<' in row


def test_an_area_with_too_few_answers_is_grey_on_the_map_and_moves_no_class_break(client, data, cast):
    # 5 answers of "safe" (100%) coloured the street in the best class and set the breaks, while the
    # table said "not ranked".
    street_b = make_area("340102002000", "甲二街道", "street", cast.district_a, (117.0, 31.8, 117.01, 31.81))
    indicator_value(SAFE, street_b, "2026-11", 100.0, 5, 5)
    client.force_login(data.district_officer)
    body = client.get(
        f"/dashboards/league/map-data/?indicator={SAFE}&period=2026-11&parent=340102000000"
    ).json()
    few = body["areas"]["340102002000"]
    assert few["value"] is None and few["text"] == "100.00% · not ranked" and few["rank"] is None
    assert body["areas"]["340102001000"]["value"] is not None
    assert all(b < 100 for b in body["breaks"])
    html = league(client, indicator=SAFE, period="2026-11", parent="340102000000").content.decode()
    assert 'data-no-value="No value, or too few answers to rank"' in html


def test_changing_the_period_type_picks_that_type(client, data):
    client.force_login(data.analyst)
    html = league(
        client, indicator=SAFE, period="2026-11", period_type="quarter", parent="340100000000"
    ).content.decode()
    assert "2026Q4" in html and "92.00%" in html


def test_the_league_table_costs_the_same_queries_for_more_areas(
    client, data, cast, django_assert_max_num_queries
):
    client.force_login(data.analyst)
    league(client, indicator=SAFE, period="2026-11", parent="340100000000")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        league(client, indicator=SAFE, period="2026-11", parent="340100000000")
    for i in range(20):
        area = make_area(
            f"3401{50 + i:02d}000000", f"区{i}", "district", cast.city, (118.0, 31.0, 118.1, 31.1)
        )
        for period in ("2026-11", "2026-10", "2026-09"):
            indicator_value(SAFE, area, period, 80.0 + i, rank=3 + i, rank_of=22)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    assert html.count("data-area=") == 22


def test_export_csv_and_xlsx_hold_the_rows_shown(client, data):
    client.force_login(data.analyst)
    response = league(client, indicator=SAFE, period="2026-11", parent="340100000000", format="csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:4] == ["Rank", "Area code", "Area", "Value (%)"]
    assert rows[2][:6] == ["1", '="340102000000"', "甲区", "93.2", "932.0", "1000.0"]
    response = league(client, indicator=SAFE, period="2026-11", parent="340100000000", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[3]][:4] == [1, "340102000000", "甲区", 93.2]


def test_the_exports_headings_say_each_numbers_unit(client, data):
    # The page writes "93.20%" and "+2.67 pts"; the CSV and XLSX wrote 93.2 and 2.67 under "Value" and
    # "Change", nothing saying a percentage's change is in percentage points (not a relative 2.67%),
    # nor a rate per 10,000 residents. The headings of the value and change columns say it; a count's
    # stay bare.
    indicator_value("incidents_reported", data.district_a, "2026-11", 1204, 1204, 1204, rank=1, delta=-39)
    indicator_value("police_preventable_cases_per_10k", data.district_a, "2026-11", 2.5, 25, 100000, rank=1)
    client.force_login(data.analyst)
    city = "340100000000"
    values = ["Value (%)", "Numerator", "Denominator", "Change (percentage points)", "Rank change"]
    later = ["Previous value (%)", "Same period last year (%)", "Year on year (percentage points)"]
    rows = league_csv_rows(client, indicator=SAFE, period="2026-11", parent=city)
    assert rows[1][3:] == values + later
    sheet = load_workbook(
        io.BytesIO(league(client, indicator=SAFE, period="2026-11", parent=city, format="xlsx").content)
    ).active
    assert [c.value for c in sheet[2]][3:] == values + later
    rate = league_csv_rows(
        client, indicator="police_preventable_cases_per_10k", period="2026-11", parent=city
    )
    assert rate[1][3] == "Value (per 10,000 residents)" and rate[1][6] == "Change (per 10,000 residents)"
    counts = league_csv_rows(client, indicator="incidents_reported", period="2026-11", parent=city)
    assert counts[1][3] == "Value" and counts[1][6] == "Change" and counts[1][-1] == "Year on year"
    zh = client.get(
        f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent={city}&format=csv",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    head = next(csv.reader(io.StringIO(zh.content.decode("utf-8-sig").split("\n", 1)[1])))
    assert head[3] == "数值（%）" and head[6] == "较上期变化（个百分点）" and head[-1] == "同比（个百分点）"


def test_the_xlsx_shows_its_numbers_as_the_table_does(client, data):
    # The workbook's cells had Excel's General format: the table's 93.20% and +2.67 pts opened as
    # 93.2 and 2.67, and a count's 1,204 as 1204. The cells keep the numbers; their format shows
    # them to 2 decimals (a count whole, with thousands), a change with its sign.
    indicator_value("incidents_reported", data.district_a, "2026-11", 1204, 1204, 1204, rank=1, delta=-39)
    client.force_login(data.analyst)
    book = load_workbook(
        io.BytesIO(
            league(client, indicator=SAFE, period="2026-11", parent="340100000000", format="xlsx").content
        )
    )
    row = book.active[3]
    assert (row[3].value, row[3].number_format) == (93.2, "0.00")
    assert (row[6].value, row[6].number_format) == (2.67, "+0.00;-0.00;0.00")
    assert row[8].number_format == "0.00" and row[10].number_format == "+0.00;-0.00;0.00"
    counts = load_workbook(
        io.BytesIO(
            league(
                client, indicator="incidents_reported", period="2026-11", parent="340100000000", format="xlsx"
            ).content
        )
    )
    row = counts.active[3]
    assert (row[3].value, row[3].number_format) == (1204, "#,##0")
    assert (row[6].value, row[6].number_format) == (-39, "+#,##0;-#,##0;0")


def test_sort_and_print_links_do_not_pile_up_parameters(client, data):
    # Each heading click appended another sort/dir pair (?sort=name&dir=asc&sort=name&dir=desc), and
    # the print link of an unfiltered page read ?&print=1.
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026-11", sort="name", dir="asc").content.decode()
    links = re.findall(r'href="\?([^"]*sort=[^"]*)"', html)
    assert links and all(link.count("sort=") == 1 and link.count("dir=") == 1 for link in links), links
    assert 'href="?&amp;' not in client.get("/dashboards/league/").content.decode()


def test_the_print_view_has_no_picker_or_map(client, data):
    client.force_login(data.analyst)
    html = league(
        client, indicator=SAFE, period="2026-11", parent="340100000000", **{"print": "1"}
    ).content.decode()
    assert "print-view" in html and "dash-picker" not in html and "data-map" not in html


def test_bad_parameters_answer_400_naming_the_field(client, data):
    client.force_login(data.analyst)
    for params, field in [
        ({"indicator": "nope"}, "indicator"),
        ({"indicator": SAFE, "period": "2026-13"}, "period"),
        ({"indicator": SAFE, "period": "0000-01"}, "period"),  # no year 0 to step back from
        ({"indicator": SAFE, "period_type": "week"}, "period_type"),
        ({"indicator": SAFE, "sort": "colour"}, "sort"),
        ({"indicator": SAFE, "format": "pdf"}, "format"),
    ]:
        response = league(client, **params)
        assert response.status_code == 400 and f'data-field="{field}"' in response.content.decode()
    # Named for the person reading the page, not by the query string's English name.
    html = league(client, indicator="bogus").content.decode()
    assert "<strong>Indicator</strong>" in html and "<strong>indicator</strong>" not in html
    bad = client.get("/dashboards/league/map-data/?indicator=nope")
    assert bad.status_code == 400 and "indicator" in bad.json()["errors"]
    for path in ["/dashboards/?period=0000", "/dashboards/trends/?period=0000Q1"]:
        assert client.get(path).status_code == 400
    assert client.get("/dashboards/league/map-data/?period=0000-01").status_code == 400


def test_an_outsider_gets_404_for_an_area_outside_their_scope(client, data):
    client.force_login(data.outsider)
    assert league(client, indicator=SAFE, parent="340102000000").status_code == 404
    # The map's data is JSON, its 404 too (it was the site's HTML page, as a 400 was not), and says
    # no more than for an area that does not exist.
    for parent in ("340102000000", "999999999999"):
        response = client.get(f"/dashboards/league/map-data/?indicator={SAFE}&parent={parent}")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "No such record, or it is outside your area."}
    assert client.get(f"/dashboards/trends/?indicator={SAFE}&parent=340102000000").status_code == 404


def test_map_data_gives_values_and_class_breaks(client, data):
    client.force_login(data.analyst)
    body = client.get(
        f"/dashboards/league/map-data/?indicator={SAFE}&period=2026-11&parent=340100000000"
    ).json()
    assert body["areas"]["340102000000"]["text"] == "93.20%" and body["areas"]["340102000000"]["rank"] == 1
    # "rank 1 of 2" in the tooltip: the map's tooltip said "#1".
    assert body["areas"]["340102000000"]["rank_of"] == 2
    assert body["breaks"] and body["lower_better"] is False and body["suffix"] == "%"


def test_map_classes_use_the_values_as_shown_so_the_lowest_area_is_in_the_lowest_class(client, data):
    # The breaks were rounded to 2 decimals but the values were not: 85.714286 > 85.71 put the lowest
    # area in the second class with the next one (same colour), and 3.160004 twice gave "3.16 - 3.16".
    indicator_value(SAFE, data.community_a1a, "2026-11", 85.714286, rank=3, rank_of=3)
    indicator_value(SAFE, data.community_a1b, "2026-11", 87.5, rank=2, rank_of=3)
    third = make_area("340102001003", "丙社区", "community", data.street_a1, (117.0, 31.81, 117.02, 31.82))
    indicator_value(SAFE, third, "2026-11", 100.0, rank=1, rank_of=3)
    client.force_login(data.analyst)
    body = client.get(
        f"/dashboards/league/map-data/?indicator={SAFE}&period=2026-11&parent=340102001000"
    ).json()
    values = {code: a["value"] for code, a in body["areas"].items()}
    assert values == {"340102001001": 85.71, "340102001002": 87.5, "340102001003": 100.0}
    breaks = body["breaks"]
    assert breaks == sorted(set(breaks))  # no empty "x - x" class

    def class_of(value):  # as static/dashboards/choropleth.js
        return sum(1 for b in breaks if value > b)

    assert [class_of(v) for v in sorted(values.values())] == [0, 1, 2]
    # The legend writes the breaks as the table writes values: "87.50%", not "87.5%".
    assert body["break_texts"] == ["85.71%", "87.50%"] and breaks == [85.71, 87.5]
    assert ranking.class_breaks([3.160004, 3.160004, 3.940004]) == [3.16]


def test_the_top_map_class_is_never_empty_when_there_are_fewer_areas_than_classes():
    # The largest value was taken as the last break when fewer than five areas had values, so the
    # top class ("> 17.31", "> 92.86": above the largest value) was always empty, its colour unused.
    assert ranking.class_breaks([8.15, 9.01, 9.23, 17.31]) == [8.15, 9.01, 9.23]
    assert ranking.class_breaks([90.0, 90.2, 92.86]) == [90.0, 90.2]
    assert ranking.class_breaks([50.0, 50.0]) == [50.0]  # one value: the legend still names it
    assert ranking.class_breaks([float(v) for v in range(1, 11)]) == [3.0, 5.0, 7.0, 9.0]
    assert ranking.class_breaks([]) == []


def test_values_and_changes_are_shown_to_two_decimals_with_halves_rounded_away_from_zero(client, data):
    # 745 of 800 answers is 93.125%: Python's formatting rounds the binary float to even ("93.12%"),
    # and 90.535, stored a hair below, came out "90.53"; 四舍五入 of the stored value, as the rollup
    # rounds and the assessment pages show, gives 93.13 and 90.54 (a negative half goes down).
    iv = indicator_value
    iv(
        SAFE,
        data.district_a,
        "2026-09",
        93.125,
        745,
        800,
        rank=1,
        rank_of=2,
        previous_value=90.0,
        delta=3.125,
    )
    iv(SAFE, data.district_b, "2026-09", 90.535, 90.535, 100, rank=2, rank_of=2, delta=-2.675)
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026-09", parent="340100000000").content.decode()
    assert ">93.13%<" in html and ">+3.13 pts<" in html and ">90.54%<" in html and ">-2.68 pts<" in html
    assert "93.12%" not in html and "90.53%" not in html
    rows = league_csv_rows(client, indicator=SAFE, period="2026-09", parent="340100000000")
    assert [(r[3], r[6]) for r in rows[2:]] == [("93.13", "3.13"), ("90.54", "-2.68")]
    body = client.get(
        f"/dashboards/league/map-data/?indicator={SAFE}&period=2026-09&parent=340100000000"
    ).json()
    assert {c: (a["value"], a["text"]) for c, a in body["areas"].items()} == {
        "340102000000": (93.13, "93.13%"),
        "340103000000": (90.54, "90.54%"),
    }
    overview = client.get("/dashboards/?period=2026-09&parent=340102000000").content.decode()
    assert "93.13%" in overview and "+3.13 pts on the previous period (90.00%)" in overview


def test_the_league_table_and_overview_give_the_change_year_on_year(client, data):
    # DOMAIN.md: rates are reported year on year as well as against the previous period.
    IndicatorValue.objects.filter(area=data.district_a, period="2026-11").update(
        yoy_value=92.0, yoy_delta=1.2
    )
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    assert 'title="same period last year: 92.00%">+1.20 pts</td>' in html
    assert ">Year on year</a></th>" in html
    rows = league_csv_rows(client, indicator=SAFE, period="2026-11", parent="340100000000")
    assert rows[1][-2:] == ["Same period last year (%)", "Year on year (percentage points)"]
    assert rows[2][-2:] == ["92.0", "1.2"] and rows[3][-2:] == ["", ""]
    # District B has no value a year before: it sorts last by the change year on year.
    html = league(
        client, indicator=SAFE, period="2026-11", parent="340100000000", sort="yoy_delta", dir="desc"
    ).content.decode()
    assert html.index('data-area="340102000000"') < html.index('data-area="340103000000"')
    overview = client.get("/dashboards/?period=2026-11&parent=340102000000").content.decode()
    assert "+1.20 pts on the same period last year (92.00%)" in overview
    other = client.get("/dashboards/?period=2026-11&parent=340103000000").content.decode()
    assert "no value for the same period last year" in other
    # A year's previous period is the same period last year: one line, not the same line twice.
    assert "on the same period last year" not in client.get("/dashboards/?period=2026").content.decode()


def test_trends_chart_the_area_against_parent_and_siblings(client, data):
    client.force_login(data.analyst)
    response = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000")
    chart = response.context["chart"]
    roles = {s["name"]: s["role"] for s in chart["series"]}
    assert roles == {"甲区": "self", "乙区": "sibling", "示例市": "parent"}
    assert "against its parent (dashed) and its siblings" in response.content.decode()
    assert chart["series"][0]["data"][-2:] == [90.53, 93.2]
    assert chart["periods"] == ["2026-10", "2026-11"]  # starts at the first period with data
    # The chart is an image to a screen reader, named and pointing to the table with its values.
    assert (
        'id="trend-chart" data-chart="trend-data" role="img" aria-label="Trend chart'
        in response.content.decode()
    )
    # The table under the chart writes every value as the league table does (two decimals and the
    # unit), labelled with its period for a phone, where the table's headings are hidden; the axis
    # and the tooltip add the same unit.
    assert (
        '<td data-label="2026-10">90.53%</td><td data-label="2026-11">93.20%</td>'
        in response.content.decode()
    )
    assert chart["suffix"] == "%"
    # The way up, as on the league table: it had no breadcrumbs at all.
    assert [a.code for a in response.context["breadcrumbs"]] == ["340100000000", "340102000000"]


def test_trends_write_a_count_as_a_count(client, data):
    # The table wrote every value with two decimals and no unit: 1204 cases read "1204.00".
    indicator_value("dispute_cases_received", data.district_a, "2026-11", 1204.0, rank=1, rank_of=1)
    client.force_login(data.analyst)
    response = client.get(
        "/dashboards/trends/?indicator=dispute_cases_received&period=2026-11&parent=340102000000"
    )
    assert response.status_code == 200 and response.context["chart"]["suffix"] == ""
    assert '<td data-label="2026-11">1,204</td>' in response.content.decode()


def test_trends_compare_only_with_areas_in_the_users_scope(client, data):
    """As stats/series: the district's staff see their district, not the city's nor district B's
    values; within the district, its streets are compared with each other."""
    client.force_login(data.district_officer)
    response = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000")
    assert [s["name"] for s in response.context["chart"]["series"]] == ["甲区"]
    assert "乙区" not in response.content.decode() and "示例市" not in response.content.decode()
    # The caption spoke of a dashed parent and of siblings the chart did not have.
    caption = response.content.decode().split('id="trend-caption">')[1].split("</p>")[0]
    assert "dashed" not in caption and "siblings." not in caption and "own values" in caption
    response = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102001000")
    assert {s["name"]: s["role"] for s in response.context["chart"]["series"]} == {
        "甲一街道": "self",
        "甲区": "parent",
    }
    caption = response.content.decode().split('id="trend-caption">')[1].split("</p>")[0]
    assert caption.endswith("against its parent (dashed).")
    # The city has no parent at all: nothing is hidden from the analyst who sees it.
    client.force_login(data.analyst)
    response = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340100000000")
    caption = response.content.decode().split('id="trend-caption">')[1].split("</p>")[0]
    assert caption == "The area's own values: it is the top of the hierarchy."


@pytest.fixture
def scheme(cast):
    s = assessment_data.build(cast)
    run = assessment.assessment_compute(scheme=s)
    return s, run


def test_the_assessment_results_page_breaks_down_each_item(client, cast, scheme):
    s, _run = scheme
    client.force_login(cast.analyst)
    listing = client.get("/dashboards/assessments/").content.decode()
    assert f">{s.name}</a>" in listing  # not "2026 · 2026 平安建设考核": the name has its year
    html = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    assert "安全感" in html and "80.00" in html and "Draft result" in html
    assert "Compute now" not in html  # analysts read only


def test_a_manager_computes_and_publishes_from_the_page_and_an_analyst_cannot(client, cast, scheme):
    from governance.models import Role
    from tests.base import make_user

    s, run = scheme
    client.force_login(cast.analyst)
    assert client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "compute"}).status_code == 403
    officer = make_user("city_officer", Role.HANDLER, cast.city)
    client.force_login(officer)
    assert client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "dance"}).status_code == 400
    for bad in ("abc", "²", "9" * 30, ""):  # "²" passes str.isdigit, not int()
        response = client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "publish", "run": bad})
        assert response.status_code == 400 and 'data-field="run"' in response.content.decode()
        assert client.get(f"/dashboards/assessments/{s.pk}/?run={bad or 'x'}").status_code == 400
    assert AssessmentRun.objects.get(pk=run.pk).published_at is None
    response = client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "publish", "run": run.pk})
    assert response.status_code == 302
    assert AssessmentRun.objects.get(pk=run.pk).published_at is not None
    # District B's staff, assessed by the city, read their district's row; the actions stay 404.
    client.force_login(cast.outsider)
    page = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    assert page.count("data-area=") == 1 and 'data-area="340103000000"' in page
    assert client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "compute"}).status_code == 404


def test_the_pages_render_in_chinese(client, data, scheme, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    s, _run = scheme
    client.force_login(data.analyst)
    for url in (
        "/dashboards/?period=2026-11",
        f"/dashboards/league/?indicator={SAFE}&period=2026-11",
        f"/dashboards/trends/?indicator={SAFE}&parent=340102000000",
        "/dashboards/assessments/",
        f"/dashboards/assessments/{s.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert 'lang="zh-hans"' in response.content.decode()


def test_the_home_page_shows_overdue_counts_for_staff(client, data):
    client.force_login(data.district_officer)
    html = client.get("/").content.decode()
    assert "Overdue across the services" in html


def test_an_overdue_count_and_the_users_areas_take_the_readers_colon(client, data, report, cast):
    # "事件: 12" and "我的辖区: 甲区 · 乙区": an English colon and space in the Chinese overview,
    # the home page and the pickers; the filter summaries already say "区域：…".
    from governance.models import Membership, Role
    from grids.models import Incident

    Incident.objects.filter(pk=report().pk).update(due_at="2020-01-01T00:00:00Z")

    user = make_user("two_districts", Role.HANDLER, cast.district_a)
    Membership.objects.create(user=user, role=Role.HANDLER, area=cast.district_b)
    client.force_login(user)
    for url in ("/dashboards/", "/", "/dashboards/league/", "/dashboards/trends/"):
        zh = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        assert "我的辖区：" in zh and "我的辖区:" not in zh, url
        if url in ("/dashboards/", "/"):
            assert re.search(r'class="overdue-count" href="[^"]+">事件：<span class="status">', zh), url
            assert not re.search(r"\w: <span", zh), url
        en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Your areas: " in en, url
        if url in ("/dashboards/", "/"):
            assert re.search(r'class="overdue-count" href="[^"]+">Incidents: <span class="status">', en), url


def test_each_overdue_count_links_to_its_overdue_list(client, data, report, med, pet):
    # Disputes and petitions were plain text: "Disputes: 3" in red with no way to reach the three,
    # although both lists filter overdue=true (with the same selectors the counts use).
    report()
    med.register()
    pet.register()
    client.force_login(data.admin)
    links = {
        "/grids/inbox/?overdue=true",
        "/mediation/cases/?overdue=true",
        "/petitions/?overdue=true",
    }
    city = "340100000000"
    for url, after in (("/dashboards/", f"&amp;area={city}"), ("/", "")):
        html = client.get(url).content.decode()
        assert all(f'href="{link}{after}"' in html for link in links), url
    for link in links:
        assert client.get(link).status_code == 200
        assert client.get(f"{link}&area={city}").status_code == 200


def test_the_overview_counts_what_is_overdue_in_its_own_area(client, data, report, cast):
    # The overview of a community counted the overdue items of the officer's whole district under the
    # community's name, and its link opened the whole district's list.
    from grids.models import Incident

    late = [report(), report()]
    Incident.objects.filter(pk=late[1].pk).update(grid=cast.grid_c)  # the other community
    Incident.objects.filter(pk__in=[i.pk for i in late]).update(due_at="2020-01-01T00:00:00Z")
    client.force_login(data.district_officer)

    def incidents_overdue(html: str) -> tuple[str, ...]:
        item = html[html.index('class="overdue-count" href="/grids/inbox/') :]
        return re.search(r'href="([^"]+)">[^<]*<span class="status">(\d+)<', item).groups()

    district = client.get("/dashboards/").content.decode()
    assert incidents_overdue(district) == ("/grids/inbox/?overdue=true&amp;area=340102000000", "2")
    community = cast.community_a1a.code
    href, count = incidents_overdue(client.get(f"/dashboards/?parent={community}").content.decode())
    assert (href, count) == (f"/grids/inbox/?overdue=true&amp;area={community}", "1")
    listed = client.get(href.replace("&amp;", "&")).content.decode()
    assert late[0].code in listed and late[1].code not in listed


def test_overdue_counts_leave_out_what_the_user_never_sees(client, data, report, med, pet):
    # An analyst sees no dispute or petition rows: "Disputes: 0" read as nothing overdue.
    report()
    med.register()
    pet.register()
    client.force_login(data.analyst)
    for url in ("/dashboards/", "/"):
        html = client.get(url).content.decode()
        assert 'href="/grids/inbox/?overdue=true' in html, url
        assert "/mediation/cases/?overdue=true" not in html and "/petitions/?overdue=true" not in html


def test_the_assessment_results_csv_gives_each_rank_of_the_areas_ranked(client, cast, scheme):
    # The page writes "2/3" and the API's rows give rank_of; the page's CSV gave the rank alone, and
    # the assessed district's file of its own row said "2" of nobody knew how many.
    s, run = scheme
    assessment.assessment_publish(run=run, actor=cast.admin)
    client.force_login(cast.analyst)
    response = client.get(f"/dashboards/assessments/{s.pk}/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:7] == ["Rank", "Areas ranked", "Area code", "Area", "Total", "Grade", "Rank change"]
    assert [r[:6] for r in rows[2:]] == [
        ["1", "3", '="340102000000"', "甲区", "80.00", "Good"],
        ["2", "3", '="340103000000"', "乙区", "72.00", "Pass"],
        ["3", "3", '="340104000000"', "丙区", "60.67", "Pass"],
    ]
    api = api_client(cast.analyst).get(f"/api/v1/assessments/{s.pk}/results/").json()["results"]
    assert [(r["rank"], r["rank_of"]) for r in api] == [(1, 3), (2, 3), (3, 3)]
    # District B's staff read their own row: its rank of the three ranked, as on their page.
    client.force_login(cast.outsider)
    response = client.get(f"/dashboards/assessments/{s.pk}/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[:4] for r in rows[2:]] == [["2", "3", '="340103000000"', "乙区"]]


def test_the_assessment_results_export_as_csv_with_each_item(client, cast, scheme):
    s, run = scheme
    client.force_login(cast.analyst)
    response = client.get(f"/dashboards/assessments/{s.pk}/?format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][:7] == ["Rank", "Areas ranked", "Area code", "Area", "Total", "Grade", "Rank change"]
    assert rows[1][7:10] == ["安全感", "排名", "工作台账"]
    # The grade, the run's state and the cap's mark stand alone in their cells: capitalised, as the
    # results page shows them ("Good", not "good"; the Chinese labels are unchanged).
    assert rows[0][1] == "Draft"
    assert rows[2][:6] == ["1", "3", '="340102000000"', "甲区", "80.00", "Good"]
    assert rows[1][-2:] == ["Veto", "Moved down by the excellent cap"]
    assert [r[-1] for r in rows[2:]] == ["", "", ""]
    # The page marks a grade the excellent-share cap moved down with "*"; the file says so too.
    run.results.filter(area__code="340102000000").update(capped=True)
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/dashboards/assessments/{s.pk}/?format=csv").content.decode("utf-8-sig"))
        )
    )
    assert [r[-1] for r in rows[2:]] == ["Yes", "", ""]
    bad = client.get(f"/dashboards/assessments/{s.pk}/?format=xlsx")
    assert bad.status_code == 400 and "Export format must be csv." in bad.content.decode()


def test_exports_keep_formula_like_text_as_text(client, data):
    # An area name typed as "=HYPERLINK(...)" must reach a spreadsheet as text, never as a formula
    # (CSV injection); negative numbers stay numbers.
    data.district_b.name = '=HYPERLINK("http://example.invalid","x")'
    data.district_b.save(update_fields=["name"])
    client.force_login(data.analyst)
    params = {"indicator": SAFE, "period": "2026-11", "parent": "340100000000"}
    rows = list(csv.reader(io.StringIO(league(client, format="csv", **params).content.decode("utf-8-sig"))))
    assert rows[3][2] == "'" + data.district_b.name and rows[3][6] == "-1.0"
    sheet = load_workbook(io.BytesIO(league(client, format="xlsx", **params).content)).active
    name, change = sheet[4][2], sheet[4][6]
    assert (name.data_type, name.value) == ("s", "'" + data.district_b.name)
    assert change.value == -1.0
    api = api_client(data.analyst).get("/api/v1/stats/rankings/", {**params, "format": "csv"})
    text = api.content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text


@pytest.mark.django_db
def test_a_fresh_installation_explains_that_no_area_is_in_scope(client):
    """After `createsuperuser` on a new database (no areas imported yet), and for a user with no
    membership, the ranking pages in the navigation said "No such record" (404): they say why."""
    from governance.models import User
    from tests.base import make_user

    client.force_login(User.objects.create_superuser("root", password="x" * 12))
    for url in ("/dashboards/", "/dashboards/league/", "/dashboards/trends/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'id="no-area"' in html and "No area in your scope." in html and "import_areas" in html
    # The JSON of the map is no page: still a 404, in JSON.
    response = client.get("/dashboards/league/map-data/")
    assert response.status_code == 404 and response.json() == {"detail": "No area in your scope."}
    client.force_login(make_user("newcomer", None, None))
    assert 'id="no-area"' in client.get("/dashboards/").content.decode()


def test_a_bad_sort_direction_answers_400_naming_dir(client, data):
    # "dir=sideways" was taken silently as ascending.
    client.force_login(data.analyst)
    for path in ("/dashboards/league/", "/dashboards/league/map-data/"):
        response = client.get(f"{path}?indicator={SAFE}&period=2026-11&dir=sideways")
        assert response.status_code == 400
    assert 'data-field="dir"' in league(client, indicator=SAFE, dir="up").content.decode()
    assert league(client, indicator=SAFE, period="2026-11", dir="desc").status_code == 200


def test_the_sorted_column_says_so_to_a_screen_reader(client, data):
    # The sort order was an arrow drawn by CSS only: aria-sort on the sorted column's heading.
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    # ... and, for the printed page only, the order in words after the heading (dashboards.css).
    sorted_heading = r"<th aria-sort=\"(\w+)\"><a [^>]*>([^<]+)<span class=\"sort-order\">\(\1\)</span></a>"
    assert re.findall(sorted_heading, html) == [("ascending", "Rank")]
    html = league(
        client, indicator=SAFE, period="2026-11", parent="340100000000", sort="sample", dir="desc"
    ).content.decode()
    assert re.findall(sorted_heading, html) == [("descending", "Sample")]
    assert 'class="sorted-desc">Sample' in html  # the arrow too, which the sample column lacked


def test_a_grid_has_no_league_table_of_its_own(client, data, cast):
    # A community's grids drilled down to their own league table, always empty and saying
    # "No values for this period."; a grid has no smaller areas.
    indicator_value(SAFE, cast.grid_a, "2026-11", 90.0, 90, 100, rank=1, rank_of=1)
    client.force_login(data.district_officer)
    html = league(client, indicator=SAFE, period="2026-11", parent=cast.community_a1a.code).content.decode()
    assert f'data-area="{cast.grid_a.code}"' in html
    assert f'parent={cast.grid_a.code}">' not in html  # the grid's name is not a drill-down link
    html = league(client, indicator=SAFE, period="2026-11", parent=cast.grid_a.code).content.decode()
    assert 'id="league-leaf"' in html and "is a grid: it has no smaller areas to rank." in html
    assert 'id="league"' not in html and "data-map" not in html and "export-csv" not in html
    assert f"/dashboards/trends/?indicator={SAFE}&amp;period=2026-11&amp;parent={cast.grid_a.code}" in html


def test_a_period_not_over_yet_says_so_on_each_ranking_page(client, cast):
    # The current month is the default as soon as it has values: a few days' closure rate stood
    # beside whole months ("33.33%, -64.47 pts") with nothing to say the month had just begun.
    from django.utils import timezone

    from governance.periods import MONTH, Period

    today = timezone.localdate()
    current = Period.of(MONTH, today.year, today.month)
    for period, value in ((current, 33.33), (current.previous(), 97.8)):
        indicator_value(SAFE, cast.district_a, period.code, value, rank=1, rank_of=1)
        indicator_value(SAFE, cast.street_a1, period.code, value, rank=1, rank_of=1)
    client.force_login(cast.district_officer)
    for path in ("/dashboards/", "/dashboards/league/", "/dashboards/trends/"):
        html = client.get(f"{path}?indicator={SAFE}").content.decode()
        assert 'id="period-running"' in html, path
        assert f"{current.code} is not over yet" in html
        html = client.get(f"{path}?indicator={SAFE}&period={current.previous().code}").content.decode()
        assert 'id="period-running"' not in html, path
    year = client.get(f"/dashboards/league/?indicator={SAFE}&period_type=year").content.decode()
    assert f"{today.year} is not over yet" in year  # the year to date, too
    zh = client.get("/dashboards/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="period-running"' in zh
    # The exports too: a spreadsheet of the current month went round as the month's league,
    # nothing in it saying the month had just begun. Their title names the period as the page does.
    running = f"{current.code} is not over yet: its values cover only the days so far"
    parent = cast.district_a.code
    rows = league_csv_rows(client, indicator=SAFE, parent=parent)
    assert rows[0][0].startswith(f"{SAFE_NAME} {current.code} 甲区") and running in rows[0][0]
    assert rows[1][:2] == ["Rank", "Area code"]  # the header stays the second line
    book = load_workbook(io.BytesIO(league(client, indicator=SAFE, parent=parent, format="xlsx").content))
    assert running in book.active["A1"].value
    done = league_csv_rows(client, indicator=SAFE, period=current.previous().code, parent=parent)
    assert done[0] == [f"{SAFE_NAME} {current.previous().code} 甲区"]
    zh = client.get(
        "/dashboards/league/", {"indicator": SAFE, "format": "csv"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode("utf-8-sig")
    with translation.override("zh-hans"):
        label = current.label  # "2026年12月"
    assert zh.startswith(f"群众安全感 {label} 甲区") and f"{label}尚未结束" in zh.splitlines()[0]


def test_the_trend_names_the_period_not_over_yet_under_its_point(client, cast):
    # The warning above the trend speaks of the period picked; the chart and its table gave the
    # current month's few days a point like every whole month's, and a closure rate of a week plunged
    # the line (95% to 80%) with nothing under the point to say why. Its axis label and its column
    # say "so far"; the whole periods before it keep their labels, and a trend that ends on a past
    # period has no such label.
    from django.utils import timezone

    from governance.periods import MONTH, Period

    today = timezone.localdate()
    current = Period.of(MONTH, today.year, today.month)
    for period, value in ((current, 80.0), (current.previous(), 95.0)):
        indicator_value(SAFE, cast.district_a, period.code, value, rank=1, rank_of=1)
    client.force_login(cast.district_officer)
    response = client.get(f"/dashboards/trends/?indicator={SAFE}")
    chart = response.context["chart"]
    assert chart["periods"][-2:] == [current.previous().code, current.code]
    assert chart["labels"][-2:] == [current.previous().label, f"{current.label} (so far)"]
    # The axis writes the note on a line of its own, so the label is no wider than the others.
    assert chart["axis_labels"][-2:] == [current.previous().label, f"{current.label}\n(so far)"]
    html = response.content.decode()
    assert f"<th>{current.label} (so far)</th>" in html
    assert f'<td data-label="{current.label} (so far)">80.00%</td>' in html
    past = client.get(f"/dashboards/trends/?indicator={SAFE}&period={current.previous().code}")
    assert "so far" not in "".join(past.context["chart"]["labels"])
    zh = client.get(f"/dashboards/trends/?indicator={SAFE}", HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("zh-hans"):
        label = current.label
    assert zh.context["chart"]["labels"][-1] == f"{label}（至今）"
    assert zh.context["chart"]["axis_labels"][-1] == f"{label}\n（至今）"
    quarter = client.get(f"/dashboards/trends/?indicator={SAFE}&period_type=quarter")
    assert quarter.context["chart"]["labels"][-1].endswith(" (so far)")


def test_the_picker_shows_the_period_asked_for_even_before_its_list(client, data):
    # A period older than the 24 months offered was not among them: the list showed its first
    # one, the latest month, above a page of 2019-01, and "Show" jumped there.
    client.force_login(data.district_officer)
    for path in ("/dashboards/", "/dashboards/league/", "/dashboards/trends/"):
        html = client.get(f"{path}?indicator={SAFE}&period=2019-01").content.decode()
        selected = re.findall(r'<option value="([^"]+)" selected>', html)
        assert "2019-01" in selected and "2026-11" not in selected, (path, selected)


def test_the_picker_for_a_period_after_the_data_keeps_the_months_with_data(client, data):
    # A later period than any with values (a bookmark, the month under way) began the list at itself
    # and went 24 months back from there: a month with data far back was not one click away. (One
    # that has not begun is a 400: tests/dashboards/test_future_periods.py.)
    current = ranking.current_month().code  # after the data's 2026-11
    client.force_login(data.district_officer)
    for path in ("/dashboards/", "/dashboards/league/", "/dashboards/trends/"):
        html = client.get(f"{path}?indicator={SAFE}&period={current}").content.decode()
        offered = re.findall(r'<option value="(\d{4}-\d{2})"', html)
        assert offered[0] == current and offered[1] == "2026-11" and "2026-10" in offered, (path, offered[:3])
        assert re.findall(r'<option value="([^"]+)" selected>', html)[-1] == current


def test_periods_are_written_for_people_in_the_pages_language(client, data):
    # The pages wrote the period codes the URLs carry: "2026Q4" and "2026H2" in a Chinese heading,
    # where a reader expects 2026年第4季度 and 2026年下半年. The codes stay in links and values.
    client.force_login(data.district_officer)
    zh = "zh-hans"
    html = client.get("/dashboards/?period=2026-11", HTTP_ACCEPT_LANGUAGE=zh).content.decode()
    assert '<span class="muted nowrap">2026年11月</span></h1>' in html
    assert '<option value="2026-11" selected>2026年11月</option>' in html
    assert "period=2026-11&amp;parent=" in html
    html = client.get(f"/dashboards/league/?indicator={SAFE}&period=2026Q4", HTTP_ACCEPT_LANGUAGE=zh)
    html = html.content.decode()
    assert '· <span class="nowrap">2026年第4季度</span></span></h1>' in html
    assert '<option value="2026Q4" selected>2026年第4季度</option>' in html
    html = client.get("/dashboards/?period=2026H2", HTTP_ACCEPT_LANGUAGE=zh).content.decode()
    assert '<span class="muted nowrap">2026年下半年</span></h1>' in html
    html = client.get("/dashboards/?period=2026", HTTP_ACCEPT_LANGUAGE=zh).content.decode()
    assert '<span class="muted nowrap">2026年</span></h1>' in html
    response = client.get(
        f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000",
        HTTP_ACCEPT_LANGUAGE=zh,
    )
    chart = response.context["chart"]
    assert chart["periods"] == ["2026-10", "2026-11"] and chart["labels"] == ["2026年10月", "2026年11月"]
    assert "<th>2026年10月</th><th>2026年11月</th>" in response.content.decode()
    assert '<td data-label="2026年11月">93.20%</td>' in response.content.decode()
    # English keeps the codes' order of year and part, with the part named.
    html = client.get("/dashboards/?period=2026Q4").content.decode()
    assert '<span class="muted nowrap">Q4 2026</span></h1>' in html
    html = client.get("/dashboards/?period=2026H1").content.decode()
    assert '<span class="muted nowrap">H1 2026</span></h1>' in html


def test_a_trend_without_any_value_says_so(client, data):
    # An empty chart with one axis label and a table of headings only: nothing said there was no data.
    client.force_login(data.district_officer)
    html = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2019-01").content.decode()
    assert 'id="trend-empty"' in html and "No values for 甲区 up to 2019-01." in html
    assert 'id="trend-chart"' not in html and "dash-trend-table" not in html
    html = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11").content.decode()
    assert 'id="trend-empty"' not in html and 'id="trend-chart"' in html


def test_a_child_without_a_value_is_listed_at_the_bottom_not_left_out(client, data, cast):
    # The map drew a street without records grey as "no value", the table and its exports left it
    # out: a district's three streets read as two.
    empty = make_area("340102009000", "空街道", "street", cast.district_a, (117.05, 31.8, 117.06, 31.81))
    indicator_value(SAFE, cast.street_a1, "2026-10", 90.0, 900, 1000, rank=1, rank_of=1)
    for period, value in (("2026-09", 82.0), ("2026-10", 80.0)):  # its sparkline
        indicator_value(SAFE, empty, period, value, value * 10, 1000, rank=2, rank_of=2)
    client.force_login(data.district_officer)
    for sort in ("rank", "value", "sample", "name"):
        html = league(
            client, indicator=SAFE, period="2026-11", parent="340102000000", sort=sort
        ).content.decode()
        assert html.count("data-area=") == 2, sort
        row = html[html.index(f'data-area="{empty.code}"') :]
        row = row[: row.index("</tr>")]
        assert "not ranked" in row and "No value" in row and "numerator" not in row and "<polyline" in row
    assert html.index('data-area="340102001000"') < html.index(f'data-area="{empty.code}"')
    rows = league_csv_rows(client, indicator=SAFE, period="2026-11", parent="340102000000")
    assert rows[-1][:4] == ["not ranked", f'="{empty.code}"', "空街道", ""]
    body = client.get(
        f"/dashboards/league/map-data/?indicator={SAFE}&period=2026-11&parent=340102000000"
    ).json()
    assert body["areas"][empty.code]["value"] is None and body["breaks"] == [93.2]
    # No value for any child: the page says there are none rather than a list of blanks.
    html = league(client, indicator=SAFE, period="2026-05", parent="340102000000").content.decode()
    assert "data-area=" not in html and "No values for this period." in html


def test_an_area_without_siblings_has_no_rank_on_the_overview(client, data):
    # The city, alone at the top, read "no change · rank 1 of 1" under every headline.
    IndicatorValue.objects.filter(area=data.city, period="2026-11").update(rank=1, rank_of=1, rank_change=0)
    client.force_login(data.analyst)
    html = client.get(f"/dashboards/?indicator={SAFE}&period=2026-11").content.decode()
    assert "90.60%" in html
    card = html[html.index("90.60%") :]
    card = card[: card.index("</a>")]
    assert "rank 1 of 1" not in card and "no change" not in card
    client.force_login(data.district_officer)  # district A: first of two districts, up 4 places
    html = client.get("/dashboards/?period=2026-11").content.decode()
    assert "up 4 places" in html and "rank 1 of 2" in html


def test_an_area_below_the_minimum_sample_reads_not_ranked_on_the_overview(client, data):
    # It has ranked siblings (rank_of 2) but no rank itself: the card read "· —".
    IndicatorValue.objects.filter(area=data.district_a, indicator=SAFE, period="2026-11").update(
        rank=None, rank_change=None
    )
    client.force_login(data.district_officer)
    html = client.get("/dashboards/?period=2026-11").content.decode()
    card = html[html.index(f"indicator={SAFE}&amp;period=2026-11") :]
    card = card[: card.index("</a>")]
    assert " · not ranked" in card and "· —" not in card and "rank 1 of 2" not in card


def test_the_overview_says_not_ranked_beside_one_ranked_sibling(client, cast, monkeypatch):
    """Below the minimum sample beside a single ranked sibling (so rank_of 1, as the rollup stores
    it) the overview's card said nothing of the rank, where the league table said "not ranked"."""
    import datetime as dt

    from dashboards.models import SurveyResponse
    from dashboards.rollup import run_rollup
    from tests.dashboards import stats_data

    stats_data.only(monkeypatch)
    nov = dt.date(2026, 11, 10)
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.grid_a, nov, safe=90, unsafe=10)
        + stats_data.answers(cast.grid_b, nov, safe=19, unsafe=1)
    )
    run_rollup(full=True)
    row = IndicatorValue.objects.get(indicator=SAFE, area=cast.grid_b, period="2026-11")
    assert (row.rank, row.rank_of) == (None, 1)
    client.force_login(cast.district_officer)
    html = client.get(f"/dashboards/?period=2026-11&parent={cast.grid_b.code}").content.decode()
    card = html[html.index(f"indicator={SAFE}&amp;period=2026-11") :]
    assert "not ranked" in card[: card.index("</a>")]


def test_the_overview_gives_no_lone_dash_for_a_rank_change_it_cannot_know(client, data):
    # Ranked, but no rank in the previous period (no value then): the card read
    # "no value for the previous period · — · rank 1 of 2", a dash standing for nothing.
    IndicatorValue.objects.filter(area=data.district_a, indicator=SAFE, period="2026-11").update(
        previous_value=None, delta=None, previous_rank=None, rank_change=None
    )
    client.force_login(data.district_officer)
    html = client.get("/dashboards/?period=2026-11").content.decode()
    card = html[html.index(f"indicator={SAFE}&amp;period=2026-11") :]
    card = card[: card.index("</a>")]
    assert "no value for the previous period · rank 1 of 2" in re.sub(r"<[^>]+>", "", card)
    assert "—" not in card


def test_the_results_page_and_its_csv_give_the_year_once(client, cast, scheme):
    # The list learnt it first: the results page read "2026 平安建设考核 2026 · 全市" and its CSV
    # "2026 平安建设考核 (2026)". A name without its year still gets it.
    s, _run = scheme
    client.force_login(cast.analyst)
    html = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == f"{s.name} {cast.city.name}"
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/dashboards/assessments/{s.pk}/?format=csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0][0] == s.name
    type(s).objects.filter(pk=s.pk).update(name="平安建设考核")
    html = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", heading) == f"平安建设考核 {s.year} · {cast.city.name}"
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/dashboards/assessments/{s.pk}/?format=csv").content.decode("utf-8-sig"))
        )
    )
    assert rows[0][0] == f"平安建设考核 ({s.year})"


def test_the_league_table_says_which_way_is_better(client, data, settings):
    # Nothing on the page said that rank 1 of preventable cases per 10,000 is the lowest figure, nor
    # that the map's darkest colour is then the lowest value: its legend put "≤ 1.98" in the darkest.
    iv = indicator_value
    per_10k = "police_preventable_cases_per_10k"
    iv(per_10k, data.district_a, "2026-11", 1.98, 20, 101000, rank=1, rank_of=2)
    iv(per_10k, data.district_b, "2026-11", 3.46, 35, 101000, rank=2, rank_of=2)
    client.force_login(data.analyst)

    def direction(**params) -> str:
        html = league(client, period="2026-11", parent="340100000000", **params).content.decode()
        return html.split('id="league-direction">')[1].split("</p>")[0]

    assert direction(indicator=per_10k) == (
        "Lower is better: rank 1 is the lowest value. On the map, darker is better."
    )
    assert (
        direction(indicator=SAFE)
        == "Higher is better: rank 1 is the highest value. On the map, darker is better."
    )
    assert direction(indicator=per_10k, print="1") == "Lower is better: rank 1 is the lowest value."
    settings.LANGUAGE_CODE = "zh-hans"  # no space after the full-width 。 that ends the first sentence
    assert direction(indicator=SAFE) == "数值越高越好：数值最高者排名第 1。地图上颜色越深越好。"


def test_a_sample_just_below_the_minimum_is_not_rounded_up_on_hover_or_in_the_exports(client, data):
    # Weights have 3 decimals: 29.995 valid answers is below the minimum of 30, and the table says
    # "not ranked" with a sample of "29.995"; the hover read "denominator 30.00" and the exports
    # "30.0", a sample that should have been ranked.
    IndicatorValue.objects.filter(area=data.district_b, indicator=SAFE, period="2026-11").update(
        numerator=26.396, denominator=29.995, value=88.001334, rank=None, rank_change=None
    )
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    row = html[html.index('data-area="340103000000"') :]
    row = row[: row.index("</tr>")]
    assert 'title="numerator 26.396 / denominator 29.995"' in row and ">29.995<" in row
    rows = league_csv_rows(client, indicator=SAFE, period="2026-11", parent="340100000000")
    assert rows[3][:6] == ["not ranked", '="340103000000"', "乙区", "88.0", "26.396", "29.995"]
    response = league(client, indicator=SAFE, period="2026-11", parent="340100000000", format="xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[4]][:6] == ["not ranked", "340103000000", "乙区", 88.0, 26.396, 29.995]


def test_a_percentage_s_table_shows_its_denominator_and_a_count_s_does_not(client, data, cast):
    # A mediation success rate of 100.00% ranked first beside 50.00% third: one case of one against
    # one of two, which the page said on hover only (never on a phone's cards). A percentage's table
    # shows its denominator, as a survey's shows its sample, and sorts by it; a count has none.
    rate = "dispute_success_rate"
    indicator_value(rate, cast.district_a, "2026-11", 100.0, 1, 1, rank=1, rank_of=2)
    indicator_value(rate, cast.district_b, "2026-11", 50.0, 1, 2, rank=2, rank_of=2)
    client.force_login(data.analyst)
    assert league(client, indicator=SAFE, period="2026-11", sort="sample").status_code == 200
    response = league(
        client, indicator=rate, period="2026-11", parent="340100000000", sort="sample", dir="desc"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="sorted-desc">Denominator' in html
    row = html.split('data-area="340103000000"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-label="Denominator">2</td>' in row
    assert html.index('data-area="340103000000"') < html.index('data-area="340102000000"')
    zh = client.get(
        f"/dashboards/league/?indicator={rate}&period=2026-11&parent=340100000000",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert '<td data-label="分母">1</td>' in zh
    refused = league(client, indicator="incidents_reported", period="2026-11", sort="sample")
    html = refused.content.decode()
    assert (
        refused.status_code == 400 and "Sort by rank, value, delta, rank_change, yoy_delta or name." in html
    )
    counts = league(client, indicator="incidents_reported", period="2026-11").content.decode()
    assert 'data-label="Denominator"' not in counts and 'data-label="Sample"' not in counts


def test_trends_mark_a_survey_value_on_too_few_answers(client, data, cast):
    # The league table leaves such a value unranked; the trend table wrote it like any other.
    indicator_value(SAFE, cast.community_a1b, "2026-10", 75.0, 9, 12, rank_of=1)  # 12 answers, 30 needed
    indicator_value(SAFE, cast.community_a1b, "2026-11", 80.0, 40, 50, rank=1, rank_of=1)
    client.force_login(data.district_officer)
    html = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent={cast.community_a1b.code}")
    html = html.content.decode()
    thin = '<abbr class="dash-thin" title="fewer than 30 valid answers">*</abbr>'
    assert f'<td data-label="2026-10">75.00%{thin}</td>' in html
    assert '<td data-label="2026-11">80.00%</td>' in html
    assert "* Fewer than 30 valid answers: too few to rank, read with care." in html
    # A count is not a survey: nothing to mark.
    indicator_value("dispute_cases_received", cast.community_a1b, "2026-11", 3.0, 3, 1, rank=1, rank_of=1)
    other = client.get(
        f"/dashboards/trends/?indicator=dispute_cases_received&period=2026-11&parent={cast.community_a1b.code}"
    )
    assert "dash-thin" not in other.content.decode() and 'id="trend-thin"' not in other.content.decode()


def test_a_user_with_two_areas_can_open_either(client, data, cast):
    # The pages opened on the first area, and the second was reached only by typing its code.
    from governance.models import Membership, Role

    user = make_user("two_communities", Role.HANDLER, cast.community_a1a)
    Membership.objects.create(user=user, role=Role.HANDLER, area=cast.community_a1b)
    client.force_login(user)
    html = client.get("/dashboards/").content.decode()
    roots = html[html.index('id="scope-roots"') :]
    roots = roots[: roots.index("</nav>")]
    assert f'<strong aria-current="page">{cast.community_a1a.name}</strong>' in roots
    assert f"parent={cast.community_a1b.code}" in roots
    for url in ("/dashboards/league/", "/dashboards/trends/"):
        assert 'id="scope-roots"' in client.get(url).content.decode(), url
    assert client.get(f"/dashboards/?parent={cast.community_a1b.code}").status_code == 200
    # One area: the breadcrumbs are enough.
    client.force_login(data.district_officer)
    assert 'id="scope-roots"' not in client.get("/dashboards/").content.decode()


def test_the_page_exports_keep_area_codes_as_text_for_excel(client, data, scheme):
    """Excel reads a 12-digit cell as a number and shows 340102000000 as 3.40102E+11 (a grid's 15
    digits as 3.40102E+14): district staff opening the export saw no code they could use. The code
    cells are written ="340102000000", which Excel, WPS and LibreOffice show as the text itself; the
    XLSX export has text cells already, and the API's CSV, read by programs, keeps the bare code."""
    s, _run = scheme
    client.force_login(data.analyst)
    params = {"indicator": SAFE, "period": "2026-11", "parent": "340100000000"}
    league_text = league(client, format="csv", **params).content.decode("utf-8-sig")
    assert '"=""340102000000""",甲区' in league_text
    results = client.get(f"/dashboards/assessments/{s.pk}/?format=csv").content.decode("utf-8-sig")
    assert '"=""340102000000""",甲区' in results
    api = api_client(data.analyst).get("/api/v1/stats/rankings/", {**params, "format": "csv"})
    assert ",340102000000,甲区," in api.content.decode("utf-8-sig")


def test_the_assessment_results_say_each_items_indicator_value_under_its_score(client, cast, scheme):
    """The value an item was scored on was only in the cell's hover text, which a phone never shows:
    it is under the score (shown on the phone cards; the desk table keeps the hover text)."""
    s, run = scheme
    client.force_login(cast.analyst)
    html = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    valued = [(r, i) for r in run.results.all() for i in r.items if i["value"] is not None]
    assert valued
    result, item = valued[0]
    row = html.split(f'data-area="{result.area.code}"', 1)[1].split("</tr>", 1)[0]
    cell = row.split(f'data-label="{item["name"]} (', 1)[1].split("</td>", 1)[0]
    # with the unit the league table writes: the item here is a percentage
    assert f'<small class="dash-value">Value {float(item["value"]):.2f}%</small>' in cell, cell
    no_value = [i for r in run.results.all() for i in r.items if i["value"] is None and i["indicator"]]
    assert html.count('class="dash-value"') == len(valued), no_value


def test_the_trend_chart_names_its_value_axis_with_the_unit(client, data):
    """A district officer copying the chart into a monthly report could not tell what the y-axis
    counted: 0.9 … 2.7 of what? The axis is named with the indicator's unit ("per 10,000 residents",
    "%", "count")."""
    client.force_login(data.analyst)
    response = client.get(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000")
    assert response.context["chart"]["axis_name"] == "Percent (%)"
    indicator_value("dispute_cases_received", data.district_a, "2026-11", 1204.0, rank=1, rank_of=1)
    response = client.get(
        "/dashboards/trends/?indicator=dispute_cases_received&period=2026-11&parent=340102000000"
    )
    assert response.context["chart"]["axis_name"] == "Count"
    assert '"axis_name": "Count"' in response.content.decode()  # in the json_script trends.js reads


def test_the_trend_table_says_it_scrolls_sideways(client, data):
    """At desk width a year and more of periods runs past the right edge: the newest periods, the
    ones a monthly report needs, were hidden with nothing saying the table scrolls. trends.js opens
    the box scrolled to its right end, and a hint under it (shown by CSS only when app.js finds the box
    scrolls) says so."""
    client.force_login(data.analyst)
    html = client.get(
        f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000"
    ).content.decode()
    table_end = html.index("</table></div>")
    hint = html.index('class="muted scroll-hint"')
    assert hint > table_end
    assert (
        "The table scrolls sideways: it opens on the newest periods, the earlier ones are to the left."
        in html
    )


def test_the_assessment_results_give_each_rank_out_of_how_many(client, cast, scheme):
    """A rank "2" said nothing of how many areas were assessed: it is "2/3" as on the league table."""
    s, run = scheme
    client.force_login(cast.analyst)
    html = client.get(f"/dashboards/assessments/{s.pk}/").content.decode()
    results = list(run.results.all())
    assert len(results) > 1
    for r in results:
        row = html.split(f'data-area="{r.area.code}"', 1)[1].split("</tr>", 1)[0]
        assert f'<td data-label="Rank">{r.rank}<span class="muted">/{len(results)}</span></td>' in row, row


def test_a_years_league_table_gives_the_change_on_last_year_once(client, data):
    """A year's previous period is the same period last year: the league table of 2026 had a
    "Change" and a "Year on year" column with the same numbers in both (+16.66 and +16.66), as the
    overview already knew. The year's table has one column, "Change on last year"; the row of the
    records filed at the parent still spans to the table's end. The exports keep every column."""
    for area, value in ((data.district_a, 21.61), (data.district_b, 25.06)):
        indicator_value(
            SAFE, area, "2026", value, value * 10, 1000, rank=1, rank_of=2, delta=16.66, yoy_delta=16.66
        )
    client.force_login(data.analyst)
    html = league(client, indicator=SAFE, period="2026", parent="340100000000").content.decode()
    head = html.split('id="league"', 1)[1].split("</thead>", 1)[0]
    assert ">Change on last year</a></th>" in head
    assert "Year on year" not in head and "sort=yoy_delta" not in head
    row = html.split('data-area="340102000000"', 1)[1].split("</tr>", 1)[0]
    assert row.count("+16.66 pts") == 1, row
    assert 'data-label="Year on year"' not in row
    rows = league_csv_rows(client, indicator=SAFE, period="2026", parent="340100000000")
    assert rows[1][-2:] == ["Same period last year (%)", "Year on year (percentage points)"]
    # A month keeps both.
    month = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    assert ">Year on year</a></th>" in month


def test_a_years_overview_gives_the_change_on_last_year_in_those_words(client, data):
    """A year's previous period is last year: the overview of 2026 read "+1.32 pts on the previous
    period (91.89%)" ("较上期 …（上期 …）") where the league table of the same year heads its column
    "Change on last year" (较上年变化). A month keeps "the previous period"."""
    indicator_value(
        SAFE, data.district_a, "2026", 93.22, 932.2, 1000, previous_value=91.89, delta=1.33, rank=1, rank_of=2
    )
    client.force_login(data.district_officer)
    year = client.get("/dashboards/?period=2026", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "+1.33 pts on last year (91.89%)" in year and "on the previous period" not in year
    zh = client.get("/dashboards/?period=2026", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "较上年 +1.33 个百分点（上年 91.89%）" in zh and "较上期" not in zh
    month = client.get("/dashboards/?period=2026-11", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "+2.67 pts on the previous period (90.53%)" in month
    IndicatorValue.objects.filter(area=data.district_a, period="2026").update(previous_value=None, delta=None)
    first = client.get("/dashboards/?period=2026", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "上年无数据" in first and "上期无数据" not in first


def test_the_overview_says_which_headlines_are_better_lower(client, data):
    """The preventable cases per 10,000 residents read "+0.40 on the previous period" in the same card
    as the rates, where a rise is good: an officer copying the figures into a report could not tell
    the rise was bad. A lower-is-better headline says so under its name; the others do not."""
    client.force_login(data.district_officer)
    html = client.get("/dashboards/?period=2026-11").content.decode()
    cards = html.split('class="card dash-headline"')[1:]
    lower = [c for c in cards if "Preventable cases per 10,000 residents" in c.split("</a>", 1)[0]]
    assert len(lower) == 1
    assert '<span class="muted dash-lower">Lower is better</span>' in lower[0].split("</a>", 1)[0]
    assert html.count("dash-lower") == 1


def test_the_trend_of_a_lower_is_better_indicator_says_so(client, data):
    """A line going up reads as good, as it is for the rates: the trend of the preventable cases per
    10,000 residents says beside its title that lower is better, as the overview's card does."""
    client.force_login(data.analyst)
    url = "/dashboards/trends/?indicator={}&period=2026-11&parent=340102000000"
    lower = client.get(url.format("police_preventable_cases_per_10k")).content.decode()
    title = re.search(r"<h1[^>]*>(.*?)</h1>", lower, re.S).group(1)
    assert '<span class="muted dash-lower">Lower is better</span>' in title
    assert "dash-lower" not in client.get(url.format(SAFE)).content.decode()


def test_the_league_table_and_trends_state_the_indicator_s_formula_in_the_reader_s_language(
    client, data, settings
):
    """The registry's description (what the numerator and denominator count) was given by the API
    only: a reader of the league table had a name, "群众安全感", and no way to tell which answers made
    it. It is stated under the title, as the setting makes it."""
    client.force_login(data.analyst)
    client.cookies["django_language"] = "zh-hans"
    html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    definition = (
        '<p class="muted" id="league-definition">受访群众中回答“很安全”、“安全”、“基本安全”的比例，'
        "按有效回答计算（不含“不清楚”），每份回答按其样本权重计。</p>"
    )
    assert definition in html
    settings.SURVEY_SAFE_ANSWERS = ("very_safe", "safe")
    html = league(client, indicator=SAFE, period="2026-11", parent="340100000000").content.decode()
    assert "回答“很安全”、“安全”的比例" in html and "“基本安全”" not in html
    # A grid's page (nothing below it to rank) states it too.
    html = league(client, indicator=SAFE, period="2026-11", parent=data.grid_a.code).content.decode()
    assert 'id="league-definition"' in html and 'id="league-leaf"' in html
    # The trends page of the same indicator states it too.
    html = client.get(
        f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102000000"
    ).content.decode()
    assert '<p class="muted" id="trends-definition">受访群众中回答“很安全”、“安全”的比例，' in html
