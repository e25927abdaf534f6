"""Erase the personal details of the people of records closed for good long ago (docs/architecture.md,
"Personal data").

The records themselves, their people's rows (role, position), their free texts and every statistic
stay: only the names, ID numbers, phones, addresses and the hashes kept to match them are cleared,
for the rows each app registers (``governance.retention``). A dry run by default; ``--commit`` erases
in one transaction, one UPDATE a kind of person, and writes an audit entry for each with the cut-off
and the counts. A second run finds nothing more to erase.
"""

from __future__ import annotations

import argparse
import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.management.actor import command_actor
from governance.models import AuditEntry
from governance.retention import erasers


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("%(text)r is not a date written YYYY-MM-DD") % {"text": text}
        ) from None


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Erase the personal details (names, ID numbers, phones, addresses) of the parties and "
            "petitioners of dispute cases and petitions closed for good before the cut-off, keeping "
            "the records and the statistics; a dry run unless --commit is given."
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
                said = eraser.counted % counts
                if not commit:
                    self.stdout.write(_("Would erase: %(counted)s") % {"counted": said})
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
                self.stdout.write(_("Erased: %(counted)s") % {"counted": said})
        if not commit:
            self.stdout.write(
                _("Dry run (records closed before %(date)s): nothing was changed; --commit erases.")
                % {"date": closed_before.isoformat()}
            )
