# ruff: noqa: S608 - identifiers are quoted model table and column names; every value is a parameter.
"""Move every stored personal value onto the current encryption key, so that older keys can be retired.

Rotation is two steps (docs/reliability.md, "Keys"): prepend a new key to FIELD_ENCRYPTION_KEY and
restart (new values are encrypted with it, old ones still decrypt), then run this command; once it
reports nothing left under older keys, drop them from the setting. The keyed hashes that match repeat
petitioners do not change (FIELD_HASH_KEY), so nothing else needs recomputing.

Ciphertext is re-encrypted as ciphertext (Fernet rotate): no plaintext is logged or kept. Rows are
read in batches by primary key (memory stays flat), each batch in its own transaction, and each value
is written only if it is still the one read, so an edit made meanwhile by the application (already
under the new key) is never overwritten. Interrupted, it simply runs again.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from governance import pii
from governance.pii import EncryptedTextField


def encrypted_columns() -> list[tuple[type, list[str]]]:
    """Every concrete model with encrypted columns, and those columns' names."""
    found = []
    for model in apps.get_models():
        columns = [
            f.column
            for f in model._meta.concrete_fields
            if isinstance(f, EncryptedTextField) and f.model is model
        ]
        if columns and not model._meta.proxy:
            found.append((model, columns))
    return sorted(found, key=lambda mc: mc[0]._meta.label)


class Command(BaseCommand):
    help = (
        "Re-encrypt stored personal data under the first key of FIELD_ENCRYPTION_KEY (after prepending a "
        "new key), so the older keys can be removed; --check only counts what is left."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="count values under older keys, change nothing"
        )
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, check: bool, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        quote = connection.ops.quote_name
        left_total = 0
        for model, columns in encrypted_columns():
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            select = (
                f"SELECT {pk}, {', '.join(quote(c) for c in columns)} FROM {table} "
                f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s"
            )
            rewritten = left = 0
            last = None
            while True:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(select, [0 if last is None else last, batch_size])  # keys start at 1
                    rows = cursor.fetchall()
                    for row in rows:
                        for column, token in zip(columns, row[1:], strict=True):
                            if not token:
                                continue
                            try:
                                new = pii.reencrypt(token)
                            except ValueError:
                                raise CommandError(
                                    f"{model._meta.label} {row[0]}: {column} cannot be decrypted with any "
                                    f"key of FIELD_ENCRYPTION_KEY; nothing after it was changed"
                                ) from None
                            if new is None:
                                continue
                            left += 1
                            if not check:
                                cursor.execute(
                                    f"UPDATE {table} SET {quote(column)} = %s WHERE {pk} = %s "
                                    f"AND {quote(column)} = %s",
                                    [new, row[0], token],
                                )
                                rewritten += cursor.rowcount
                if len(rows) < batch_size:
                    break
                last = rows[-1][0]
            if check:
                left_total += left
            verb = "under older keys" if check else f"re-encrypted ({left - rewritten} changed meanwhile)"
            self.stdout.write(f"{model._meta.label}: {left if check else rewritten} values {verb}")
        if check and left_total:
            self.stdout.write(self.style.WARNING(f"{left_total} values still need the older keys."))
        elif not left_total:
            self.stdout.write(self.style.SUCCESS("Every value is under the current key: older keys can go."))
