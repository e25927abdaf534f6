"""Server time of the ranking pages on the current database (run it on the city-scale demo):

    manage.py ranking_bench [--repeat 20] [--user demo_analyst]

Requests go through the Django test client (middleware, templates, ORM; no network), so the figures
are the server's own time. Prints the median and 95th percentile per page and the SQL statements of
one request."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client

from dashboards.models import IndicatorValue
from governance.models import Area, User


class _Counter:
    """An execute wrapper that records each SQL statement of a request."""

    def __init__(self, sink: list[str]) -> None:
        self.sink = sink

    def __call__(self, execute, sql, params, many, context):
        self.sink.append(sql)
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = "Time the overview, league table, map data and exports on the current database."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20, help="timed requests per page, at least 1")
        parser.add_argument("--user", default="demo_analyst")
        parser.add_argument("--indicator", default="survey_safety_rate")

    def handle(self, *args, repeat: int, user: str, indicator: str, **options):
        if repeat < 1:
            # Zero timings have no median: statistics.StatisticsError after the warm-up requests.
            raise CommandError(f"--repeat must be at least 1, got {repeat}")
        account = User.objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no user {user!r}: run seed_demo first")
        period = (
            IndicatorValue.objects.filter(indicator=indicator, level="city", period_type="month")
            .order_by("-period")
            .values_list("period", flat=True)
            .first()
        )
        if period is None:
            raise CommandError("no indicator values: run the rollup first")
        city = Area.objects.filter(level="city").order_by("code").first()
        district = Area.objects.filter(parent=city).order_by("code").first()
        street = Area.objects.filter(parent=district).order_by("code").first()
        community = Area.objects.filter(parent=street).order_by("code").first()
        client = Client(HTTP_HOST="localhost")
        client.force_login(account)
        grid_indicator = (
            "incidents_reported"
            if IndicatorValue.objects.filter(indicator="incidents_reported").exists()
            else indicator
        )
        pages = [
            ("overview (city)", f"/dashboards/?period={period}"),
            (
                "league: 12 districts of the city",
                f"/dashboards/league/?indicator={indicator}&period={period}&parent={city.code}",
            ),
            (
                "league: streets of a district",
                f"/dashboards/league/?indicator={indicator}&period={period}&parent={district.code}",
            ),
            (
                "league: grids of a community",
                f"/dashboards/league/?indicator={grid_indicator}&period={period}&parent={community.code}",
            ),
            (
                "league: districts, year",
                f"/dashboards/league/?indicator={indicator}&period={period[:4]}&parent={city.code}",
            ),
            (
                "map data: streets of a district",
                f"/dashboards/league/map-data/?indicator={indicator}&period={period}&parent={district.code}",
            ),
            (
                "CSV export: streets of a district",
                f"/dashboards/league/?indicator={indicator}&period={period}&parent={district.code}&format=csv",
            ),
            (
                "trends: a district",
                f"/dashboards/trends/?indicator={indicator}&period={period}&parent={district.code}",
            ),
        ]
        self.stdout.write(
            f"period {period}, {Area.objects.count()} areas, {IndicatorValue.objects.count()} values"
        )
        self.stdout.write("| page | median ms | p95 ms | SQL statements |")
        self.stdout.write("|---|---|---|---|")
        for name, url in pages:
            response = client.get(url)  # warm caches (templates, registry)
            if response.status_code != 200:
                raise CommandError(f"{url}: HTTP {response.status_code}")
            statements: list[str] = []
            with connection.execute_wrapper(_Counter(statements)):
                client.get(url)
            times = []
            for _i in range(repeat):
                start = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            self.stdout.write(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {len(statements)} |")
