"""Zero-filled counts follow the areas' service dates (Area.in_service_from / in_service_until): a
grid drawn in June 2026 is no last place for 2025, a grid merged away in September gets no zeros
for the months after, and its own records still count wherever they fall. The same statement serves
PostgreSQL and SQLite: run this file on both (docs/statistics.md section 2)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboards.models import IndicatorValue, RollupRun, SurveyResponse
from dashboards.rollup import run_rollup
from governance.models import Area
from tests.base import make_area, published_values
from tests.dashboards import stats_data
from tests.dashboards.test_rollup_runs import TEST_COUNT

BOX = (117.0, 31.8, 117.01, 31.81)


@pytest.fixture
def data(cast, monkeypatch):
    """Community A1a: grids A, B, E, F (stats_data) plus G, in service until 2026-09-20 (one sheet
    on 2026-09-05, one entered late for 2026-11-03), and H, drawn on 2026-06-15 (no sheets). Nov
    2025: only grid A has sheets (2)."""
    stats_data.build(cast)
    stats_data.only(monkeypatch, TEST_COUNT)
    cast.grid_g = make_area("340102001001005", "春晖第5网格", "grid", cast.community_a1a, BOX)
    cast.grid_h = make_area("340102001001006", "春晖第6网格", "grid", cast.community_a1a, BOX)
    Area.objects.filter(pk=cast.grid_g.pk).update(in_service_until=dt.date(2026, 9, 20))
    Area.objects.filter(pk=cast.grid_h.pk).update(in_service_from=dt.date(2026, 6, 15))
    SurveyResponse.objects.bulk_create(
        stats_data.answers(cast.grid_g, dt.date(2026, 9, 5), safe=1)
        + stats_data.answers(cast.grid_a, dt.date(2026, 9, 6), safe=1, unsafe=1)
        + stats_data.answers(cast.grid_g, dt.date(2026, 11, 3), unsafe=1)
    )
    return cast


def sheets(area, period: str):
    found = IndicatorValue.objects.filter(indicator="test_answer_sheets", area=area, period=period)
    return found.values_list("numerator", "rank", "rank_of").first()


def test_a_grid_drawn_mid_2026_gets_no_zero_and_no_rank_for_2025(data):
    run_rollup(full=True)
    assert sheets(data.grid_h, "2025-11") is None and sheets(data.grid_h, "2025") is None
    # A (2 sheets) among B, E, F and G (always in service until September 2026): five, not six.
    assert sheets(data.grid_a, "2025-11") == (2, 5, 5)
    assert sheets(data.grid_b, "2025-11") == (0, 1, 5) == sheets(data.grid_g, "2025-11")
    # June is in service from its 15th: H counts zero there and in every later period.
    assert sheets(data.grid_h, "2026-09") == (0, 1, 6)  # beside A's 2 sheets and G's 1
    assert sheets(data.grid_h, "2026-11")[:1] == (0,) and sheets(data.grid_h, "2026")[:1] == (0,)


def test_a_grid_retired_in_september_gets_no_zero_after_it_but_its_records_count(data):
    run_rollup(full=True)
    assert sheets(data.grid_g, "2026-09") == (1, 5, 6)  # its own sheet, beside A's 2 and 4 zeros
    assert sheets(data.grid_g, "2026-10") is None  # siblings with sheets; G gone: no zero, no rank
    assert sheets(data.grid_a, "2026-10")[2] == 5  # A, B, E, F and H
    assert sheets(data.grid_g, "2026-11") == (1, 2, 6)  # the late sheet counts in its own month
    assert sheets(data.grid_g, "2026Q3")[:1] == (1,) and sheets(data.grid_g, "2026")[:1] == (2,)
    # The community's sums still hold G's sheets.
    assert sheets(data.community_a1a, "2026-09")[0] == 3


def test_a_changed_service_date_makes_the_next_run_a_full_one_with_the_full_runs_rows(data):
    run_rollup(full=True)
    assert sheets(data.grid_h, "2026-09") == (0, 1, 6)
    Area.objects.filter(pk=data.grid_h.pk).update(in_service_from=dt.date(2026, 10, 1))
    run = run_rollup()
    assert run.kind == RollupRun.Kind.FULL
    assert sheets(data.grid_h, "2026-09") is None and sheets(data.grid_h, "2026-10")[:1] == (0,)
    nightly = published_values()
    run_rollup(full=True)
    assert nightly == published_values()


def test_the_league_lists_no_child_out_of_service_in_the_period_among_those_without_a_value(data):
    """The ranking page lists the children without a value at the bottom ("no value"): not a grid
    that did not exist then."""
    from dashboards.ranking import league_rows
    from governance import indicators as registry_api
    from governance.periods import Period

    run_rollup(full=True)
    spec = registry_api.registry()["survey_safety_rate"]

    def listed(period: str) -> list[str]:
        return [row.value.area.code for row in league_rows(spec, Period.parse(period), data.community_a1a)]

    # Nov 2025: only grid A answered; B, E, F and G listed without a value, H (drawn 2026-06-15) not.
    assert listed("2025-11") == [data.grid_a.code, data.grid_b.code, data.grid_e.code, data.grid_f.code, data.grid_g.code]  # fmt: skip
    # Oct 2026: G (retired 2026-09-20) is not listed; H, in service, is, without a value.
    assert data.grid_g.code not in listed("2026-10") and data.grid_h.code in listed("2026-10")
