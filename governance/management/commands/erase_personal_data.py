"""Erase the personal details of the people of records closed for good long ago (docs/architecture.md,
"Personal data").

The records themselves, their people's rows (role, position) and every statistic stay: only the
names, ID numbers, phones, addresses and the hashes kept to match them are cleared, for the rows each
app registers (``governance.retention``), after those details are replaced in the free texts of their
records (``pii.scrub_people_from_text``: the details are known only until they are cleared). A dry
run by default, counting the texts it would change too; ``--commit`` erases in one transaction, the
texts a chunk of records at a time, the people in one UPDATE a kind of person, and writes an audit
entry for each with the cut-off and the counts. A second run finds nothing more to erase.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance import pii
from governance.management.actor import command_actor
from governance.models import AuditEntry
from governance.retention import Eraser, erasers

# Records whose texts are read, changed and written together: a chunk's people, then one SELECT and
# at most one UPDATE for each kind of text row, whatever the number of records or rows.
CHUNK_SIZE = 500


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date written YYYY-MM-DD") % {"text": text}
        ) from None


def _chunks(keys: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(keys, size)):
        yield chunk


def _fit(text: str, limit: int | None) -> str:
    """A text longer than its column once scrubbed (a two-character name became the marker): cut."""
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def scrub_texts(eraser: Eraser, pending, *, commit: bool) -> int:
    """Replace the details of the ``pending`` people in their records' texts (``eraser.texts``), a
    chunk of records at a time; return how many texts (a field of a row) changed, or would."""
    with translation.override(settings.LANGUAGE_CODE):  # stored: in the site's language
        marker = pgettext("what an erased person's detail reads as in a text", "(erased)")
    keys = pending.order_by(eraser.record).values_list(eraser.record, flat=True).distinct()
    changed = 0
    for chunk in _chunks(keys.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
        people = defaultdict(list)
        for person in pending.filter(**{f"{eraser.record}__in": chunk}):
            people[getattr(person, eraser.record)].append(person)
        for texts in eraser.texts:
            model, dirty = texts.model, []
            limits = {name: model._meta.get_field(name).max_length for name in texts.fields}
            # The record's key read through the join it names ("pk", "case_id", or a reverse one-to-one
            # such as an incident's "dispute_case"): one SELECT whichever it is.
            rows = model.objects.filter(**{f"{texts.key}__in": chunk}).order_by()
            rows = rows.annotate(erased_record=F(texts.key)).only(*texts.fields)
            for row in rows:
                record = people[row.erased_record]
                was = changed
                for name in texts.fields:
                    before = getattr(row, name) or ""
                    after = _fit(pii.scrub_people_from_text(before, record, marker), limits[name])
                    if after != before:
                        setattr(row, name, after)
                        changed += 1
                if changed != was:
                    dirty.append(row)
            if commit and dirty:
                model.objects.bulk_update(dirty, texts.fields)
    return changed


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Erase the personal details (names, ID numbers, phones, addresses) of the parties and "
            "petitioners of dispute cases and petitions closed for good before the cut-off, and those "
            "details from the records' free texts, keeping the records and the statistics; a dry run "
            "unless --commit is given."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--closed-before",
            type=_date,
            help=_(
                "erase the records closed before this day (YYYY-MM-DD); without it, "
                "PERSONAL_DATA_RETENTION_DAYS days before today"
            ),
        )
        parser.add_argument("--commit", action="store_true", help=_("erase; without it, only count"))
        parser.add_argument(
            "--actor", help=_("the administrator the erasure is written in the name of (with --commit)")
        )

    def handle(self, *args, closed_before: dt.date | None, commit: bool, actor: str | None, **options):
        now = timezone.now()
        today = timezone.localdate(now)
        if closed_before is None:
            days = settings.PERSONAL_DATA_RETENTION_DAYS
            if days is None:
                raise CommandError(
                    _(
                        "Give --closed-before YYYY-MM-DD or set PERSONAL_DATA_RETENTION_DAYS: no "
                        "retention period is configured, so nothing is erased."
                    )
                )
            closed_before = today - dt.timedelta(days=days)
        elif closed_before > today:
            raise CommandError(
                _("--closed-before %(date)s is after today: give a day not later than %(today)s.")
                % {"date": closed_before.isoformat(), "today": today.isoformat()}
            )
        missing = _("--commit needs --actor USERNAME: the administrator who answers for the erasure.")
        user = command_actor(actor, missing) if commit else None
        with transaction.atomic():
            for eraser in erasers():
                pending = eraser.pending(closed_before, now)
                counts = {
                    "people": pending.count(),
                    "records": pending.values(eraser.record).distinct().count(),
                }
                # Before the details are cleared: they are what the texts are searched for.
                counts["texts"] = scrub_texts(eraser, pending, commit=commit)
                said = eraser.counted % counts
                texts = ngettext("%(texts)d text", "%(texts)d texts", counts["texts"]) % counts
                if not commit:
                    self.stdout.write(
                        _("Would erase: %(counted)s; %(texts)s would be scrubbed")
                        % {"counted": said, "texts": texts}
                    )
                    continue
                # One UPDATE of the rows counted, whatever their number: constants, no row read.
                pending.update(**eraser.clear)
                AuditEntry.objects.create(
                    actor=user,
                    action=AuditEntry.Action.PERSONAL_DATA_ERASE,
                    object_type=pending.model._meta.label_lower,
                    object_id=closed_before.isoformat(),
                    after={"closed_before": closed_before.isoformat(), **counts},
                )
                self.stdout.write(
                    _("Erased: %(counted)s; %(texts)s scrubbed") % {"counted": said, "texts": texts}
                )
        if not commit:
            self.stdout.write(
                _("Dry run (records closed before %(date)s): nothing was changed; --commit erases.")
                % {"date": closed_before.isoformat()}
            )
