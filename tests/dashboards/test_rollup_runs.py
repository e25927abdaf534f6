"""Runs of the engine: incremental equals full, idempotent, never overlapping, failure-safe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.db.models import F

from dashboards import rollup
from dashboards.models import IndicatorValue, PreventableCaseCount, RollupRun, SurveyResponse
from dashboards.rollup import run_rollup
from governance import indicators as registry_api
from governance.indicators import COUNT, LOWER_BETTER, IndicatorSpec
from tests.base import published_values, second_connection
from tests.dashboards import stats_data

snapshot = published_values


def answers_count(start, end):
    """A test-only COUNT indicator, lower better, straight from the survey table."""
    from django.db.models import Count, DateField
    from django.db.models.functions import Cast, TruncMonth

    return (
        SurveyResponse.objects.filter(date__gte=start, date__lt=end)
        .values("area_id", month=Cast(TruncMonth("date"), DateField()))
        .annotate(numerator=Count("id"), denominator=Count("id"))
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


TEST_COUNT = IndicatorSpec(
    code="test_answer_sheets", name="answer sheets", unit=COUNT, direction=LOWER_BETTER, source=answers_count
)


@pytest.fixture
def data(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch, TEST_COUNT)
    return cast


def test_an_incremental_run_gives_exactly_the_rows_of_a_full_rebuild(data):
    run_rollup(full=True)
    # New answers in an old month (changes March, April's previous value and March next year) and in
    # the current month; a police correction of last year's November.
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_b, dt.date(2026, 3, 5), safe=40, unsafe=2)
        + stats_data.answers(data.grid_b, dt.date(2026, 4, 5), safe=50, unsafe=5)
        + stats_data.answers(data.grid_e, dt.date(2026, 11, 20), unsafe=30)
    )
    PreventableCaseCount.objects.filter(month=dt.date(2025, 11, 1)).update(
        count=9, updated_at=dt.datetime.now(dt.UTC)
    )
    run = run_rollup()
    assert run.kind == RollupRun.Kind.INCREMENTAL and run.months >= 3
    incremental = snapshot()
    run_rollup(full=True)
    assert incremental == snapshot()
    assert IndicatorValue.objects.get(
        indicator="survey_safety_rate", area=data.grid_b, period="2026-04"
    ).previous_value == pytest.approx(100 * 40 / 42, abs=1e-6)


def test_a_year_s_population_changes_that_year_s_rates_only_and_the_nightly_run_sees_it(data):
    """One population per area rewrote every past rate (and every year-on-year delta) when this
    year's census figure was entered. A year's figure divides that year's months only; a year
    without one keeps the area's own population."""
    from dashboards import intake

    run_rollup(full=True)
    rate = IndicatorValue.objects.filter(
        indicator="police_preventable_cases_per_10k", area=data.community_a1a
    )
    assert rate.get(period="2025-11").value == pytest.approx(40.0)  # 6 cases / 1,500 residents
    table = intake.table_from_list([{"area": data.community_a1a.code, "year": 2026, "population": 3000}])
    intake.populations_import(table=table, actor=data.analyst)
    run = run_rollup()
    assert run.kind == RollupRun.Kind.INCREMENTAL
    november = rate.get(period="2026-11")
    assert (november.numerator, november.denominator, november.value) == (3, 3000, pytest.approx(10.0))
    assert november.yoy_value == pytest.approx(40.0)  # last year's November, as it was published
    assert rate.get(period="2025-11").value == pytest.approx(40.0)
    assert rate.get(period="2026Q4").denominator == 3000  # the last month's figure (a stock)
    street = IndicatorValue.objects.get(
        indicator="police_preventable_cases_per_10k", area=data.street_a1, period="2026-11"
    )
    assert (street.numerator, street.denominator) == (9, 4500)  # 3,000 + community A1b's 1,500
    nightly = snapshot()
    run_rollup(full=True)
    assert nightly == snapshot()


def test_a_count_is_zero_for_a_sibling_without_records_and_an_incremental_run_keeps_it_so(data):
    """Nov 2025: only grid A (community A1a) has answer sheets (two rows). Its siblings B, E and F
    count zero and, lower being better, share the first rank; community A1b counts zero beside A1a.
    Grid C has no sibling with sheets: no row. Percentages are not filled: nothing to divide."""
    run_rollup(full=True)

    def row(area, period="2025-11"):
        found = IndicatorValue.objects.filter(indicator="test_answer_sheets", area=area, period=period)
        return found.values_list("numerator", "value", "rank", "rank_of").first()

    assert row(data.grid_a) == (2, 2, 4, 4)
    assert row(data.grid_b) == row(data.grid_e) == row(data.grid_f) == (0, 0, 1, 4)
    assert row(data.community_a1b) == (0, 0, 1, 2) and row(data.community_a1a) == (2, 2, 2, 2)
    assert row(data.grid_c) is None and row(data.grid_b, "2025Q4") == (0, 0, 1, 4)
    assert not IndicatorValue.objects.filter(
        indicator="survey_safety_rate", area=data.grid_b, period="2025-11"
    ).exists()
    # Sheets for grid B and grid C that month: B's zero becomes a count, C's siblings (none) stay.
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_b, dt.date(2025, 11, 5), safe=1)
        + stats_data.answers(data.grid_c, dt.date(2025, 11, 5), safe=1, unsafe=1, dont_know=1)
    )
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL
    assert row(data.grid_b) == (1, 1, 3, 4) and row(data.grid_e) == (0, 0, 1, 4)
    assert row(data.grid_c) == (3, 3, 1, 1) and row(data.community_a1b) == (3, 3, 1, 2)
    incremental = snapshot()
    run_rollup(full=True)
    assert incremental == snapshot()


def test_a_nightly_run_recomputes_only_the_indicators_and_months_whose_facts_changed(data):
    first = run_rollup(full=True)
    quiet = run_rollup()  # the recent months are refreshed, but their facts are as stored
    assert quiet.kind == RollupRun.Kind.INCREMENTAL and quiet.months >= 2
    assert (quiet.periods, quiet.rows) == (0, 0)
    assert set(IndicatorValue.objects.values_list("run_id", flat=True)) == {first.pk}

    SurveyResponse.objects.bulk_create(stats_data.answers(data.grid_b, stats_data.NOV, unsafe=20))
    nightly = run_rollup()
    # November, 2026Q4, 2026H2 and 2026 of the indicators counting answers; the police rows stay.
    assert nightly.periods == 4 and nightly.rows > 0
    rewritten = IndicatorValue.objects.filter(run=nightly)
    survey = {"survey_safety_rate", "survey_satisfaction_rate", "test_answer_sheets"}
    assert set(rewritten.values_list("indicator", flat=True)) == survey
    assert set(rewritten.values_list("period", flat=True)) == {"2026-11", "2026Q4", "2026H2", "2026"}
    assert IndicatorValue.objects.filter(indicator="police_preventable_cases_per_10k", run=first).exists()
    incremental = snapshot()
    run_rollup(full=True)
    assert snapshot() == incremental


def test_a_change_of_the_area_tree_makes_the_next_run_a_full_rebuild(data):
    from governance.models import Area

    run_rollup(full=True)
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL
    grid = Area.objects.get(pk=data.grid_c.pk)
    grid.parent = data.community_a1a  # moved: its answers now count for another community
    grid.save()
    moved = run_rollup()
    assert moved.kind == RollupRun.Kind.FULL
    value = IndicatorValue.objects.get(indicator="survey_safety_rate", area=grid, period="2026-11")
    assert value.parent_id == data.community_a1a.pk


def test_a_population_change_makes_the_next_run_a_full_rebuild(data):
    # The per-10,000 rates of every month divide by the area's population as it is now.
    from governance.models import Area

    run_rollup(full=True)
    Area.objects.filter(pk=data.community_a1a.pk).update(population=F("population") * 2)
    assert run_rollup().kind == RollupRun.Kind.FULL
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL


def test_an_indicator_whose_definition_was_revised_makes_the_next_run_a_full_rebuild(data, monkeypatch):
    # What a source counts changed in a deployment: the months already published must not keep the
    # old definition until the weekly rebuild (the nightly run refreshes only recent months).
    run_rollup(full=True)
    current = registry_api.registry()
    revised = dataclasses.replace(current["survey_safety_rate"], revision=2)
    monkeypatch.setattr(registry_api, "_registry", {**current, revised.code: revised})
    assert run_rollup().kind == RollupRun.Kind.FULL
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL


def test_rows_whose_records_are_gone_are_removed(data):
    run_rollup(full=True)
    IndicatorValue.objects.create(  # a row of an indicator no app declares any more
        indicator="retired_indicator", area=data.grid_a, period="2026-10", period_type="month",
        level="grid", numerator=1, denominator=1, rank_of=0,
    )  # fmt: skip
    SurveyResponse.objects.filter(area=data.grid_f, date=stats_data.OCT).delete()
    run = run_rollup(since=dt.date(2026, 10, 1))
    assert run.kind == RollupRun.Kind.INCREMENTAL
    gone = IndicatorValue.objects.filter(area=data.grid_f, period="2026-10", indicator="survey_safety_rate")
    assert not gone.exists()
    # (an incremental run touches the registered indicators' recomputed periods only)
    assert IndicatorValue.objects.filter(indicator="retired_indicator").exists()
    incremental = [row for row in snapshot() if row[0] != "retired_indicator"]
    run_rollup(full=True)
    assert snapshot() == incremental


def test_two_runs_give_identical_rows(data):
    run_rollup(full=True)
    first = snapshot()
    again = run_rollup(full=True)
    assert snapshot() == first
    # PostgreSQL rebuilds the whole table (dashboards.tableswap); elsewhere only changes are written.
    assert again.rows == (len(first) if connection.vendor == "postgresql" else 0)
    assert run_rollup().rows == 0  # an incremental run over unchanged data rewrites nothing
    assert snapshot() == first


@pytest.mark.parametrize("step", ["facts", "values", "changes"])
def test_a_failure_midway_leaves_the_previous_results_in_place(data, monkeypatch, step):
    run_rollup(full=True)
    before = snapshot()
    SurveyResponse.objects.bulk_create(stats_data.answers(data.grid_a, dt.date(2026, 11, 2), unsafe=5000))

    def boom(at: str) -> None:
        if at == step:  # "changes": after the new rows are published, before the commit
            raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError):
        run_rollup(full=True)
    assert snapshot() == before
    failed = RollupRun.objects.first()
    assert failed.status == RollupRun.Status.FAILED and "disk full" in failed.error
    monkeypatch.setattr(rollup, "checkpoint", lambda step: None)
    assert run_rollup().status == RollupRun.Status.SUCCESS  # the lock was released


def test_a_failed_run_is_told_to_the_administrators_once_without_its_error(data, monkeypatch):
    """A run that failed kept yesterday's figures on every dashboard, and only whoever read the
    admin's run list learnt of it. The active superusers hear of it, once per run, with a link to
    the run in the admin; the error (it may quote data) stays on the run."""
    from django.urls import reverse

    from governance.models import Notification, User

    admin = User.objects.create_superuser("root", password="x")
    User.objects.create_superuser("gone", password="x", is_active=False)

    def boom(at: str) -> None:
        raise RuntimeError("disk full 13912345678")

    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError):
        run_rollup(full=True)
    failed = RollupRun.objects.first()
    notices = list(Notification.objects.filter(key=f"rollup-failed:{failed.pk}"))
    admins = set(User.objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True))
    assert admin.pk in admins and sorted(n.user_id for n in notices) == sorted(admins)
    assert notices[0].link == reverse("admin:dashboards_rolluprun_change", args=[failed.pk])
    assert "failed" in notices[0].texts["en"] and "失败" in notices[0].texts["zh-hans"]
    # The error's phone number, not "139": the run's own number, in the message, may contain that.
    assert "13912345678" not in notices[0].message and "disk" not in notices[0].texts["en"]


def _failure_notices(run: RollupRun) -> list:
    """The notices of a failed run: one to each active superuser, linking to the run in the admin,
    never quoting its error."""
    from django.urls import reverse

    from governance.models import Notification, User

    notices = list(Notification.objects.filter(key=f"rollup-failed:{run.pk}").order_by("user_id"))
    admins = sorted(User.objects.filter(is_superuser=True, is_active=True).values_list("pk", flat=True))
    assert admins and [n.user_id for n in notices] == admins
    link = reverse("admin:dashboards_rolluprun_change", args=[run.pk])
    for notice in notices:
        assert notice.link == link and run.error not in notice.message
        assert "failed" in notice.texts["en"] and "失败" in notice.texts["zh-hans"]
    return notices


@pytest.fixture
def superusers(db):
    from governance.models import User

    User.objects.create_superuser("root", password="x")
    User.objects.create_superuser("root2", password="x")
    User.objects.create_superuser("gone", password="x", is_active=False)


def test_a_run_abandoned_by_a_dead_worker_is_told_to_the_administrators_once(data, superusers, postgres):
    """The next run marks a row its dead worker left ``running`` failed: the dashboards kept the
    previous figures that night all the same, and nobody was told. The notice says the worker stopped
    (not that the run's work went wrong), so the administrator looks at the workers."""
    stale = RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC), kind="full")
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    stale.refresh_from_db()
    assert stale.status == RollupRun.Status.FAILED
    notices = _failure_notices(stale)
    assert "abandoned by a stopped worker" in notices[0].texts["en"]
    assert "died" not in notices[0].texts["en"]
    assert "被中断的工作进程" in notices[0].texts["zh-hans"]
    # The next cleanup finds nothing left running, and a second notice of the same run is refused.
    assert run_rollup().status == RollupRun.Status.SUCCESS
    assert rollup._notify_failed(stale, rollup.FailureKind.ABANDONED) == 0
    assert _failure_notices(stale) == notices


def test_a_run_left_running_past_the_time_limit_is_announced_when_marked_failed(data, superusers, settings):
    """On SQLite (no advisory lock) a row left ``running`` is taken for a dead run's once it is older
    than the task's time limit; on PostgreSQL the next run's lock proves it at once. Both announce it.
    Passes on either database (``env -u DATABASE_URL`` for SQLite)."""
    settings.CELERY_TASK_TIME_LIMIT = 600
    stale = RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), kind="full")
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    stale.refresh_from_db()
    assert stale.status == RollupRun.Status.FAILED
    notices = _failure_notices(stale)
    assert "abandoned by a stopped worker" in notices[0].texts["en"]
    assert run_rollup().status == RollupRun.Status.SUCCESS
    assert _failure_notices(stale) == notices


def test_a_run_stopped_while_planning_is_told_to_the_administrators_once(data, superusers, monkeypatch):
    """The time limit reached while the run was planned records a failed run that never took the lock
    nor touched a value: the notice says it was stopped before it started (the time limit, not a bug)."""
    from celery.exceptions import SoftTimeLimitExceeded

    def out_of_time(since, now):
        raise SoftTimeLimitExceeded("out of time 13912345678")

    run_rollup(full=True)
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=out_of_time))
    with pytest.raises(SoftTimeLimitExceeded):
        run_rollup()
    run = RollupRun.objects.latest("id")
    assert run.status == RollupRun.Status.FAILED and "while planning" in run.error
    notices = _failure_notices(run)
    assert "stopped before it started" in notices[0].texts["en"] and "尚未开始" in notices[0].texts["zh-hans"]
    assert "13912345678" not in notices[0].message and "out of time" not in notices[0].texts["en"]
    assert rollup._notify_failed(run, rollup.FailureKind.PLANNING) == 0
    assert _failure_notices(run) == notices


def test_a_run_that_failed_says_so_not_that_it_was_abandoned(data, superusers, monkeypatch):
    def boom(at: str) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError):
        run_rollup(full=True)
    text = _failure_notices(RollupRun.objects.latest("id"))[0].texts["en"]
    assert "The error is on the run" in text and "abandoned" not in text and "before it started" not in text


def _notices_that_cannot_be_written(monkeypatch) -> None:
    """Each notice's write fails in the database (as when the database is why the run failed),
    leaving the transaction it ran in aborted until rolled back."""
    import governance.services

    def broken(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(governance.services, "notify", broken)


def test_a_notice_that_cannot_be_written_hides_neither_the_failure_nor_the_next_run(
    data, superusers, postgres, monkeypatch
):
    """The notices are written in a savepoint: one refused by the database leaves the caller's
    transaction usable, the run's own error is raised, and a dead worker's row is still marked
    failed and the next run goes on."""
    from celery.exceptions import SoftTimeLimitExceeded

    from governance.models import Notification

    _notices_that_cannot_be_written(monkeypatch)
    stale = RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC), kind="full")
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    stale.refresh_from_db()
    assert stale.status == RollupRun.Status.FAILED

    def boom(at: str) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_rollup(full=True)
    assert RollupRun.objects.latest("id").status == RollupRun.Status.FAILED

    def out_of_time(since, now):
        raise SoftTimeLimitExceeded("out of time")

    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=out_of_time))
    with pytest.raises(SoftTimeLimitExceeded):
        run_rollup()
    assert "while planning" in RollupRun.objects.latest("id").error
    assert not Notification.objects.filter(key__startswith="rollup-failed:").exists()


def _notices_stopped_by_the_time_limit(monkeypatch) -> None:
    """Celery's soft time limit arrives while the notices are written: our own limit (the statements'
    deadline) stops a run about a second before Celery's signal, which then lands in the handling."""
    from celery.exceptions import SoftTimeLimitExceeded

    import governance.services

    def late_signal(**kwargs):
        raise SoftTimeLimitExceeded("Celery's, late")

    monkeypatch.setattr(governance.services, "notify", late_signal)


def test_the_time_limit_arriving_in_the_notices_leaves_a_failed_run_its_own_error(
    data, superusers, monkeypatch
):
    """The notices are best-effort under the time limit too: the run's own exception propagates (not
    the signal), the run stays failed with its own error, and the lock is released."""
    from governance.models import Notification

    _notices_stopped_by_the_time_limit(monkeypatch)
    own = RuntimeError("disk full")

    def boom(at: str) -> None:
        raise own

    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError) as raised:
        run_rollup(full=True)
    assert raised.value is own
    run = RollupRun.objects.latest("id")
    assert run.status == RollupRun.Status.FAILED and run.error == "RuntimeError: disk full"
    assert not Notification.objects.filter(key__startswith="rollup-failed:").exists()
    monkeypatch.setattr(rollup, "checkpoint", lambda step: None)
    assert run_rollup().status == RollupRun.Status.SUCCESS  # the lock was released


def test_the_time_limit_arriving_in_the_notices_of_a_run_stopped_while_planning_keeps_its_own(
    data, superusers, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    own = SoftTimeLimitExceeded("ours, while planning")

    def out_of_time(since, now):
        raise own

    run_rollup(full=True)
    _notices_stopped_by_the_time_limit(monkeypatch)
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=out_of_time))
    with pytest.raises(SoftTimeLimitExceeded) as raised:
        run_rollup()
    assert raised.value is own
    run = RollupRun.objects.latest("id")
    assert run.status == RollupRun.Status.FAILED and "ours, while planning" in run.error
    assert "Celery's, late" not in run.error


def test_the_time_limit_arriving_in_an_abandoned_runs_notices_stops_the_task(
    data, superusers, monkeypatch, settings
):
    """Nothing else is being raised there: the signal stops the task as Celery means it to, after the
    dead worker's row was marked failed, with no run of its own and the lock released."""
    from celery.exceptions import SoftTimeLimitExceeded

    import governance.services

    notify = governance.services.notify
    _notices_stopped_by_the_time_limit(monkeypatch)
    settings.CELERY_TASK_TIME_LIMIT = 600  # (abandoned on SQLite too)
    stale = RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), kind="full")
    with pytest.raises(SoftTimeLimitExceeded):
        run_rollup(full=True)
    stale.refresh_from_db()
    assert stale.status == RollupRun.Status.FAILED and list(RollupRun.objects.all()) == [stale]
    monkeypatch.setattr(governance.services, "notify", notify)
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS  # the lock was released


def test_a_run_whose_planning_raised_is_recorded_and_told_to_the_administrators(
    data, superusers, monkeypatch
):
    """Only the time limit was recorded when it stopped the planning: any other error there (the
    tree's hash, a planning read) left no row, and stats/rollups/ and the notices said nothing about
    a night without a run. Recorded failed "(while planning)", told as an error, values kept."""

    def broken() -> str:
        raise RuntimeError("the tree is unreadable 13912345678")

    run_rollup(full=True)
    before = snapshot()
    monkeypatch.setattr(rollup, "config_hash", broken)
    with pytest.raises(RuntimeError, match="unreadable"):
        run_rollup()
    run = RollupRun.objects.latest("id")
    assert (run.status, run.kind, run.trigger) == ("failed", "incremental", "command")
    assert run.error == "RuntimeError: the tree is unreadable 13912345678 (while planning)"
    assert run.finished_at is not None and RollupRun.objects.count() == 2
    notices = _failure_notices(run)
    text = notices[0].texts["en"]
    assert "an error while it was planned" in text and "The error is on the run" in text
    assert "time limit" not in text and "13912345678" not in notices[0].message
    assert "规划时出错" in notices[0].texts["zh-hans"]
    assert snapshot() == before
    monkeypatch.undo()
    stats_data.only(monkeypatch, TEST_COUNT)
    assert run_rollup().status == RollupRun.Status.SUCCESS  # no lock was taken


def test_a_database_error_while_planning_is_recorded_on_a_usable_connection(
    data, superusers, postgres, monkeypatch
):
    """A statement refused in the planning transaction aborts it: the row and the notices are written
    once that transaction (a savepoint here, in the test's) is rolled back, not refused in turn."""
    planned = rollup.config_hash

    def refused() -> str:
        planned()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 / 0")
        return ""

    run_rollup(full=True)
    before = snapshot()
    monkeypatch.setattr(rollup, "config_hash", refused)
    with pytest.raises(Exception, match="division by zero") as raised:
        run_rollup()
    assert type(raised.value).__name__ == "DataError"
    run = RollupRun.objects.latest("id")
    assert run.status == "failed" and run.error.startswith("DataError: division by zero")
    assert run.error.endswith("(while planning)")
    assert _failure_notices(run) and snapshot() == before


def test_the_time_limit_arriving_in_a_failed_runs_record_does_not_leave_it_running(
    data, superusers, monkeypatch
):
    """Celery's soft limit (a signal, a second after the run's own limit stopped it) arriving while
    the failure is recorded left the row ``running`` until the next run took it for abandoned. The
    write is made again, once: the signal comes once, the hard kill a minute later."""
    from celery.exceptions import SoftTimeLimitExceeded

    finish, calls = rollup._finish, []

    def interrupted(run, **fields):
        calls.append(fields["status"])
        if fields["status"] == RollupRun.Status.FAILED and calls.count(RollupRun.Status.FAILED) == 1:
            raise SoftTimeLimitExceeded("Celery's, late")
        finish(run, **fields)

    def boom(at: str) -> None:
        raise RuntimeError("disk full")

    run_rollup(full=True)
    before = snapshot()
    monkeypatch.setattr(rollup, "_finish", interrupted)
    monkeypatch.setattr(rollup, "checkpoint", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_rollup(full=True)
    run = RollupRun.objects.latest("id")
    assert calls == ["failed", "failed"]
    assert (run.status, run.error) == ("failed", "RuntimeError: disk full") and run.finished_at
    assert _failure_notices(run) and snapshot() == before
    monkeypatch.setattr(rollup, "checkpoint", lambda step: None)
    assert run_rollup().status == RollupRun.Status.SUCCESS  # the lock was released


def test_the_time_limit_arriving_in_a_planning_failures_record_does_not_lose_it(
    data, superusers, monkeypatch
):
    """The same for a run stopped while planning: its row is written once, not twice, not never."""
    from celery.exceptions import SoftTimeLimitExceeded

    save, calls = RollupRun.save, []

    def interrupted(self, *args, **kwargs):
        calls.append(self.status)
        if len(calls) == 1:
            raise SoftTimeLimitExceeded("Celery's, late")
        save(self, *args, **kwargs)

    def broken() -> str:
        raise RuntimeError("the tree is unreadable")

    run_rollup(full=True)
    monkeypatch.setattr(rollup, "config_hash", broken)
    monkeypatch.setattr(RollupRun, "save", interrupted)
    with pytest.raises(RuntimeError, match="unreadable"):
        run_rollup()
    monkeypatch.undo()
    assert calls == ["failed", "failed"]
    assert list(RollupRun.objects.order_by("id").values_list("status", "error")) == [
        ("success", ""),
        ("failed", "RuntimeError: the tree is unreadable (while planning)"),
    ]


def test_a_broken_source_keeps_its_previous_facts_and_is_reported(data, monkeypatch):
    run_rollup(full=True)
    before = [r for r in snapshot() if r[0] == "test_answer_sheets"]

    def broken(start, end):
        raise ValueError("source bug")

    stats_data.only(monkeypatch, IndicatorSpec(**{**TEST_COUNT.__dict__, "source": broken}))
    run = run_rollup(full=True)
    assert (
        run.status == RollupRun.Status.SUCCESS and "test_answer_sheets: ValueError: source bug" in run.error
    )
    assert [r for r in snapshot() if r[0] == "test_answer_sheets"] == before


def test_the_task_s_soft_time_limit_stops_the_run_and_is_not_taken_for_a_broken_source(data, monkeypatch):
    """Celery raises SoftTimeLimitExceeded (an Exception) a minute before it kills a task that runs
    past CELERY_TASK_TIME_LIMIT, for it to give up cleanly. Raised while a source was being read, the
    most of a run's time, it was reported as that source's failure and the run went on until the kill:
    no failed run recorded, the row left "running". It stops the run: recorded failed, values kept."""
    from celery.exceptions import SoftTimeLimitExceeded

    run_rollup(full=True)
    before = snapshot()

    def out_of_time(*args):
        raise SoftTimeLimitExceeded("SoftTimeLimitExceeded(3540)")

    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, source=out_of_time))
    with pytest.raises(SoftTimeLimitExceeded):
        run_rollup(full=True)
    run = RollupRun.objects.latest("id")
    assert run.status == RollupRun.Status.FAILED and "SoftTimeLimitExceeded" in run.error
    assert snapshot() == before


def test_a_trigger_while_a_run_is_in_progress_does_not_start_a_second_run(data, postgres):

    from dashboards.rollup import ADVISORY_LOCK_KEY

    # Another live process is running the engine: it holds the session lock and its row.
    other = second_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s), pg_backend_pid()", [ADVISORY_LOCK_KEY])
            pid = cursor.fetchone()[1]
        RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC), kind="full")
        assert run_rollup(full=True) is None
        with pytest.raises(CommandError, match="in progress"):
            call_command("rollup", "--full")
    finally:
        other.close()  # the process "dies": its lock goes with its connection
    # ... once its server process has ended, which follows the close by a few milliseconds (longer
    # on a loaded machine: waited for up to 30 s, not a fixed number of tries). The test runs in a
    # transaction, which reads the statistics views once: each look clears that snapshot, or a
    # first look made before the process had ended would be seen to the end of the wait.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                break
        time.sleep(0.05)
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS


def test_a_run_left_running_by_a_dead_process_stops_blocking_at_once(data, postgres):
    stale = RollupRun.objects.create(started_at=dt.datetime.now(dt.UTC), kind="full")
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    stale.refresh_from_db()
    assert stale.status == RollupRun.Status.FAILED and "died" in stale.error


def test_the_command_runs_a_full_rebuild_or_from_a_month(data):
    from io import StringIO

    out = StringIO()
    call_command("rollup", "--full", stdout=out)
    assert "(full rebuild)" in out.getvalue()
    # In the site's language, as its other commands speak (LANGUAGE_CODE).
    from django.utils import translation

    zh = StringIO()
    with translation.override("zh-hans"):
        call_command("rollup", stdout=zh)
        with pytest.raises(CommandError, match="晚于当前月份"):
            call_command("rollup", "--since", "2999-01")
    assert zh.getvalue().startswith("汇总计算批次 ") and "个指标值" in zh.getvalue()
    call_command("rollup", "--since", "2026-01", stdout=out)
    assert RollupRun.objects.first().months >= 11
    with pytest.raises(CommandError, match="2026-01"):
        call_command("rollup", "--since", "Jan")


@pytest.mark.parametrize(
    ("since", "message"),
    [("2026-13", "a month like 2026-01, not '2026-13'"), ("2026-1", "not '2026-1'"), ("2999-01", "after")],
)
def test_the_command_refuses_a_bad_or_later_since_with_its_usage_not_a_traceback(
    data, since, message, capsys
):
    """From the command line, a month that is no month escaped as a CommandError traceback (raised
    while argparse read the arguments, before Django's handler), and a later month, which the API
    refuses, ran an ordinary incremental run."""
    from dashboards.management.commands.rollup import Command

    before = RollupRun.objects.count()
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "rollup", "--since", since])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err and "Traceback" not in err
    with pytest.raises(CommandError, match=message):
        call_command("rollup", "--since", since)
    assert RollupRun.objects.count() == before


@pytest.mark.parametrize("since", ["２０２５-０１", "２０２５－０１", "２０２５-01", "2025-０１"])
def test_the_command_reads_a_since_in_full_width_digits_as_the_api_does(since):
    """strptime's %m takes ASCII digits only: "２０２５-０１" was refused while "２０２５-01" passed, and
    POST stats/rollups/ took both; one parser (governance.periods.parse_month) reads them now."""
    from dashboards.management.commands.rollup import Command

    parser = Command().create_parser("manage.py", "rollup")
    assert parser.parse_args(["--since", since]).since == dt.date(2025, 1, 1)


@pytest.mark.parametrize("since", [" 2025-01", "2025-01 ", "\u30002025-01\u3000", "\t２０２５-０１ "])
def test_the_command_trims_spaces_around_since_as_the_api_does(since):
    """``rollup --since ' 2025-01'`` (a value pasted or quoted with its space) was refused while
    POST stats/rollups/ trimmed the same text (DRF's CharField strips it): both read it now."""
    from dashboards.api import RollupStartSerializer
    from dashboards.management.commands.rollup import Command

    serializer = RollupStartSerializer(data={"since": since})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["since"] == "2025-01"
    parser = Command().create_parser("manage.py", "rollup")
    assert parser.parse_args(["--since", since]).since == dt.date(2025, 1, 1)


@pytest.mark.parametrize("since", ["٢٠٢٥-01", "٢٠٢٥-٠١", "２０２６-１３"])
def test_the_command_refuses_a_since_the_api_refuses_naming_the_argument(db, since, capsys):
    # "٢٠٢٥-01" (Arabic-Indic digits, a \d without re.ASCII) ran from 2025-01; the API refused it.
    from dashboards.management.commands.rollup import Command

    before = RollupRun.objects.count()
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(["manage.py", "rollup", "--since", since])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --since:" in err and "Traceback" not in err
    assert RollupRun.objects.count() == before


def test_the_number_of_statements_does_not_grow_with_the_number_of_areas(data):
    first = run_rollup(full=True).statements
    from tests.base import make_area

    for i in range(5, 15):
        grid = make_area(
            f"340102001001{i:03d}", f"g{i}", "grid", data.community_a1a, (117.0, 31.8, 117.01, 31.81)
        )
        SurveyResponse.objects.bulk_create(stats_data.answers(grid, stats_data.NOV, safe=40, unsafe=1))
    assert run_rollup(full=True).statements == first


@pytest.mark.django_db(transaction=True)
def test_two_triggers_at_once_make_one_run(postgres, monkeypatch):
    from tests.base import build_cast

    cast = build_cast()
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    gate = threading.Barrier(2)
    refused = threading.Event()

    def hold(step: str) -> None:
        # The first run is kept busy until the second trigger has been turned away (a fixed 2 s was
        # not always enough for the second thread to get there on a loaded machine: both then ran,
        # one after the other). Were both let in, both would wait here and the test fail.
        if step == "facts":
            refused.wait(30)

    monkeypatch.setattr(rollup, "checkpoint", hold)
    results: list = []

    def trigger() -> None:
        try:
            gate.wait()
            result = run_rollup(full=True)
            results.append(result)
            if result is None:
                refused.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is None for r in results) == [False, True]
    assert RollupRun.objects.count() == 1 and RollupRun.objects.get().status == RollupRun.Status.SUCCESS


def test_an_area_tree_with_a_skipped_level_fails_the_run_clearly_and_keeps_the_values(data):
    from governance.models import Area

    run_rollup(full=True)
    before = snapshot()
    Area.objects.filter(pk=data.grid_a.pk).update(depth=9)  # not what Area.save() would store
    with pytest.raises(RuntimeError, match="1 area\\(s\\) are not one level below their parent"):
        run_rollup(full=True)
    assert snapshot() == before
    assert RollupRun.objects.first().status == RollupRun.Status.FAILED


def test_the_nightly_run_refreshes_the_months_its_sources_report_within_the_months_of_a_rebuild(
    data, monkeypatch, settings
):
    # A source reports a month before ROLLUP_FIRST_MONTH and one still to come (a step done early
    # has its deadline there): a full rebuild has no facts for either, so neither is refreshed.
    settings.ROLLUP_FIRST_MONTH = "2024-01-01"
    reported = {dt.date(2023, 6, 1), dt.date(2026, 3, 1), rollup._add_months(rollup.current_month(), 1)}
    spec = dataclasses.replace(TEST_COUNT, changes=lambda since, now: reported)
    stats_data.only(monkeypatch, spec)
    run_rollup(full=True)
    nightly = rollup.plan(full=False, since=None)
    assert not nightly.full and dt.date(2026, 3, 1) in nightly.months
    assert min(nightly.months) >= dt.date(2024, 1, 1) and max(nightly.months) == rollup.current_month()
    # So does a rebuild asked for from a month before the first (rollup --since 1999-12).
    rebuild = rollup.plan(full=False, since=dt.date(1999, 12, 1))
    assert min(rebuild.months) == dt.date(2024, 1, 1) and rebuild.force


def test_answers_imported_while_their_source_was_broken_reach_the_next_nightly_run(data, monkeypatch):
    """A night on which the survey source failed succeeded with a warning and kept the old facts;
    the next night asked the sources only for what changed since that run started, so answers
    imported for an old month before it stayed out until the weekly full rebuild."""
    from django.utils import timezone

    first = run_rollup(full=True)
    RollupRun.objects.filter(pk=first.pk).update(started_at=timezone.now() - dt.timedelta(hours=24))
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_b, dt.date(2026, 3, 5), safe=40, unsafe=2)
    )
    SurveyResponse.objects.filter(date=dt.date(2026, 3, 5)).update(
        created_at=timezone.now() - dt.timedelta(hours=12)
    )
    working = dict(registry_api.registry())

    def broken(start, end):
        raise ValueError("source bug")

    stats_data.only(
        monkeypatch,
        *(dataclasses.replace(s, source=broken) for c, s in working.items() if c.startswith("survey")),
        codes=[c for c in working if not c.startswith("survey")],
    )
    bad = run_rollup()
    assert bad.status == RollupRun.Status.SUCCESS and "source bug" in bad.error
    monkeypatch.setattr(stats_data.registry_api, "_registry", working)
    nightly = run_rollup()
    assert nightly.kind == RollupRun.Kind.INCREMENTAL
    march = IndicatorValue.objects.get(indicator="survey_safety_rate", area=data.grid_b, period="2026-03")
    assert march.value == pytest.approx(100 * 40 / 42, abs=1e-6)
    rows = snapshot()
    run_rollup(full=True)
    assert snapshot() == rows


def test_a_setting_changed_on_a_night_its_source_failed_is_applied_by_the_next_run(
    data, monkeypatch, settings
):
    """The changed setting made that night a full rebuild, but the broken source kept its facts
    counted the old way; the next run saw the same configuration hash and went incremental."""
    run_rollup(full=True)
    working = dict(registry_api.registry())

    def broken(start, end):
        raise ValueError("source bug")

    settings.SURVEY_SAFE_ANSWERS = ["very_safe", "safe"]
    stats_data.only(
        monkeypatch,
        *(dataclasses.replace(s, source=broken) for c, s in working.items() if c.startswith("survey")),
        codes=[c for c in working if not c.startswith("survey")],
    )
    assert run_rollup().kind == RollupRun.Kind.FULL
    monkeypatch.setattr(stats_data.registry_api, "_registry", working)
    assert run_rollup().kind == RollupRun.Kind.FULL
    a = IndicatorValue.objects.get(indicator="survey_safety_rate", area=data.grid_a, period="2026-11")
    assert a.value == pytest.approx(90.0)  # 9000 "safe" of 10000; "basically safe" no longer counts


def test_values_are_published_with_their_run_recorded_as_succeeded_or_not_at_all(data, monkeypatch):
    """The values were committed first and the run recorded as succeeded in a second transaction: a
    failure or a killed worker between the two published new values under a run left "running"
    (then "abandoned"), so the ETag and Last-Modified of the last successful run kept answering 304
    for them, and the assessment scoring queued with the record never ran."""
    from governance import outbox

    run_rollup(full=True)
    before = snapshot()
    SurveyResponse.objects.bulk_create(stats_data.answers(data.grid_a, dt.date(2026, 11, 2), unsafe=5000))

    def broker_table_gone(*args, **kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(outbox, "enqueue", broker_table_gone)
    with pytest.raises(RuntimeError, match="outbox unavailable"):
        run_rollup()
    assert snapshot() == before
    failed = RollupRun.objects.first()
    assert failed.status == RollupRun.Status.FAILED and "outbox unavailable" in failed.error


def test_a_source_whose_changes_fail_makes_the_run_a_full_rebuild_not_no_run_at_all(data, monkeypatch):
    """A bug in one app's ``changes`` raised before the run was even recorded: no nightly run, no
    failed run in stats/rollups with the error, and no other indicator updated either, where a
    broken source is only reported. Which months it changed is then unknown, so the run rebuilds
    everything and says why."""

    def broken(since, now):
        raise ValueError("changes bug")

    run_rollup(full=True)
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=broken))
    SurveyResponse.objects.bulk_create(
        stats_data.answers(data.grid_b, dt.date(2026, 3, 5), safe=40, unsafe=2)
    )
    SurveyResponse.objects.filter(date=dt.date(2026, 3, 5)).update(
        created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    run = run_rollup()
    assert (run.status, run.kind) == (RollupRun.Status.SUCCESS, RollupRun.Kind.FULL)
    assert "test_answer_sheets: changes: ValueError: changes bug" in run.error
    march = IndicatorValue.objects.get(indicator="test_answer_sheets", area=data.grid_b, period="2026-03")
    assert march.value == 2


def test_the_soft_time_limit_arriving_in_a_sources_changes_stops_the_run_instead_of_a_full_rebuild(
    data, monkeypatch
):
    """Celery's warning that the time is up, raised while a source's ``changes`` ran, was taken for
    that source's bug: the run went on as a full rebuild, the longest kind, until the hard kill."""
    from celery.exceptions import SoftTimeLimitExceeded

    def out_of_time(since, now):
        raise SoftTimeLimitExceeded()

    run_rollup(full=True)
    before = snapshot()
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=out_of_time))
    with pytest.raises(SoftTimeLimitExceeded):
        run_rollup()
    run = RollupRun.objects.latest("id")
    assert (run.status, run.kind) == ("failed", "incremental")  # not a full rebuild
    assert run.error.startswith("SoftTimeLimitExceeded") and "while planning" in run.error
    assert snapshot() == before


def test_a_runs_end_is_labelled_as_a_time_not_as_an_incidents_state():
    # The admin's column read 已办结 (an incident inbox's "finished" state) for when a run ended.
    from django.utils import translation

    from dashboards.models import RollupRun

    with translation.override("zh-hans"):
        assert str(RollupRun._meta.get_field("finished_at").verbose_name) == "结束时间"


@pytest.mark.django_db
def test_the_admin_lists_the_runs_read_only_with_a_failed_runs_error(client, cast):
    # docs/statistics.md sends an operator to the admin for the runs; they were not registered there.
    from django.utils import timezone

    now = timezone.now()
    failed = RollupRun.objects.create(
        started_at=now, finished_at=now, status="failed", kind="full", error="OperationalError: disk full"
    )
    RollupRun.objects.create(
        started_at=now, finished_at=now, status="success", kind="incremental", requested_by=cast.admin
    )
    client.force_login(cast.admin)
    listed = client.get("/admin/dashboards/rolluprun/?status__exact=failed")
    assert (
        listed.status_code == 200
        and f"/admin/dashboards/rolluprun/{failed.pk}/change/" in listed.content.decode()
    )
    assert "disk full" in client.get(f"/admin/dashboards/rolluprun/{failed.pk}/change/").content.decode()
    assert client.get("/admin/dashboards/rolluprun/add/").status_code == 403
    assert client.post(f"/admin/dashboards/rolluprun/{failed.pk}/delete/").status_code == 403
    assert RollupRun.objects.count() == 2


def test_a_nightly_delivery_that_finds_the_lock_held_comes_back_later(data, postgres, monkeypatch):
    """A worker process killed mid-run: the broker redelivers the nightly task at once, while
    PostgreSQL still keeps the dead client's lock (until its statement ends). That delivery returned
    None and was acknowledged: the night had no run. It now tries again later; another trigger, whose
    caller is told "in progress", does not."""

    from dashboards import tasks
    from dashboards.rollup import ADVISORY_LOCK_KEY

    class Retried(Exception):
        pass

    asked = []

    def retry(**kwargs):
        asked.append(kwargs)
        return Retried()

    monkeypatch.setattr(tasks.rollup, "retry", retry)
    # As in a worker (not eager), but the test's transaction keeps its connection.
    monkeypatch.setattr(tasks, "connection", type("Kept", (), {"close": staticmethod(lambda: None)}))
    other = second_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        with pytest.raises(Retried):
            tasks.rollup.run(trigger="nightly")
        assert asked == [{"countdown": 300, "max_retries": tasks.NIGHTLY_RETRIES}]
        assert tasks.NIGHTLY_RETRIES * 300 >= 3600  # for as long as a run may take
        # So does the run a moved area queued: the run in progress planned on the old tree.
        with pytest.raises(Retried):
            tasks.rollup.run(trigger="tree")
        # And the run an import of populations queued: the run in progress read the old figures.
        with pytest.raises(Retried):
            tasks.rollup.run(trigger="population")
        assert len(asked) == 3
        assert tasks.rollup.run(trigger="admin") is None and len(asked) == 3
        # Eager (no broker): a retry would run again at once, in the same request, against the same
        # lock; the run returns (docs/statistics.md: the change waits for the next run).
        assert tasks.rollup.apply(kwargs={"trigger": "tree"}).get() is None and len(asked) == 3
        assert not RollupRun.objects.exists()
    finally:
        other.close()
    # The lock is free again once the dead session has ended (2 s of tries were not always enough
    # on a loaded machine): the retry runs tonight's run.
    deadline = time.monotonic() + 30
    while rollup.in_progress() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert tasks.rollup.run(trigger="nightly") is not None
    assert RollupRun.objects.get().status == RollupRun.Status.SUCCESS
    # And a copy coming back after it finds it: no second run.
    assert tasks.rollup.run(trigger="nightly") is None and len(asked) == 3


def sleeping_count(start, end):
    """``answers_count`` behind a statement that takes 5 seconds (an uncorrelated subquery: PostgreSQL
    runs it once), standing for a source stuck on a long scan or a lock."""
    from django.db.models.expressions import RawSQL

    return answers_count(start, end).filter(
        id__gt=RawSQL("(SELECT 0 FROM pg_sleep(5))", [], output_field=models.IntegerField())
    )


def test_a_time_limit_has_postgresql_cancel_the_statement_in_progress(data, postgres, monkeypatch):
    """Celery's soft time limit is a Python signal handler: it does not run while psycopg2 waits for
    a statement, so a stuck statement ran on until the hard kill. With a time limit the run gives its
    statements PostgreSQL's statement_timeout, the time left: the statement is cancelled, the run
    rolls back and is recorded failed, saying why, and the previous values stay."""
    run_rollup(full=True)
    before = snapshot()
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, source=sleeping_count))
    with pytest.raises(rollup.RollupTimeLimitExceeded) as caught:
        run_rollup(full=True, time_limit=1.5)
    run = RollupRun.objects.latest("id")
    assert run.status == RollupRun.Status.FAILED
    assert "time limit of 1.5 s: PostgreSQL cancelled the statement in progress" in run.error
    # Celery pickles a task's error (from the pool's process to the worker's): it must come back.
    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)
    assert snapshot() == before
    # The run's statements had the limit; what comes after them has the server's setting again.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def test_a_time_limit_also_cancels_a_statement_stuck_in_the_planning(data, postgres, monkeypatch):
    """The sources' ``changes`` and the tree's hash are read before the run's transaction, when the
    run is planned: a statement stuck there went on past the limit too."""
    from django.db.models.expressions import RawSQL

    answered = []

    def slow_changes(since, now):
        sleep = RawSQL("(SELECT 0 FROM pg_sleep(5))", [], output_field=models.IntegerField())
        answered.append(list(SurveyResponse.objects.filter(id__gt=sleep).values_list("id")[:1]))
        return set()

    run_rollup(full=True)
    before = snapshot()
    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, changes=slow_changes))
    with pytest.raises(rollup.RollupTimeLimitExceeded):
        run_rollup(time_limit=1.5)
    assert answered == []  # the statement was cancelled, not waited for
    run = RollupRun.objects.latest("id")
    assert (run.status, run.kind, run.trigger) == ("failed", "incremental", "command")
    assert "time limit of 1.5 s" in run.error and "while planning" in run.error
    assert snapshot() == before


def test_the_command_keeps_no_time_limit_unless_given_one(data, postgres, monkeypatch):
    from io import StringIO

    stats_data.only(monkeypatch, dataclasses.replace(TEST_COUNT, source=sleeping_count))
    call_command("rollup", "--full", stdout=StringIO())
    assert RollupRun.objects.latest("id").status == RollupRun.Status.SUCCESS
    with pytest.raises(CommandError, match="reached its time limit of 1 s"):
        call_command("rollup", "--full", "--time-limit", "1", stdout=StringIO())
    assert "time limit of 1 s" in RollupRun.objects.latest("id").error
    runs = RollupRun.objects.count()
    for bad in ("0", "-5", "soon", "nan"):
        with pytest.raises(CommandError, match="--time-limit: must be a number of seconds above 0"):
            call_command("rollup", "--time-limit", bad, stdout=StringIO())
    assert RollupRun.objects.count() == runs
