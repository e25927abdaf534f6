# ruff: noqa: S608 - SQL is built from model table names and fixed fragments; every value is a parameter.
"""The rollup engine (DESIGN.md section 6): registered sources -> published ``IndicatorValue`` rows.

Everything is set-based SQL on the database; no record is ever loaded into Python. The number of
statements depends on the number of indicators and the depth of the area tree, never on the number of
areas or records. The SQL is portable between PostgreSQL and SQLite (the embedded default).

A run:

1. takes the lock: inserts its ``RollupRun`` row with status ``running``; a partial unique index allows
   one such row, so a second trigger gets an IntegrityError and returns without running (on
   PostgreSQL a session advisory lock also tells a dead worker's row from a live run);
2. decides what to refresh: everything (``full``, first run, or the registry, the settings or the
   area tree changed), or the months that changed since the last successful run (intake rows written since it started), the recent
   months (``ROLLUP_RECENT_MONTHS``, which contain the current periods and late records) and any months
   from ``since``;
3. in ONE transaction (so a failure leaves the previous results, and readers see old or new, never a
   mix):
   a. runs each source query once (indicators that share a source function share one scan) into a
      temporary table and refreshes ``MonthlyFact`` from it; an incremental run compares the refreshed
      months' facts with the stored ones and goes on with only the indicators and months whose facts
      changed (none: the run is done);
   b. lists the periods the facts span and which of them are affected (those containing a changed
      month, plus the next period and the same period next year, whose previous / year-on-year columns
      depend on them);
   c. sums the facts over the months of each affected period per source area, then up the area tree
      one level at a time, deepest first (ratio of sums at every level);
   d. computes values and sibling ranks with window functions;
   e. publishes, with the previous-period and same-period-last-year columns joined in as the rows are
      written (never updated afterwards), null where that other period starts before the
      indicator's first month of data (``_first_months``: it was covered only in part). A full rebuild on PostgreSQL loads a fresh copy of the
      table, indexes it once and swaps it in (``dashboards.tableswap``); otherwise only the rows whose
      content changed are written, and the recomputed indicators' and periods' rows that are gone are
      deleted;
4. records rows, seconds and statements on the run, as succeeded, in that same transaction.

The heavy steps work on temporary tables keyed by small integers (indicator and period ids instead of
their text codes), which are joined back once, when publishing.

An incremental run gives exactly the rows of a full rebuild (tested), because every affected period is
recomputed whole from the stored monthly facts, and values change only when facts, the tree or the
configuration do.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from dashboards import tableswap
from dashboards.models import (
    IndicatorValue,
    MonthlyFact,
    RollupRun,
    preventable_case_kinds,
    safe_answers,
    satisfied_answers,
)
from governance import indicators as registry_api
from governance import outbox
from governance.deadlines import MARKER as DEADLINES_MARKER
from governance.models import Area, SequenceCounter
from governance.periods import MONTH, PERIOD_TYPES, Period

log = logging.getLogger(__name__)

FACTORS = {registry_api.PERCENT: 100.0, registry_api.PER_10K: 10000.0, registry_api.SCORE: 1.0}
FIRST_MONTH_DEFAULT = dt.date(2000, 1, 1)


@dataclass
class _Plan:
    full: bool
    months: list[dt.date]  # months to refresh (incremental only)
    config: str  # config_hash() when planned, recorded on the run
    force: bool = False  # recompute every indicator in ``months``, changed facts or not (``since``)
    warnings: list[str] = field(default_factory=list)  # recorded on the run (a source's changes failed)


class RollupTimeLimitExceeded(SoftTimeLimitExceeded):
    """The run reached its time limit (``run_rollup(time_limit=...)``; the Celery task's soft limit).
    A SoftTimeLimitExceeded, so that nothing takes it for a broken source either. (Built by ``of``:
    its only argument is the message, so that it pickles, as Celery does with a task's error.)"""

    def __str__(self) -> str:  # (billiard's would print the arguments' tuple)
        return str(self.args[0]) if self.args else ""

    @classmethod
    def of(cls, limit: float, *, cancelled: bool) -> RollupTimeLimitExceeded:
        how = "PostgreSQL cancelled the statement in progress" if cancelled else "before its next statement"
        return cls(
            f"the run reached its time limit of {limit:g} s: {how}; the run was rolled back and the "
            "previous values are kept"
        )


# SQLSTATE query_canceled: a statement_timeout, or pg_cancel_backend.
QUERY_CANCELED = "57014"
# What Django's atomic blocks send (DatabaseOperations.savepoint_*_sql).
SAVEPOINT_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def checkpoint(step: str) -> None:
    """Called after each step of a run; tests replace it to inject a failure midway."""


# --- helpers --------------------------------------------------------------------------------------


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _round(expr: str, *, quotient: bool = False) -> str:
    # Values are stored rounded to 6 decimals so that equal ratios tie exactly (1, 2, 2, 4) whatever
    # float noise the division leaves. PostgreSQL's ROUND(x, 6) needs numeric arithmetic (slow over a
    # million rows); rounding the scaled float to an integer gives the same 6-decimal value. Halves go
    # away from zero, as there (PostgreSQL's ROUND of a float rounds them to even).
    # A ``quotient`` of two sums may fall on a half exactly (51.211 of 64 is 80.0171875%), where
    # the division's last bit decides: 51.211 / 64 came out just below the half and 512.11 / 640 not,
    # so two equal ratios were stored as 80.017187 and 80.017188 and ranked apart. The scaled value
    # gets 1e-14 of itself (capped at a thousandth of the last digit) before it is cut: twenty
    # times the error of a division of two 6-decimal sums (some 5e-16 of the quotient). A quotient
    # that close below a half without being on it is rounded up too: an error under 1e-12 of a
    # percentage point, where the tie it keeps is a rank.
    tolerance = ""
    if quotient:
        least = "LEAST" if connection.vendor == "postgresql" else "MIN"
        tolerance = f" + {least}(ABS({expr}) * 0.00000001, 0.001)"
    if connection.vendor == "postgresql":
        return f"(SIGN({expr}) * FLOOR(ABS({expr}) * 1000000.0 + 0.5{tolerance}) / 1000000.0)"
    # SQLite's ROUND(x, 6) goes through text and can miss the nearest float by one bit (99.36708899999999
    # for 99.367089): the same integer arithmetic as on PostgreSQL instead.
    return (
        f"(CAST(ABS({expr}) * 1000000.0 + 0.5{tolerance} AS INTEGER) "
        f"* (CASE WHEN {expr} < 0 THEN -1 ELSE 1 END) / 1000000.0)"
    )


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def current_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def first_month() -> dt.date:
    """The first month with facts (ROLLUP_FIRST_MONTH)."""
    return dt.date.fromisoformat(
        str(getattr(settings, "ROLLUP_FIRST_MONTH", FIRST_MONTH_DEFAULT.isoformat()))
    )


def config_hash() -> str:
    """What the published values depend on besides the records: the registry (with each
    indicator's ``revision``, raised when its definition changes), the intake settings and the area
    tree (an area added, moved or removed changes the sums of every period above it; a population,
    the per-10,000 rates of every month; service dates, which periods' zero counts it gets).
    A change forces the next run to be a full rebuild."""
    specs = sorted(
        (s.code, s.unit, s.direction, s.min_sample, s.denominator_over_time, s.revision)
        for s in registry_api.registry().values()
    )
    extra = [sorted(safe_answers()), sorted(satisfied_answers()), sorted(preventable_case_kinds())]
    extra.append(first_month().isoformat())
    # The calendar the running deadlines were last brought to (governance.deadlines.refresh): moving
    # a deadline writes no workflow event, so no source's ``changes`` sees the months it leaves (an
    # open late step counted in March, due in April once March 31st became a holiday).
    extra.append(SequenceCounter.current(DEADLINES_MARKER))
    digest = hashlib.sha256(json.dumps([specs, extra], default=str).encode())
    # The tree as the sums and the zero counts see it, streamed (a few thousand areas, a few small
    # columns each).
    tree = Area.objects.order_by("id").values_list(
        "id", "parent_id", "level", "depth", "population", "in_service_from", "in_service_until"
    )
    for row in tree.iterator(chunk_size=10000):
        digest.update(repr(row).encode())
    return digest.hexdigest()


class _Sql:
    """A cursor that counts statements (recorded on the run; the benchmark checks it is flat)."""

    def __init__(self, cursor) -> None:
        self.cursor = cursor
        self.count = 0

    def __call__(self, sql: str, params: Iterable = ()) -> int:
        self.count += 1
        started = time.monotonic()
        self.cursor.execute(sql, list(params))
        log.debug("rollup: %.3f s %s", time.monotonic() - started, " ".join(sql.split())[:160])
        return self.cursor.rowcount

    def analyze_temp(self, name: str) -> None:
        if connection.vendor == "postgresql":
            self(f"ANALYZE {WORK}{name}")

    def analyze(self, model) -> None:
        # Freshly filled tables have no statistics yet inside the transaction; give the planner some.
        if connection.vendor == "postgresql":
            self(f"ANALYZE {_t(model)}")


# --- planning -------------------------------------------------------------------------------------


def last_success() -> RollupRun | None:
    return RollupRun.objects.filter(status=RollupRun.Status.SUCCESS).order_by("-started_at", "-id").first()


# How far before the last run's start a nightly run asks the sources for changes: a workflow step
# stamps its event when it starts and commits a moment later, possibly after that run read the
# records. Months refreshed twice cost a comparison and change nothing.
CHANGE_MARGIN = dt.timedelta(minutes=10)


def _changed_months(since: dt.datetime, now: dt.datetime, warnings: list[str]) -> set[dt.date] | None:
    """The months whose facts the sources say may have changed between ``since`` and ``now`` (each
    source's ``changes``: records added or changed, deadlines passed; governance/indicators.py).
    None when a source could not say (its ``changes`` failed; noted in ``warnings``): one app's bug
    there stopped every run before it was even recorded, and every other indicator with it, where a
    broken source is only reported. Which months of that source changed is then unknown: the run is
    a full rebuild."""
    months: set[dt.date] = set()
    specs = registry_api.registry().values()
    for changes in {id(s.changes): s.changes for s in specs if s.changes}.values():
        try:
            with transaction.atomic():  # (a database error must not break a caller's transaction)
                months |= changes(since, now)
        except SoftTimeLimitExceeded:
            # The task's time is up (Celery's warning, an Exception): not this source's bug, which
            # would make the run a full rebuild, the longest kind, going on until the kill.
            raise
        except Exception as exc:  # noqa: BLE001 - reported on the run, which rebuilds everything instead
            codes = ", ".join(sorted(s.code for s in specs if s.changes is changes))
            log.exception("rollup: the changes of %s failed; rebuilding everything", codes)
            warnings.append(f"{codes}: changes: {type(exc).__name__}: {exc} (a full rebuild instead)")
            return None
    return months


def last_clean_success() -> RollupRun | None:
    """The last successful run in which every source ran (no warning of a broken source). A run
    whose source failed kept that source's old facts: it is no baseline for the next run, neither for
    the changes the source reported meanwhile nor for a configuration it never applied to them."""
    return (
        RollupRun.objects.filter(status=RollupRun.Status.SUCCESS, error="")
        .order_by("-started_at", "-id")
        .first()
    )


def plan(*, full: bool, since: dt.date | None, at: dt.datetime | None = None) -> _Plan:
    """What a run started ``at`` (now) does. A run's ``started_at`` is its plan's ``at``, so the next
    run asks the sources for what changed from there on (less CHANGE_MARGIN): nothing falls between.
    The baseline is the last *clean* successful run (``last_clean_success``): after a night on which a
    source failed, the next run still refreshes the months that source reported since."""
    at = at or timezone.now()
    previous, config = last_clean_success(), config_hash()
    if full or previous is None or previous.config_hash != config:
        return _Plan(full=True, months=[], config=config)
    warnings: list[str] = []
    changed = _changed_months(previous.started_at - CHANGE_MARGIN, at, warnings)
    if changed is None:
        return _Plan(full=True, months=[], config=config, warnings=warnings)
    now = current_month()
    recent = max(1, int(getattr(settings, "ROLLUP_RECENT_MONTHS", 2)))
    months = {_add_months(now, -i) for i in range(recent)}
    # A full rebuild has facts from the first month to the current one: so do the refreshed months
    # (a step done early has its deadline, and its fact, in a month still to come; an earlier
    # ``since`` starts at the first month).
    first = first_month()
    if since is not None:
        m = max(since.replace(day=1), first)
        while m <= now:
            months.add(m)
            m = _add_months(m, 1)
    months |= {m for m in changed if first <= m <= now}
    return _Plan(full=False, months=sorted(months), config=config, force=since is not None)


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


def _abandoned_before(now: dt.datetime) -> dt.datetime:
    """SQLite (embedded default, one process, no advisory lock): a row still ``running`` that started
    before this is taken for a dead run's, by the longest a run may take."""
    return now - dt.timedelta(seconds=int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 3 * 3600)))


def in_progress() -> bool:
    """Whether a live run holds the engine, as ``run_rollup`` would find it (the API refuses to queue
    another with it). A row left ``running`` by a killed worker does not count: on PostgreSQL nobody
    holds the advisory lock then, and the next run marks the row failed; on SQLite, once it is older
    than the time limit."""
    if connection.vendor == "postgresql":
        if not _try_advisory_lock():
            return True
        _release_advisory_lock()
        return False
    return RollupRun.objects.filter(
        status=RollupRun.Status.RUNNING, started_at__gte=_abandoned_before(timezone.now())
    ).exists()


def _acquire(
    now: dt.datetime, *, kind: str, trigger: str, user, since: dt.date | None, config: str
) -> RollupRun | None:
    if not _try_advisory_lock():
        return None  # another live process is running the engine
    try:
        running = RollupRun.objects.filter(status=RollupRun.Status.RUNNING)
        if connection.vendor == "postgresql":
            # We hold the lock, so whoever left a row "running" has died mid-run (killed worker,
            # OOM, deploy); its transaction was rolled back with its connection.
            error = "abandoned: the process running it died"
        else:
            running = running.filter(started_at__lt=_abandoned_before(now))
            error = "abandoned (exceeded the time limit)"
        # Read, then marked by id with the status re-checked: only the rows this update moved to
        # failed are announced (at most one ``running`` row exists, so this is one or two statements).
        abandoned = list(running)
        if abandoned:
            marked = RollupRun.objects.filter(
                pk__in=[r.pk for r in abandoned], status=RollupRun.Status.RUNNING
            ).update(status=RollupRun.Status.FAILED, finished_at=now, error=error)
            if marked:
                for stale in abandoned:
                    _notify_failed(stale, FailureKind.ABANDONED)
        with transaction.atomic():
            return RollupRun.objects.create(
                started_at=now,
                kind=kind,
                trigger=trigger,
                requested_by=user,
                since=since,
                config_hash=config,
            )
    except IntegrityError:
        _release_advisory_lock()
        return None
    except BaseException:
        _release_advisory_lock()
        raise


def run_rollup(
    *,
    full: bool = False,
    since: dt.date | None = None,
    trigger: str = "command",
    user=None,
    time_limit: float | None = None,
) -> RollupRun | None:
    """Run the engine once. Returns the finished run, or None if another run is in progress.

    ``time_limit`` (seconds from now; the Celery task passes what is left of its soft limit): on
    PostgreSQL every statement of the run's transaction gets the time left as its statement_timeout,
    so that the server cancels a statement still running when the limit comes (a Python signal, which
    is all Celery's soft limit is, waits for the statement), and the run fails with
    ``RollupTimeLimitExceeded``. None: no limit.

    Raises what the run raised after recording it as failed (the previous results stay in place)."""
    deadline = None if time_limit is None else time.monotonic() + time_limit
    at = timezone.now()
    try:
        # The planning reads (the sources' ``changes``, the tree's hash) get the limit too: in one
        # transaction, so that their statements can be given the time left.
        with transaction.atomic(), _statement_deadline(deadline, time_limit):
            the_plan = plan(full=full, since=since, at=at)
    except BaseException as exc:
        # Stopped before it took the lock: recorded failed all the same, for stats/rollups/ and the
        # administrators to hear of a night without a run: the time limit (ours, or Celery's between
        # two statements), or any error (a planning read refused by the database, a bug). The
        # planning transaction is rolled back by now, so the connection takes the row. A failed
        # row takes no lock: only one ``running`` row may exist.
        _record_planning_failure(exc, at, full=full, since=since, trigger=trigger, user=user)
        raise
    run = _acquire(
        at,
        kind=RollupRun.Kind.FULL if the_plan.full else RollupRun.Kind.INCREMENTAL,
        trigger=trigger,
        user=user,
        since=since,
        config=the_plan.config,
    )
    if run is None:
        log.info("rollup: another run is in progress; not starting")
        return None
    started = time.monotonic()
    try:
        return _run(run, the_plan, started, deadline, time_limit)
    finally:
        _release_advisory_lock()


def _record_planning_failure(
    exc: BaseException, at: dt.datetime, *, full: bool, since: dt.date | None, trigger: str, user
) -> None:
    """Record and announce a run that failed while it was planned (``run_rollup``). Neither the
    database refusing the row (perhaps why the planning failed) nor Celery's soft limit arriving here
    hides ``exc``, which the caller raises."""
    stopped = RollupRun(
        started_at=at,
        finished_at=timezone.now(),
        kind=RollupRun.Kind.FULL if full else RollupRun.Kind.INCREMENTAL,
        trigger=trigger,
        requested_by=user,
        since=since,
        status=RollupRun.Status.FAILED,
        error=f"{type(exc).__name__}: {exc} (while planning)"[:2000],
    )

    def insert() -> None:
        if stopped.pk is None:  # (an attempt the signal stopped after its INSERT has the id)
            stopped.save(force_insert=True)

    try:
        _despite_the_time_limit(insert, "the planning failure")
    except (DatabaseError, SoftTimeLimitExceeded):
        log.exception("rollup: a run failed while planning and could not be recorded")
        return
    log.error("rollup run %s failed while planning: %s", stopped.pk, stopped.error)
    timed_out = isinstance(exc, SoftTimeLimitExceeded)
    _notify_failed(stopped, FailureKind.PLANNING if timed_out else FailureKind.PLANNING_ERROR)


def _despite_the_time_limit(write: Callable[[], None], what: str) -> None:
    """Make ``write`` (a failure's record, one statement in autocommit, which the time limit's signal
    finds either done or not begun) once more if Celery's soft limit interrupted it: the signal comes
    once, and the hard kill a minute later. Interrupted, the row was left ``running`` until the next
    run took it for abandoned, and a planning failure left none. ``write`` must bear being made
    twice."""
    try:
        write()
    except SoftTimeLimitExceeded:
        log.warning("rollup: the time limit came while %s was recorded; recording it again", what)
        write()


@contextmanager
def _statement_deadline(deadline: float | None, limit: float | None) -> Iterator[None]:
    """Inside the run's transaction: each statement on the connection (the engine's and the ORM's)
    first gets the time left until ``deadline`` as its statement_timeout (SET LOCAL: it ends with the
    transaction, or a savepoint rolled back), and a statement cancelled by it, or one that would start
    after the deadline, raises RollupTimeLimitExceeded. One extra round trip per statement (about a
    hundred a run), only for runs with a limit; not counted in the run's ``statements``."""
    if deadline is None or limit is None or connection.vendor != "postgresql":
        yield
        return
    from psycopg2.extensions import TRANSACTION_STATUS_INERROR

    def limited(execute, sql, params, many, context):
        raw_connection = context["connection"].connection
        if raw_connection.info.transaction_status == TRANSACTION_STATUS_INERROR or sql.startswith(
            SAVEPOINT_STATEMENTS
        ):
            # The savepoints of atomic blocks, instant, go through: above all the rollback to one
            # after a statement failed (the transaction is aborted until then; it takes its SET
            # LOCALs back too) and the release after it, which raising here would put in the place
            # of the error being handled.
            return execute(sql, params, many, context)
        left = deadline - time.monotonic()
        if left <= 0:
            raise RollupTimeLimitExceeded.of(limit, cancelled=False)
        with raw_connection.cursor() as raw:  # (not through this wrapper again)
            raw.execute("SELECT set_config('statement_timeout', %s, true)", [f"{math.ceil(left * 1000)}ms"])
        try:
            return execute(sql, params, many, context)
        except OperationalError as exc:
            # (An operator's pg_cancel_backend, also 57014, well before the limit stays what it is.)
            if getattr(exc.__cause__, "pgcode", None) == QUERY_CANCELED and time.monotonic() >= deadline - 1:
                raise RollupTimeLimitExceeded.of(limit, cancelled=True) from exc
            raise

    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        before = cursor.fetchone()[0]
    with connection.execute_wrapper(limited):
        yield
    # The run succeeded. Its transaction's end resets the setting, unless it was a savepoint of a
    # caller's transaction (a test's): there the setting would outlive the run.
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])


def _run(
    run: RollupRun, the_plan: _Plan, started: float, deadline: float | None = None, limit: float | None = None
) -> RollupRun:
    try:
        with transaction.atomic(), _statement_deadline(deadline, limit):
            sql = _Sql(connection.cursor())
            if connection.vendor == "postgresql":
                _tune(sql)
            warnings: list[str] = list(the_plan.warnings)
            rows, months, periods = _execute(run, the_plan, sql, warnings)
            # Recorded in the transaction that publishes the values: readers' ETag and Last-Modified
            # come from the last successful run, so values committed under a run not (yet) recorded
            # as succeeded (a worker killed between two commits) were answered 304 as the old ones.
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
    except BaseException as exc:
        failed = {
            "status": RollupRun.Status.FAILED,
            "seconds": time.monotonic() - started,
            "error": f"{type(exc).__name__}: {exc}"[:2000],
        }
        _despite_the_time_limit(lambda: _finish(run, **failed), f"run {run.pk}'s failure")
        log.exception("rollup run %s failed; previous results kept", run.pk)
        _notify_failed(run, FailureKind.FAILED)
        raise
    return run


class FailureKind(enum.Enum):
    """How a run came to be ``failed``: what its administrator has to look at differs."""

    FAILED = "failed"  # its work raised: the error is on the run (a bug, the database, a time limit)
    ABANDONED = "abandoned"  # left ``running`` by a worker that stopped (killed, out of memory, deploy)
    PLANNING = "planning"  # the time limit came before it took the lock: nothing of it ran
    PLANNING_ERROR = "planning error"  # an error came before it took the lock: the error is on the run


FAILURE_NOTICES = {
    FailureKind.FAILED: gettext_lazy(
        "Statistics run %(run)s failed: the dashboards keep the previous figures. The error is on the run."
    ),
    FailureKind.ABANDONED: gettext_lazy(
        "Statistics run %(run)s failed: it was abandoned by a stopped worker (killed, out of memory or "
        "restarted). The dashboards keep the previous figures; check the workers."
    ),
    FailureKind.PLANNING: gettext_lazy(
        "Statistics run %(run)s failed: it was stopped before it started, at its time limit while "
        "planning. The dashboards keep the previous figures."
    ),
    FailureKind.PLANNING_ERROR: gettext_lazy(
        "Statistics run %(run)s failed: it was stopped before it started, by an error while it was "
        "planned. The dashboards keep the previous figures. The error is on the run."
    ),
}


def _notify_failed(run: RollupRun, kind: FailureKind) -> int:
    """Tell the site's administrators (active superusers, who alone may run or repair it) that a
    run failed, and how, and that the dashboards keep the previous figures: only whoever read the
    admin's run list learnt of it. Every way a run ends ``failed`` comes here. Once per run (the
    notices' key), linking to the run in the admin; never the error, which may quote data. A notice
    that cannot be written (the database gone, which may be why the run failed) does not hide the
    run's own error: in a savepoint, so that a caller's transaction goes on. Nor does Celery's soft
    time limit arriving here (its signal comes about a second after the run's own limit stopped it):
    the notices are rolled back with the savepoint, and the run's error goes on; for an abandoned
    run, where nothing else is being raised, the limit goes on instead and stops the task."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from governance.services import notify

    try:
        link = reverse("admin:dashboards_rolluprun_change", args=[run.pk])
        with transaction.atomic():
            return sum(
                notify(
                    user=u,
                    key=f"rollup-failed:{run.pk}",
                    message=FAILURE_NOTICES[kind],
                    params={"run": run.pk},
                    link=link,
                )
                for u in get_user_model().objects.filter(is_superuser=True, is_active=True)
            )
    except DatabaseError:
        log.warning("rollup run %s: the administrators could not be told of its failure", run.pk)
        return 0
    except SoftTimeLimitExceeded:
        if kind is FailureKind.ABANDONED:
            raise
        log.warning("rollup run %s: the time limit came while its failure was told; not told", run.pk)
        return 0


def _tune(sql: _Sql) -> None:
    """PostgreSQL settings for the run. Aggregates, sorts and index builds over millions of rows run
    in memory; JIT compilation is off (seconds per statement for plans that run once). These end with
    the transaction. Merge joins are off: the run's big joins match a million rows of one temporary
    table with another on integer keys, where a hash join takes a fraction of the three sorts a merge
    join needs (the planner, misjudging the match rate, would choose the sorts). The temporary tables get local buffers to match; that setting can only be made
    before the connection first touches a temporary table, so it is made for the session, once (the
    Celery task closes its connection after a run to give the memory back)."""
    sql(
        "SELECT set_config('work_mem', %s, true), set_config('maintenance_work_mem', %s, true), "
        "set_config('jit', 'off', true), set_config('enable_mergejoin', 'off', true)",
        [
            getattr(settings, "ROLLUP_WORK_MEM", "256MB"),
            getattr(settings, "ROLLUP_MAINTENANCE_WORK_MEM", "512MB"),
        ],
    )
    try:
        with transaction.atomic():
            sql(
                "SELECT set_config('temp_buffers', %s, false)",
                [getattr(settings, "ROLLUP_TEMP_BUFFERS", "512MB")],
            )
    except DatabaseError:
        log.debug("rollup: temp_buffers already fixed for this connection")


def _finish(run: RollupRun, **fields) -> None:
    """Record the outcome of a run."""
    fields["finished_at"] = timezone.now()
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


def _execute(run: RollupRun, the_plan: _Plan, sql: _Sql, warnings: list[str]) -> tuple[int, int, int]:
    specs = sorted(registry_api.registry().values(), key=lambda s: s.code)
    end = _add_months(current_month(), 1)

    # 1. Monthly facts: ONE scan per source (indicators sharing a source function share the scan).
    # Each source runs in a savepoint: one app's broken source keeps its previous facts (and is
    # reported on the run) instead of blanking every dashboard.
    if the_plan.full:
        _refresh_facts(specs, first_month(), end, None, sql, warnings)
        months_refreshed, affected = 0, None
        covered = _first_months(specs, sql)
    else:
        months = list(the_plan.months)
        iso = [m.isoformat() for m in months]
        before = _first_months(specs, sql)
        changed = _refresh_facts(specs, months[0], _add_months(months[-1], 1), iso, sql, warnings)
        covered = _first_months(specs, sql)
        months_refreshed = len(months)
        if not the_plan.force:  # (``--since`` recomputes its months whatever the facts say)
            # Only the indicators and months whose facts changed: the others' values are as stored.
            changed_codes = {code for code, _ in changed}
            specs = [s for s in specs if s.code in changed_codes]
            months = sorted({month for _, month in changed})
        if not specs or not months:
            checkpoint("facts")
            return 0, months_refreshed, 0
        # An indicator whose first month moved (a record filed in an earlier month than any before,
        # or the first month's facts gone) changes the comparisons of every period whose previous
        # or last-year period starts between the old first month and the new one: those periods
        # start in these months, so the periods after them and a year after are recomputed too.
        for spec in specs:
            old, new = before.get(spec.code), covered.get(spec.code)
            if old is not None and new is not None and old != new:
                m, stop = min(old, new), max(old, new)
                while m < stop:
                    months.append(m)
                    m = _add_months(m, 1)
        affected = _affected_periods(months)
    _create_definitions(specs, covered, sql, big=the_plan.full)
    checkpoint("facts")

    # 2. Periods spanned by the facts, and which of them this run recomputes.
    lookups = _create_periods(sql, affected, big=the_plan.full)
    checkpoint("periods")

    # 3. Sums per (indicator, source area, period), then up the tree one level at a time.
    # Statistics for the planner matter for the million-row tables of a full run only.
    levels = _sum_up_the_tree(sql, big=the_plan.full)
    checkpoint("tree")

    # 4. Values and sibling ranks, then the published rows with previous / last-year columns.
    _rank(sql, levels, big=the_plan.full)
    checkpoint("values")
    codes = [s.code for s in specs]
    if the_plan.full and connection.vendor == "postgresql":
        rows = _publish_rebuilt(run, sql, codes, lookups)
    else:
        rows = _publish_changes(run, sql, codes, None if affected is None else sorted(affected), lookups)
    checkpoint("changes")
    _drop_work_tables(sql)
    return rows, months_refreshed, lookups.recomputed


# --- working tables -------------------------------------------------------------------------------
# Temporary tables private to the run's connection (dropped at commit on PostgreSQL), keyed by small
# integers: indicator and period codes are replaced by ids for the heavy steps and joined back once,
# when the rows are published.

WORK = "rollup_"  # prefix of the run's temporary tables


def _float() -> str:
    return "double precision" if connection.vendor == "postgresql" else "REAL"


def _temp(sql: _Sql, name: str, body: str, params: Iterable = (), *, analyze: bool = False) -> None:
    """Create the temporary table ``rollup_<name>`` from ``body`` (a column list or AS SELECT);
    ``analyze`` when a later step aggregates or joins it heavily. The run drops its tables when done
    (and a failed run's are rolled back); SQLite, whose temporary tables outlive a transaction
    anyway, also drops any left over first."""
    on_commit = " ON COMMIT DROP" if connection.vendor == "postgresql" else ""
    if not on_commit:
        sql(f"DROP TABLE IF EXISTS {WORK}{name}")
    if body.startswith("("):
        sql(f"CREATE TEMPORARY TABLE {WORK}{name} {body}{on_commit}", params)
    else:
        sql(f"CREATE TEMPORARY TABLE {WORK}{name}{on_commit} AS {body}", params)
    if analyze:
        # Autovacuum never sees temporary tables: give the planner statistics for the next step.
        sql.analyze_temp(name)


def _drop(sql: _Sql, tables: list[str]) -> None:
    if connection.vendor == "postgresql":
        sql(f"DROP TABLE IF EXISTS {', '.join(tables)}")  # one statement
    else:
        for table in tables:  # SQLite drops one table per statement
            sql(f"DROP TABLE IF EXISTS {table}")


def _drop_work_tables(sql: _Sql) -> None:
    # Also on PostgreSQL: a run inside an outer transaction (a test, a caller's atomic block) does
    # not commit, so ON COMMIT DROP would leave them for the next run in that transaction.
    _drop(sql, [f"{WORK}{name}" for name in ["def", "period", "pm", "ranked", "old_prev", "old_ly"]])


def _values_rows(columns: int, rows: list[tuple]) -> tuple[str, list]:
    marks = ", ".join(["(" + ", ".join(["%s"] * columns) + ")"] * len(rows))
    return marks, [v for row in rows for v in row]


def _first_months(specs, sql: _Sql) -> dict[str, dt.date]:
    """Each indicator's first month with a fact in any area (none: no facts), never before
    ROLLUP_FIRST_MONTH: the month its data begins. A previous or last-year period that starts before
    it was only partly covered by data, and is no comparison (``_published_select``). One statement:
    a MIN per indicator, which PostgreSQL reads off the facts' index (month first) from its start."""
    if not specs:
        return {}
    sql(*_first_months_query([spec.code for spec in specs]))
    return _first_months_read(sql.cursor.fetchall())


def _first_months_query(codes: list[str]) -> tuple[str, list]:
    fact = _t(MonthlyFact)
    select = f"SELECT %s, (SELECT MIN(f.month) FROM {fact} f WHERE f.indicator = %s)"
    return " UNION ALL ".join([select] * len(codes)), [c for code in codes for c in (code, code)]


def _first_months_read(rows) -> dict[str, dt.date]:
    floor = first_month()
    return {code: max(registry_api.as_date(month), floor) for code, month in rows if month is not None}


def data_begins(codes: list[str]) -> dict[str, dt.date]:
    """The first month of each indicator's data as the published rows were computed with it
    (``_first_months``; the pages say why a change is not shown). One query."""
    if not codes:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(*_first_months_query(codes))
        return _first_months_read(cursor.fetchall())


def _create_definitions(specs, covered: dict[str, dt.date], sql: _Sql, *, big: bool) -> None:
    """The registry as a table the SQL can join on: id, code, unit factor, minimum sample, and the
    first month of its data (``covered``: ``_first_months``)."""
    _temp(
        sql,
        "def",
        f"(id integer, code varchar(60), factor {_float()}, min_sample {_float()}, last_den integer, "
        "lower_better integer, covered_from date)",
    )
    marks, params = _values_rows(
        7,
        [
            (
                i,
                spec.code,
                FACTORS.get(spec.unit, 0.0),
                float(spec.min_sample),
                int(spec.denominator_over_time == "last"),
                int(spec.direction == registry_api.LOWER_BETTER),
                # ISO text: SQLite compares its stored dates as text (with the periods' starts).
                covered[spec.code].isoformat() if spec.code in covered else None,
            )
            for i, spec in enumerate(specs, start=1)
        ],
    )
    if params:
        sql(f"INSERT INTO {WORK}def VALUES {marks}", params)
    if big:
        sql.analyze_temp("def")


# --- 1. facts -------------------------------------------------------------------------------------


def _source_groups(specs) -> list[list]:
    """Indicators grouped by source function, in registry order: one query (one scan) per group."""
    groups: dict[int, list] = {}
    for spec in specs:
        groups.setdefault(id(spec.source), []).append(spec)
    return list(groups.values())


def _refresh_facts(
    specs, start: dt.date, end: dt.date, months: list[str] | None, sql: _Sql, warnings: list[str]
) -> set[tuple[str, dt.date]]:
    """Replace the facts of ``months`` (all when None) with each source's rows: every source query
    is materialized once into a temporary table (in parallel on PostgreSQL, which never scans in
    parallel for INSERT ... SELECT but does for CREATE TABLE AS), then each indicator's columns are
    inserted from it. The records never leave the database. Returns the (indicator, month) pairs
    whose facts changed (incremental runs)."""
    done: list[tuple] = []  # (spec, table)
    groups = _source_groups(specs)
    for n, group in enumerate(groups):
        table = f"src{n}"
        try:
            with transaction.atomic():
                _materialize_source(group, table, start, end, sql)
            done.extend((spec, table) for spec in group)
        except SoftTimeLimitExceeded:
            # The task's time limit is near (Celery's warning, an Exception, raised wherever the run
            # is): the run stops and is recorded failed, not "a broken source" and on till the kill.
            raise
        except Exception as exc:  # noqa: BLE001 - any broken source is reported, the others still roll up
            for spec in group:
                log.exception("rollup: source of %s failed; its previous facts are kept", spec.code)
                warnings.append(f"{spec.code}: {type(exc).__name__}: {exc}")
    fact = _t(MonthlyFact)

    where = "s.area_id IS NOT NULL AND s.month IS NOT NULL"
    if months is not None:
        where += f" AND s.month IN ({', '.join(['%s'] * len(months))})"

    def insert(table: str) -> int:
        rows = 0
        for source in dict.fromkeys(t for _, t in done):  # one statement per source
            selects, params = [], []
            for spec in (spec for spec, t in done if t == source):
                # A row without a denominator for this indicator (e.g. a month of "don't know"
                # answers only, in a source shared by several indicators) is no fact of it.
                num, den = f"s.{_q(spec.numerator)}", f"s.{_q(spec.denominator)}"
                selects.append(
                    f"SELECT s.month, %s, s.area_id, COALESCE({num}, 0), {den} "
                    f"FROM {WORK}{source} s WHERE {where} AND {den} IS NOT NULL"
                )
                params += [spec.code, *(months or [])]
            rows += sql(
                f"INSERT INTO {table} (month, indicator, area_id, numerator, denominator) "
                + " UNION ALL ".join(selects),
                params,
            )
        return rows

    codes = [spec.code for spec, _ in done]
    changed: set[tuple[str, dt.date]] = set()
    if months is not None:
        changed = _replace_changed_facts(insert, codes, months, sql)
    else:
        swapped = None
        if len(done) == len(specs) and connection.vendor == "postgresql":
            # Every fact is rewritten: load, index once.
            swapped = tableswap.rebuild(fact, insert, sql, lock_timeout=_swap_lock_timeout())
        if swapped is None:
            keep = [s.code for s in specs if s.code not in codes]  # broken sources keep their facts
            stale = f"indicator NOT IN ({', '.join(['%s'] * len(keep))})" if keep else "1 = 1"
            sql(f"DELETE FROM {fact} WHERE {stale}", keep)
            insert(fact)
            sql.analyze(MonthlyFact)
    _drop(sql, [f"{WORK}src{n}" for n in range(len(groups))])
    return changed


def _replace_changed_facts(
    insert, codes: list[str], months: list[str], sql: _Sql
) -> set[tuple[str, dt.date]]:
    """Incremental runs: the refreshed facts are staged, and only the (indicator, month) pairs where a
    fact was added, changed or has gone replace the stored ones. Those pairs are what the run
    recomputes: a month whose facts are all as stored changes no value (the area tree and the
    settings are in the configuration hash; a change there makes the run a full rebuild)."""
    fact, columns = _t(MonthlyFact), "month, indicator, area_id, numerator, denominator"
    _temp(
        sql,
        "fact_new",
        f"(month date, indicator varchar(60), area_id bigint, numerator {_float()}, denominator {_float()})",
    )
    insert(f"{WORK}fact_new")
    if not codes:
        _drop(sql, [f"{WORK}fact_new"])
        return set()
    in_months = f"month IN ({', '.join(['%s'] * len(months))})"
    stored = (
        f"SELECT {columns} FROM {fact} WHERE {in_months} AND indicator IN ({', '.join(['%s'] * len(codes))})"
    )
    staged = f"SELECT {columns} FROM {WORK}fact_new"
    _temp(
        sql,
        "changed",
        f"SELECT indicator, month FROM ({staged} EXCEPT {stored}) added "
        f"UNION SELECT indicator, month FROM ({stored} EXCEPT {staged}) gone",
        [*months, *codes] * 2,
    )
    pair = "c.indicator = {t}.indicator AND c.month = {t}.month"
    sql(
        f"DELETE FROM {fact} WHERE {in_months} AND EXISTS "
        f"(SELECT 1 FROM {WORK}changed c WHERE {pair.format(t=fact)})",
        months,
    )
    sql(
        f"INSERT INTO {fact} ({columns}) SELECT {columns} FROM {WORK}fact_new n "
        f"WHERE EXISTS (SELECT 1 FROM {WORK}changed c WHERE {pair.format(t='n')})"
    )
    sql(f"SELECT indicator, month FROM {WORK}changed")
    changed = {(code, registry_api.as_date(month)) for code, month in sql.cursor.fetchall()}
    _drop(sql, [f"{WORK}fact_new", f"{WORK}changed"])
    return changed


def _materialize_source(group, table: str, start, end, sql: _Sql) -> None:
    qs = group[0].source(start, end)
    source_sql, params = qs.query.get_compiler(connection=connection).as_sql()
    columns = sorted({c for spec in group for c in (spec.numerator, spec.denominator)})
    sums = ", ".join(f"SUM(s.{_q(c)}) AS {_q(c)}" for c in columns)
    # No WHERE here: PostgreSQL would push it into the source query and compute the month of every
    # record twice. Rows without area or month, or outside ``months``, are dropped when inserted.
    _temp(
        sql,
        table,
        f"SELECT s.area_id, s.month, {sums} FROM ({source_sql}) s GROUP BY s.area_id, s.month",
        params,
    )


# --- 2. periods -----------------------------------------------------------------------------------


@dataclass
class _Lookups:
    """Where the recomputed rows find their previous-period and same-period-last-year values: in this
    run's own rows (``*_new``: the other period is recomputed too) or in the published rows of
    periods the run keeps (``*_old``: their codes). Only the reads a run needs are joined."""

    recomputed: int = 0
    prev_new: bool = False
    prev_old: list[str] = field(default_factory=list)
    ly_new: bool = False
    ly_old: list[str] = field(default_factory=list)


def _create_periods(sql: _Sql, affected: set[str] | None, *, big: bool) -> _Lookups:
    """Every period the facts span (ids 1..n) with its previous and same-last-year periods, and the
    months of each. ``affected`` periods are recomputed; the others keep their published rows."""
    bounds = MonthlyFact.objects.order_by().values_list("month", flat=True)
    first, last = bounds.order_by("month").first(), bounds.order_by("-month").first()
    sql.count += 2
    _temp(
        sql,
        "period",
        "(id integer, code varchar(7), kind varchar(7), affected integer, prev_id integer, prev_code varchar(7), "
        "prev_affected integer, ly_id integer, ly_code varchar(7), ly_affected integer, "
        "starts date, ends date, prev_starts date, ly_starts date)",
    )
    _temp(sql, "pm", "(month date, period integer, is_month integer)")
    lookups = _Lookups()
    if first is None:
        return lookups
    periods: dict[str, Period] = {}
    for year in range(first.year, last.year + 1):
        for kind in PERIOD_TYPES:
            for m in range(1, 13):
                p = Period.of(kind, year, m)
                if p.code not in periods and p.end > first and p.start <= last:
                    periods[p.code] = p
    # Ids in code order: sorting by (indicator id, period id, area) is sorting by the published key.
    ids = {code: i for i, code in enumerate(sorted(periods), start=1)}

    def hit(code: str) -> int:
        return int(affected is None or code in affected)

    rows, months = [], []
    prev_old, ly_old = set(), set()
    for code, p in periods.items():
        prev, ly = p.previous().code, p.same_last_year().code
        # The first day of the period and the first after it (the areas' service dates are compared
        # with them: _rank). ISO text: SQLite compares its stored dates as text.
        rows.append(
            (ids[code], code, p.kind, hit(code), ids.get(prev), prev, hit(prev), ids.get(ly), ly, hit(ly))
            + (p.start.isoformat(), p.end.isoformat())
            # Where the previous and the last-year periods begin: before the indicator's first month
            # of data they are no comparison (``_published_select``).
            + (p.previous().start.isoformat(), p.same_last_year().start.isoformat())
        )
        if hit(code):
            lookups.recomputed += 1
            months.extend(
                (month, ids[code], int(p.kind == MONTH)) for month in p.months() if first <= month <= last
            )
            # (A period the facts do not span has no rows, in a full rebuild either: nothing to read.)
            for other, old in ((prev, prev_old), (ly, ly_old)):
                if other in ids and not hit(other):
                    old.add(other)
            lookups.prev_new |= prev in ids and bool(hit(prev))
            lookups.ly_new |= ly in ids and bool(hit(ly))
    lookups.prev_old, lookups.ly_old = sorted(prev_old), sorted(ly_old)
    # A few hundred tiny rows at most (4 period types x the years spanned): one statement each.
    marks, params = _values_rows(14, rows)
    sql(f"INSERT INTO {WORK}period VALUES {marks}", params)
    if months:
        marks, params = _values_rows(3, months)
        sql(f"INSERT INTO {WORK}pm VALUES {marks}", params)
    if big:  # (the planner's guesses serve the small tables of an incremental run)
        sql.analyze_temp("period")
        sql.analyze_temp("pm")
    return lookups


# --- 3. up the tree -------------------------------------------------------------------------------


def _sum_up_the_tree(sql: _Sql, *, big: bool) -> list[str]:
    """``rollup_base``: facts summed over the months of each recomputed period per source area ("last"
    indicators keep the last month's denominator: a stock such as a population). Then the sums of
    each tree level, deepest first: an area's sums are its own facts plus its children's sums (ratio
    of sums at every level). Each level reads only the level below, so the work follows the number of
    source rows, not rows times depth. Returns the levels' row sources, deepest first."""
    fact, area = _t(MonthlyFact), _t(Area)
    # A month's sums are its facts (one per indicator, area and month): no grouping; the longer
    # periods group the facts of their months. The area's place in the tree is joined to the sums,
    # not to the (several times more) facts.
    select = (
        "SELECT d.id AS ind, f.area_id, pm.period, {num} AS num, {den} AS den, {month} AS last_month "
        f"FROM {fact} f JOIN {WORK}def d ON d.code = f.indicator "
        f"JOIN {WORK}pm pm ON pm.month = f.month AND pm.is_month = {{is_month}} "
        f"WHERE f.month >= (SELECT MIN(month) FROM {WORK}pm)"
    )
    _temp(
        sql,
        "base",
        "SELECT s.ind, s.area_id, a.parent_id, a.depth, a.level, s.period, s.num, s.den, s.last_month FROM ("
        + select.format(num="f.numerator", den="f.denominator", month="f.month", is_month=1)
        + " UNION ALL "
        + select.format(num="SUM(f.numerator)", den="SUM(f.denominator)", month="MAX(f.month)", is_month=0)
        + f" GROUP BY d.id, f.area_id, pm.period) s JOIN {area} a ON a.id = s.area_id",
        analyze=big,
    )
    sql(
        f"UPDATE {WORK}base SET den = f.denominator FROM {fact} f, {WORK}def d "
        f"WHERE d.last_den = 1 AND {WORK}base.ind = d.id AND f.indicator = d.code "
        f"AND f.area_id = {WORK}base.area_id AND f.month = {WORK}base.last_month "
        f"AND f.month >= (SELECT MIN(month) FROM {WORK}pm)"
    )
    max_depth = Area.objects.order_by("-depth").values_list("depth", flat=True).first() or 0
    # Summing level by level needs every area one level below its parent (Area.save keeps it so).
    broken = Area.objects.filter(parent__isnull=False).exclude(depth=F("parent__depth") + 1).count()
    sql.count += 2
    if broken:
        raise RuntimeError(f"{broken} area(s) are not one level below their parent; save them again")
    # The deepest level has nothing below it: its sums are its base rows (one per key already).
    levels = [
        f"(SELECT ind, area_id, parent_id, level, period, num, den FROM {WORK}base WHERE depth = {max_depth:d})"
    ]
    # A stock ("last" indicators: a population) is counted once: an area with facts of its own (police
    # counts for a street, besides its communities') divides by its own population, which includes
    # the residents of the areas below it; only an area without facts of its own adds its children's.
    for depth in range(max_depth - 1, -1, -1):
        _temp(
            sql,
            f"level{depth}",
            f"SELECT s.ind, s.area_id, a.parent_id, a.level, s.period, s.num, s.den FROM ("
            "SELECT x.ind, x.area_id, x.period, SUM(x.num) AS num, CASE WHEN MAX(x.own * d.last_den) = 1 "
            "THEN SUM(x.own * x.den) ELSE SUM(x.den) END AS den "
            f"FROM (SELECT ind, area_id, period, num, den, 1 AS own FROM {WORK}base WHERE depth = %s "
            f"UNION ALL SELECT ind, parent_id, period, num, den, 0 FROM {levels[-1]} below) x "
            f"JOIN {WORK}def d ON d.id = x.ind "
            f"GROUP BY x.ind, x.area_id, x.period) s JOIN {area} a ON a.id = s.area_id",
            [depth],
            analyze=big,
        )
        levels.append(f"{WORK}level{depth}")
    return levels


# --- 4. values, ranks, publishing -----------------------------------------------------------------


def _rank(sql: _Sql, levels: list[str], *, big: bool) -> None:
    """Values by unit (ratio of the sums), eligibility (minimum sample), and sibling ranks with window
    functions: ties share a rank (RANK(): 1, 2, 2, 4); areas below the minimum sample get no rank and
    do not count in rank_of."""
    # The sums are rounded like the values: weights have at most 3 decimals, and float sums of them
    # carry noise (1.13 + 8.54 + 20.33 = 29.999999999999996, below a minimum sample of 30) that
    # differs with the order of the additions (a full and an incremental run).
    num, den = _round("num"), _round("den")
    sums = [
        f"SELECT ind, area_id, parent_id, level, period, {num} AS num, {den} AS den FROM {level} lv"
        for level in levels
    ]
    # A count is zero, not missing, for an area without records whose siblings have some: the
    # community without a petition heads the league of petition counts instead of being left out of
    # it. Siblings share a tree level, so each level's missing siblings are found in that level alone.
    # (Every child of a parent with counts, grouped with the counted ones, kept where none was: a
    # grouping rather than NOT EXISTS, which SQLite would answer with a scan per candidate.)
    # Only the children in service on at least one day of the period are filled (Area.in_service_from
    # / in_service_until, inclusive, NULL for always): a grid drawn in June 2026 is no last place for
    # 2025, a grid merged away none for the months after. Records count whatever the dates.
    zero = f"CAST(0 AS {_float()})"
    zeros = [
        f"SELECT c.ind, c.area_id, c.parent_id, c.level, c.period, {zero} AS num, {zero} AS den FROM ("
        f"SELECT lv.ind, lv.area_id, lv.parent_id, lv.level, lv.period, 1 AS counted FROM {level} lv "
        f"JOIN {WORK}def d ON d.id = lv.ind WHERE d.factor = 0 UNION ALL "
        "SELECT k.ind, a.id, a.parent_id, a.level, k.period, 0 FROM (SELECT DISTINCT lv.ind, lv.period, "
        f"lv.parent_id FROM {level} lv JOIN {WORK}def d ON d.id = lv.ind WHERE d.factor = 0) k "
        f"JOIN {_t(Area)} a ON a.parent_id = k.parent_id JOIN {WORK}period p ON p.id = k.period "
        "WHERE (a.in_service_from IS NULL OR a.in_service_from < p.ends) "
        "AND (a.in_service_until IS NULL OR a.in_service_until >= p.starts)) c "
        "GROUP BY c.ind, c.area_id, c.parent_id, c.level, c.period HAVING MAX(c.counted) = 0"
        for level in levels
    ]
    union = " UNION ALL ".join(sums + zeros)
    # (A count is its sum, already rounded.)
    ratio = _round("u.num * d.factor / u.den", quotient=True)
    value = f"CASE WHEN d.factor = 0 THEN u.num WHEN u.den = 0 THEN NULL ELSE {ratio} END"
    eligible = "CASE WHEN (d.factor = 0 OR u.den > 0) AND u.den >= d.min_sample THEN 1 ELSE 0 END"
    order = "CASE WHEN v.lower_better = 1 THEN v.value ELSE -v.value END"
    _temp(
        sql,
        "ranked",
        "SELECT v.ind, v.area_id, v.parent_id, v.level, v.period, v.num, v.den, v.value, "
        "CASE WHEN v.eligible = 1 THEN RANK() OVER w END AS rank, SUM(v.eligible) OVER w AS rank_of "
        f"FROM (SELECT u.*, d.lower_better, {value} AS value, {eligible} AS eligible "
        f"FROM ({union}) u JOIN {WORK}def d ON d.id = u.ind) v "
        # One window, one sort: the ranked (eligible) siblings first, so their ranks are their
        # ranks among themselves; rank_of counts them over the whole frame.
        f"WINDOW w AS (PARTITION BY v.ind, v.period, v.parent_id ORDER BY v.eligible DESC, {order} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)",
        analyze=big,
    )
    _drop(sql, [*levels[1:], f"{WORK}base"])


COLUMNS = [
    "parent_id", "level", "period_type", "numerator", "denominator", "value", "rank", "rank_of",
    "previous_value", "delta", "previous_rank", "rank_change", "yoy_value", "yoy_delta",
]  # fmt: skip


def _published_select(lookups: _Lookups) -> str:
    """The rows to publish, text keys joined back, with the previous period and the same period last
    year read from this run's rows and/or (incremental runs) from the published rows of the periods
    the run keeps (``rollup_old_prev``, ``rollup_old_ly``): only the joins ``lookups`` calls for."""
    joins, columns = [], {}
    for alias, period, new, old in (
        ("p", "prev", lookups.prev_new, lookups.prev_old),
        ("y", "ly", lookups.ly_new, lookups.ly_old),
    ):
        reads = []
        if new or not old:  # (with nothing to read at all, an empty join keeps the column types)
            joins.append(
                f"LEFT JOIN {WORK}ranked {alias}1 ON {alias}1.ind = r.ind AND {alias}1.area_id = r.area_id "
                f"AND {alias}1.period = p.{period}_id"
            )
            reads.append(f"{alias}1")
        if old:
            joins.append(
                f"LEFT JOIN {WORK}old_{period} {alias}2 ON p.{period}_affected = 0 AND {alias}2.ind = r.ind "
                f"AND {alias}2.area_id = r.area_id AND {alias}2.period = p.{period}_id"
            )
            reads.append(f"{alias}2")
        for column in ("value", "rank"):
            read = [f"{a}.{column}" for a in reads]
            value = read[0] if len(read) == 1 else f"COALESCE({', '.join(read)})"
            # A period that starts before the indicator's first month of data was only partly
            # covered by it (a year of which only November had records): no comparison, and no
            # change shown, rather than a rise from a fraction of a year's count.
            columns[alias, column] = f"CASE WHEN p.{period}_starts >= d.covered_from THEN {value} END"
    prev_value, prev_rank, yoy_value = columns["p", "value"], columns["p", "rank"], columns["y", "value"]
    return (
        "SELECT d.code AS indicator, r.area_id, p.code AS period, r.parent_id, r.level, p.kind AS period_type, "
        "r.num AS numerator, r.den AS denominator, r.value, r.rank, r.rank_of, "
        f"{prev_value} AS previous_value, {_round(f'r.value - {prev_value}')} AS delta, "
        f"{prev_rank} AS previous_rank, {prev_rank} - r.rank AS rank_change, {yoy_value} AS yoy_value, "
        f"{_round(f'r.value - {yoy_value}')} AS yoy_delta, %s AS run_id "
        f"FROM {WORK}ranked r JOIN {WORK}def d ON d.id = r.ind JOIN {WORK}period p ON p.id = r.period "
        + " ".join(joins)
    )


def _swap_lock_timeout() -> str:
    return str(getattr(settings, "ROLLUP_SWAP_LOCK_TIMEOUT", "5s"))


def _publish_rebuilt(run: RollupRun, sql: _Sql, codes: list[str], lookups: _Lookups) -> int:
    """Full rebuild on PostgreSQL: the rows go into a fresh table whose indexes are built once at the
    end (sorting once is far cheaper than maintaining every index row by row), which then replaces
    the published table inside the run's transaction (dashboards.tableswap)."""
    columns = f"indicator, area_id, period, {', '.join(COLUMNS)}, run_id"

    def fill(table: str) -> int:
        # No ORDER BY: each index is built by its own sort anyway.
        return sql(f"INSERT INTO {table} ({columns}) {_published_select(lookups)}", [run.pk])

    rows = tableswap.rebuild(_t(IndicatorValue), fill, sql, lock_timeout=_swap_lock_timeout())
    return _publish_changes(run, sql, codes, None, lookups) if rows is None else rows


def _publish_changes(
    run: RollupRun, sql: _Sql, codes: list[str], affected: list[str] | None, lookups: _Lookups
) -> int:
    """Write only the rows whose content changed: the new rows identical to a published row are left
    out, the rest are upserted. Then the recomputed periods' rows that the new results no longer have
    (records deleted, areas moved) go."""
    iv = _t(IndicatorValue)
    if connection.vendor != "postgresql":
        # SQLite has no hash joins: the previous / last-year lookups find the run's rows through
        # an index (PostgreSQL hashes them, which is faster than probing).
        sql(f"CREATE INDEX {WORK}ranked_key ON {WORK}ranked (ind, area_id, period)")
    # Published rows are read through the (indicator, period, area) index: the recomputed
    # indicators' rows of the periods needed.

    def within(a: str) -> str:
        if affected is None:
            return "1 = 1"
        return (
            f"{a}.indicator IN ({', '.join(['%s'] * len(codes))}) "
            f"AND {a}.period IN ({', '.join(['%s'] * len(affected))})"
        )

    params = [] if affected is None else [*codes, *affected]
    # The previous and the last-year periods the run reads but does not recompute: their published
    # rows (one table each, so that each join hashes only the rows it can match).
    for name, refs in (("prev", lookups.prev_old), ("ly", lookups.ly_old)):
        if refs:
            _temp(
                sql,
                f"old_{name}",
                f"SELECT d.id AS ind, t.area_id, p.id AS period, t.value, t.rank FROM {iv} t "
                f"JOIN {WORK}def d ON d.code = t.indicator JOIN {WORK}period p ON p.code = t.period "
                f"WHERE t.indicator IN ({', '.join(['%s'] * len(codes))}) "
                f"AND t.period IN ({', '.join(['%s'] * len(refs))})",
                [*codes, *refs],
            )
    # The new rows, then those that differ from the published ones (or are new) with the id of the
    # row they replace: one join with the published rows of the recomputed periods. (Joining in the
    # same statement that computes the new rows plans far worse on PostgreSQL.)
    _temp(sql, "new", _published_select(lookups), [run.pk])
    same = " IS NOT DISTINCT FROM " if connection.vendor == "postgresql" else " IS "
    published = f"(SELECT * FROM {iv} t WHERE {within('t')}) o"
    match = "o.indicator = n.indicator AND o.period = n.period AND o.area_id = n.area_id"
    changed = "o.id IS NULL OR NOT (" + " AND ".join(f"o.{c}{same}n.{c}" for c in COLUMNS) + ")"
    # Also the published rows without a row of this run (n.* NULL): all of them on a full run (rows
    # of unregistered indicators included), those of the recomputed periods otherwise. PostgreSQL
    # finds them in the same hash join; SQLite before 3.39 has no FULL JOIN.
    if connection.vendor == "postgresql":
        body = f"SELECT n.*, o.id AS old_id FROM {WORK}new n FULL JOIN {published} ON {match} "
        body += f"WHERE n.indicator IS NULL OR {changed}"
    else:
        body = (
            f"SELECT n.*, o.id AS old_id FROM {WORK}new n LEFT JOIN {published} ON {match} WHERE {changed} "
        )
        body += f"UNION ALL SELECT n.*, o.id FROM {published} LEFT JOIN {WORK}new n ON {match} "
        body += "WHERE n.indicator IS NULL"
        params = params * 2
    _temp(sql, "out", body, params)
    sql(f"DELETE FROM {iv} WHERE id IN (SELECT old_id FROM {WORK}out WHERE indicator IS NULL)")
    rows = sql(
        f"UPDATE {iv} SET "
        + ", ".join(f"{c} = {WORK}out.{c}" for c in [*COLUMNS, "run_id"])
        + f" FROM {WORK}out WHERE {iv}.id = {WORK}out.old_id AND {WORK}out.indicator IS NOT NULL"
    )
    columns = ", ".join(["indicator", "area_id", "period", *COLUMNS, "run_id"])
    rows += sql(f"INSERT INTO {iv} ({columns}) SELECT {columns} FROM {WORK}out WHERE old_id IS NULL")
    _drop(sql, [f"{WORK}new", f"{WORK}out"])
    return rows
