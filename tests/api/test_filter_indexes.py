"""Every filter a list endpoint offers narrows the rows by a column that leads an index of the table
(STYLE.md: which index a query relies on), checked on the database the migrations built: a filter
that scans the whole table is fast in tests and slow on a city's data. A filter added to a filterset
without a line here fails the test, so its index is thought about."""

from __future__ import annotations

import pytest
from django.db import connection

from dashboards.api import IndicatorValueFilter
from dashboards.assessment_api import AssessmentSchemeFilter
from dashboards.assessment_models import AssessmentScheme
from dashboards.models import IndicatorValue
from governance.api import AreaFilter, NotificationFilter
from governance.models import Area, Notification
from grids.filters import IncidentFilter
from grids.models import Incident, IncidentEvent
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
        "rejected_from": "status",  # and each rejected row's rejection event (OTHER_TABLES)
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
    # ``period`` alone is read with the registry's codes (IndicatorValueFilter.filter_period), so
    # the (indicator, period, area) key serves it; ``level`` and ``parent`` select areas, whose rows
    # value_series (area, indicator) reads (tests/api/test_list_plans.py shows both plans).
    (IndicatorValueFilter, IndicatorValue): {
        "indicator": "indicator", "period": "indicator", "area": "area_id", "level": "area_id",
        "parent": "area_id", "period_type": None,
    },
    (AssessmentSchemeFilter, AssessmentScheme): {"year": "year", "area": "area_id", "level": None},
}  # fmt: skip

# Filters with no index of their own, and why none is wanted (``None`` above).
NO_INDEX = {
    # A fifth to half the rows whatever its value (12 months, 4 quarters, 2 halves, a year): it
    # narrows rows the other filters (or the scope) read, and an index on it would cost every full
    # rollup another sort of all rows (dashboards/models.py, IndicatorValue.Meta).
    (IndicatorValueFilter, "period_type"): "unselective",
    # One scheme per year, assessing area and level (scheme_unique_year_area_level): a few rows a
    # year for a whole city, read whole.
    (AssessmentSchemeFilter, "level"): "a few rows a year",
}


# A filter that also reads another table (``?department=`` on incidents: the items the department
# supports, ``Incident.involving_q``) -> that table and the column it is read by.
OTHER_TABLES = {
    (IncidentFilter, "department"): (Incident.supporting_departments.through, "department_id"),
    # ``?rejected_from=``: the rejected items whose rejection event came on or after the day.
    (IncidentFilter, "rejected_from"): (IncidentEvent, "incident_id"),
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
    unindexed = {
        name: column for name, column in columns.items() if column is not None and column not in indexed
    }
    assert not unindexed, f"{model.__name__}: no index leads with the column of {unindexed}"


def _api_filtersets() -> set[type]:
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns, prefix + str(entry.pattern))
            else:
                yield prefix + str(entry.pattern), getattr(entry.callback, "cls", None)

    return {
        view.filterset_class
        for path, view in walk(get_resolver().url_patterns)
        if path.startswith("api/") and getattr(view, "filterset_class", None)
    }


def test_every_filterset_of_the_api_is_checked_here():
    # stats/values/ and assessments/ offered filters that no line here named, so nothing checked
    # that an index serves them (DESIGN.md section 7: filters with django-filter).
    checked = {filterset for filterset, _model in COLUMNS} | {filterset for filterset, _model in OWNED}
    assert _api_filtersets() - checked == set()
    assert {(f, n) for (f, _m), columns in COLUMNS.items() for n, c in columns.items() if c is None} == set(
        NO_INDEX
    )


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
