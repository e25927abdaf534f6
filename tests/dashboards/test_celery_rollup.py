"""The nightly rollup on the real stack: beat schedule row, Redis broker, a separate worker process."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.db.models import F
from django_celery_beat.models import PeriodicTask

from dashboards.models import IndicatorValue, RollupRun
from dashboards.tasks import rollup
from tests.base import build_cast
from tests.dashboards import stats_data

ROOT = Path(__file__).resolve().parents[2]


def _create_schedule() -> None:
    from importlib import import_module

    import_module("dashboards.migrations.0002_nightly_rollup_schedule").create_schedule(apps, None)


def test_the_migration_schedules_the_rollup_at_two_in_the_morning_shanghai_time(db):
    _create_schedule()
    task = PeriodicTask.objects.get(task="dashboards.rollup")
    assert (task.crontab.hour, task.crontab.minute, str(task.crontab.timezone)) == ("2", "0", "Asia/Shanghai")
    assert task.enabled and json.loads(task.kwargs) == {"trigger": "nightly"}


def test_the_task_is_retry_safe():
    assert rollup.acks_late is True and rollup.time_limit and rollup.soft_time_limit < rollup.time_limit


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_nightly_task_from_the_redis_broker(postgres, real_celery, redis_url):
    cast = build_cast()
    stats_data.build(cast)
    _create_schedule()
    nightly = PeriodicTask.objects.get(task="dashboards.rollup")
    queue = f"test-rollup-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "governance.settings",
    }
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "governance", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        # Exactly what beat sends: the schedule row's task and kwargs.
        real_celery.send_task(nightly.task, kwargs=json.loads(nightly.kwargs), queue=queue)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run = RollupRun.objects.filter(status__in=["success", "failed"]).first()
            if run:
                break
            assert worker.poll() is None, worker.stdout.read().decode()
            time.sleep(0.5)
        else:
            pytest.fail("the worker did not finish the rollup within 90 s")
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode()
    assert run.status == "success", (run.error, output)
    assert (run.trigger, run.kind) == ("nightly", "full")
    a = IndicatorValue.objects.get(indicator="survey_safety_rate", area=cast.grid_a, period="2026-11")
    assert (a.value, a.delta, a.rank) == (93.2, 2.67, 1)


def test_the_nightly_task_is_incremental_except_on_the_weekly_full_day(cast, settings, monkeypatch):
    from django.utils import timezone

    stats_data.build(cast)
    stats_data.only(monkeypatch)
    today = timezone.localdate().weekday()
    settings.ROLLUP_FULL_WEEKDAY = (today + 1) % 7

    def next_night():  # each night's run happened a day before the next one
        RollupRun.objects.update(started_at=F("started_at") - dt.timedelta(days=1))

    rollup.delay(trigger="nightly")  # the first run is always full
    next_night()
    rollup.delay(trigger="nightly")
    assert RollupRun.objects.first().kind == "incremental"
    next_night()
    settings.ROLLUP_FULL_WEEKDAY = today
    rollup.delay(trigger="nightly")
    assert RollupRun.objects.first().kind == "full"


def test_a_second_nightly_delivery_the_same_night_does_not_run_again(cast, monkeypatch):
    """Two beat schedulers by mistake: the second copy of the nightly task finds tonight's run."""
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    first = rollup.delay(trigger="nightly").get()
    second = rollup.delay(trigger="nightly").get()
    assert first is not None and second is None
    assert RollupRun.objects.filter(trigger="nightly").count() == 1
    rollup.delay(trigger="command").get()  # an operator's own run is never deduplicated
    assert RollupRun.objects.count() == 2


def test_a_nightly_run_redelivered_after_its_worker_died_runs_again(cast, monkeypatch):
    """The worker running tonight's rollup was killed: its row is left 'running' and the broker
    redelivers the late-acked task. The redelivered copy must run (and mark the dead row failed),
    not mistake the dead run for tonight's finished one."""
    from django.utils import timezone

    stats_data.build(cast)
    stats_data.only(monkeypatch)
    dead = RollupRun.objects.create(
        started_at=timezone.now() - dt.timedelta(minutes=30), kind="incremental", trigger="nightly"
    )
    run_id = rollup.delay(trigger="nightly").get()
    assert run_id is not None and RollupRun.objects.get(pk=run_id).status == RollupRun.Status.SUCCESS
    dead.refresh_from_db()
    assert dead.status == RollupRun.Status.FAILED and "abandoned" in dead.error
