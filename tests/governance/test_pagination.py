"""Every page of the record lists, the first too, pages its keys first (governance/pagination.py):
the same rows, count and page numbers as the plain paginator, in the same single statement per
page, but rows the page does not show are no longer fetched and joined: those it skips, and on the
first page those a filter selects beyond the 50 shown (docs/benchmarks.md "Deep pages", "The first
page's keys first")."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Area, AuditEntry, Notification
from governance.pagination import DeferredJoinPaginator
from grids.models import Incident, IncidentEvent
from mediation.models import DisputeCase
from tests.base import api_client
from tests.grids.conftest import categories, report  # noqa: F401  (fixtures)
from tests.mediation.conftest import med  # noqa: F401  (fixtures)


def _codes(page) -> list[str]:
    return [row.code for row in page.object_list]


def _copies(template, model, n: int) -> None:
    """``n`` copies of ``template`` with codes of their own (a list's rows without a workflow each)."""
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", "code", "submission")]
    rows = [
        model(**{name: getattr(template, name) for name in fields}, code=f"{template.code}-{i:03d}")
        for i in range(n)
    ]
    model.objects.bulk_create(rows)


def _page_sql(captured, table: str) -> list[str]:
    return [q["sql"] for q in captured if q["sql"].startswith("SELECT") and f'FROM "{table}"' in q["sql"]]


@pytest.mark.django_db
@pytest.mark.parametrize("orphans", [0, 1])
def test_every_page_holds_the_rows_of_the_plain_paginator(cast, orphans):
    areas = Area.objects.select_related("parent").order_by("level", "-code")
    plain, deferred = Paginator(areas, 3, orphans=orphans), DeferredJoinPaginator(areas, 3, orphans=orphans)
    assert plain.count == deferred.count > 7 and plain.num_pages == deferred.num_pages
    for number in plain.page_range:
        assert _codes(deferred.page(number)) == _codes(plain.page(number))


@pytest.mark.django_db
def test_every_page_the_first_too_is_one_statement_that_pages_the_keys(cast):
    """The first page was the plain ``LIMIT 2``: at city scale a filter's thousands of rows were
    joined to their category, area and department before the sort kept 50."""
    areas = Area.objects.select_related("parent").order_by("code")
    expected = [a.code for a in areas[:2]]
    paginator = DeferredJoinPaginator(areas, 2)
    paginator.count  # noqa: B018  (the count is its own query, as before)
    with CaptureQueriesContext(connection) as first:
        assert _codes(paginator.page(1)) == expected
    with CaptureQueriesContext(connection) as third:
        list(paginator.page(3).object_list)
    assert len(first.captured_queries) == len(third.captured_queries) == 1
    sql = first.captured_queries[0]["sql"]
    assert " IN (SELECT" in sql and sql.count("LIMIT 2") == 1 and "OFFSET" not in sql
    sql = third.captured_queries[0]["sql"]
    assert " IN (SELECT" in sql and "LIMIT 2 OFFSET 4" in sql


@pytest.mark.django_db
def test_an_empty_list_s_first_page_sends_no_statement_as_before(cast):
    nothing = Area.objects.filter(code="no-such-area").select_related("parent").order_by("code")
    paginator = DeferredJoinPaginator(nothing, 2)
    assert paginator.count == 0
    with CaptureQueriesContext(connection) as captured:
        assert list(paginator.page(1).object_list) == []
    assert captured.captured_queries == []


@pytest.mark.django_db
def test_a_list_it_cannot_page_by_keys_is_sliced_as_before(cast):
    distinct = Area.objects.order_by("code").distinct()
    with CaptureQueriesContext(connection) as captured:
        rows = list(DeferredJoinPaginator(distinct, 2).page(2).object_list)
    assert [a.code for a in rows] == [a.code for a in distinct[2:4]]
    assert " IN (SELECT" not in captured.captured_queries[-1]["sql"]
    assert list(DeferredJoinPaginator([1, 2, 3, 4, 5], 2).page(2).object_list) == [3, 4]


def _second_page_costs_the_first_s_queries(client, url: str, row: str, table: str) -> None:
    """55 rows: page 1 shows 50, page 2 the last 5, in as many queries, the rows of each fetched by
    key."""
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as first:
        assert client.get(url).content.decode().count(row) == 50
    with CaptureQueriesContext(connection) as second:
        assert client.get(url, {"page": 2}).content.decode().count(row) == 5
    assert len(second.captured_queries) == len(first.captured_queries)
    top = [sql for sql in _page_sql(first.captured_queries, table) if "LIMIT 50" in sql]
    assert len(top) == 1 and " IN (SELECT" in top[0] and "OFFSET" not in top[0]
    deep = [sql for sql in _page_sql(second.captured_queries, table) if "OFFSET 50" in sql]
    assert len(deep) == 1 and " IN (SELECT" in deep[0]


@pytest.mark.django_db
def test_the_incident_inbox_and_api_page_the_keys_of_a_deep_page(cast, client, report):  # noqa: F811
    template = report()
    _copies(template, Incident, 54)
    # Each copy gets its report step, as every real incident has: the inbox reads the page's latest
    # steps in one query (why an item came back), which a page of step-less copies skipped.
    step = template.events.get()
    fields = [
        f.attname for f in IncidentEvent._meta.concrete_fields if f.attname not in ("id", "incident_id")
    ]
    IncidentEvent.objects.bulk_create(
        IncidentEvent(**{name: getattr(step, name) for name in fields}, incident=copy)
        for copy in Incident.objects.exclude(pk=template.pk)
    )
    client.force_login(cast.street_handler)
    _second_page_costs_the_first_s_queries(client, "/grids/inbox/", 'id="row-INC-', "grids_incident")
    api = api_client(cast.street_handler)
    expected = [i.code for i in Incident.objects.order_by("-reported_at", "-id")[4:8]]
    with CaptureQueriesContext(connection) as captured:
        body = api.get("/api/v1/incidents/", {"page_size": 4, "page": 2}).json()
    assert body["count"] == 55 and [r["code"] for r in body["results"]] == expected
    assert "page=3" in body["next"] and body["previous"].endswith("page_size=4")
    assert any(" IN (SELECT" in sql for sql in _page_sql(captured.captured_queries, "grids_incident"))


@pytest.mark.django_db
def test_the_case_list_and_api_page_the_keys_of_a_deep_page(client, med):  # noqa: F811
    _copies(med.accepted(), DisputeCase, 54)
    client.force_login(med.cast.district_officer)
    _second_page_costs_the_first_s_queries(client, "/mediation/cases/", "data-case=", "mediation_disputecase")
    expected = [c.code for c in DisputeCase.objects.order_by("-received_at", "-id")[50:55]]
    body = api_client(med.cast.district_officer).get("/api/v1/disputes/", {"page": 2}).json()
    assert body["count"] == 55 and [r["code"] for r in body["results"]] == expected
    assert body["next"] is None and body["previous"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "scope", "index"),
    [(Incident, "grid_id", "incident_grid_reported"), (DisputeCase, "area_id", "dispute_area_received")],
    ids=["incidents", "disputes"],
)
def test_the_default_order_within_a_scope_is_an_index_that_ends_with_the_key(model, scope, index):
    """A district's deep page in the list's default order: its keys come from an index-only scan of
    the scope's areas' entries (the plans at city scale are in docs/benchmarks.md "Deep pages"),
    which needs the scope's column, then the order's columns, the key last. Columns it carries
    besides (``INCLUDE``: a dispute's status and category, for counts by those) come after them."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)[index]
    order = [name.lstrip("-") for name in model._meta.ordering]
    keys = len(order) + 1
    assert found["columns"][:keys] == [scope, *(model._meta.get_field(n).column for n in order)]
    orders = ["ASC", *("DESC" if n.startswith("-") else "ASC" for n in model._meta.ordering)]
    assert found["orders"][:keys] == orders
    included = {i.name: i.include for i in model._meta.indexes}[index]
    assert found["columns"][keys:] == [model._meta.get_field(n).column for n in included]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "columns", "orders"),
    [
        # /notifications/: a user's notices, newest first (a district centre's: tens of thousands).
        (Notification, ["user_id", "created_at"], ["ASC", "DESC"]),
        # The audit log in the admin, newest first (Django adds the key to the order).
        (AuditEntry, ["at", "id"], ["DESC", "DESC"]),
    ],
    ids=["notifications", "audit"],
)
def test_the_governance_lists_read_their_order_from_an_index(model, columns, orders):
    """Both sorted every row (the audit log: all of them, at 300,000 entries 290 ms a page; a user's
    60,000 notices 80-120 ms) where an index in the list's order reads only the page."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    assert [
        (c["columns"], c["orders"]) for c in constraints.values() if c["index"] and c["columns"] == columns
    ] == [(columns, orders)]
