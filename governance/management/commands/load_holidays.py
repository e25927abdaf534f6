"""Load the State Council's published working-day calendars (governance.holiday_calendars), or with
``--notice FILE`` a year's notice written as text (the format of ``holiday_calendars.notice_from_file``,
the one the admin's "Enter a year's notice" page reads), for scripted installs.

Idempotent: a date already in the calendar is kept as it is, so a correction made in the admin (a local
extra holiday, a notice amended later) survives a second run and is reported, not overwritten. A notice
with any bad line is refused whole, every bad line reported with its number, nothing written.
``--notice FILE --dry-run`` prints what the admin page's preview shows and writes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from governance.holiday_calendars import NOTICES, NoticeError, calendar_days, notice_days, notice_from_file
from governance.models import Holiday
from governance.services import calendar_days_add, calendar_days_preview


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
        parser.add_argument(
            "--notice",
            metavar="FILE",
            help=_("load the notice written in FILE instead (year:, source:, [days off], [working days])"),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_(
                "with --notice: print what would be saved and the running deadlines it moves; save nothing"
            ),
        )

    def handle(
        self, *args, years: list[int] | None, notice: str | None = None, dry_run: bool = False, **options
    ):
        if dry_run and notice is None:
            raise CommandError(_("--dry-run previews a --notice FILE: give it with --notice"))
        if notice is not None:
            if years:
                raise CommandError(_("--notice loads the year its file names: give it without --year"))
            return self._load_notice(notice, dry_run=dry_run)
        known = sorted(NOTICES)
        years = sorted(set(years or ()))  # "--year 2026 --year 2026" inserted each date twice
        unknown = sorted(set(years or ()) - set(known))
        if unknown:
            raise CommandError(
                _(
                    "--year %(unknown)s: no published calendar in this release (it has %(known)s); "
                    "enter that year's notice in the admin (Enter a year's notice) or load it with --notice FILE"
                )
                % {"unknown": ", ".join(map(str, unknown)), "known": ", ".join(map(str, known))}
            )
        wanted = [
            (day, is_workday, name)
            for year in (years or known)
            for day, is_workday, name in calendar_days(year)
        ]
        self._report(", ".join(map(str, years or known)), calendar_days_add(days=wanted))
        next_year = timezone.localdate().year + 1
        if (
            not years
            and next_year not in NOTICES
            and not Holiday.objects.filter(date__year=next_year).exists()
        ):
            self.stdout.write(
                _(
                    "No calendar for %(year)d yet: enter the State Council's notice in the admin (Enter a "
                    "year's notice) when it is published, or load it with --notice FILE."
                )
                % {"year": next_year}
            )

    def _load_notice(self, path: str, *, dry_run: bool = False) -> None:
        try:
            with open(path, encoding="utf-8-sig") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(
                _("--notice %(path)s: cannot be read (%(error)s)") % {"path": path, "error": error}
            ) from error
        try:
            notice = notice_from_file(text)
        except NoticeError as error:
            for problem in error.errors:
                where = (
                    _("%(path)s, line %(line)d") % {"path": path, "line": problem.line}
                    if problem.line
                    else path
                )
                self.stderr.write(f"{where}: {problem.message}")
            raise CommandError(
                ngettext(
                    "--notice %(path)s: %(n)d problem, nothing loaded",
                    "--notice %(path)s: %(n)d problems, nothing loaded",
                    len(error.errors),
                )
                % {"path": path, "n": len(error.errors)}
            ) from None
        if dry_run:
            return self._preview(
                notice.year, calendar_days_preview(days=notice_days(notice), year=notice.year)
            )
        self._report(str(notice.year), calendar_days_add(days=notice_days(notice)))

    def _preview(self, year: int, preview) -> None:
        """The admin page's preview, as lines (``calendar_days_preview``): nothing written."""
        self.stdout.write(
            _(
                "Notice for %(year)d, not saved (--dry-run): %(added)d dates to be added, %(kept)d already present and kept."
            )
            % {"year": year, "added": preview.added_count, "kept": len(preview.kept)}
        )
        for run in preview.added:
            dates = (
                run.first.isoformat() if run.days == 1 else f"{run.first.isoformat()}–{run.last.isoformat()}"
            )
            kind = _("make-up working day") if run.is_workday else _("holiday")
            self.stdout.write(
                _("to be added: %(dates)s %(name)s (%(kind)s)")
                % {"dates": dates, "name": run.name, "kind": kind}
            )
        self._differing([(row, w, n) for row, w, n in preview.differing if row.is_workday != w])
        counts = pgettext("list separator", ", ").join(f"{label} {n}" for label, n in preview.deadlines)
        self.stdout.write(
            _(
                "Running deadlines due from %(first)s to the end of %(year)d, recounted once saved: %(counts)s."
            )
            % {"first": preview.counted_from.isoformat(), "year": year, "counts": counts}
        )

    def _report(self, years: str, result) -> None:
        self.stdout.write(
            _("Calendar %(years)s: %(added)d dates added, %(kept)d already present and kept.")
            % {"years": years, "added": len(result.added), "kept": len(result.kept)}
        )
        self._differing(result.differing)

    def _differing(self, differing) -> None:
        for row, _w, _n in differing:
            said = _("a working day") if row.is_workday else _("a holiday")
            self.stdout.write(
                self.style.WARNING(
                    _("%(day)s: the calendar says %(said)s, the notice the opposite; kept as entered")
                    % {"day": row.date, "said": said}
                )
            )
