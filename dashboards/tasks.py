"""Celery tasks of the dashboards app. The nightly rollup is scheduled at 02:00 local time by a data
migration (django_celery_beat), so every beat process reads the same schedule from the database."""

from __future__ import annotations

import datetime as dt
import time

from celery import shared_task
from django.conf import settings
from django.db import connection

from dashboards.models import POPULATION_TRIGGER, TREE_TRIGGER
from dashboards.rollup import run_rollup

# Acks late + reject on worker loss (settings): a worker killed mid-run gets the task redelivered, and
# the run is safe to repeat (idempotent; the RollupRun lock stops a second copy running alongside).
_LIMIT = int(getattr(settings, "CELERY_TASK_TIME_LIMIT", 3 * 3600))
# A nightly delivery that finds the run lock held tries again every 5 minutes, for up to the time limit.
NIGHTLY_RETRY_SECONDS = 300
NIGHTLY_RETRIES = max(1, _LIMIT // NIGHTLY_RETRY_SECONDS)


# Not retried on a database error (governance.tasks.RETRY_ON_DATABASE_ERROR), unlike the notices: a
# run records its own failure (its row is marked failed, or, when the database went away under it, left
# "running" with its advisory lock gone with the connection, and marked failed by the next run, which
# the API no longer refuses to queue), the previous values stay published, and
# the next night's run, or an administrator's, catches up. Retrying automatically would start runs
# of up to hours against a database just back from a failover, and OperationalError is also what a
# statement cancelled by the server raises (a statement or lock timeout, an operator's
# pg_cancel_backend): a run stopped on purpose would start again.


@shared_task(
    bind=True,
    name="dashboards.rollup",
    ignore_result=True,
    acks_late=True,
    time_limit=_LIMIT,
    soft_time_limit=_LIMIT - 60,
)
def rollup(
    self,
    full: bool = False,
    since: str | None = None,
    trigger: str = "nightly",
    user_id: int | None = None,
) -> int | None:
    """Run the rollup engine; returns the run's id, or None when another run was in progress.

    The nightly run is incremental: it refreshes the months with new intake rows and the recent months
    (ROLLUP_RECENT_MONTHS). Other apps' records can still change an older month (an incident accepted
    in March closes in November and changes March's closure rate), so once a week, on
    ROLLUP_FULL_WEEKDAY (0 = Monday, default 6 = Sunday; None to never), the nightly run is a full
    rebuild."""
    # Celery's soft time limit counts from about here (the pool starts its timer as it hands the task
    # over). The soft limit is a Python signal: while a statement runs, psycopg2 waits in libpq and
    # the handler runs only once the statement is over. So the run is given the time left as its
    # statements' timeout (run_rollup(time_limit=...)): PostgreSQL cancels a statement still running
    # then, and the run fails, recorded, with the previous values kept, instead of running on until the
    # hard limit kills the process (its task then redelivered only after the visibility timeout).
    started = time.monotonic()
    from django.utils import timezone

    from dashboards.models import RollupRun
    from governance.models import User

    if trigger == "nightly":
        # Two beat schedulers started by mistake send the nightly task twice. Concurrent copies are
        # stopped by the run lock; a copy arriving after the first finished finds tonight's run here.
        # Only a *successful* run counts: a row still "running" may be one whose worker was killed,
        # and this very delivery may be the broker's redelivery of it (acks_late), which must run;
        # run_rollup marks the dead row failed once it holds the lock, or returns None if it is live.
        recent = timezone.now() - dt.timedelta(hours=12)
        if RollupRun.objects.filter(
            trigger="nightly", started_at__gte=recent, status=RollupRun.Status.SUCCESS
        ).exists():
            return None

    weekday = getattr(settings, "ROLLUP_FULL_WEEKDAY", 6)
    if trigger == "nightly" and weekday is not None and timezone.localdate().weekday() == int(weekday):
        full = True

    user = User.objects.filter(pk=user_id).first() if user_id else None
    try:
        run = run_rollup(
            full=full,
            since=dt.date.fromisoformat(since) if since else None,
            trigger=trigger,
            user=user,
            time_limit=_time_left(self, started),
        )
    finally:
        if not self.request.is_eager:
            # The run raised this connection's buffers for temporary tables (ROLLUP_TEMP_BUFFERS);
            # a new connection for the worker's next task gives the memory back.
            connection.close()
    if run is None and trigger in ("nightly", TREE_TRIGGER, POPULATION_TRIGGER) and not self.request.is_eager:
        # The lock is held. By a live run (a second beat's copy): this copy comes back later and
        # finds tonight's successful run above. Or by the session of a worker process just killed,
        # which PostgreSQL has not noticed yet (it keeps a dead client's lock until its statement
        # ends): the broker's redelivery was dropped here and the night had no run at all.
        # A run queued by a moved area or a changed population (dashboards.models) comes back too:
        # the run in progress planned on the old tree, and nobody else would regroup the values
        # before the night.
        raise self.retry(countdown=NIGHTLY_RETRY_SECONDS, max_retries=NIGHTLY_RETRIES)
    return run.pk if run else None


def _time_left(task, started: float) -> float | None:
    """Seconds left until the task's soft time limit (the one sent with the message, else the task's),
    less a margin (a tenth of it, at most a second) so that PostgreSQL's cancellation comes before
    Celery's signal and the run's error says what happened. None without a limit."""
    soft = task.request.soft_time_limit or task.soft_time_limit
    if not soft:
        return None
    return max(soft - min(1.0, soft / 10) - (time.monotonic() - started), 0.001)


# Celery discovers the ``tasks`` module of each app; the assessment's tasks live beside it.
from dashboards import assessment_tasks  # noqa: E402,F401
