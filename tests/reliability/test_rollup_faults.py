"""A worker killed in the middle of a rollup: the previous results stay visible, and the next run
completes and gives exactly what a clean run gives. A real Celery worker process on the real Redis
broker is killed with SIGKILL while its run is blocked half-way (writing values)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from dashboards.models import IndicatorValue, RollupRun, SurveyResponse
from dashboards.rollup import run_rollup
from governance.models import Notification, User
from tests.base import build_cast, second_connection
from tests.dashboards import stats_data

ROOT = Path(__file__).resolve().parents[2]
FIELDS = [
    "indicator",
    "area_id",
    "period",
    "numerator",
    "denominator",
    "value",
    "rank",
    "rank_of",
    "previous_value",
    "delta",
    "previous_rank",
    "rank_change",
    "yoy_value",
    "yoy_delta",
]


def _values() -> list[tuple]:
    return list(IndicatorValue.objects.order_by("indicator", "area_id", "period").values_list(*FIELDS))


def _blocked_backends(cursor, own_pid: int) -> list[int]:
    # Statistics views are read once per transaction; the blocker holds its transaction open.
    cursor.execute("SELECT pg_stat_clear_snapshot()")
    cursor.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s "
        "AND wait_event_type = 'Lock'",
        [own_pid],
    )
    return [row[0] for row in cursor.fetchall()]


def _worker_env(redis_url: str) -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
    }


def _hold_the_values_table():
    """A second connection holding the values table in its open transaction: (connection, cursor, pid)."""
    blocker = second_connection()
    cursor = blocker.cursor()
    cursor.execute("SELECT pg_backend_pid()")
    pid = cursor.fetchone()[0]
    cursor.execute(f"LOCK TABLE {IndicatorValue._meta.db_table} IN EXCLUSIVE MODE")
    return blocker, cursor, pid


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_rollup_leaves_the_old_values_and_the_next_run_matches_a_clean_one(
    postgres, real_celery, redis_url
):
    cast = build_cast()
    stats_data.build(cast)
    assert run_rollup(full=True).status == "success"
    before = _values()
    assert before
    # New answers that the killed run would have published.
    SurveyResponse.objects.bulk_create(stats_data.answers(cast.grid_a, stats_data.NOV, unsafe=4000))

    env = _worker_env(redis_url)
    queue = f"test-kill-{uuid.uuid4().hex[:8]}"
    # Hold the values table: the run computes its facts, then waits here half-way through.
    blocker, blocker_cursor, own_pid = _hold_the_values_table()
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "governance",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        real_celery.send_task("dashboards.rollup", kwargs={"full": True, "trigger": "command"}, queue=queue)
        deadline = time.monotonic() + 90
        waiting: list[int] = []
        while time.monotonic() < deadline and not waiting:
            time.sleep(0.3)
            waiting = _blocked_backends(blocker_cursor, own_pid)
        assert waiting, "the worker's run never reached the values table"
        assert RollupRun.objects.filter(status="running").count() == 1
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=20)
    finally:
        if worker.poll() is None:
            worker.kill()
        blocker.rollback()  # release the table; the dead worker's backend then finds its client gone
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        blocker_cursor.execute("SELECT pg_stat_clear_snapshot()")
        blocker_cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [waiting])
        if blocker_cursor.fetchone()[0] == 0:
            break
        time.sleep(0.2)
    blocker.close()

    assert _values() == before  # the killed run's half-written work was rolled back with it
    killed = RollupRun.objects.get(status="running")
    admin = User.objects.create_superuser("root", password="x")

    after = run_rollup(full=True)  # the next run is not blocked by the dead one
    assert after.status == "success"
    killed.refresh_from_db()
    assert killed.status == "failed" and "died" in killed.error
    # ... and its administrator hears of it, told the worker stopped (not the error).
    notice = Notification.objects.get(user=admin, key=f"rollup-failed:{killed.pk}")
    assert "abandoned by a stopped worker" in notice.texts["en"] and "died" not in notice.texts["en"]
    next_values = _values()
    assert next_values != before  # it published the new answers

    IndicatorValue.objects.all().delete()
    assert run_rollup(full=True).status == "success"
    assert _values() == next_values  # exactly what a clean run gives


@pytest.mark.django_db(transaction=True)
def test_a_run_stuck_in_a_statement_at_the_soft_time_limit_is_cancelled_by_postgresql(
    postgres, real_celery, redis_url
):
    """Celery's soft time limit is a signal handled in Python, which does not run while psycopg2 waits
    for PostgreSQL: a run stuck in one statement (here waiting for a table lock, as it would behind a
    long scan) ran on until the hard limit killed the worker's process, and the killed task came back
    only after the visibility timeout. The task gives its run the time left to the soft limit as the
    statements' timeout: PostgreSQL cancels the statement, the run is recorded failed with the reason
    while the table is still held, and the previous values stay. A real prefork worker (the pool
    that enforces time limits) takes the task, with a soft limit of 10 s and a hard one of 120 s."""
    cast = build_cast()
    stats_data.build(cast)
    assert run_rollup(full=True).status == "success"
    before = _values()
    SurveyResponse.objects.bulk_create(stats_data.answers(cast.grid_a, stats_data.NOV, unsafe=4000))

    env = _worker_env(redis_url)
    queue = f"test-limit-{uuid.uuid4().hex[:8]}"
    # Hold the values table: the run computes its facts, then waits here half-way through.
    blocker, blocker_cursor, own_pid = _hold_the_values_table()
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "governance", "worker", "--pool", "prefork",
         "--concurrency", "1", "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        real_celery.send_task(
            "dashboards.rollup",
            kwargs={"full": True, "trigger": "command"},
            queue=queue,
            soft_time_limit=10,
            time_limit=120,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _blocked_backends(blocker_cursor, own_pid):
            time.sleep(0.2)
        # Waiting in its statement (long before its soft limit: a full run of this data takes a second).
        assert RollupRun.objects.get(status="running")
        while time.monotonic() < deadline:
            run = RollupRun.objects.exclude(status="success").first()
            if run and run.status == "failed":
                break
            assert worker.poll() is None
            time.sleep(0.3)
        else:
            pytest.fail("the run was still waiting for its statement 60 s after the task was sent")
        # Ended while the table is still held: its statement was cancelled, not let through.
        blocker_cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND granted")
        assert blocker_cursor.fetchone()[0] > 0
    finally:
        blocker.rollback()
        blocker.close()
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode()
    assert "PostgreSQL cancelled the statement in progress" in run.error, (run.error, output)
    assert _values() == before
