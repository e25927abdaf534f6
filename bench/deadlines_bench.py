"""Recomputing running deadlines after a calendar change, at city scale (results in docs/benchmarks.md).

Run it on a database with data, such as the city-scale demo (``seed_demo --scale city``). Inside one
transaction that it rolls back at the end (the database is left as it was), it enters two holidays, the
next working day and the day on which most running petitions fall due, and times
``governance.deadlines.refresh()``: the task a calendar change queues. Then it times the refresh
again, which finds the calendar version done and does nothing.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_citydemo .venv/bin/python bench/deadlines_bench.py

Not part of ``make test`` (the tests assert the query count does not grow with the records; this
measures the time).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


class _RollBack(Exception):
    pass


def main() -> None:
    import datetime as dt

    import django

    django.setup()
    from django.db import connection, transaction
    from django.db.models import Count
    from django.db.models.functions import TruncDate
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from governance import deadlines
    from governance.models import Holiday
    from governance.periods import first_working_day_from
    from grids.models import Incident
    from mediation.models import DisputeCase
    from petitions.models import Petition

    running = {
        "incidents (working-hour steps)": Incident.objects.filter(
            status__in=["reported", "accepted", "fed_back", "verified"], due_at__isnull=False
        ).count(),
        "petitions (running steps)": Petition.objects.exclude(due_at=None).count(),
        "disputes (running time limits)": DisputeCase.objects.filter(
            status__in=DisputeCase.RUNNING_STATUSES, due_at__isnull=False
        ).count(),
        "disputes (confirmation windows)": DisputeCase.objects.filter(
            confirmation_due__isnull=False, judicial_status=""
        ).count(),
    }
    for what, n in running.items():
        print(f"  {what}: {n:,}")
    next_day = first_working_day_from(timezone.localdate() + dt.timedelta(days=1))
    busiest = (
        Petition.objects.exclude(due_at=None)
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("-n", "day")
        .values_list("day", flat=True)
        .first()
    )
    days = sorted({next_day, *([busiest] if busiest else [])})
    try:
        with transaction.atomic():
            for day in days:
                Holiday.objects.update_or_create(date=day, defaults={"is_workday": False, "name": "bench"})
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                changed = deadlines.refresh()
                seconds = time.perf_counter() - started
            again = time.perf_counter()
            assert deadlines.refresh() == 0
            again = time.perf_counter() - again
            print(f"holidays entered: {', '.join(map(str, days))}")
            print(f"refresh: {changed:,} records changed in {seconds:.2f} s, {len(queries)} queries")
            print(f"refresh again (calendar version done): {again * 1000:.1f} ms")
            raise _RollBack
    except _RollBack:
        print("rolled back: the database is as it was")


if __name__ == "__main__":
    main()
