"""How the incident lists reach their rows (docs/benchmarks.md "List pages' query plans"): the
inbox's order read from an index, the departments' record counted for its page only, and a grid or
area outside the scope refused without asking the incidents. The timings at city scale are in the
benchmarks; these check the plans and the queries on the database the migrations built."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Department
from governance.periods import start_of_local_day
from grids import selectors
from grids.models import INBOX_ORDER, Incident
from tests.base import api_client, refused_filter, unknown_body


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


def _departments(cast, n: int) -> None:
    Department.objects.bulk_create(Department(name=f"部门{i:03}", area=cast.community_a1a) for i in range(n))


def _a_city_of_items(cast, incident: Incident, *, departments: int, copies: int, now: dt.datetime) -> None:
    """``copies`` of ``incident`` spread over as many new departments, every state and deadlines a
    month either side of ``now``, and the planner's statistics of them (ANALYZE, rolled back with the
    test). On a table of a few rows every index of grids_incident costs about the same, and which one
    the planner took turned on the dead rows that the tests run before had left in it (relpages):
    the plan asserted was a coin toss, lost after tests/grids/test_departments.py."""
    _departments(cast, departments)
    columns = [
        f.column
        for f in Incident._meta.concrete_fields
        if f.column not in ("id", "code", "department_id", "status", "due_at", "submission")
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    copied = ", ".join(f'i."{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO grids_incident (code, department_id, status, due_at, {listed})
            SELECT i.code || '-' || g, d.ids[1 + mod(g, cardinality(d.ids))],
                   (%s::text[])[1 + mod(g, cardinality(%s::text[]))],
                   %s::timestamptz + make_interval(hours => mod(g * 7, 1441) - 720), {copied}
            FROM grids_incident i, generate_series(1, %s) g,
                 (SELECT array_agg(id) ids FROM governance_department) d
            WHERE i.id = %s""",
            [Incident.Status.values, Incident.Status.values, now, copies, incident.pk],
        )
        cursor.execute("ANALYZE grids_incident")


def _most_loops_of_a_count(captured) -> int:
    """How many times the departments' counting subqueries ran, at most, in the page's queries."""
    sql = page_query(captured, '"governance_department"', 'AS "steps_done"')
    found = plan(sql, analyze=True)
    loops = [
        n["Actual Loops"]
        for n in nodes(found)
        if n.get("Subplan Name") or n.get("Parent Relationship") == "SubPlan"
    ]
    assert loops, "the counts are correlated subqueries"
    return max(loops)


@pytest.mark.django_db
def test_the_departments_record_counts_for_the_rows_of_its_page_only(cast, client):
    """Page 2 of the record (100 a page) shows 24 of 124 departments: the counts ran for all 124 (an
    OFFSET computes the rows it skips), seconds on the last page of a city's 2,500 departments."""
    _departments(cast, 120)  # in community A1a, after district A's 3 and street A1's 1
    month = timezone.localdate().strftime("%Y-%m")
    client.force_login(cast.district_officer)
    client.get("/grids/departments/", {"month": month, "page": 2})  # warm-up
    with CaptureQueriesContext(connection) as page_two:
        response = client.get("/grids/departments/", {"month": month, "page": 2})
    assert response.status_code == 200
    html = response.content.decode()
    assert "部门119" in html and "部门096" in html and "部门095" not in html  # 4 + 96 on page 1
    assert _most_loops_of_a_count(page_two.captured_queries) == 24
    with CaptureQueriesContext(connection) as page_one:
        client.get("/grids/departments/", {"month": month})
    assert len(page_one.captured_queries) == len(page_two.captured_queries)


@pytest.mark.django_db
def test_the_departments_record_api_counts_for_the_rows_of_its_page_only(cast):
    _departments(cast, 120)
    client = api_client(cast.district_officer)
    month = timezone.localdate().strftime("%Y-%m")
    client.get("/api/v1/incidents/departments/", {"month": month})  # warm-up
    with CaptureQueriesContext(connection) as last:
        body = client.get("/api/v1/incidents/departments/", {"month": month, "page": 3}).json()
    assert body["count"] == 124 and body["next"] is None and len(body["results"]) == 24
    assert [r["name"] for r in body["results"]][:2] == ["部门096", "部门097"]  # in the record's order
    assert _most_loops_of_a_count(last.captured_queries) == 24
    with CaptureQueriesContext(connection) as first:
        first_page = client.get("/api/v1/incidents/departments/", {"month": month}).json()
    assert len(first_page["results"]) == 50 and first_page["next"]
    assert len(first.captured_queries) == len(last.captured_queries)


@pytest.mark.django_db
def test_the_departments_record_counts_a_departments_items_from_its_own_index(cast, incident_in):
    """With the open items, overdue and due in the month, counted per department: from
    incident_department_due, where the deadlines of every open item were intersected with each
    department's items (0.4 ms a department at city scale, 300 ms for a page of 100)."""
    # In the middle of the month: "open late" counts the deadlines from the month's start to now,
    # which in the first minutes of a month (CI runs at any hour) is a span so narrow that the
    # planner rightly reads it from another index, and the plan asserted here was not the one taken.
    month = timezone.localdate().replace(day=1)
    now = start_of_local_day(month) + dt.timedelta(days=15)
    _a_city_of_items(cast, incident_in("handling"), departments=120, copies=4000, now=now)
    with CaptureQueriesContext(connection) as captured:
        list(selectors.department_accountability(cast.district_officer, month, now=now))
    sql = page_query(captured.captured_queries, '"governance_department"', 'AS "open_now"')
    found = plan(sql, enable_seqscan="off", enable_bitmapscan="off")
    used = [n.get("Index Name") for n in nodes(found)]
    assert used.count("incident_department_due") >= 3, used  # with it now, overdue, open late


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("param", "value", "message"),
    [("grid", "340103001001001", "Unknown grid 340103001001001."), ("area", "340103001001", None)],
)
def test_a_grid_or_area_outside_the_scope_is_refused_without_reading_the_incidents(
    cast, incident_in, param, value, message
):
    incident_in("closed")
    client = api_client(cast.street_handler)
    with CaptureQueriesContext(connection) as captured:
        body = refused_filter(client, "/api/v1/incidents/", param, value)
    assert body == unknown_body(param, message or f"Unknown area code {value}.")
    assert not [q["sql"] for q in captured.captured_queries if "grids_incident" in q["sql"]]
