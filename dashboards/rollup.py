# ruff: noqa: S608 - SQL is built from model table names and fixed fragments; every value is a parameter.
"""The rollup engine (DESIGN.md section 6): registered sources -> published ``IndicatorValue`` rows.

Everything is set-based SQL on the database; no record is ever loaded into Python. The number of
statements depends on the number of indicators and the depth of the area tree, never on the number of
areas or records. The SQL is portable between PostgreSQL and SQLite (the embedded default).

A run:

1. takes the lock: inserts its ``RollupRun`` row with status ``running``; a partial unique index allows
   one such row, so a second trigger gets an IntegrityError and returns without running;
2. decides what to refresh: everything (``full``, first run, or the registry/settings changed), or the
   months that changed since the last successful run (intake rows written since it started), the recent
   months (``ROLLUP_RECENT_MONTHS``, which contain the current periods and late records) and any months
   from ``since``;
3. in ONE transaction (so a failure leaves the previous results, and readers see old or new, never a
   mix): refreshes ``MonthlyFact`` for those months with ``INSERT ... SELECT`` from each source's
   compiled SQL; rebuilds the area closure and the period tables; for the affected periods (those
   containing a refreshed month, plus the next period and the same period next year, whose previous /
   year-on-year columns depend on them) sums the facts over the months of each period and up the area
   hierarchy (ratio of sums), computes values and sibling ranks with window functions, then previous
   period and same-period-last-year columns joined in as the rows are written (never updated);
4. records rows, seconds and statements on the run.

An incremental run gives exactly the rows of a full rebuild (tested), because every affected period is
recomputed whole from the stored monthly facts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import TruncMonth
from django.utils import timezone

from dashboards.models import (
    AreaClosure,
    BaseStage,
    IndicatorDefinition,
    IndicatorValue,
    MonthlyFact,
    PeriodInfo,
    PeriodMonth,
    PreventableCaseCount,
    RollupRun,
    SurveyResponse,
    ValueStage,
    preventable_case_kinds,
    safe_answers,
    satisfied_answers,
)
from governance import indicators as registry_api
from governance import outbox
from governance.models import Area
from governance.periods import PERIOD_TYPES, Period

log = logging.getLogger(__name__)

FACTORS = {registry_api.PERCENT: 100.0, registry_api.PER_10K: 10000.0, registry_api.SCORE: 1.0}
FIRST_MONTH_DEFAULT = dt.date(2000, 1, 1)
RANKED = "dashboards_rollup_ranked"  # a temporary table of the run's ranked rows


@dataclass
class _Plan:
    full: bool
    months: list[dt.date]  # months to refresh (incremental only)


def checkpoint(step: str) -> None:
    """Called after each step of a run; tests replace it to inject a failure midway."""


# --- helpers --------------------------------------------------------------------------------------


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _round(expr: str) -> str:
    # Values are stored rounded to 6 decimals so that equal ratios tie exactly (1, 2, 2, 4) whatever
    # float noise the division leaves; PostgreSQL has ROUND(numeric, int) only.
    if connection.vendor == "postgresql":
        return f"CAST(ROUND(CAST({expr} AS numeric), 6) AS double precision)"
    return f"ROUND({expr}, 6)"


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def current_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def config_hash() -> str:
    """What the stored facts depend on besides the records: the registry and the intake settings.
    A change forces the next run to be a full rebuild."""
    specs = sorted(
        (s.code, s.unit, s.direction, s.min_sample, s.denominator_over_time)
        for s in registry_api.registry().values()
    )
    extra = [sorted(safe_answers()), sorted(satisfied_answers()), sorted(preventable_case_kinds())]
    extra.append(getattr(settings, "ROLLUP_FIRST_MONTH", FIRST_MONTH_DEFAULT.isoformat()))
    return hashlib.sha256(json.dumps([specs, extra], default=str).encode()).hexdigest()


class _Sql:
    """A cursor that counts statements (recorded on the run; the benchmark checks it is flat)."""

    def __init__(self, cursor) -> None:
        self.cursor = cursor
        self.count = 0

    def __call__(self, sql: str, params: Iterable = ()) -> int:
        self.count += 1
        self.cursor.execute(sql, list(params))
        return self.cursor.rowcount

    def clear(self, model) -> None:
        # Working tables are private to the (single) running run: TRUNCATE is cheapest on PostgreSQL.
        if connection.vendor == "postgresql":
            self(f"TRUNCATE {_t(model)}")
        else:
            self(f"DELETE FROM {_t(model)}")

    def analyze(self, model) -> None:
        # Freshly filled tables have no statistics yet inside the transaction; give the planner some.
        if connection.vendor == "postgresql":
            self(f"ANALYZE {_t(model)}")


# --- planning -------------------------------------------------------------------------------------


def last_success() -> RollupRun | None:
    return RollupRun.objects.filter(status=RollupRun.Status.SUCCESS).order_by("-started_at", "-id").first()


def _changed_intake_months(since: dt.datetime) -> set[dt.date]:
    """Months of survey answers / police counts written since ``since`` (the last successful run)."""
    months = set(
        SurveyResponse.objects.filter(created_at__gte=since)
        .annotate(m=TruncMonth("date"))
        .values_list("m", flat=True)
        .distinct()
    )
    months |= set(
        PreventableCaseCount.objects.filter(updated_at__gte=since).values_list("month", flat=True).distinct()
    )
    return {
        m.replace(day=1) if isinstance(m, dt.date) else dt.date.fromisoformat(str(m)[:10]) for m in months
    }


def plan(*, full: bool, since: dt.date | None) -> _Plan:
    previous = last_success()
    if full or previous is None or previous.config_hash != config_hash():
        return _Plan(full=True, months=[])
    now = current_month()
    recent = max(1, int(getattr(settings, "ROLLUP_RECENT_MONTHS", 2)))
    months = {_add_months(now, -i) for i in range(recent)}
    if since is not None:
        m = since.replace(day=1)
        while m <= now:
            months.add(m)
            m = _add_months(m, 1)
    months |= _changed_intake_months(previous.started_at)
    return _Plan(full=False, months=sorted(months))


def _affected_periods(months: Iterable[dt.date]) -> set[str]:
    """Periods containing a refreshed month, plus those whose previous / last-year columns read them."""
    out: set[str] = set()
    for m in months:
        for kind in PERIOD_TYPES:
            p = Period.of(kind, m.year, m.month)
            nxt = Period.of(kind, *_next_period_start(p))
            out |= {p.code, nxt.code, Period(p.year + 1, p.kind, p.index).code}
    return out


def _next_period_start(p: Period) -> tuple[int, int]:
    end = p.end
    return end.year, end.month


# --- the run --------------------------------------------------------------------------------------


# Key of the PostgreSQL session advisory lock a running rollup holds ("rollup" in ASCII).
ADVISORY_LOCK_KEY = 0x726F6C6C7570


def _try_advisory_lock() -> bool:
    """PostgreSQL only: a session lock that dies with the process holding it. Holding it proves no
    other live process is rolling up, so a row still marked ``running`` belongs to a dead worker."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
        return bool(cursor.fetchone()[0])


def _release_advisory_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


def _acquire(*, kind: str, trigger: str, user, since: dt.date | None) -> RollupRun | None:
    now = timezone.now()
    if not _try_advisory_lock():
        return None  # another live process is running the engine
    try:
        running = RollupRun.objects.filter(status=RollupRun.Status.RUNNING)
        if connection.vendor == "postgresql":
            # We hold the lock, so whoever left a row "running" has died mid-run (killed worker,
            # OOM, deploy); its transaction was rolled back with its connection.
            running.update(
                status=RollupRun.Status.FAILED,
                finished_at=now,
                error="abandoned: the process running it died",
            )
        else:
            # SQLite (embedded default, one process): fall back to the longest a run may take.
            limit = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 3 * 3600))
            running.filter(started_at__lt=now - dt.timedelta(seconds=limit)).update(
                status=RollupRun.Status.FAILED, finished_at=now, error="abandoned (exceeded the time limit)"
            )
        with transaction.atomic():
            return RollupRun.objects.create(
                started_at=now,
                kind=kind,
                trigger=trigger,
                requested_by=user,
                since=since,
                config_hash=config_hash(),
            )
    except IntegrityError:
        _release_advisory_lock()
        return None
    except BaseException:
        _release_advisory_lock()
        raise


def run_rollup(
    *, full: bool = False, since: dt.date | None = None, trigger: str = "command", user=None
) -> RollupRun | None:
    """Run the engine once. Returns the finished run, or None if another run is in progress.

    Raises what the run raised after recording it as failed (the previous results stay in place)."""
    the_plan = plan(full=full, since=since)
    run = _acquire(
        kind=RollupRun.Kind.FULL if the_plan.full else RollupRun.Kind.INCREMENTAL,
        trigger=trigger,
        user=user,
        since=since,
    )
    if run is None:
        log.info("rollup: another run is in progress; not starting")
        return None
    started = time.monotonic()
    try:
        return _run(run, the_plan, started)
    finally:
        _release_advisory_lock()


def _run(run: RollupRun, the_plan: _Plan, started: float) -> RollupRun:
    try:
        with transaction.atomic():
            sql = _Sql(connection.cursor())
            if connection.vendor == "postgresql":
                # Aggregates of millions of records: hash them in memory, and skip JIT compilation
                # (seconds per statement for plans that run once). Both end with the transaction.
                sql(
                    "SELECT set_config('work_mem', %s, true)", [getattr(settings, "ROLLUP_WORK_MEM", "256MB")]
                )
                sql("SET LOCAL jit = off")
            warnings: list[str] = []
            rows, months, periods = _execute(run, the_plan, sql, warnings)
    except BaseException as exc:
        _finish(
            run,
            status=RollupRun.Status.FAILED,
            seconds=time.monotonic() - started,
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        log.exception("rollup run %s failed; previous results kept", run.pk)
        raise
    with transaction.atomic():
        _finish(
            run,
            status=RollupRun.Status.SUCCESS,
            seconds=time.monotonic() - started,
            rows=rows,
            months=months,
            periods=periods,
            statements=sql.count,
            error="\n".join(warnings),
        )
        # Scoring follows every successful run: queued in the run's own transaction through the
        # outbox, so neither a broker outage nor a crash between the two can lose it.
        outbox.enqueue("dashboards.assessment_compute_all", rollup_run_id=run.pk)
    return run


def _finish(run: RollupRun, **fields) -> None:
    """Record the outcome of a run."""
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


def _execute(run: RollupRun, the_plan: _Plan, sql: _Sql, warnings: list[str]) -> tuple[int, int, int]:
    specs = sorted(registry_api.registry().values(), key=lambda s: s.code)
    _sync_definitions(specs, sql)
    end = _add_months(current_month(), 1)

    # 1. Monthly facts from every source. Each source runs in a savepoint: one app's broken source
    # keeps its previous facts (and is reported on the run) instead of blanking every dashboard.
    if the_plan.full:
        first = dt.date.fromisoformat(
            getattr(settings, "ROLLUP_FIRST_MONTH", FIRST_MONTH_DEFAULT.isoformat())
        )
        codes = [s.code for s in specs]
        sql(f"DELETE FROM {_t(MonthlyFact)} WHERE indicator NOT IN ({', '.join(['%s'] * len(codes))})", codes)
        for spec in specs:
            _refresh_facts(spec, first, end, None, sql, warnings)
        months_refreshed = 0
    else:
        months = the_plan.months
        iso = [m.isoformat() for m in months]
        for spec in specs:
            _refresh_facts(spec, months[0], _add_months(months[-1], 1), iso, sql, warnings)
        months_refreshed = len(months)
    sql.analyze(MonthlyFact)
    checkpoint("facts")

    # 2. Area closure (each area with itself and every ancestor): one INSERT per tree level.
    _build_closure(sql)
    checkpoint("closure")

    # 3. Periods spanned by the facts, and which of them this run recomputes.
    affected = None if the_plan.full else _affected_periods(the_plan.months)
    n_periods = _build_periods(sql, affected)
    checkpoint("periods")

    # 4. Sums per (indicator, source area, period), then up the hierarchy with values, ranks and the
    # previous / last-year columns; only rows whose content changed are written.
    rows = _compute_values(run, sql, None if affected is None else sorted(affected))
    checkpoint("values")

    checkpoint("changes")
    sql.clear(BaseStage)
    sql.clear(ValueStage)
    return rows, months_refreshed, n_periods


def _sync_definitions(specs, sql: _Sql) -> None:
    sql(f"DELETE FROM {_t(IndicatorDefinition)}")
    for spec in specs:
        sql(
            f"INSERT INTO {_t(IndicatorDefinition)} (code, unit, direction, factor, min_sample, last_denominator) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [
                spec.code,
                spec.unit,
                spec.direction,
                FACTORS.get(spec.unit, 0.0),
                float(spec.min_sample),
                spec.denominator_over_time == "last",
            ],
        )


def _refresh_facts(
    spec, start: dt.date, end: dt.date, months: list[str] | None, sql: _Sql, warnings: list[str]
) -> None:
    """Replace the indicator's facts for ``months`` (all when None) with INSERT ... SELECT from the
    source's compiled SQL: the records never leave the database."""
    try:
        with transaction.atomic():
            _refresh_source(spec, start, end, months, sql)
    except Exception as exc:  # noqa: BLE001 - any broken source is reported, the others still roll up
        log.exception("rollup: source of %s failed; its previous facts are kept", spec.code)
        warnings.append(f"{spec.code}: {type(exc).__name__}: {exc}")


def _refresh_source(spec, start: dt.date, end: dt.date, months: list[str] | None, sql: _Sql) -> None:
    qs = spec.source(start, end)
    source_sql, params = qs.query.get_compiler(connection=connection).as_sql()
    where = "s.area_id IS NOT NULL AND s.month IS NOT NULL"
    params = [spec.code, *params]
    if months is None:
        sql(f"DELETE FROM {_t(MonthlyFact)} WHERE indicator = %s", [spec.code])
    else:
        marks = ", ".join(["%s"] * len(months))
        sql(
            f"DELETE FROM {_t(MonthlyFact)} WHERE indicator = %s AND month IN ({marks})", [spec.code, *months]
        )
        where += f" AND s.month IN ({marks})"
        params += months
    select = (
        "SELECT %s AS indicator, s.area_id, s.month, COALESCE(SUM(s.numerator), 0) AS numerator, "
        f"COALESCE(SUM(s.denominator), 0) AS denominator FROM ({source_sql}) s WHERE {where} "
        "GROUP BY s.area_id, s.month"
    )
    columns = "(indicator, area_id, month, numerator, denominator)"
    if connection.vendor == "postgresql":
        # PostgreSQL never scans in parallel for INSERT ... SELECT, but does for CREATE TABLE AS: the
        # big scan runs on all cores into a small aggregated table, which is then inserted.
        sql("DROP TABLE IF EXISTS dashboards_rollup_source")
        sql(f"CREATE TEMPORARY TABLE dashboards_rollup_source ON COMMIT DROP AS {select}", params)
        sql(f"INSERT INTO {_t(MonthlyFact)} {columns} SELECT * FROM dashboards_rollup_source")
        sql("DROP TABLE dashboards_rollup_source")
    else:
        sql(f"INSERT INTO {_t(MonthlyFact)} {columns} {select}", params)


def _build_closure(sql: _Sql) -> None:
    area, closure = _t(Area), _t(AreaClosure)
    sql.clear(AreaClosure)
    sql(f"INSERT INTO {closure} (area_id, ancestor_id) SELECT id, id FROM {area}")
    max_depth = Area.objects.order_by("-depth").values_list("depth", flat=True).first() or 0
    sql.count += 1
    # Walking from the deepest level up, each step extends every chain by one parent.
    for depth in range(max_depth, 0, -1):
        sql(
            f"INSERT INTO {closure} (area_id, ancestor_id) SELECT c.area_id, a.parent_id "
            f"FROM {closure} c JOIN {area} a ON a.id = c.ancestor_id "
            "WHERE a.depth = %s AND a.parent_id IS NOT NULL",
            [depth],
        )
    sql.analyze(AreaClosure)


def _build_periods(sql: _Sql, affected: set[str] | None) -> int:
    sql.clear(PeriodMonth)
    sql.clear(PeriodInfo)
    bounds = MonthlyFact.objects.order_by().values_list("month", flat=True)
    first, last = bounds.order_by("month").first(), bounds.order_by("-month").first()
    sql.count += 2
    if first is None:
        return 0
    infos: dict[str, PeriodInfo] = {}
    pm: list[PeriodMonth] = []
    for year in range(first.year, last.year + 1):
        for kind in PERIOD_TYPES:
            for m in range(1, 13):
                p = Period.of(kind, year, m)
                if p.code in infos:
                    continue
                if p.end <= first or p.start > last:
                    continue
                prev = p.previous()
                infos[p.code] = PeriodInfo(
                    code=p.code,
                    kind=kind,
                    previous=prev.code,
                    last_year=p.same_last_year().code,
                    affected=affected is None or p.code in affected,
                )
                pm.extend(PeriodMonth(period=p.code, month=month) for month in p.months())
    # A few hundred tiny rows at most (4 period types x the years spanned): bulk inserts.
    PeriodInfo.objects.bulk_create(infos.values(), batch_size=500)
    PeriodMonth.objects.bulk_create(pm, batch_size=500)
    sql.count += 2
    return sum(1 for i in infos.values() if i.affected)


def _compute_values(run: RollupRun, sql: _Sql, affected: list[str] | None) -> int:
    fact, pm, pi, base, stage = (
        _t(MonthlyFact),
        _t(PeriodMonth),
        _t(PeriodInfo),
        _t(BaseStage),
        _t(ValueStage),
    )
    area, closure, defs, iv = _t(Area), _t(AreaClosure), _t(IndicatorDefinition), _t(IndicatorValue)
    sql.clear(BaseStage)
    sql.clear(ValueStage)
    # (a) per source area and period; "last" indicators keep the last month's denominator (a stock).
    sql(
        f"INSERT INTO {base} (indicator, area_id, period, numerator, denominator, last_month) "
        "SELECT f.indicator, f.area_id, pm.period, SUM(f.numerator), SUM(f.denominator), MAX(f.month) "
        f"FROM {fact} f JOIN {pm} pm ON pm.month = f.month JOIN {pi} pi ON pi.code = pm.period "
        "WHERE pi.affected GROUP BY f.indicator, f.area_id, pm.period"
    )
    sql(
        f"UPDATE {base} SET denominator = (SELECT f.denominator FROM {fact} f "
        f"WHERE f.indicator = {base}.indicator AND f.area_id = {base}.area_id AND f.month = {base}.last_month) "
        f"WHERE indicator IN (SELECT code FROM {defs} WHERE last_denominator)"
    )
    sql.analyze(BaseStage)
    # (b) up the hierarchy: ratio of sums at every level; value by unit; eligibility for ranking.
    num, den = "SUM(b.numerator)", "SUM(b.denominator)"
    value = _round(
        f"CASE WHEN d.factor = 0 THEN {num} WHEN {den} = 0 THEN NULL ELSE {num} * d.factor / {den} END"
    )
    sql(
        f"INSERT INTO {stage} (indicator, area_id, parent_id, level, period, period_type, numerator, denominator, "
        "value, eligible) "
        f"SELECT b.indicator, c.ancestor_id, a.parent_id, a.level, b.period, pi.kind, {num}, {den}, {value}, "
        f"CASE WHEN (d.factor = 0 OR {den} > 0) AND {den} >= d.min_sample THEN TRUE ELSE FALSE END "
        f"FROM {base} b JOIN {closure} c ON c.area_id = b.area_id JOIN {area} a ON a.id = c.ancestor_id "
        f"JOIN {pi} pi ON pi.code = b.period JOIN {defs} d ON d.code = b.indicator "
        "GROUP BY b.indicator, c.ancestor_id, a.parent_id, a.level, b.period, pi.kind, d.factor, d.min_sample"
    )
    checkpoint("stage")
    # (c) ranks among siblings into a temporary table: ties share a rank (RANK(): 1, 2, 2, 4); areas
    # below the minimum sample get no rank and do not count in rank_of.
    order = "CASE WHEN d.direction = 'lower_better' THEN s.value ELSE -s.value END"
    sql(f"DROP TABLE IF EXISTS {RANKED}")
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    sql(
        f"CREATE TEMPORARY TABLE {RANKED}{on_commit} AS "
        "SELECT s.indicator, s.area_id, s.parent_id, s.level, s.period, s.period_type, s.numerator, s.denominator, "
        "s.value, "
        "CASE WHEN s.eligible THEN RANK() OVER (PARTITION BY s.indicator, s.period, s.parent_id, s.eligible "
        f"ORDER BY {order}) END AS rank, "
        "SUM(CASE WHEN s.eligible THEN 1 ELSE 0 END) OVER (PARTITION BY s.indicator, s.period, s.parent_id) AS rank_of "
        f"FROM {stage} s JOIN {defs} d ON d.code = s.indicator"
    )
    sql(f"CREATE INDEX {RANKED}_key ON {RANKED} (indicator, area_id, period)")
    if connection.vendor == "postgresql":
        sql(f"ANALYZE {RANKED}")
    # (d) publish, with the previous period and the same period last year read from this run's rows
    # (recomputed periods) or from the published ones (periods not recomputed: ppi/ypi.affected false).
    # An upsert that writes only rows whose content changed: a rebuild over mostly unchanged data
    # rewrites (and re-indexes) only what moved.
    prev_value, prev_rank = "COALESCE(p1.value, p2.value)", "COALESCE(p1.rank, p2.rank)"
    yoy_value = "COALESCE(y1.value, y2.value)"
    key = "{a}.indicator = r.indicator AND {a}.area_id = r.area_id AND {a}.period = pi.{col}"
    columns = [
        "parent_id", "level", "period_type", "numerator", "denominator", "value", "rank", "rank_of",
        "previous_value", "delta", "previous_rank", "rank_change", "yoy_value", "yoy_delta",
    ]  # fmt: skip
    distinct = " IS DISTINCT FROM " if connection.vendor == "postgresql" else " IS NOT "
    changed = " OR ".join(f"t.{c}{distinct}excluded.{c}" for c in columns)
    rows = sql(
        f"INSERT INTO {iv} AS t (indicator, area_id, period, {', '.join(columns)}, run_id) "
        "SELECT r.indicator, r.area_id, r.period, r.parent_id, r.level, r.period_type, r.numerator, "
        f"r.denominator, r.value, r.rank, r.rank_of, {prev_value}, {_round(f'r.value - {prev_value}')}, "
        f"{prev_rank}, {prev_rank} - r.rank, {yoy_value}, {_round(f'r.value - {yoy_value}')}, %s "
        f"FROM {RANKED} r JOIN {pi} pi ON pi.code = r.period "
        f"LEFT JOIN {pi} ppi ON ppi.code = pi.previous LEFT JOIN {pi} ypi ON ypi.code = pi.last_year "
        f"LEFT JOIN {RANKED} p1 ON {key.format(a='p1', col='previous')} "
        f"LEFT JOIN {iv} p2 ON {key.format(a='p2', col='previous')} AND ppi.affected = FALSE "
        f"LEFT JOIN {RANKED} y1 ON {key.format(a='y1', col='last_year')} "
        f"LEFT JOIN {iv} y2 ON {key.format(a='y2', col='last_year')} AND ypi.affected = FALSE "
        # "WHERE true" keeps SQLite from reading ON CONFLICT as a join constraint. Key order: the
        # indexes then fill page after page.
        "WHERE 1 = 1 ORDER BY r.indicator, r.period, r.area_id "
        "ON CONFLICT (indicator, period, area_id) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in [*columns, "run_id"])
        + f" WHERE {changed}",
        [run.pk],
    )
    # Rows of recomputed periods that the new results no longer have (records deleted, areas moved).
    stale = f"NOT EXISTS (SELECT 1 FROM {RANKED} r WHERE r.indicator = {iv}.indicator AND r.period = {iv}.period AND r.area_id = {iv}.area_id)"
    if affected is None:
        sql(f"DELETE FROM {iv} WHERE {stale}")
    else:
        sql(f"DELETE FROM {iv} WHERE period IN ({', '.join(['%s'] * len(affected))}) AND {stale}", affected)
    sql(f"DROP TABLE {RANKED}")
    return rows
