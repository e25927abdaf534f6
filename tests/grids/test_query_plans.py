"""How the incident lists reach their rows (docs/benchmarks.md "List pages' query plans"): the
inbox's order read from an index. The timings at city scale are in the benchmarks; these check the
plans and the queries on the database the migrations built."""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from grids.models import INBOX_ORDER


def plan(sql: str, *, analyze: bool = False, **settings: str) -> dict:
    """The JSON plan of ``sql``, with the planner settings given (``enable_seqscan="off"``) for it."""
    with transaction.atomic(), connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute(f"SET LOCAL {name} = {value}")
        cursor.execute(f"EXPLAIN (FORMAT JSON{', ANALYZE' if analyze else ''}) {sql}")
        found = cursor.fetchone()[0]
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]


def nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from nodes(child)


def page_query(captured, table: str, marker: str) -> str:
    """The one captured SELECT of ``table`` whose SQL contains ``marker``."""
    found = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT") and table in q["sql"] and marker in q["sql"]
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.django_db
def test_the_inbox_order_is_an_index_of_the_migrated_database():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "grids_incident")
    index = constraints["incident_inbox_order"]
    assert index["columns"] == ["due_at", "reported_at", "id"]
    assert index["orders"] == ["ASC", "DESC", "DESC"]
    assert INBOX_ORDER == ["due_at", "-reported_at", "-id"]


@pytest.mark.django_db
def test_the_inbox_with_finished_items_reads_its_page_in_the_index_order(cast, client, incident_in):
    """A district centre's inbox with the finished items (``?open=false``) sorted every item of the
    district on each request: the page is read from incident_inbox_order instead, with no sort.
    (With the few test rows the planner prefers a scan and a sort, as it should: it is told here to
    avoid both if it can, which it can only with an index in the list's order.)"""
    for state in ("closed", "closed", "handling"):
        incident_in(state)
    client.force_login(cast.district_officer)
    client.get("/grids/inbox/?open=false")  # warm-up
    with CaptureQueriesContext(connection) as few:
        response = client.get("/grids/inbox/?open=false")
    assert response.status_code == 200 and response.content.decode().count('id="row-INC-') == 2
    sql = page_query(few.captured_queries, '"grids_incident"', "ORDER BY")
    found = plan(sql, enable_seqscan="off", enable_sort="off", enable_bitmapscan="off")
    assert "incident_inbox_order" in {n.get("Index Name") for n in nodes(found)}
    assert not [n for n in nodes(found) if n["Node Type"] in ("Sort", "Incremental Sort")]
    for _ in range(3):
        incident_in("closed")
    with CaptureQueriesContext(connection) as more:
        response = client.get("/grids/inbox/?open=false")
    assert response.content.decode().count('id="row-INC-') == 5
    assert len(more.captured_queries) == len(few.captured_queries)
