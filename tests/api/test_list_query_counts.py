"""Lists whose query count had been asserted only on a handful of rows (or not at all) cost the same
queries with many more rows (DESIGN.md section 9: query counts asserted on lists)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.models import RollupRun
from tests.base import api_client, make_area

pytestmark = pytest.mark.django_db


def _queries(client, url: str, query: dict) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query)
    assert response.status_code == 200, response.content[:300]
    return len(ctx)


def _grids(community, n: int) -> None:
    for i in range(20, 20 + n):
        x = 117.1 + i * 0.01
        make_area(f"{community.code}{i:03d}", f"新网格{i}", "grid", community, (x, 31.9, x + 0.005, 31.905))


@pytest.mark.parametrize("url", ["/api/v1/areas/", "/api/v1/areas/geojson/"])
def test_the_area_lists_cost_the_same_queries_for_more_grids(cast, url):
    client = api_client(cast.community_handler)
    query = {"level": "grid", "page_size": 500} if url == "/api/v1/areas/" else {"level": "grid"}
    _queries(client, url, query)  # warm: the user's memberships
    few = _queries(client, url, query)
    _grids(cast.community_a1a, 30)
    many = _queries(client, url, query)
    assert many == few
    rows = client.get(url, query).json()
    assert len(rows.get("results", rows.get("features"))) == 32


def test_the_rollup_run_list_costs_the_same_queries_for_more_runs(cast):
    client = api_client(cast.admin)  # an administrator sees who started each run: no query per run
    url = "/api/v1/stats/rollups/"
    now = timezone.now()

    def runs(n: int, start: int) -> None:
        RollupRun.objects.bulk_create(
            RollupRun(
                started_at=now - dt.timedelta(hours=start + i),
                finished_at=now - dt.timedelta(hours=start + i) + dt.timedelta(seconds=3),
                status=RollupRun.Status.SUCCESS,
                kind="incremental",
                trigger="api",
                requested_by=cast.admin if i % 2 else cast.analyst,
            )
            for i in range(n)
        )

    runs(1, 0)
    _queries(client, url, {})
    few = _queries(client, url, {})
    runs(40, 1)
    assert _queries(client, url, {}) == few
    body = client.get(url).json()
    assert body["count"] == 41 and {r["requested_by"] for r in body["results"]} == {"admin", "analyst"}
