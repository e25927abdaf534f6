"""How PostgreSQL reads the lists' filters and orders on tables of a realistic size: through an index,
a page at a time, not by reading (or sorting) the whole table. tests/api/test_filter_indexes.py checks
that each filter's column leads an index; these check that the query the list sends can use it (an
OR across a subquery, a DISTINCT, or an order no index matches each made a page cost the whole
table). EXPLAIN ANALYZE after ANALYZE, on 20,000-40,000 rows."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards.models import IndicatorValue
from governance import indicators as registry_api
from governance.models import Department
from grids.models import Incident, IncidentCategory
from mediation.models import DisputeCase, DisputeCategory, MediationOrganisation
from petitions.models import Petition
from tests.base import api_client, make_area
from tests.grids.conftest import categories, report  # noqa: F401  (fixtures)
from tests.mediation.conftest import med  # noqa: F401  (fixtures)
from tests.petitions.conftest import pet  # noqa: F401


def _queries(client, url, query, table) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query)
    assert response.status_code == 200, response.content[:300]
    return [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _thrown_away(plans: list[str]) -> int:
    return max((int(n) for p in plans for n in re.findall(r"Rows Removed by Filter: (\d+)", p)), default=0)


def _analyze(*, vacuumed: tuple[str, ...] = ()) -> None:
    """Statistics for the planner. A test's tables are never vacuumed inside its transaction, so no
    page is marked all-visible and an index-only scan is costed as a visit of every row; the
    ``vacuumed`` tables are given the visibility a vacuumed table has (as autovacuum leaves a city's
    cases, where the index-only plans below are measured, docs/benchmarks.md)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        for table in vacuumed:
            cursor.execute("UPDATE pg_class SET relallvisible = relpages WHERE oid = %s::regclass", [table])


def _copies(template, model, n: int, vary) -> None:
    fields = [f.attname for f in model._meta.concrete_fields if f.attname != "id"]
    rows = []
    for i in range(n):
        row = model(**{name: getattr(template, name) for name in fields})
        vary(row, i)
        rows.append(row)
    model.objects.bulk_create(rows, batch_size=2000)


@pytest.mark.parametrize(
    ("url", "table", "fixture"),
    [
        ("/api/v1/incidents/", "grids_incident", "report"),
        ("/api/v1/disputes/", "mediation_disputecase", "med"),
        ("/api/v1/petitions/", "petitions_petition", "pet"),
    ],
)
def test_a_status_filter_does_not_make_the_list_distinct(request, cast, url, table, fixture):
    # django-filter's MultipleChoiceFilter is DISTINCT by default: SELECT DISTINCT over every column
    # sorted all matching rows (on disk at 20,000 incidents) for a filter on a plain column.
    made = request.getfixturevalue(fixture)
    made() if fixture == "report" else made.accepted() if fixture == "med" else made.routed()
    found = _queries(api_client(cast.admin), url, {"status": "closed"}, table)
    assert found and not [sql for sql in found if "DISTINCT" in sql]


def test_the_incident_department_filter_reads_the_department_s_rows_only(postgres, cast, report):  # noqa: F811
    rnd = random.Random(1)
    grids = [cast.grid_a, cast.grid_b, cast.grid_c, cast.grid_d]
    categories_, departments = list(IncidentCategory.objects.all()), list(Department.objects.all())
    now = timezone.now()

    def vary(row, i):
        row.code, row.submission = f"P{i:08d}", None
        row.grid, row.category = rnd.choice(grids), rnd.choice(categories_)
        row.status = rnd.choice(["closed"] * 9 + ["handling"])
        row.department = rnd.choice(departments) if rnd.random() < 0.3 else None
        row.reported_at = row.occurred_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))

    _copies(report(), Incident, 20000, vary)
    rare = Department.objects.create(name="稀有局", area=cast.district_a)
    Incident.objects.filter(pk__in=list(Incident.objects.values_list("pk", flat=True)[:20])).update(
        department=rare
    )
    _analyze()
    found = _queries(
        api_client(cast.district_officer), "/api/v1/incidents/", {"department": rare.pk}, "grids_incident"
    )
    plans = [_plan(sql) for sql in found if "department_id" in sql]
    assert plans and _thrown_away(plans) < 1000, plans


def _rows_read(plans: list[str], table: str) -> int:
    """Rows the scans of ``table`` produced (each scan's rows times its loops), over ``plans``."""
    scans = re.findall(
        rf" on {table} \w+ \(actual rows=(\d+) loops=(\d+)\)| on {table} \(actual rows=(\d+) loops=(\d+)\)",
        "\n".join(plans),
    )
    return sum(int(a or c) * int(b or d) for a, b, c, d in scans)


def test_the_incident_department_filter_does_not_read_the_whole_scope(postgres, client, cast, report):  # noqa: F811
    # A district's police leads or supports 1,500 of the district's 20,000 items (at city scale
    # 2,321 of 35,283): ``id IN (led UNION supported)`` was hash-joined to every item of the scope,
    # read whole for the count and again for the page (42,402 rows here; docs/benchmarks.md
    # "Inventory"). The department's items now come first, a BitmapOr of its two indexes (1,551).
    rnd = random.Random(2)
    grids, categories_ = [cast.grid_a, cast.grid_b, cast.grid_c], list(IncidentCategory.objects.all())
    now = timezone.now()

    def vary(row, i):
        row.code, row.submission = f"D{i:08d}", None
        row.grid, row.category = rnd.choice(grids), rnd.choice(categories_)
        row.status = rnd.choice(["closed"] * 9 + ["handling"])
        row.department = rnd.choice([cast.urban, cast.petition_office, cast.street_team, None])
        row.reported_at = row.occurred_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))

    _copies(report(), Incident, 20000, vary)
    ids = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    Incident.objects.filter(pk__in=ids[:1200]).update(department=cast.police)
    Incident.supporting_departments.through.objects.bulk_create(
        Incident.supporting_departments.through(incident_id=pk, department=cast.police) for pk in ids[-300:]
    )
    _analyze()
    client.force_login(cast.district_officer)
    for url in ("/api/v1/incidents/", "/grids/inbox/"):
        found = _queries(client, url, {"department": cast.police.pk}, "grids_incident")
        plans = [_plan(sql) for sql in found if "department_id" in sql]
        assert plans and _rows_read(plans, "grids_incident") < 5000, plans
    rows = api_client(cast.district_officer).get("/api/v1/incidents/", {"department": cast.police.pk})
    assert rows.json()["count"] == 1500


def test_the_petition_registry_reads_its_first_page_through_an_index(postgres, client, pet):  # noqa: F811
    rnd = random.Random(3)
    now = timezone.now()

    def vary(row, i):
        row.code, row.submission = f"R{i:08d}", None
        row.status = "closed" if rnd.random() < 0.9 else "routed"
        row.received_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))
        row.due_at = row.received_at + dt.timedelta(days=15) if row.status == "routed" else None

    _copies(pet.routed(), Petition, 20000, vary)
    _analyze()
    client.force_login(pet.cast.admin)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/petitions/").status_code == 200
    page = [
        q["sql"]
        for q in ctx.captured_queries
        if 'FROM "petitions_petition"' in q["sql"] and "LIMIT" in q["sql"]
    ]
    plan = _plan(page[0])
    # Soonest deadline first, closed last: the order of index petition_registry_order, not a sort.
    assert "Sort" not in plan and "Seq Scan on petitions_petition" not in plan, plan


def test_the_petition_department_filter_probes_the_scope_s_areas_in_the_department_s_index(
    postgres,
    client,
    pet,  # noqa: F811
):
    # A district officer's registry is an OR of the district's area ids (``InAreaIds``), the office's
    # department and complained unit; ``?department=`` the police's half of the 20,000 petitions,
    # written in random order as on a live database. The plan read the scope's rows and kept the
    # police's, or read the police's and compared each one's area with every id of the array (at
    # city scale 60,973 petitions and 630 ids); index petition_department_area answers the area arm
    # for the police's rows alone (docs/benchmarks.md "The petition registry's department filter").
    cast, rnd, now = pet.cast, random.Random(4), timezone.now()
    areas = [cast.district_a, cast.street_a1, cast.community_a1a, cast.community_a1b, cast.district_b]
    departments = [cast.police, cast.urban, cast.street_team, cast.police_b]

    def vary(row, i):
        row.code, row.submission = f"Q{i:08d}", None
        row.area, row.department = rnd.choice(areas), rnd.choice(departments + [cast.police] * 2)
        row.received_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))

    _copies(pet.routed(), Petition, 20000, vary)
    _analyze()
    client.force_login(cast.petition_officer)
    found = _queries(client, "/petitions/", {"department": cast.police.pk}, "petitions_petition")
    plans = [_plan(sql) for sql in found if "COUNT" in sql]
    assert plans and "petition_department_area" in plans[0], plans
    # The same rows: the police's petitions of the district (none complain about the office).
    expected = Petition.objects.filter(department=cast.police, area__path__startswith=cast.district_a.path)
    body = api_client(cast.petition_officer).get("/api/v1/petitions/", {"department": cast.police.pk}).json()
    assert body["count"] == expected.count() > 1000


@pytest.mark.parametrize("query", [{"status": "closed"}, {"category": "neighbours"}])
def test_a_district_s_cases_by_status_or_category_are_counted_from_its_areas_index(postgres, med, query):  # noqa: F811
    """``status=closed`` (97% of the cases) and ``category=`` are not selective, the scope is: the
    count read every case of the city (a sequential scan hashed against the district's areas, 85-108
    ms on the demo district) or the category's bitmap ANDed with the scope's. ``dispute_area_received``
    carries both columns (INCLUDE), so the count reads the scope's areas' entries of that index alone
    (docs/benchmarks.md); before, the status or category of each case was in its row only."""
    rnd = random.Random(5)
    box = (117.0, 31.8, 117.01, 31.81)
    community = med.cast.community_b1a
    outside = [
        make_area(f"{community.code}{100 + i:03d}", f"g{i}", "grid", community, box) for i in range(20)
    ]
    inside = [med.cast.grid_a, med.cast.grid_b]
    kinds = list(DisputeCategory.objects.all())
    now = timezone.now()

    def vary(row, i):
        row.code, row.submission = f"T{i:08d}", None
        row.area = rnd.choice(inside) if rnd.random() < 0.1 else rnd.choice(outside)
        row.status = "closed" if rnd.random() < 0.97 else "registered"
        row.category = rnd.choice(kinds)
        row.received_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))

    _copies(med.register(), DisputeCase, 3000, vary)
    _analyze(vacuumed=("mediation_disputecase",))
    client = api_client(med.cast.district_officer)
    found = _queries(client, "/api/v1/disputes/", query, "mediation_disputecase")
    plans = [_plan(sql) for sql in found if "COUNT(*)" in sql]
    assert plans and all("Index Only Scan using dispute_area_received" in p for p in plans), plans
    expected = DisputeCase.objects.filter(
        area__in=inside, **({"status": "closed"} if "status" in query else {"category__code": "neighbours"})
    ).count()
    assert client.get("/api/v1/disputes/", query).json()["count"] == expected


@pytest.mark.parametrize(
    ("field", "status"),
    [("organisation", ""), ("mediator", ""), ("organisation", "closed"), ("mediator", "closed")],
)
def test_the_organisation_and_mediator_filters_read_their_cases_only(postgres, med, field, status):  # noqa: F811
    """``?organisation=`` and ``?mediator=`` name a few cases of the scope's many (the demo district's
    busiest body holds 771 of its 13,056): the count and the page read them through the foreign key's
    index (``dispute_org_status``, ``dispute_mediator_status`` with a status), then check the scope,
    and never read the scope's cases to keep the organisation's (docs/benchmarks.md "The case list's
    organisation and mediator filters")."""
    rnd = random.Random(7)
    cast = med.cast
    others = [
        MediationOrganisation.objects.create(
            name=f"第{i}人民调解委员会", kind=MediationOrganisation.Kind.COMMITTEE, area=cast.community_a1b
        )
        for i in range(30)
    ]
    now = timezone.now()

    def vary(row, i):
        row.code, row.submission = f"T{i:08d}", None
        row.organisation = med.org_x if rnd.random() < 0.03 else rnd.choice(others)
        row.mediator = cast.mediator if row.organisation == med.org_x and rnd.random() < 0.7 else None
        row.area = rnd.choice([cast.grid_a, cast.grid_b])
        row.status = "closed" if rnd.random() < 0.97 else "accepted"
        row.received_at = now - dt.timedelta(minutes=rnd.randint(0, 10**6))

    _copies(med.register(), DisputeCase, 3000, vary)
    _analyze(vacuumed=("mediation_disputecase",))
    named = {"organisation": med.org_x, "mediator": cast.mediator}[field]
    params = {
        field: named.pk if field == "organisation" else named.username,
        **({"status": status} if status else {}),
    }
    client = api_client(cast.district_officer)
    found = _queries(client, "/api/v1/disputes/", params, "mediation_disputecase")
    plans = [_plan(sql) for sql in found]  # the filter's lookup, the count and the page
    assert len(plans) == 3, found
    read = [line for p in plans for line in p.splitlines() if "never executed" not in line]
    assert not any("Seq Scan on mediation_disputecase" in line for line in read), plans
    assert _thrown_away(plans) < 100, plans  # the other organisations' 2,900 cases are not read
    expected = DisputeCase.objects.visible_to(cast.district_officer).filter(**{field: named})
    if status:
        expected = expected.filter(status=status)
    assert client.get("/api/v1/disputes/", params).json()["count"] == expected.count() > 30


@pytest.mark.parametrize("param", ["level", "parent"])
def test_stats_values_by_level_or_parent_read_those_areas_rows_only(postgres, cast, param):
    areas, streets = [cast.city, cast.district_a, cast.district_b], []
    for i in range(40):
        district = [cast.district_a, cast.district_b][i % 2]
        box = (117.0, 31.8, 117.01, 31.81)
        streets.append(make_area(f"{district.code[:6]}{100 + i:03d}000", f"s{i}", "street", district, box))
    areas += streets
    for i in range(120):
        street = streets[i % 40]
        box = (117.0, 31.8, 117.01, 31.81)
        areas.append(make_area(f"{street.code[:9]}{100 + i:03d}", f"c{i}", "community", street, box))
    codes = list(registry_api.registry())[:8]
    periods = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
    IndicatorValue.objects.bulk_create(
        [
            IndicatorValue(
                indicator=code, area=a, parent=a.parent, level=a.level, period=p, period_type="month",
                numerator=1, denominator=2, value=50.0,
            )
            for code in codes
            for p in periods
            for a in areas
        ],
        batch_size=5000,
    )  # fmt: skip
    _analyze()
    value = {"level": "district", "parent": streets[0].code}[param]
    found = _queries(
        api_client(cast.analyst), "/api/v1/stats/values/", {param: value}, "dashboards_indicatorvalue"
    )
    plans = [_plan(sql) for sql in found]
    # 32,000 rows; a district's or a street's children's are a few hundred.
    assert _thrown_away(plans) < 5000, plans
    response = api_client(cast.analyst).get("/api/v1/stats/values/", {param: value, "page_size": 500})
    expected = {"level": {"district"}, "parent": {streets[0].code}}[param]
    rows = response.json()["results"]
    assert rows and {r["level"] if param == "level" else r["parent"] for r in rows} == expected


@pytest.mark.parametrize("unread", ["", "true", "false"])
def test_a_user_s_notices_are_read_through_the_user_s_index(postgres, cast, unread):
    """A district centre collects tens of thousands of notices over the years, among 40,000 of the
    city's here: the count and the page of one user's (unread or read) read that user's entries of
    notification_unread or notification_user_created, never the table. The page reads its 50 rows
    in order from notification_user_created (sorting by id only the notices of one instant), or,
    with ``unread=true``, the user's unread ones from notification_unread."""
    from governance.models import Notification

    rnd, now = random.Random(8), timezone.now()
    users = [cast.worker_a, cast.worker_b, cast.community_handler, cast.street_handler, cast.outsider]
    Notification.objects.bulk_create(
        [
            Notification(
                user=cast.district_officer if i % 20 == 0 else rnd.choice(users), key=f"n{i}", message="逾期",
                created_at=now - dt.timedelta(minutes=i),
                read_at=None if rnd.random() < 0.05 else now,
            )
            for i in range(40000)
        ],
        batch_size=5000,
    )  # fmt: skip
    _analyze(vacuumed=("governance_notification",))
    client = api_client(cast.district_officer)
    query = {"unread": unread} if unread else {}
    found = _queries(client, "/api/v1/notifications/", query, "governance_notification")
    plans = [_plan(sql) for sql in found]
    assert len(plans) == 3, found  # the version (the ETag's), the count and the page
    assert not any("Seq Scan" in p for p in plans), plans
    mine = Notification.objects.filter(user=cast.district_officer).count()
    assert _rows_read(plans[:1], "governance_notification") <= mine, plans  # the user's rows alone
    unread_count = Notification.objects.filter(user=cast.district_officer, read_at=None).count()
    assert _rows_read(plans[2:], "governance_notification") <= max(51, unread_count), plans
    assert _thrown_away(plans) < 1000, plans
    expected = Notification.objects.filter(user=cast.district_officer)
    if unread:
        expected = expected.filter(read_at__isnull=unread == "true")
    assert client.get("/api/v1/notifications/", query).json()["count"] == expected.count()
