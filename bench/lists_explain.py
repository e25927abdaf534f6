"""The queries a page runs, each timed, and the plans of the slowest (docs/benchmarks.md "List pages'
query plans"). Read-only: it requests the page as a user through Django's test client, inside a
transaction it rolls back, then runs ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest statements.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_lists .venv/bin/python bench/lists_explain.py \\
        demo_department '/petitions/inbox/' [more URLs] [--plans 2 | --summary]
        [--match 'LIMIT 50' --repeat 5]  # the page's own statement, explained five times
        [--plain]  # the pages sliced plainly, not their keys first

Data for it: bench/lists_data.sql. Not part of ``make test``: the tests assert the query counts and
which index serves a list; this shows the times and the plans at scale.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("username")
    parser.add_argument("url", nargs="+", help="one or more pages or API lists")
    parser.add_argument("--plans", type=int, default=1, help="how many of the slowest SELECTs to explain")
    parser.add_argument(
        "--summary",
        action="store_true",
        help="one line per URL: its time and queries, then the slowest SELECT's scans and execution time",
    )
    parser.add_argument(
        "--match",
        default="",
        help="explain the slowest SELECT whose SQL contains this text (the page itself: 'LIMIT 50'), "
        "not the slowest of all, which is often the count",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="explain it this many times: the summary gives each execution and planning time (the "
        "machine's load moves them; one run is not a figure)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="page the lists with the plain slice, not their keys first (governance/pagination.py): "
        "what a deferred join saves, or costs, on the same pages",
    )
    args = parser.parse_args()

    import django
    from django.apps import apps

    # Set up once: run from a test (runpy), a second setup would point the log handlers at that
    # test's captured output, closed when it ends, and the next test logging would fail.
    if not apps.ready:
        django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from governance import pagination
    from governance.models import User

    if args.plain:
        pagination.deferred_slice = lambda rows, bottom, top: rows[bottom:top]

    if "testserver" not in settings.ALLOWED_HOSTS:  # the test client's host, with DEBUG off
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(User.objects.get(username=args.username))
    for url in args.url:
        client.get(url)  # warm-up: caches, the planner's statistics
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            total = time.perf_counter() - started
            transaction.set_rollback(True)
        timed = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        selects = [
            q for q in timed if q["sql"].lstrip().upper().startswith("SELECT") and args.match in q["sql"]
        ]
        head = f"{url} as {args.username}: {response.status_code}, {total * 1000:.0f} ms, {len(captured)} queries"
        if args.summary:
            plans = [_plan(connection, selects[0]["sql"]) for _ in range(args.repeat)] if selects else [[]]
            plan = plans[0]
            scans = sorted(
                {line.strip().split("  (")[0].split(" (actual")[0] for line in plan if " Scan " in line}
            )
            execution = next((line for line in plan if line.startswith("Execution Time")), "")
            buffers = next((line.strip() for line in plan if line.strip().startswith("Buffers: ")), "")
            if (
                buffers
            ):  # the whole statement's pages (its top node's): the same on every run, whatever the load
                execution += f", {buffers[len('Buffers: ') :]}"
            if len(plans) > 1:
                # Planning too: a subquery's joins are planned as well, on every request.
                runs = {key: [_ms(p, key) for p in plans] for key in ("Execution", "Planning")}
                execution += f" (of {len(plans)}: {', '.join(runs['Execution'])}; planning {', '.join(runs['Planning'])})"
            slowest = float(selects[0]["time"]) * 1000 if selects else 0.0
            which = f"slowest SELECT with {args.match!r}" if args.match else "slowest SELECT"
            print(
                f"{head}; {which} {slowest:.1f} ms, {execution}; {'; '.join(s.lstrip('-> ') for s in scans)}"
            )
            continue
        print(head)
        for query in timed[:5]:
            print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:160]}")
        for query in selects[: args.plans]:
            print()
            print("\n".join(_plan(connection, query["sql"])))


def _ms(plan: list[str], key: str) -> str:
    line = next(line for line in plan if line.startswith(f"{key} Time"))
    return f"{float(line.split(':')[1].split()[0]):.1f}"


def _plan(connection, sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
        return [row[0] for row in cursor.fetchall()]


if __name__ == "__main__":
    main()
