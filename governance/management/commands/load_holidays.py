"""Load the State Council's published working-day calendars (governance.holiday_calendars).

Idempotent: a date already in the calendar is kept as it is, so a correction made in the admin (a local
extra holiday, a notice amended later) survives a second run and is reported, not overwritten.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from governance.deadlines import calendar_edited
from governance.holiday_calendars import NOTICES, calendar_days
from governance.models import Holiday


class Command(BaseCommand):
    help = (
        "Load the official holiday and make-up working-day calendar of each year this release knows "
        "(the State Council's notices); dates already in the calendar are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, action="append", dest="years", help="only this year (repeatable)"
        )

    def handle(self, *args, years: list[int] | None, **options):
        known = sorted(NOTICES)
        years = sorted(set(years or ()))  # "--year 2026 --year 2026" inserted each date twice
        unknown = sorted(set(years or ()) - set(known))
        if unknown:
            raise CommandError(
                f"--year {', '.join(map(str, unknown))}: no published calendar in this release "
                f"(it has {', '.join(map(str, known))}); enter that year in the admin from the notice"
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
            f"Calendar {', '.join(map(str, years or known))}: {len(new)} dates added, "
            f"{len(existing)} already present and kept."
        )
        for day in differing:
            self.stdout.write(
                self.style.WARNING(
                    f"{day}: the calendar says {'working day' if existing[day].is_workday else 'holiday'}, "
                    f"the notice the opposite; kept as entered"
                )
            )
        next_year = timezone.localdate().year + 1
        if (
            not years
            and next_year not in NOTICES
            and not Holiday.objects.filter(date__year=next_year).exists()
        ):
            self.stdout.write(
                f"No calendar for {next_year} yet: enter it in the admin when the State Council publishes it."
            )
