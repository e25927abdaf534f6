"""Load the State Council's published working-day calendars (governance.holiday_calendars).

Idempotent: a date already in the calendar is kept as it is, so a correction made in the admin (a local
extra holiday, a notice amended later) survives a second run and is reported, not overwritten.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.deadlines import calendar_edited
from governance.holiday_calendars import NOTICES, calendar_days
from governance.models import Holiday


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Load the official holiday and make-up working-day calendar of each year this release knows "
            "(the State Council's notices); dates already in the calendar are kept."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, action="append", dest="years", help=_("only this year (repeatable)")
        )

    def handle(self, *args, years: list[int] | None, **options):
        known = sorted(NOTICES)
        years = sorted(set(years or ()))  # "--year 2026 --year 2026" inserted each date twice
        unknown = sorted(set(years or ()) - set(known))
        if unknown:
            raise CommandError(
                _(
                    "--year %(unknown)s: no published calendar in this release (it has %(known)s); "
                    "enter that year in the admin from the notice"
                )
                % {"unknown": ", ".join(map(str, unknown)), "known": ", ".join(map(str, known))}
            )
        wanted = [
            (day, is_workday, name)
            for year in (years or known)
            for day, is_workday, name in calendar_days(year)
        ]
        with transaction.atomic():
            existing = {
                row.date: row
                for row in Holiday.objects.select_for_update(no_key=True).filter(
                    date__in=[day for day, _w, _n in wanted]
                )
            }
            new = [
                Holiday(date=day, is_workday=w, name=name) for day, w, name in wanted if day not in existing
            ]
            differing = [day for day, w, _n in wanted if day in existing and existing[day].is_workday != w]
            if new:
                # bulk_create sends no post_save: the change is announced here, in the same transaction,
                # so every process reloads its cached calendar and the running deadlines follow it.
                Holiday.objects.bulk_create(new)
                calendar_edited()
        self.stdout.write(
            _("Calendar %(years)s: %(added)d dates added, %(kept)d already present and kept.")
            % {"years": ", ".join(map(str, years or known)), "added": len(new), "kept": len(existing)}
        )
        for day in differing:
            said = _("a working day") if existing[day].is_workday else _("a holiday")
            self.stdout.write(
                self.style.WARNING(
                    _("%(day)s: the calendar says %(said)s, the notice the opposite; kept as entered")
                    % {"day": day, "said": said}
                )
            )
        next_year = timezone.localdate().year + 1
        if (
            not years
            and next_year not in NOTICES
            and not Holiday.objects.filter(date__year=next_year).exists()
        ):
            self.stdout.write(
                _("No calendar for %(year)d yet: enter it in the admin when the State Council publishes it.")
                % {"year": next_year}
            )
