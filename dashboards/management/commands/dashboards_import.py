"""``manage.py dashboards_import surveys|case-counts|populations FILE.csv [--dry-run] [--again]``: import
survey answers, police preventable-case counts or area populations by year. Every line is checked first; every bad line is printed with its number
and nothing is written unless all are good."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards import intake


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Import survey answers, police preventable-case counts or area populations by year from a CSV "
            "file (all or nothing)."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("kind", choices=sorted(intake.IMPORTS))
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help=_("check every line, write nothing"))
        parser.add_argument(
            "--again", action="store_true", help=_("surveys: import answers identical to an earlier batch's")
        )

    def handle(
        self, *args, kind: str, path: Path, dry_run: bool = False, again: bool = False, **options
    ) -> None:
        # Its messages speak the site's language, as the rows' messages do (LANGUAGE_CODE).
        if again and kind != "surveys":
            raise CommandError(_("--again is for surveys only: rows sent again replace the earlier ones."))
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}) from None
        service = intake.IMPORTS[kind][1]
        try:
            table = intake.table_from_csv(intake.csv_text(data))
            if dry_run:
                rows = intake.check_only(kind, table, None, again=again)
                self.stdout.write(
                    _("%(path)s: %(rows)d rows are valid (dry run, nothing written)")
                    % {"path": path, "rows": rows}
                )
                return
            extra = {"again": again} if kind == "surveys" else {}
            batch = service(table=table, actor=None, source=str(path), **extra)
        except intake.AlreadyImported as done:
            raise CommandError(f"{path}: {done.message('--again')}") from None
        except intake.ImportRejected as rejected:
            for error in rejected.listed:
                self.stderr.write(f"{path}:{error.line}: {error.field}: {error.message}")
            if rejected.not_listed:
                self.stderr.write(
                    ngettext(
                        "%(path)s: %(n)d more error not listed.",
                        "%(path)s: %(n)d more errors not listed.",
                        rejected.not_listed,
                    )
                    % {"path": path, "n": rejected.not_listed}
                )
            raise CommandError(rejected.summary()) from None
        self.stdout.write(
            _("%(path)s: imported %(rows)d rows (batch %(batch)d)")
            % {"path": path, "rows": batch.rows, "batch": batch.pk}
        )
