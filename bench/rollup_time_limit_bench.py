"""What a time limit costs a rollup run (results in docs/benchmarks.md).

A run with a time limit (the Celery task's, or ``manage.py rollup --time-limit``) gives each statement
of its transaction the time left as PostgreSQL's statement_timeout: one more round trip per statement.
This alternates full runs without and with a limit (an hour, never reached) on the database given and
prints the fastest and the median of each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_demo .venv/bin/python bench/rollup_time_limit_bench.py [RUNS]

Run it on a database with data (``seed_demo``); it publishes values as ``manage.py rollup --full``
does. Not part of ``make test``.
"""

from __future__ import annotations

import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def main(runs: int) -> None:
    import django

    django.setup()
    logging.disable(logging.CRITICAL)  # (the scoring each run queues logs a line)
    from dashboards.rollup import run_rollup

    seconds: dict[float | None, list[float]] = {None: [], 3600.0: []}
    statements = 0
    for _ in range(runs):
        for limit in seconds:
            started = time.monotonic()
            run = run_rollup(full=True, trigger="command", time_limit=limit)
            seconds[limit].append(time.monotonic() - started)
            statements = run.statements
    for limit, times in seconds.items():
        label = "no limit" if limit is None else f"time limit {limit:g} s"
        print(
            f"{label}: fastest {min(times):.3f} s, median {statistics.median(times):.3f} s "
            f"({runs} full runs, {statements} statements each)"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
