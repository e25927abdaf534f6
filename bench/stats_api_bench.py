"""Statistics API reads at city scale (issue 6; results in docs/benchmarks.md).

Run it after ``bench/rollup_bench.py`` on the same throw-away database (6,864 grids, 4.7 M published
value rows). It signs in two API clients with real tokens (``Authorization: Token ...``), an admin
and an analyst of one district, and times each read of the statistics API: the median of five
requests after a warm-up one, through the whole Django and REST framework stack (no network), with
the number of SQL queries of a request and the slowest of them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gov_bench .venv/bin/python bench/stats_api_bench.py

Not part of ``make test`` (the tests assert the query counts; this measures the time).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from dashboards.models import IndicatorValue
    from governance.models import Area, Membership, User
    from governance.services import user_token_issue

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        sys.exit("run against the PostgreSQL database of bench/rollup_bench.py (its name contains 'bench')")
    rows = IndicatorValue.objects.count()
    if not rows:
        sys.exit("no published values: run bench/rollup_bench.py on this database first")

    admin, _ = User.objects.get_or_create(
        username="bench_admin", defaults={"is_superuser": True, "is_staff": True}
    )
    analyst, _ = User.objects.get_or_create(username="bench_analyst")
    district = Area.objects.filter(level="district", code__startswith="99").order_by("code").first()
    Membership.objects.get_or_create(user=analyst, role="analyst", area=district)
    community = (
        Area.objects.filter(level="community", path__startswith=district.path).order_by("code").first()
    )
    street, grid = community.parent, community.children.order_by("code").first()
    month = (
        IndicatorValue.objects.filter(period_type="month")
        .order_by("-period")
        .values_list("period", flat=True)
    )
    last, previous = list(month.distinct()[:2])

    reads = [
        ("values, no filter (first page)", "/api/v1/stats/values/"),
        ("values of a level", "/api/v1/stats/values/?level=grid"),
        ("values of a period, every indicator", f"/api/v1/stats/values/?period={previous}"),
        ("values of an indicator and period", f"/api/v1/stats/values/?indicator=survey_safety_rate&period={previous}"),
        ("... of one level", f"/api/v1/stats/values/?indicator=survey_safety_rate&period={previous}&level=grid"),
        ("... 500 per page", f"/api/v1/stats/values/?indicator=survey_safety_rate&period={previous}&level=grid&page_size=500"),
        ("... 500 per page, CSV", f"/api/v1/stats/values/?indicator=survey_safety_rate&period={previous}&level=grid&page_size=500&format=csv"),
        ("values of a street's children", f"/api/v1/stats/values/?parent={street.code}"),
        ("values of one area", f"/api/v1/stats/values/?area={grid.code}"),
        ("values of a period type", "/api/v1/stats/values/?period_type=year"),
        ("ranking of a community's grids", f"/api/v1/stats/rankings/?indicator=survey_safety_rate&period={previous}&parent={community.code}"),
        ("ranking of a street's communities", f"/api/v1/stats/rankings/?indicator=dispute_success_rate&period={last[:4]}&parent={street.code}"),
        ("series of a grid (months)", f"/api/v1/stats/series/?indicator=survey_safety_rate&area={grid.code}"),
        ("series of a grid (quarters, from-to)", f"/api/v1/stats/series/?indicator=incidents_on_time_rate&area={grid.code}&period_type=quarter&from={int(last[:4]) - 2}Q1&to={last[:4]}Q4"),
        ("the registry", "/api/v1/stats/indicators/"),
        ("the runs", "/api/v1/stats/rollups/"),
    ]  # fmt: skip

    print(f"{rows:,} value rows; district {district.code}, street {street.code}, community {community.code}")
    print()
    print("| read | as | status | median | queries | slowest query | rows (count) |")
    print("|---|---|---|---|---|---|---|")
    for user in (admin, analyst):
        token = user_token_issue(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        for label, url in reads:
            client.get(url)  # warm-up
            times, slowest, count = [], 0.0, 0
            for _ in range(5):
                started = time.monotonic()
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                times.append(time.monotonic() - started)
                count = len(queries.captured_queries)
                slowest = max(float(q["time"]) for q in queries.captured_queries)
            total = response.json().get("count", "-") if "json" in response["Content-Type"] else "-"
            who = "admin" if user.is_superuser else "analyst"
            print(
                f"| {label} | {who} | {response.status_code} | {1000 * statistics.median(times):.1f} ms "
                f"| {count} | {1000 * slowest:.1f} ms | {total if total == '-' else f'{total:,}'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
