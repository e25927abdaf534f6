"""A moved area is ranked under its new parent within minutes, not after the nightly run: the move
queues a rollup once it commits (dashboards.models), which rebuilds the values' stored parents and
the parents' sums."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import Client

from dashboards.models import IndicatorValue, RollupRun
from dashboards.rollup import run_rollup
from governance.models import Area, OutboxMessage
from tests.base import api_client, post_area_change
from tests.dashboards.test_stats_api import data  # noqa: F401

NEW_CODE = "340102001001009"  # grid C's code under community A1a


def _rankings(reader, parent: Area) -> list[str]:
    response = reader.get(
        "/api/v1/stats/rankings/",
        {"indicator": "survey_safety_rate", "period": "2026-11", "parent": parent.code},
    )
    assert response.status_code == 200
    return [row["area"] for row in response.json()["results"]]


def _answers(area: Area) -> float:
    """The area's November answer count (0: no row, nothing below it was asked)."""
    rows = IndicatorValue.objects.filter(indicator="survey_safety_rate", period="2026-11", area=area)
    return sum(rows.values_list("denominator", flat=True))


@pytest.mark.usefixtures("data")  # the published dataset: ``cast`` with its values rolled up
def test_a_grid_moved_in_the_admin_is_ranked_under_its_new_community_once_the_move_commits(
    cast, django_capture_on_commit_callbacks
):
    reader = api_client(cast.analyst)
    assert "340102001002001" in _rankings(reader, cast.community_a1b)
    before_a1a, before_a1b = _answers(cast.community_a1a), _answers(cast.community_a1b)
    client = Client()
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response, _form = post_area_change(client, cast.grid_c, code=NEW_CODE, parent=cast.community_a1a.pk)
    assert response.status_code == 302
    run = RollupRun.objects.order_by("-id").first()
    assert (run.trigger, run.kind, run.status) == ("tree", "full", "success")
    assert NEW_CODE in _rankings(reader, cast.community_a1a)
    assert _rankings(reader, cast.community_a1b) == []
    # The communities' sums follow the grid: its 20 November answers left A1b (its only grid) for A1a.
    assert before_a1b == 20
    assert (_answers(cast.community_a1a), _answers(cast.community_a1b)) == (before_a1a + 20, 0)
    assert not OutboxMessage.objects.filter(task="dashboards.rollup", sent_at=None).exists()


def _move(grid: Area, code: str, parent: Area) -> None:
    grid = Area.objects.get(pk=grid.pk)
    grid.code, grid.parent = code, parent
    grid.full_clean()
    grid.save()


def _queued() -> list[dict]:
    return list(OutboxMessage.objects.filter(task="dashboards.rollup").values_list("kwargs", flat=True))


def test_a_tree_change_queues_one_run_per_transaction_and_other_edits_none(cast):
    grid = Area.objects.get(pk=cast.grid_c.pk)
    grid.name, grid.households = "园丁第1网格（新）", 1400
    grid.save()
    assert _queued() == []  # a name or a household count changes no value
    with pytest.raises(RuntimeError), transaction.atomic():
        grid.population = 4000  # every per-10,000 rate of the area and those above it divides by it
        grid.save()
        assert _queued() == [{"trigger": "tree"}]
        raise RuntimeError("rolled back")
    with pytest.raises(RuntimeError), transaction.atomic():
        _move(cast.grid_c, NEW_CODE, cast.community_a1a)
        assert _queued() == [{"trigger": "tree"}]
        raise RuntimeError("rolled back")
    assert _queued() == []  # the message went with the move, and so did the mark: the next move queues
    with pytest.raises(RuntimeError), transaction.atomic():
        # A service date decides which periods the area's zero counts fill (and its siblings' rank_of).
        grid = Area.objects.get(pk=cast.grid_c.pk)
        grid.in_service_until = dt.date(2026, 9, 20)
        grid.save()
        assert _queued() == [{"trigger": "tree"}]
        raise RuntimeError("rolled back")
    with transaction.atomic():
        _move(cast.grid_c, NEW_CODE, cast.community_a1a)
        _move(cast.grid_d, "340102001002002", cast.community_a1b)
    assert _queued() == [{"trigger": "tree"}]


def _police_rate(area: Area, period: str = "2026-11") -> float:
    return IndicatorValue.objects.get(
        indicator="police_preventable_cases_per_10k", area=area, period=period
    ).value


@pytest.mark.usefixtures("data")
def test_a_population_changed_in_the_admin_changes_the_per_10k_rates_once_it_commits(
    cast, django_capture_on_commit_callbacks
):
    """Per-10,000 rates divide by the area's population: a corrected population left the published
    rates stale until the nightly run. Community A1b: 6 cases in November, 1,500 residents."""
    assert _police_rate(cast.community_a1b) == 40.0
    client = Client()
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response, _form = post_area_change(client, cast.community_a1b, population=3000)
    assert response.status_code == 302
    run = RollupRun.objects.order_by("-id").first()
    assert (run.trigger, run.kind, run.status) == ("tree", "full", "success")
    assert _police_rate(cast.community_a1b) == 20.0
    assert _police_rate(cast.street_a1) == 20.0  # 3 + 6 cases among 1,500 + 3,000 residents (was 30)
    assert not OutboxMessage.objects.filter(task="dashboards.rollup", sent_at=None).exists()


@pytest.mark.usefixtures("data")
def test_populations_imported_by_year_change_the_rates_of_that_year_once_they_commit(
    cast, django_capture_on_commit_callbacks
):
    """The import through the API (and ``dashboards_import populations``) queues a run too; the run
    is incremental: the sources report the months of the years whose figures changed."""
    rows = [{"area": cast.community_a1b.code, "year": 2026, "population": 2000}]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(cast.analyst).post("/api/v1/stats/populations/", rows, format="json")
    assert response.status_code == 201
    run = RollupRun.objects.order_by("-id").first()
    assert (run.trigger, run.kind, run.status) == ("population", "incremental", "success")
    assert _police_rate(cast.community_a1b) == 30.0
    assert _police_rate(cast.community_a1b, "2026") == 30.0


def _import_population(cast, population: int, django_capture_on_commit_callbacks) -> RollupRun:
    rows = [{"area": cast.community_a1b.code, "year": 2026, "population": population}]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(cast.analyst).post("/api/v1/stats/populations/", rows, format="json")
    assert response.status_code == 201
    return RollupRun.objects.order_by("-id").first()


@pytest.mark.usefixtures("data")
def test_a_population_import_after_a_successful_run_recomputes_only_that_year_s_rates_of_the_area(
    cast, django_capture_on_commit_callbacks
):
    """The import's run is incremental and rewrites nothing but the per-10,000 rates of 2026 of
    community A1b, the areas above it and its siblings (whose ranks may move): 6 November cases
    among 2,000 residents, 30.0, were 40.0 among 1,500. A full rebuild publishes the same rows."""
    from tests.base import published_values

    run = _import_population(cast, 2000, django_capture_on_commit_callbacks)
    assert (run.trigger, run.kind, run.status) == ("population", "incremental", "success")
    rewritten = IndicatorValue.objects.filter(run=run)
    assert set(rewritten.values_list("indicator", flat=True)) == {"police_preventable_cases_per_10k"}
    assert {period[:4] for period in rewritten.values_list("period", flat=True)} == {"2026"}
    a1b = cast.community_a1b
    ancestors = {a1b.parent_id, a1b.parent.parent_id, a1b.parent.parent.parent_id}
    neighbours = set(Area.objects.filter(parent_id__in=ancestors).values_list("pk", flat=True))
    assert a1b.pk in set(rewritten.values_list("area_id", flat=True)) <= ancestors | neighbours | {a1b.pk}
    assert _police_rate(a1b) == 30.0
    incremental = published_values()
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    assert published_values() == incremental


@pytest.mark.usefixtures("data")
def test_a_population_import_after_a_calendar_change_is_a_full_rebuild_and_the_next_run_is_not(
    cast, django_capture_on_commit_callbacks
):
    """Why the demo's first population run after a year's holiday notice was entered was full: the
    calendar the running deadlines follow is part of the rollup's configuration (docs/statistics.md,
    "Incremental or full"), and the first run after any configuration change, whatever queued it,
    is a full rebuild. The next run is incremental again."""
    from governance import deadlines
    from governance.models import Holiday

    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    deadlines.refresh()  # queued through the outbox by the calendar change; idempotent
    first = _import_population(cast, 2000, django_capture_on_commit_callbacks)
    assert (first.trigger, first.kind, first.status) == ("population", "full", "success")
    assert _police_rate(cast.community_a1b) == 30.0
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL  # the configuration is the run's again


def test_a_deleted_area_leaves_its_siblings_league_once_the_deletion_commits(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    """A count ranks every sibling, those without records at 0: an area deleted was still counted in
    its siblings' ``rank_of`` (and, with records, in its parent's sums) until the nightly run."""
    from dashboards.rollup import run_rollup
    from tests.base import make_area
    from tests.dashboards import stats_data
    from tests.dashboards.test_rollup_runs import TEST_COUNT

    stats_data.build(cast)
    stats_data.only(monkeypatch, TEST_COUNT)
    empty = make_area(
        "340102001001005", "春晖第5网格", "grid", cast.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    run_rollup(full=True)

    def rank_of() -> set[int]:
        rows = IndicatorValue.objects.filter(
            indicator=TEST_COUNT.code, period="2026-11", parent=cast.community_a1a
        )
        return set(rows.values_list("rank_of", flat=True))

    before = rank_of()
    assert len(before) == 1 and empty.pk in IndicatorValue.objects.filter(
        indicator=TEST_COUNT.code, period="2026-11"
    ).values_list("area_id", flat=True)  # ranked at 0 among its siblings
    with django_capture_on_commit_callbacks(execute=True):
        Area.objects.get(pk=empty.pk).delete()
    run = RollupRun.objects.order_by("-id").first()
    assert (run.trigger, run.kind, run.status) == ("tree", "full", "success")
    assert rank_of() == {before.pop() - 1}
