"""Exact numbers of the rollup engine on the hand-built dataset of stats_data.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from dashboards import intake
from dashboards.models import IndicatorValue, MonthlyFact, PreventableCaseCount, RollupRun, SurveyResponse
from dashboards.rollup import run_rollup
from governance.models import Area
from tests.base import make_area
from tests.dashboards import stats_data


@pytest.fixture
def data(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    return cast


def value(indicator: str, area, period: str) -> IndicatorValue:
    return IndicatorValue.objects.get(indicator=indicator, area=area, period=period)


def test_a_percentage_is_the_ratio_of_sums_never_the_average_of_child_ratios(data):
    run_rollup(full=True)
    community = value("survey_safety_rate", data.community_a1a, "2026-11")
    # (9320 + 90 + 90 + 80) / (10000 + 100 + 100 + 100); the average of the four would be 88.30.
    assert community.numerator == 9580 and community.denominator == 10300
    assert community.value == pytest.approx(93.009709, abs=1e-6)
    street = value("survey_safety_rate", data.street_a1, "2026-11")
    assert street.value == pytest.approx(100 * (9580 + 19) / (10300 + 20), abs=1e-6)


def test_siblings_that_tie_share_a_rank_and_the_next_rank_is_skipped(data):
    run_rollup(full=True)
    ranks = {
        g: value("survey_safety_rate", getattr(data, f"grid_{g}"), "2026-11").rank
        for g in ["a", "b", "e", "f"]
    }
    assert ranks == {"a": 1, "b": 2, "e": 2, "f": 4}
    assert value("survey_safety_rate", data.grid_b, "2026-11").rank_of == 4


def test_equal_weighted_ratios_on_a_half_tie_and_round_away_from_zero(cast, monkeypatch):
    """51.211 of 64 and 512.11 of 640 are both 80.0171875%: the divisions' last bits fell either
    side of the half, and the two grids were stored as 80.017187 (rank 2) and 80.017188 (rank 1)."""
    stats_data.only(monkeypatch)
    june = dt.date(2026, 6, 10)
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.grid_a, june, safe=51.211, unsafe=12.789)
        + stats_data.answers(cast.grid_b, june, safe=512.11, unsafe=127.89)
        + stats_data.answers(cast.grid_c, june, safe=1, unsafe=511)  # 1 of 512: 0.1953125%
    )
    run_rollup(full=True)
    rows = {
        v.area_id: (v.numerator, v.denominator, v.value, v.rank)
        for v in IndicatorValue.objects.filter(indicator="survey_safety_rate", period="2026-06", level="grid")
    }
    assert rows[cast.grid_a.pk] == (51.211, 64, 80.017188, 1)
    assert rows[cast.grid_b.pk] == (512.11, 640, 80.017188, 1)
    assert rows[cast.grid_c.pk][:3] == (1, 512, 0.195313)  # (another community's grid: ranked there)


def test_delta_is_in_percentage_points_and_rank_change_in_places(data):
    run_rollup(full=True)
    a = value("survey_safety_rate", data.grid_a, "2026-11")
    assert a.value == pytest.approx(93.20) and a.previous_value == pytest.approx(90.53)
    assert a.delta == pytest.approx(2.67, abs=1e-9)  # "93.20%, up 2.67 points"
    assert (a.previous_rank, a.rank, a.rank_change) == (3, 1, 2)  # "up 2 places"
    f = value("survey_safety_rate", data.grid_f, "2026-11")
    assert (f.previous_rank, f.rank, f.rank_change) == (1, 4, -3)


def test_year_on_year_compares_the_same_period_last_year(data):
    run_rollup(full=True)
    a = value("survey_safety_rate", data.grid_a, "2026-11")
    assert a.yoy_value == pytest.approx(88.0) and a.yoy_delta == pytest.approx(5.2, abs=1e-9)
    assert value("survey_safety_rate", data.grid_b, "2026-11").yoy_value is None


def test_dont_know_answers_are_not_valid_answers(data):
    run_rollup(full=True)
    a = value("survey_safety_rate", data.grid_a, "2026-11")
    assert a.denominator == 10000  # the 500 "don't know" are left out


def test_areas_below_the_minimum_sample_are_shown_but_not_ranked(data):
    run_rollup(full=True)
    c = value("survey_safety_rate", data.grid_c, "2026-11")
    assert c.value == pytest.approx(95.0) and c.rank is None and c.rank_of == 0
    # community A1b has only grid C's 20 answers: unranked; A1a is then first of one.
    assert value("survey_safety_rate", data.community_a1b, "2026-11").rank is None
    a1a = value("survey_safety_rate", data.community_a1a, "2026-11")
    assert (a1a.rank, a1a.rank_of) == (1, 1)


def test_the_setting_decides_which_answers_count_as_safe(data, settings):
    run_rollup(full=True)
    settings.SURVEY_SAFE_ANSWERS = ["very_safe", "safe"]
    run = run_rollup()  # the changed setting forces a full rebuild by itself
    assert run.kind == RollupRun.Kind.FULL
    assert value("survey_safety_rate", data.grid_a, "2026-11").value == pytest.approx(90.0)
    assert value("survey_safety_rate", data.grid_b, "2026-11").value == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SURVEY_SAFE_ANSWERS", ["very_safe", "very-safe"]),  # a misspelt code counted nothing
        ("SURVEY_SAFE_ANSWERS", "very_safe"),  # no tuple comma: read letter by letter
        ("SURVEY_SATISFIED_ANSWERS", ["satisfied", "dont_know"]),  # never a valid answer
        ("SURVEY_SATISFIED_ANSWERS", []),
        ("PREVENTABLE_CASE_KINDS", "burglary"),
    ],
)
def test_a_setting_of_which_answers_or_kinds_count_that_is_wrong_fails_loudly(data, settings, name, value):
    run_rollup(full=True)
    published = list(IndicatorValue.objects.order_by("id").values_list("id", "value"))
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=name):
        run_rollup()
    # Nothing published from it: the last values stay.
    assert list(IndicatorValue.objects.order_by("id").values_list("id", "value")) == published


def test_the_case_count_import_refuses_to_run_on_a_wrong_list_of_kinds(data, settings):
    settings.PREVENTABLE_CASE_KINDS = "burglary"  # no tuple comma: kinds "b", "u", "r", ...
    rows = [{"area": data.grid_a.code, "month": "2026-10", "kind": "b", "count": 1}]
    before = PreventableCaseCount.objects.count()
    with pytest.raises(ImproperlyConfigured, match="PREVENTABLE_CASE_KINDS"):
        intake.case_counts_import(table=intake.table_from_list(rows), actor=None)
    assert PreventableCaseCount.objects.count() == before


def test_quarters_halves_and_years_are_sums_of_their_months(data):
    run_rollup(full=True)
    q4 = value("survey_safety_rate", data.grid_a, "2026Q4")
    assert (q4.numerator, q4.denominator) == (9320 + 9053, 20000)
    assert q4.value == pytest.approx(91.865, abs=1e-6)
    assert value("survey_safety_rate", data.grid_a, "2026H2").value == pytest.approx(91.865, abs=1e-6)
    year = value("survey_safety_rate", data.grid_a, "2026")
    # 2025 has a value (November's 88%), but the answers begin in November 2025: a year of which
    # two months were surveyed is no comparison for a whole one (docs/statistics.md section 2).
    assert year.period_type == "year" and year.yoy_value is None and year.yoy_delta is None
    assert value("survey_safety_rate", data.grid_a, "2025").value == pytest.approx(88.0)


def test_preventable_cases_per_10k_rank_lower_first_and_count_population_once_per_period(data):
    run_rollup(full=True)
    a1a = value("police_preventable_cases_per_10k", data.community_a1a, "2026-11")
    a1b = value("police_preventable_cases_per_10k", data.community_a1b, "2026-11")
    # fraud is not a preventable kind: 3 cases / 1500 residents * 10000
    assert a1a.value == pytest.approx(20.0) and a1b.value == pytest.approx(40.0)
    assert (a1a.rank, a1b.rank) == (1, 2)
    street = value("police_preventable_cases_per_10k", data.street_a1, "2026-11")
    assert street.value == pytest.approx(30.0)
    q4 = value("police_preventable_cases_per_10k", data.community_a1a, "2026Q4")
    assert (q4.numerator, q4.denominator, q4.value) == (6, 1500, pytest.approx(40.0))
    assert a1a.yoy_value == pytest.approx(40.0) and a1a.yoy_delta == pytest.approx(-20.0)


def test_a_run_is_recorded_with_rows_seconds_and_statements(data):
    run = run_rollup(full=True)
    assert run.status == RollupRun.Status.SUCCESS and run.finished_at and run.seconds >= 0
    assert run.rows == IndicatorValue.objects.count() > 0
    assert MonthlyFact.objects.filter(indicator="survey_safety_rate").count() == 11
    assert IndicatorValue.objects.filter(run=run).count() == run.rows


def test_weights_summing_to_the_minimum_sample_reach_it_whatever_the_float_sums_say(data):
    # 1.13 + 8.54 + 20.33 is 30 units of weight, but added as floats, in any order, it is
    # 29.999999999999996: the quarter was left unranked (below 30) and published that noise.
    days = [dt.date(2026, 7, 10), dt.date(2026, 8, 10), dt.date(2026, 9, 10)]
    rows = []
    for day, weight in zip(days, [1.13, 8.54, 20.33], strict=True):
        rows += stats_data.answers(data.grid_d, day, safe=weight)
    SurveyResponse.objects.bulk_create(rows)
    run_rollup(full=True)
    q3 = value("survey_safety_rate", data.grid_d, "2026Q3")
    assert (q3.numerator, q3.denominator, q3.value) == (30, 30, 100)
    assert (q3.rank, q3.rank_of) == (1, 1)
    community = value("survey_safety_rate", data.community_b1a, "2026Q3")
    assert (community.denominator, community.rank, community.rank_of) == (30, 1, 1)


def test_a_value_halfway_between_two_6_decimal_values_rounds_away_from_zero_on_every_database(data):
    # 1 of 512 is 0.1953125% exactly: SQLite's ROUND(x, 6) gives 0.195313; PostgreSQL's ROUND of a
    # float rounds halves to even and published 0.195312 for the same answers.
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_d, dt.date(2026, 6, 10), safe=1, unsafe=511)
    )
    run_rollup(full=True)
    june = value("survey_safety_rate", data.grid_d, "2026-06")
    assert (june.numerator, june.denominator, june.value) == (1, 512, 0.195313)


def test_an_area_reporting_cases_itself_counts_its_residents_once_not_again_with_its_childrens(data):
    # Police report the cases they cannot place in a community at the street. The street's 3,000
    # residents include the 1,500 of each of its two communities: the street's rate is (3 + 3 + 6)
    # cases per 3,000 residents, not per 6,000 (which halved the rate and ranked it first).
    Area.objects.filter(pk=data.street_a1.pk).update(population=3000)
    PreventableCaseCount.objects.create(
        area=data.street_a1, month=dt.date(2026, 11, 1), kind="burglary", count=3, updated_at=timezone.now()
    )
    run_rollup(full=True)
    street = value("police_preventable_cases_per_10k", data.street_a1, "2026-11")
    assert (street.numerator, street.denominator, street.value) == (12, 3000, 40.0)
    district = value("police_preventable_cases_per_10k", data.district_a, "2026-11")
    assert (district.numerator, district.denominator, district.value) == (12, 3000, 40.0)
    q4 = value("police_preventable_cases_per_10k", data.street_a1, "2026Q4")
    # October: community A1a's 3 cases; its population is already in the street's.
    assert (q4.numerator, q4.denominator, q4.value) == (15, 3000, 50.0)


def test_cases_of_an_area_without_a_population_do_not_inflate_its_parents_rate(data):
    # Counts stored before the population was cleared (the import refuses them now): the street
    # would otherwise divide 3 + 6 + 10 cases by the 3,000 residents of the other two communities.
    community = make_area(
        "340102001003", "无人口社区", "community", data.street_a1, (117.0, 31.8, 117.01, 31.81)
    )
    Area.objects.filter(pk=community.pk).update(population=0)
    PreventableCaseCount.objects.create(
        area=community, month=dt.date(2026, 11, 1), kind="burglary", count=10, updated_at=timezone.now()
    )
    run_rollup(full=True)
    street = value("police_preventable_cases_per_10k", data.street_a1, "2026-11")
    assert (street.numerator, street.denominator, street.value) == (9, 3000, 30.0)
    assert not IndicatorValue.objects.filter(
        indicator="police_preventable_cases_per_10k", area=community
    ).exists()


def test_a_value_is_stored_as_the_float_nearest_its_6_decimals_on_every_database(data):
    # 157 of 158 is 99.367088607...%: SQLite's ROUND(x, 6) gave 99.36708899999999 (the API showed
    # it so), PostgreSQL 99.367089.
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_d, dt.date(2026, 5, 10), safe=157, unsafe=1)
    )
    run_rollup(full=True)
    assert value("survey_safety_rate", data.grid_d, "2026-05").value == 99.367089


def test_a_street_centre_late_on_a_communitys_item_lowers_the_streets_on_time_rate_not_the_communitys(
    cast, report, monkeypatch
):
    from grids.models import IncidentEvent
    from tests.grids.conftest import walk_with_the_street_late

    stats_data.only(monkeypatch, codes=("incidents_on_time_rate",))
    walk_with_the_street_late(cast, report())  # grid A, community level
    IncidentEvent.objects.update(step_due_at=timezone.now())  # one month, whatever the day
    run_rollup(full=True)
    month = timezone.localdate().strftime("%Y-%m")
    rates = {
        area.code: (v.numerator, v.denominator, v.value)
        for area in (cast.grid_a, cast.community_a1a, cast.street_a1, cast.district_a)
        for v in [value("incidents_on_time_rate", area, month)]
    }
    # The community escalated on time and grid A's worker checked on time: 2 of 2. The street's own
    # steps (a late acceptance, then dispatch, its department's feedback, the close: 3 of 4) count
    # for the street and everything above it, not for the community whose item it was.
    assert rates == {
        cast.grid_a.code: (1, 1, 100.0),
        cast.community_a1a.code: (2, 2, 100.0),
        cast.street_a1.code: (5, 6, pytest.approx(83.333333, abs=1e-6)),
        cast.district_a.code: (5, 6, pytest.approx(83.333333, abs=1e-6)),
    }


def test_a_lower_is_better_rate_ranks_ties_together_and_compares_periods_across_the_year_end(data):
    """Police counts per 10,000 (1,500 residents in each community of street A1), worked by hand:

    month    A1a cases -> rate   A1b cases -> rate   ranks (lower first)
    2025-11  6 -> 40             -                   A1a 1 of 1
    2025-12  3 -> 20             6 -> 40             A1a 1, A1b 2
    2026-01  6 -> 40             3 -> 20             A1a 2, A1b 1   (A1a down 1 place, +20)
    2026-02  3 -> 20             3 -> 20             1, 1           (a tie)
    2025Q4   9 -> 60             6 -> 40             2025H2 the same
    2026Q1   9 -> 60             6 -> 40             2026H1 the same; previous quarter / half as above
    2026     15 -> 100 (+Oct, Nov 3 each)   12 -> 80 (+Nov 6)   2025: 60 and 40

    The counts begin in November 2025: 2025Q4 (no October), 2025H2 and 2025 were covered only in
    part, so 2026Q1, 2026H1 and 2026 are not compared with them (null changes); the months are.
    """
    rows = [
        (data.community_a1a, dt.date(2025, 12, 1), 3),
        (data.community_a1b, dt.date(2025, 12, 1), 6),
        (data.community_a1a, dt.date(2026, 1, 1), 6),
        (data.community_a1b, dt.date(2026, 1, 1), 3),
        (data.community_a1a, dt.date(2026, 2, 1), 3),
        (data.community_a1b, dt.date(2026, 2, 1), 3),
    ]
    PreventableCaseCount.objects.bulk_create(
        PreventableCaseCount(area=a, month=m, kind="home_robbery", count=n, updated_at=timezone.now())
        for a, m, n in rows
    )
    run_rollup(full=True)
    fields = ("value", "rank", "rank_of", "previous_value", "delta", "previous_rank", "rank_change")

    def row(area, period):
        v = value("police_preventable_cases_per_10k", area, period)
        return tuple(getattr(v, f) for f in fields)

    a1a, a1b = data.community_a1a, data.community_a1b
    assert row(a1a, "2026-01") == (40, 2, 2, 20, 20, 1, -1)
    assert row(a1b, "2026-01") == (20, 1, 2, 40, -20, 2, 1)
    assert row(a1a, "2026-02") == (20, 1, 2, 40, -20, 2, 1)
    assert row(a1b, "2026-02") == (20, 1, 2, 20, 0, 1, 0)
    for period, previous in (("2026Q1", "2025Q4"), ("2026H1", "2025H2")):
        assert row(a1a, period) == (60, 2, 2, None, None, None, None), period
        assert row(a1b, period) == (40, 1, 2, None, None, None, None), period
        assert value("police_preventable_cases_per_10k", a1a, previous).value == 60
    street = value("police_preventable_cases_per_10k", data.street_a1, "2026Q1")
    assert (street.numerator, street.denominator, street.value) == (15, 3000, 50)
    for area, expected in ((a1a, (100, 2) + (None,) * 4), (a1b, (80, 1) + (None,) * 4)):
        year = value("police_preventable_cases_per_10k", area, "2026")
        got = (year.value, year.rank, year.previous_value, year.delta, year.yoy_value, year.yoy_delta)
        assert got == expected


def test_quarters_halves_and_years_are_ratios_of_sums_at_every_level_of_the_tree(data):
    """Community A1a in 2026Q4 (October and November of grids A, B, E and F): (9053 + 9320 + 95 + 90
    + 85 + 90 + 99 + 80) / (20000 + 6 x 100) = 18912 / 20600 = 91.805825%, where the mean of the
    grids' quarters (91.865, 92.5, 87.5, 89.5) would be 90.34125. Street A1 adds grid C (15 + 19 of
    40): 18946 / 20640 = 91.792636%, and so do the district and the city; 2026H2 and 2026 hold no
    other month, so they are the same sums."""
    run_rollup(full=True)
    for period in ("2026Q4", "2026H2", "2026"):
        expected = {
            data.community_a1a: (18912, 20600, 91.805825),
            data.community_a1b: (34, 40, 85.0),
            data.street_a1: (18946, 20640, 91.792636),
            data.district_a: (18946, 20640, 91.792636),
            data.city: (18946, 20640, 91.792636),
        }
        for area, sums in expected.items():
            v = value("survey_safety_rate", area, period)
            assert (v.numerator, v.denominator, v.value) == sums, (period, area.code)
    # 2025 at the city is grid A's 88 of 100 in November 2025, where the answers begin: a year the
    # data covered only in part, so 2026 is not compared with it (neither as the previous period
    # nor as the same period last year).
    city = value("survey_safety_rate", data.city, "2026")
    assert value("survey_safety_rate", data.city, "2025").value == 88.0
    assert (city.previous_value, city.delta, city.yoy_value, city.yoy_delta) == (None,) * 4


def test_the_setting_decides_which_answers_count_as_satisfied(data, settings):
    # DOMAIN.md: satisfaction is measured "by the same method" as safety sense, which answers count
    # being a setting. Grid B's ten dissatisfied answers become 基本满意: counted by default, not by a
    # city that counts only the top two.
    SurveyResponse.objects.filter(area=data.grid_b, date=stats_data.NOV, satisfaction="dissatisfied").update(
        satisfaction="basically_satisfied"
    )
    run_rollup(full=True)
    assert value("survey_satisfaction_rate", data.grid_b, "2026-11").value == pytest.approx(100.0)
    settings.SURVEY_SATISFIED_ANSWERS = ["satisfied", "fairly_satisfied"]
    run = run_rollup()  # the changed setting forces a full rebuild by itself
    assert run.kind == RollupRun.Kind.FULL
    grid_b = value("survey_satisfaction_rate", data.grid_b, "2026-11")
    assert (grid_b.numerator, grid_b.denominator) == (90, 100) and grid_b.value == pytest.approx(90.0)
