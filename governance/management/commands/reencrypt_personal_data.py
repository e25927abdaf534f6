# ruff: noqa: S608 - identifiers are quoted model table and column names; every value is a parameter.
"""Move every stored personal value onto the current encryption key, so that older keys can be retired.

Rotation is two steps (docs/reliability.md, "Keys"): prepend a new key to FIELD_ENCRYPTION_KEY and
restart (new values are encrypted with it, old ones still decrypt), then run this command; once it
reports nothing left under older keys, drop them from the setting.

The keyed hashes that match repeat petitioners and parties (``id_hash``, ``phone_hash``) are brought
onto the current hash key too (FIELD_HASH_KEY, or the last encryption key): after that key changes,
stored hashes no longer matched any new one, repeat matching stopped without a word, and this command
said every value was under the current key. Each hash is recomputed from its decrypted value; a hash
that already matches is left alone. ``--check`` counts both and exits with status 1 while anything is
left, so a rotation script can wait for it.

Ciphertext is re-encrypted as ciphertext (Fernet rotate): no plaintext is logged or kept. Rows are
read in batches by primary key (memory stays flat), each batch in its own transaction, and each value
is written only if it is still the one read, so an edit made meanwhile by the application (already
under the new key) is never overwritten. Interrupted, it simply runs again.
"""

from __future__ import annotations

import argparse

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from governance import pii
from governance.pii import EncryptedTextField

# A keyed hash and the encrypted field it is computed from (on every model that has both).
HASHED = {"id_hash": "id_number", "phone_hash": "phone"}
MAX_BATCH = 100_000


def _batch_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("%(text)r is not a whole number") % {"text": text}) from None
    if not 1 <= value <= MAX_BATCH:
        raise argparse.ArgumentTypeError(_("must be from 1 to %(max)d") % {"max": MAX_BATCH})
    return value


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
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Re-encrypt stored personal data under the first key of FIELD_ENCRYPTION_KEY (after prepending a "
            "new key), so the older keys can be removed; --check only counts what is left."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help=_("count values under older keys, change nothing")
        )
        parser.add_argument(
            "--batch-size",
            type=_batch_size,
            default=1000,
            help=_("rows a transaction, 1 to %(max)d") % {"max": MAX_BATCH},
        )

    def handle(self, *args, check: bool, batch_size: int, **options):
        left_total = self._reencrypt(check=check, batch_size=batch_size)
        left_total += self._rehash(check=check, batch_size=batch_size)
        if check and left_total:
            raise CommandError(_("%(n)d values still need the older keys.") % {"n": left_total})
        if not left_total:
            self.stdout.write(
                self.style.SUCCESS(_("Every value is under the current key: older keys can go."))
            )

    def _rehash(self, *, check: bool, batch_size: int) -> int:
        """Recompute the keyed hashes that differ from their value's hash under the current key.
        Returns how many differed (with ``check``: are left)."""
        left_total = 0
        for model, _columns in encrypted_columns():
            pairs = {h: v for h, v in HASHED.items() if _has(model, h) and _has(model, v)}
            if not pairs:
                continue
            rows = model._base_manager.order_by("pk").only("pk", *pairs, *pairs.values())
            stale = rewritten = 0
            last = 0
            while True:
                with transaction.atomic():
                    batch = list(rows.filter(pk__gt=last)[:batch_size])
                    for row in batch:
                        for hash_field, value_field in pairs.items():
                            value = getattr(row, value_field)
                            new = pii.keyed_hash(value) if value else ""
                            old = getattr(row, hash_field)
                            if new == old:
                                continue
                            stale += 1
                            if not check:
                                # Written only if unchanged meanwhile (an edit wrote the new hash).
                                rewritten += model._base_manager.filter(
                                    pk=row.pk, **{hash_field: old}
                                ).update(**{hash_field: new})
                if len(batch) < batch_size:
                    break
                last = batch[-1].pk
            if stale:
                if check:
                    said = _("%(n)d hashes under an older hash key") % {"n": stale}
                else:
                    said = _("%(n)d hashes rehashed") % {"n": rewritten}
                self.stdout.write(f"{model._meta.label}: {said}")
            left_total += stale if check else 0
        return left_total

    def _reencrypt(self, *, check: bool, batch_size: int) -> int:
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
                                    _(
                                        "%(model)s %(pk)s: %(column)s cannot be decrypted with any key of "
                                        "FIELD_ENCRYPTION_KEY; nothing after it was changed"
                                    )
                                    % {"model": model._meta.label, "pk": row[0], "column": column}
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
            if check:
                said = _("%(n)d values under older keys") % {"n": left}
            else:
                said = _("%(n)d values re-encrypted (%(changed)d changed meanwhile)") % {
                    "n": rewritten,
                    "changed": left - rewritten,
                }
            self.stdout.write(f"{model._meta.label}: {said}")
        return left_total


def _has(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.concrete_fields)
