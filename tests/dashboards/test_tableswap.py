"""A full rollup on PostgreSQL swaps in freshly loaded copies of the value and fact tables
(dashboards.tableswap): the schema Django's migrations know must come out unchanged."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from dashboards import tableswap
from dashboards.models import IndicatorValue, MonthlyFact
from dashboards.rollup import run_rollup
from tests.base import second_connection
from tests.dashboards import stats_data


def schema(table: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass ORDER BY 1",
            [table],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid), condeferrable, condeferred "
            "FROM pg_constraint WHERE conrelid = %s::regclass ORDER BY 1",
            [table],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default, is_identity, identity_generation "
            "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        columns = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
    return {"indexes": indexes, "constraints": constraints, "columns": columns, "sequence": sequence}


@pytest.fixture
def data(cast, monkeypatch, postgres):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    return cast


def test_a_full_rebuild_keeps_every_index_constraint_and_column_under_its_name(data):
    tables = [IndicatorValue._meta.db_table, MonthlyFact._meta.db_table]
    before = {t: schema(t) for t in tables}
    assert before[tables[0]]["indexes"] and before[tables[0]]["constraints"]
    run_rollup(full=True)
    run_rollup(full=True)
    assert {t: schema(t) for t in tables} == before
    # The swapped-in table still enforces its key, and new rows get fresh ids.
    row = IndicatorValue.objects.order_by("id").last()
    fresh = IndicatorValue.objects.create(
        **{f.attname: getattr(row, f.attname) for f in IndicatorValue._meta.fields if f.name != "id"}
        | {"period": "2001-01"}
    )
    assert fresh.pk > row.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        IndicatorValue.objects.create(
            **{f.attname: getattr(row, f.attname) for f in IndicatorValue._meta.fields if f.name != "id"}
        )


def test_a_table_other_tables_reference_is_never_swapped(data):
    with connection.cursor() as cursor:
        assert tableswap.swappable("governance_area", cursor) is False
        assert tableswap.swappable(IndicatorValue._meta.db_table, cursor) is True


def test_a_reader_holding_the_table_makes_the_run_write_in_place_instead_of_waiting(data, settings):

    settings.ROLLUP_SWAP_LOCK_TIMEOUT = "200ms"
    reader = second_connection()
    try:
        with reader.cursor() as cursor:  # a long export: its transaction holds the table
            cursor.execute(f"SELECT count(*) FROM {IndicatorValue._meta.db_table}")
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::regclass::oid", [IndicatorValue._meta.db_table])
            table_before = cursor.fetchone()[0]
        run = run_rollup(full=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::regclass::oid", [IndicatorValue._meta.db_table])
            assert cursor.fetchone()[0] == table_before  # not swapped: written in place
        assert run.status == run.Status.SUCCESS and run.rows == IndicatorValue.objects.count() > 0
        in_place = sorted(
            IndicatorValue.objects.values_list("indicator", "area_id", "period", "value", "rank")
        )
    finally:
        reader.rollback()
        reader.close()
    run_rollup(full=True)  # nobody in the way: swapped, same rows
    assert (
        sorted(IndicatorValue.objects.values_list("indicator", "area_id", "period", "value", "rank"))
        == in_place
    )


def test_privileges_and_storage_parameters_survive_the_swap(data):
    table = IndicatorValue._meta.db_table
    with connection.cursor() as cursor:  # roles are transactional too: gone with the test's rollback
        cursor.execute("CREATE ROLE gov_test_reporting NOLOGIN")
        cursor.execute(f"GRANT SELECT ON {table} TO gov_test_reporting")
        cursor.execute(f"GRANT SELECT ON {table} TO PUBLIC")
        cursor.execute(f"ALTER TABLE {table} SET (fillfactor = 90)")
        cursor.execute("SELECT %s::regclass::oid", [table])
        before = cursor.fetchone()[0]
    run_rollup(full=True)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::regclass::oid, has_table_privilege('gov_test_reporting', %s, 'SELECT'), "
            "has_table_privilege('gov_test_reporting', %s, 'INSERT'), "
            "EXISTS (SELECT 1 FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = %s::regclass "
            "AND a.grantee = 0 AND a.privilege_type = 'SELECT'), "
            "(SELECT reloptions FROM pg_class WHERE oid = %s::regclass)",
            [table, table, table, table, table],
        )
        after, can_read, can_write, public_reads, options = cursor.fetchone()
    assert after != before  # swapped
    assert (can_read, can_write, public_reads, options) == (True, False, True, ["fillfactor=90"])


def test_a_role_that_does_not_own_the_table_writes_it_in_place(data):
    table = IndicatorValue._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE gov_test_worker NOLOGIN")
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO gov_test_worker")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO gov_test_worker")
        cursor.execute("SELECT %s::regclass::oid", [table])
        before = cursor.fetchone()[0]
        cursor.execute("SET LOCAL ROLE gov_test_worker")
        assert tableswap.swappable(table, cursor) is False
    try:
        run = run_rollup(full=True)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [table])
        assert cursor.fetchone()[0] == before
    assert run.status == run.Status.SUCCESS and run.rows == IndicatorValue.objects.count() > 0
