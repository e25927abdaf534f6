"""Values of the rollup worked out by hand on small datasets, for the cases the other rollup tests
do not pin: periods across a year end, the first year (no year on year), an area with no value in
the previous period, a zero denominator, and the units of delta for counts and scores."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.db.models import Count, FloatField, Q, Sum
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.models import AreaPopulation, IndicatorValue, PreventableCaseCount, SurveyResponse
from dashboards.rollup import run_rollup
from governance import indicators as registry_api
from governance.indicators import MonthOfDate
from tests.base import api_client, nightly_run_matches_full_rebuild
from tests.dashboards import stats_data

FIELDS = ("numerator", "denominator", "value", "rank", "rank_of", "previous_value", "delta")
CHANGES = ("previous_rank", "rank_change", "yoy_value", "yoy_delta")


def row(indicator: str, area, period: str, fields=FIELDS + CHANGES) -> tuple:
    v = IndicatorValue.objects.get(indicator=indicator, area=area, period=period)
    return tuple(getattr(v, f) for f in fields)


@pytest.fixture
def year_end(cast, monkeypatch):
    """Survey answers of grids A and B (community A1a), all weights 1:

    month     grid A                         grid B
    2025-12   40 safe of 50 = 80 %           45 of 50 = 90 %
    2026-01   27 of 30 = 90 % (+7 don't know)  21 of 30 = 70 %
    2026-02   -                              30 of 40 = 75 %
    2026-03   30 of 30 = 100 %               -

    No answers before December 2025: 2025 is the first year, whose year on year is unknown.
    """
    stats_data.only(monkeypatch)
    a, b = cast.grid_a, cast.grid_b
    SurveyResponse.objects.bulk_create(
        stats_data.answers(a, dt.date(2025, 12, 5), safe=40, unsafe=10)
        + stats_data.answers(b, dt.date(2025, 12, 5), safe=45, unsafe=5)
        + stats_data.answers(a, dt.date(2026, 1, 31), safe=27, unsafe=3, dont_know=7)
        + stats_data.answers(b, dt.date(2026, 1, 1), safe=21, unsafe=9)
        + stats_data.answers(b, dt.date(2026, 2, 28), safe=30, unsafe=10)
        + stats_data.answers(a, dt.date(2026, 3, 1), safe=30)
    )
    run_rollup(full=True)
    return cast


def test_january_compares_with_december_of_the_year_before_and_has_no_year_on_year(year_end):
    safety, a, b = "survey_safety_rate", year_end.grid_a, year_end.grid_b
    # A: 90 % from 80 %, first of two from second; no January 2025 to compare with.
    assert row(safety, a, "2026-01") == (27, 30, 90.0, 1, 2, 80.0, 10.0, 2, 1, None, None)
    assert row(safety, b, "2026-01") == (21, 30, 70.0, 2, 2, 90.0, -20.0, 1, -1, None, None)


def test_an_area_without_a_value_in_the_previous_period_has_no_delta_and_no_rank_change(year_end):
    safety, a, b = "survey_safety_rate", year_end.grid_a, year_end.grid_b
    # A has no answers in February: March is first of one, with nothing to compare with (null, not 0).
    assert row(safety, a, "2026-03") == (30, 30, 100.0, 1, 1, None, None, None, None, None, None)
    # B in February: alone, first of one, from second of two in January: up one place.
    assert row(safety, b, "2026-02") == (30, 40, 75.0, 1, 1, 70.0, 5.0, 2, 1, None, None)
    assert not IndicatorValue.objects.filter(area=a, period="2026-02").exists()


def test_a_quarter_is_not_compared_with_one_the_data_covered_only_in_part(year_end):
    """2026Q1: A (27 + 30) / (30 + 30) = 95 %, B (21 + 30) / (30 + 40) = 51 / 70 = 72.857143 %.
    2025Q4 has December only: the answers begin then (the indicator's first month), so October and
    November were not surveyed at all, and "from 80 % in 2025Q4" would compare a quarter with a
    month of it. 2026Q1 and 2026H1 have no previous value, delta or rank change (2026-01, whose
    previous month is whole, has them: the test above)."""
    safety, y = "survey_safety_rate", year_end
    for period, previous in (("2026Q1", "2025Q4"), ("2026H1", "2025H2")):
        assert row(safety, y.grid_a, period) == (57, 60, 95.0, 1, 2, None, None, None, None, None, None)
        assert row(safety, y.grid_b, period) == (
            51, 70, 72.857143, 2, 2, None, None, None, None, None, None,
        )  # fmt: skip
        assert row(safety, y.community_a1a, period)[:3] + row(safety, y.community_a1a, period)[5:7] == (
            108, 130, 83.076923, None, None,
        )  # fmt: skip
        # The partly covered period keeps its own value and rank: only comparing with it is refused.
        assert row(safety, y.grid_a, previous) == (40, 50, 80.0, 2, 2) + (None,) * 6


def test_the_first_year_has_no_previous_year_and_the_next_is_not_compared_with_a_part_of_it(year_end):
    safety, y = "survey_safety_rate", year_end
    assert row(safety, y.grid_a, "2025") == (40, 50, 80.0, 2, 2, None, None, None, None, None, None)
    assert row(safety, y.grid_b, "2025") == (45, 50, 90.0, 1, 2, None, None, None, None, None, None)
    # 2026: the previous period and the same period last year are both 2025, of which December
    # alone had answers: neither is a comparison.
    assert row(safety, y.grid_a, "2026") == (57, 60, 95.0, 1, 2, None, None, None, None, None, None)
    assert row(safety, y.grid_b, "2026") == (51, 70, 72.857143, 2, 2) + (None,) * 6


def test_answers_filed_before_the_first_month_make_the_quarter_after_comparable(year_end):
    """Answers of July 2025 arrive late (grid A, 9 safe of 10): the indicator's data now begins in
    July, so 2025Q4 (October to December: December's answers, no survey in the two months before
    being a month without answers, not one before the data began) and 2025H2 are whole periods
    of it. The nightly run recomputes the periods after every period that starts between the old
    first month and the new one (2026Q1, whose previous quarter starts in October, contains no
    month that changed) and publishes what a full rebuild does.

    2026Q1 of A: 95 % from 2025Q4's 80 %, +15, rank 1 from 2; B 72.857143 % from 90 %. 2026H1 of
    A: from 2025H2's (9 + 40) / (10 + 50) = 81.666667 %, +13.333333. 2026 still has no year on
    year: 2025 starts in January."""
    safety, a, b = "survey_safety_rate", year_end.grid_a, year_end.grid_b

    def july() -> None:
        SurveyResponse.objects.bulk_create(stats_data.answers(a, dt.date(2025, 7, 10), safe=9, unsafe=1))

    nightly_run_matches_full_rebuild(july)
    assert row(safety, a, "2026Q1") == (57, 60, 95.0, 1, 2, 80.0, 15.0, 2, 1, None, None)
    assert row(safety, b, "2026Q1") == (51, 70, 72.857143, 2, 2, 90.0, -17.142857, 1, -1, None, None)
    assert row(safety, a, "2026H1") == (57, 60, 95.0, 1, 2, 81.666667, 13.333333, 2, 1, None, None)
    assert row(safety, a, "2026")[5:] == (None,) * 6
    # July 2025 itself: grid A alone, unranked (10 answers, below the minimum sample of 30), and
    # nothing before it.
    assert row(safety, a, "2025-07") == (9, 10, 90.0, None, 0) + (None,) * 6


def test_when_the_first_month_s_records_go_the_comparisons_that_relied_on_them_go_too(year_end):
    """The reverse: July 2025's answers are in, then deleted by hand (the weekly full run's case, or
    ``rollup --since``): the data begins in December again, and 2026Q1 loses its comparison with
    2025Q4. A run ``--since 2025-07`` refreshes those months and publishes what a full rebuild
    does."""
    from dashboards.models import RollupRun
    from tests.base import published_values

    safety, a = "survey_safety_rate", year_end.grid_a
    SurveyResponse.objects.bulk_create(stats_data.answers(a, dt.date(2025, 7, 10), safe=9, unsafe=1))
    run_rollup(full=True)
    assert row(safety, a, "2026Q1")[5:7] == (80.0, 15.0)
    SurveyResponse.objects.filter(date=dt.date(2025, 7, 10)).delete()
    run = run_rollup(since=dt.date(2025, 7, 1))
    assert (run.status, run.kind) == (RollupRun.Status.SUCCESS, RollupRun.Kind.INCREMENTAL)
    rows = published_values()
    assert row(safety, a, "2026Q1") == (57, 60, 95.0, 1, 2) + (None,) * 6
    assert not IndicatorValue.objects.filter(indicator=safety, period="2025-07").exists()
    run_rollup(full=True)
    assert published_values() == rows


def test_answers_of_december_imported_late_reach_january_the_first_quarter_and_the_next_year(year_end):
    """The nightly run refreshes December 2025 and, across the year end, the periods whose previous
    period it is (2026-01, 2026Q1, 2026H1, 2026): grid A's December becomes 50 of 60 = 83.333333 %,
    which January compares with."""
    safety, a = "survey_safety_rate", year_end.grid_a

    def late_answers() -> None:
        SurveyResponse.objects.bulk_create(stats_data.answers(a, dt.date(2025, 12, 20), safe=10))

    nightly_run_matches_full_rebuild(late_answers)
    fields = ("value", "previous_value", "delta", "previous_rank", "rank_change", "yoy_value", "yoy_delta")
    assert row(safety, a, "2025-12", fields) == (83.333333, None, None, None, None, None, None)
    assert row(safety, a, "2026-01", fields) == (90.0, 83.333333, 6.666667, 2, 1, None, None)
    # (2025Q4, 2025H2 and 2025 have December alone: no comparison, docs/statistics.md section 2.)
    for period in ("2026Q1", "2026H1", "2026"):
        assert row(safety, a, period, fields) == (95.0, None, None, None, None, None, None)


def test_per_10000_across_the_year_end_divides_each_year_by_its_population_at_every_level(cast, monkeypatch):
    """Preventable cases (lower better). Community A1a has 2,000 residents in 2025 and 4,000 in 2026
    (yearly figures); A1b its own 1,500 both years. Their street adds the residents of each
    reporting community once, each community's figure of the period's last month it reported:

    period   A1a cases / residents -> rate   A1b                 street A1
    2025-12  4 / 2000 -> 20                  3 / 1500 -> 20      7 / 3500 -> 20      (a tie)
    2026-01  4 / 4000 -> 10                  6 / 1500 -> 40      10 / 5500 -> 18.181818
    2026-02  8 / 4000 -> 20                  -                   8 / 4000 -> 20
    2026Q1   12 / 4000 -> 30                 6 / 1500 -> 40      18 / 5500 -> 32.727273
    2025Q4, 2025: as 2025-12;  2026: as 2026Q1

    A1b also reported 0 cases in January 2025 (2025-01: 0 / 1500 -> 0, which adds nothing to a sum
    and, the population being that of the last month reported, changes no denominator): the data
    begins then, so 2025Q4 and 2025 are whole periods of it and 2026Q1 and 2026 are compared with
    them (docs/statistics.md section 2, "Previous value").
    """
    stats_data.only(monkeypatch)
    a1a, a1b, street = cast.community_a1a, cast.community_a1b, cast.street_a1
    now = timezone.now()
    AreaPopulation.objects.bulk_create(
        AreaPopulation(area=a1a, year=year, population=n, updated_at=now)
        for year, n in ((2025, 2000), (2026, 4000))
    )
    PreventableCaseCount.objects.bulk_create(
        PreventableCaseCount(area=area, month=month, kind="burglary", count=n, updated_at=now)
        for area, month, n in (
            (a1b, dt.date(2025, 1, 1), 0),
            (a1a, dt.date(2025, 12, 1), 4),
            (a1b, dt.date(2025, 12, 1), 3),
            (a1a, dt.date(2026, 1, 1), 4),
            (a1b, dt.date(2026, 1, 1), 6),
            (a1a, dt.date(2026, 2, 1), 8),
        )
    )
    run_rollup(full=True)
    rate = "police_preventable_cases_per_10k"
    fields = (
        "numerator",
        "denominator",
        "value",
        "rank",
        "previous_value",
        "delta",
        "previous_rank",
        "rank_change",
    )
    assert row(rate, a1a, "2026-01", fields) == (4, 4000, 10.0, 1, 20.0, -10.0, 1, 0)
    assert row(rate, a1b, "2026-01", fields) == (6, 1500, 40.0, 2, 20.0, 20.0, 1, -1)
    assert row(rate, a1a, "2026Q1", fields) == (12, 4000, 30.0, 1, 20.0, 10.0, 1, 0)
    assert row(rate, a1b, "2026Q1", fields) == (6, 1500, 40.0, 2, 20.0, 20.0, 1, -1)
    street_fields = ("numerator", "denominator", "value", "previous_value", "delta")
    assert row(rate, street, "2025-12", street_fields) == (7, 3500, 20.0, None, None)
    assert row(rate, street, "2026-01", street_fields) == (10, 5500, 18.181818, 20.0, -1.818182)
    assert row(rate, street, "2026-02", street_fields) == (8, 4000, 20.0, 18.181818, 1.818182)
    assert row(rate, street, "2026Q1", street_fields) == (18, 5500, 32.727273, 20.0, 12.727273)
    assert row(rate, cast.district_a, "2026Q1", street_fields) == (18, 5500, 32.727273, 20.0, 12.727273)
    year = ("value", "previous_value", "delta", "yoy_value", "yoy_delta")
    assert row(rate, a1a, "2026", year) == (30.0, 20.0, 10.0, 20.0, 10.0)
    assert row(rate, street, "2026", year) == (32.727273, 20.0, 12.727273, 20.0, 12.727273)
    assert row(rate, street, "2025", year) == (20.0, None, None, None, None)


# --- units of delta, zero denominators ------------------------------------------------------------


def _answers_by_kind(start: dt.date, end: dt.date):
    """Test sources from the survey answers: per area and month, the number of answers, the weight of
    "safe" ones, and the number of answers of people 65 and older (0, not NULL, when there are none)."""
    return (
        SurveyResponse.objects.filter(date__gte=start, date__lt=end)
        .values("area_id", month=MonthOfDate("date"))
        .annotate(
            answers=Count("id"),
            one=Count("id"),
            safe_weight=Cast(Sum("weight", filter=Q(safety="safe")), FloatField()),
            old_safe=Count("id", filter=Q(age_group="65+", safety="safe")),
            old=Count("id", filter=Q(age_group="65+")),
        )
        .order_by()
    )


def _spec(code: str, unit: str, numerator: str, denominator: str, **kw) -> registry_api.IndicatorSpec:
    return registry_api.IndicatorSpec(
        code=code,
        name=code,
        unit=unit,
        direction=registry_api.HIGHER_BETTER,
        source=_answers_by_kind,
        numerator=numerator,
        denominator=denominator,
        **kw,
    )


COUNT = _spec("t_answers", registry_api.COUNT, "answers", "one")
SCORE = _spec("t_safe_weight_per_answer", registry_api.SCORE, "safe_weight", "answers", min_sample=3)
OLD = _spec("t_old_safe_rate", registry_api.PERCENT, "old_safe", "old")


@pytest.fixture
def units(cast, monkeypatch):
    """Grids A and B, October and November 2026 (rows of ``stats_data.answers``: one per answer kind,
    age 35-44, each with its weight):

    grid A  Oct: safe 3, unsafe 1 (2 rows, weight 4)   Nov: safe 1.5, unsafe 1, very_safe 1 (3 rows)
    grid B  Oct: safe 2 (1 row)                        Nov: safe 5, unsafe 1 (2 rows)
    grid B  Nov: one more answer, 65+, safe, weight 1
    """
    stats_data.only(monkeypatch, COUNT, SCORE, OLD)
    a, b = cast.grid_a, cast.grid_b
    oct_, nov = dt.date(2026, 10, 3), dt.date(2026, 11, 3)
    rows = stats_data.answers(a, oct_, safe=3, unsafe=1) + stats_data.answers(b, oct_, safe=2)
    rows += stats_data.answers(a, nov, safe=1.5, unsafe=1, very_safe=1) + stats_data.answers(
        b, nov, safe=5, unsafe=1
    )
    old = stats_data.answers(b, nov, safe=1)
    old[0].age_group = "65+"
    SurveyResponse.objects.bulk_create(rows + old)
    run_rollup(full=True)
    return cast


def test_a_count_s_delta_is_in_records_and_its_value_is_its_numerator(units):
    a, b, fields = units.grid_a, units.grid_b, ("value", "rank", "previous_value", "delta", "rank_change")
    # October: A 2 answers (first), B 1; November: 3 each, a tie, both first.
    assert row("t_answers", a, "2026-11", fields) == (3, 1, 2, 1, 0)
    assert row("t_answers", b, "2026-11", fields) == (3, 1, 1, 2, 1)
    assert row("t_answers", units.community_a1a, "2026Q4", ("value", "denominator")) == (9, 9)


def test_a_score_s_value_and_delta_are_plain_ratios_without_a_factor(units):
    # A: 3 / 2 answers = 1.5 in October, 1.5 / 3 = 0.5 in November: down 1.0 (not 100 points).
    fields = ("numerator", "denominator", "value", "previous_value", "delta")
    assert row("t_safe_weight_per_answer", units.grid_a, "2026-11", fields) == (1.5, 3, 0.5, 1.5, -1.0)
    # B: 2 / 1 then (5 + 1) / 3 = 2.
    assert row("t_safe_weight_per_answer", units.grid_b, "2026-11", fields) == (6, 3, 2.0, 2.0, 0.0)
    # Grid B ahead; the quarter: A 4.5 / 5 = 0.9, B 8 / 4 = 2.
    quarter = ("value", "rank")
    assert row("t_safe_weight_per_answer", units.grid_a, "2026Q4", quarter) == (0.9, 2)
    assert row("t_safe_weight_per_answer", units.grid_b, "2026Q4", quarter) == (2.0, 1)


def test_an_area_not_ranked_in_the_previous_period_has_a_delta_but_no_rank_change(units):
    # A minimum sample of 3 answers: in October A (2) and B (1) were shown, not ranked; in November
    # both have 3. The values compare; the places do not (there was no place to move from).
    fields = ("value", "rank", "rank_of", "previous_value", "delta", "previous_rank", "rank_change")
    assert row("t_safe_weight_per_answer", units.grid_a, "2026-10", fields[:3]) == (1.5, None, 0)
    assert row("t_safe_weight_per_answer", units.grid_a, "2026-11", fields) == (
        0.5,
        2,
        2,
        1.5,
        -1.0,
        None,
        None,
    )
    assert row("t_safe_weight_per_answer", units.grid_b, "2026-11", fields) == (
        2.0,
        1,
        2,
        2.0,
        0.0,
        None,
        None,
    )


def test_a_percentage_over_zero_is_shown_without_a_value_and_not_ranked_in_values_and_rankings(units):
    """Grid A has answers but none of people 65+: 0 of 0, a row with a null value, no rank, and not
    counted in rank_of; grid B's one answer of 65+ is safe: 100 %, first of one. The community sums
    both: 1 of 1."""
    fields = ("numerator", "denominator", "value", "rank", "rank_of")
    assert row("t_old_safe_rate", units.grid_a, "2026-11", fields) == (0, 0, None, None, 1)
    assert row("t_old_safe_rate", units.grid_b, "2026-11", fields) == (1, 1, 100.0, 1, 1)
    assert row("t_old_safe_rate", units.community_a1a, "2026-11", fields) == (1, 1, 100.0, 1, 1)
    # October: both grids 0 of 0, neither ranked; November's B then has no previous value to compare.
    assert row("t_old_safe_rate", units.grid_b, "2026-10", fields) == (0, 0, None, None, 0)
    assert row("t_old_safe_rate", units.grid_b, "2026-11", ("previous_value", "delta", "rank_change")) == (
        None,
        None,
        None,
    )
    client = api_client(units.analyst)
    params = {"indicator": "t_old_safe_rate", "period": "2026-11", "parent": units.community_a1a.code}
    ranked = client.get("/api/v1/stats/rankings/", params).json()["results"]
    assert [(r["area"], r["value"], r["rank"], r["rank_of"]) for r in ranked] == [
        (units.grid_b.code, 100.0, 1, 1),
        (units.grid_a.code, None, None, 1),
    ]
    values = client.get("/api/v1/stats/values/", params).json()["results"]
    assert sorted(values, key=lambda r: r["area"]) == sorted(ranked, key=lambda r: r["area"])


def test_the_csv_of_values_rankings_and_series_holds_the_json_s_rows_cell_for_cell(year_end):
    """Nulls (no previous year), negative deltas and whole and fractional numbers, every field of every
    row: a CSV cell is the JSON value written as the JSON writes it, null an empty cell."""
    client = api_client(year_end.analyst)
    safety = "survey_safety_rate"
    for path, params in (
        ("values", {"indicator": safety, "page_size": 500}),
        ("rankings", {"indicator": safety, "period": "2026Q1", "parent": year_end.community_a1a.code}),
        ("series", {"indicator": safety, "area": year_end.grid_b.code, "period_type": "month"}),
    ):
        as_json = client.get(f"/api/v1/stats/{path}/", params).json()["results"]
        response = client.get(f"/api/v1/stats/{path}/", {**params, "format": "csv"})
        as_csv = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(as_json) == len(as_csv) > 1, path
        expected = [
            {k: "" if v is None else json.dumps(v) if not isinstance(v, str) else v for k, v in r.items()}
            for r in as_json
        ]
        assert as_csv == expected, path
    assert any(r["delta"].startswith("-") for r in as_csv) and any(r["yoy_value"] == "" for r in as_csv)


def test_the_pages_say_why_no_change_is_shown_for_a_partly_covered_period(client, year_end):
    """The league table of 2026Q1 showed no change (—) for either grid without saying why, as if
    2025Q4 had had no answers: a sentence above the table says the data begins in 2025-12, so
    2025Q4 is covered only in part; the overview's card says it in place of "no value for the
    previous period". 2026-01, compared with a whole December, has none; nor has a year on year
    with a period before the data (2025Q1: no value, and the card says so)."""
    safety, y = "survey_safety_rate", year_end
    client.force_login(y.analyst)
    reason = (
        "No change shown: the data of this indicator begins in 2025-12, so Q4 2025 is covered only in part."
    )
    query = {"indicator": safety, "period": "2026Q1", "parent": y.community_a1a.code}
    client.get("/dashboards/league/", query)  # warm up
    with CaptureQueriesContext(connection) as counted:
        html = client.get("/dashboards/league/", query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<p class="muted" id="league-partial">{reason}</p>' in html
    zh = client.get("/dashboards/league/", query, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "不显示变化：本指标的数据自2025年12月起，2025年第4季度仅部分覆盖。" in zh
    # Two grids more would not cost a query more (the reason is read once per page).
    from tests.base import make_area

    for i in (3, 4):
        make_area(f"34010200100100{i}", f"第{i}网格", "grid", y.community_a1a, (117.0, 31.8, 117.01, 31.81))
    with CaptureQueriesContext(connection) as more:
        more_html = client.get("/dashboards/league/", query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "第4网格" in more_html and len(more) == len(counted)
    month = client.get("/dashboards/league/", {**query, "period": "2026-01"}).content.decode()
    assert 'id="league-partial"' not in month
    overview = client.get(
        "/dashboards/", {"period": "2026Q1", "parent": y.community_a1a.code}
    ).content.decode()
    assert f"<span data-partial>— {reason}</span>" in overview
    assert "no value for the same period last year" in overview
    # Bad input is a 400 naming the field; an area outside the user's scope a 404.
    assert client.get("/dashboards/league/", {**query, "period": "2026Q5"}).status_code == 400
    client.force_login(y.outsider)
    assert client.get("/dashboards/league/", query).status_code == 404
    assert client.get("/dashboards/", {"period": "2026Q1", "parent": y.community_a1a.code}).status_code == 404
