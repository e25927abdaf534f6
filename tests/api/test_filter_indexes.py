"""Every filter a list endpoint offers narrows the rows by a column that leads an index of the table
(STYLE.md: which index a query relies on), checked on the database the migrations built: a filter
that scans the whole table is fast in tests and slow on a city's data. A filter added to a filterset
without a line here fails the test, so its index is thought about."""

from __future__ import annotations

import pytest
from django.db import connection

from governance.api import AreaFilter, NotificationFilter
from governance.models import Area, Notification
from grids.filters import IncidentFilter
from grids.models import Incident
from mediation.filters import DisputeFilter
from mediation.models import DisputeCase
from petitions.filters import PetitionFilter
from petitions.models import Petition

# filter -> the column of the list's table it narrows by (a subtree filter: the foreign key to the area,
# whose path prefix has its own index, checked with the areas).
COLUMNS = {
    (AreaFilter, Area): {"level": "level", "parent": "parent_id", "within": "path", "code": "code"},
    (IncidentFilter, Incident): {
        "status": "status", "open": "status", "overdue": "status", "category": "category_id",
        "area": "grid_id", "grid": "grid_id", "level": "level", "kind": "kind", "department": "department_id",
        "reported_from": "reported_at", "reported_to": "reported_at", "mine": "reporter_id",
        "sort": "due_at",  # it orders rather than narrows: each of its orders below
    },
    (DisputeFilter, DisputeCase): {
        "status": "status", "open": "status", "overdue": "status", "category": "category_id",
        "source": "origin", "outcome": "outcome", "area": "area_id", "organisation": "organisation_id",
        "mediator": "mediator_id", "received_from": "received_at", "received_to": "received_at",
        "concluded_from": "concluded_at", "concluded_to": "concluded_at",
    },
    (PetitionFilter, Petition): {
        "status": "status", "open": "status", "overdue": "due_at", "due_soon": "due_at", "channel": "channel",
        "type": "handling_type", "category": "category", "area": "area_id", "department": "department_id",
        "repeat": "is_repeat", "group": "is_group", "received_from": "received_at", "received_to": "received_at",
    },
}  # fmt: skip


# A filter that also reads another table (``?department=`` on incidents: the items the department
# supports, ``Incident.involving_q``) -> that table and the column it is read by.
OTHER_TABLES = {
    (IncidentFilter, "department"): (Incident.supporting_departments.through, "department_id"),
}


def leading_columns(model) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {c["columns"][0] for c in constraints.values() if (c["index"] or c["unique"]) and c["columns"]}


@pytest.mark.django_db
@pytest.mark.parametrize(("filterset", "model"), list(COLUMNS), ids=lambda v: v.__name__)
def test_every_list_filter_is_served_by_an_index(filterset, model):
    columns = COLUMNS[(filterset, model)]
    assert set(columns) == set(filterset.base_filters), "map each filter to the column it narrows by"
    indexed = leading_columns(model)
    unindexed = {name: column for name, column in columns.items() if column not in indexed}
    assert not unindexed, f"{model.__name__}: no index leads with the column of {unindexed}"


@pytest.mark.django_db
@pytest.mark.parametrize(("filterset", "name"), list(OTHER_TABLES), ids=lambda v: getattr(v, "__name__", v))
def test_the_other_table_a_filter_reads_is_read_through_an_index(filterset, name):
    model, column = OTHER_TABLES[(filterset, name)]
    assert column in leading_columns(model), f"{model._meta.db_table}: no index leads with {column}"


# Filters that match most of the table whatever their value (status=closed is 97% of the cases, a
# category a fifth): in a user's scope the count reads the scope's areas' entries of this index,
# which carries the filters' columns so that no case's row is visited (tests/api/test_list_plans.py
# shows the plan; docs/benchmarks.md "Inventory" the times).
UNSELECTIVE = {(DisputeFilter, DisputeCase): ("dispute_area_received", "area_id", ["status", "category"])}


@pytest.mark.django_db
@pytest.mark.parametrize(("filterset", "model"), list(UNSELECTIVE), ids=lambda v: v.__name__)
def test_unselective_filters_are_carried_by_the_scope_s_index(filterset, model):
    index, scope, names = UNSELECTIVE[(filterset, model)]
    with connection.cursor() as cursor:
        columns = connection.introspection.get_constraints(cursor, model._meta.db_table)[index]["columns"]
    assert columns[0] == scope
    assert {COLUMNS[(filterset, model)][name] for name in names} <= set(columns)


# Lists that are always one owner's rows (the caller's notices): each filter's column follows the
# owner's in an index, which serves the filter within the owner's rows; the order too.
OWNED = {
    (NotificationFilter, Notification): (
        "user_id", {"unread": "read_at", "": "created_at"},  # "": the list's order, newest first
    ),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("filterset", "model"), list(OWNED), ids=lambda v: v.__name__)
def test_an_owner_s_list_is_filtered_and_ordered_through_an_index_led_by_the_owner(filterset, model):
    owner, columns = OWNED[(filterset, model)]
    assert set(columns) - {""} == set(filterset.base_filters), "map each filter to the column it narrows by"
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    pairs = {tuple(c["columns"][:2]) for c in constraints.values() if c["index"] and len(c["columns"]) > 1}
    missing = {name: column for name, column in columns.items() if (owner, column) not in pairs}
    assert not missing, f"{model.__name__}: no index leads with {owner} then the column of {missing}"


@pytest.mark.django_db
def test_every_order_of_the_incident_list_is_read_from_an_index():
    # ``?sort=``: an order no index leads with sorts the whole scope before its first page.
    from grids.filters import SORTS

    indexed = leading_columns(Incident)
    for name, order in SORTS.items():
        assert order[0].lstrip("-") in indexed, name
        assert order[-1].lstrip("-") == "id", name  # a total order
