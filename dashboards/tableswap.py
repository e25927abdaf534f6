# ruff: noqa: S608 - identifiers come from the catalog and the model; no value is interpolated.
"""Replace a PostgreSQL table by a freshly filled copy inside the current transaction.

Loading a million rows into a table that carries several B-tree indexes maintains each index row by
row (random page writes, ~30x slower here than loading the bare table). When every row is rewritten
anyway, as in a full rollup, it is far cheaper to load an unindexed copy, build each index once by
sorting, and swap the copy in. Readers keep reading the old table until the transaction commits;
the exclusive lock is taken only for the swap itself (DROP + RENAME), after the load and the index
builds. If anything fails, the transaction rolls back and the old table stays as it was. If readers
hold the old table for longer than a lock timeout, the swap is given up (the caller then writes the
table in place) rather than leaving every new reader queued behind the waiting swap.

The copy gets the original's columns, defaults, identity, NOT NULL and CHECK constraints
(``CREATE TABLE ... LIKE``) and then, under their original names, every index, primary key, unique
and foreign-key constraint of the original, its storage parameters and the privileges granted on it
to other roles (replayed from the catalog), so the schema Django's migrations know is unchanged. Tables that other tables reference by foreign key are not swapped
(the caller falls back to writing in place): dropping them would drop those constraints.

The database role running it must own the table (it does when it also runs the migrations); if it
does not, nothing is swapped and the caller writes in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import OperationalError, connection, transaction

log = logging.getLogger(__name__)

NEW = "_rebuild"  # suffix of the copy while it is being filled


def swappable(table: str, cursor) -> bool:
    """No other table references it, and this role may drop it (owns it, or is a member of the owner)."""
    cursor.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_constraint WHERE confrelid = c.oid) "
        "AND pg_has_role(c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = %s::regclass",
        [table],
    )
    return bool(cursor.fetchone()[0])


def rebuild(table: str, fill: Callable[[str], int], sql, *, lock_timeout: str = "5s") -> int | None:
    """Fill a copy of ``table`` with ``fill(copy_name)`` (which returns the row count), index it and
    swap it in. ``sql(statement, params)`` runs a statement (counted by the caller). Returns the
    row count, or None (nothing left changed) if the table cannot be swapped, or if readers hold it
    for longer than ``lock_timeout``."""
    quote = connection.ops.quote_name
    name = table.strip('"')
    copy = f"{name}{NEW}"
    cursor = connection.cursor()
    if not swappable(name, cursor):
        return None
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), c.conname, c.contype, c.condeferrable, "
        "c.condeferred FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = %s::regclass ORDER BY x.indisprimary DESC, i.relname",
        [name],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [name],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id'), current_setting('lock_timeout')", [name])
    sequence, previous_timeout = cursor.fetchone()
    # Privileges granted on the table to other roles (a read-only reporting role, say).
    cursor.execute(
        "SELECT g.rolname, a.privilege_type, a.is_grantable FROM pg_class c CROSS JOIN aclexplode(c.relacl) a "
        "LEFT JOIN pg_roles g ON g.oid = a.grantee WHERE c.oid = %s::regclass AND a.grantee <> c.relowner "
        "ORDER BY 1, 2",
        [name],
    )
    grants = cursor.fetchall()
    # Storage parameters set on the table (fillfactor, autovacuum thresholds...).
    cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [name])
    options = cursor.fetchone()[0] or []
    sql.count += 6

    sql(f"DROP TABLE IF EXISTS {quote(copy)}")
    with_options = f" WITH ({', '.join(options)})" if options else ""
    sql(
        f"CREATE TABLE {quote(copy)} (LIKE {quote(name)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        f"INCLUDING IDENTITY INCLUDING GENERATED INCLUDING STORAGE){with_options}"
    )
    rows = fill(quote(copy))
    # Each index once, by sorting the loaded rows, under a temporary name.
    for n, (_index, definition, _constraint, _kind, _deferrable, _deferred) in enumerate(indexes):
        head, using = definition.split(" USING ", 1)
        unique = "UNIQUE " if head.startswith("CREATE UNIQUE") else ""
        sql(f"CREATE {unique}INDEX {quote(f'{copy}_i{n}')} ON {quote(copy)} USING {using}")
    for n, (_constraint, definition) in enumerate(foreign_keys):
        sql(f"ALTER TABLE {quote(copy)} ADD CONSTRAINT {quote(f'{copy}_f{n}')} {definition}")
    for role, privilege, grantable in grants:
        grantee = quote(role) if role else "PUBLIC"  # grantee 0 is PUBLIC
        option = " WITH GRANT OPTION" if grantable else ""
        sql(f"GRANT {privilege} ON {quote(copy)} TO {grantee}{option}")

    # The swap: from here on readers wait (for milliseconds) until the transaction commits. A reader
    # still holding the old table (a long export) would make the swap wait, and every new reader
    # queue behind it: after ``lock_timeout`` give the swap up and let the caller write in place.
    try:
        with transaction.atomic():
            sql("SELECT set_config('lock_timeout', %s, true)", [lock_timeout])
            sql(f"LOCK TABLE {quote(name)} IN ACCESS EXCLUSIVE MODE")
    except OperationalError:
        log.warning("tableswap: %s is busy; writing it in place instead", name)
        sql(f"DROP TABLE {quote(copy)}")
        return None
    sql("SELECT set_config('lock_timeout', %s, true)", [previous_timeout])
    if foreign_keys:
        # Deferred checks of rows written earlier in this transaction would block the DROP: run them.
        sql(f"SET CONSTRAINTS {', '.join(quote(c) for c, _ in foreign_keys)} IMMEDIATE")
    sql(f"DROP TABLE {quote(name)}")
    sql(f"ALTER TABLE {quote(copy)} RENAME TO {quote(name)}")
    for n, (index, _definition, constraint, kind, deferrable, deferred) in enumerate(indexes):
        built = quote(f"{copy}_i{n}")
        if kind in ("p", "u"):
            clause = "PRIMARY KEY" if kind == "p" else "UNIQUE"
            if deferrable:
                clause += " DEFERRABLE INITIALLY " + ("DEFERRED" if deferred else "IMMEDIATE")
            sql(f"ALTER TABLE {quote(name)} ADD CONSTRAINT {quote(constraint)} {clause} USING INDEX {built}")
        else:
            sql(f"ALTER INDEX {built} RENAME TO {quote(index)}")
    for n, (constraint, _definition) in enumerate(foreign_keys):
        sql(f"ALTER TABLE {quote(name)} RENAME CONSTRAINT {quote(f'{copy}_f{n}')} TO {quote(constraint)}")
    if sequence:
        # The copy's identity sequence continues after the loaded ids; give it the original's name.
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [name])
        sql.count += 1
        current = cursor.fetchone()[0]
        sql(f"ALTER SEQUENCE {current} RENAME TO {quote(sequence.split('.')[-1].strip(chr(34)))}")
    sql(f"ANALYZE {quote(name)}")
    return rows
