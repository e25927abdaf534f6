from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grids.photos import displays_backfill, thumbnails_backfill


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Make the thumbnails and display copies of the incident photos stored without them (photos "
            "stored before these were made with them). Safe to run any number of times."
        )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=200, help=_("Photos read from the database at a time.")
        )

    def handle(self, *args, chunk_size: int, **options) -> None:
        if chunk_size < 1:
            raise CommandError(_("--chunk-size must be at least 1."))
        result = thumbnails_backfill(chunk_size=chunk_size)
        self.stdout.write(
            ngettext("%(n)d thumbnail made.", "%(n)d thumbnails made.", result.made) % {"n": result.made}
        )
        shown = displays_backfill(chunk_size=chunk_size)
        self.stdout.write(
            ngettext("%(n)d display copy made.", "%(n)d display copies made.", shown.made) % {"n": shown.made}
        )
        failed = len(result.failed | shown.failed)  # a photo whose file is gone fails both: once
        if failed:
            self.stderr.write(
                ngettext(
                    "%(n)d photo has a missing or unreadable file: see the log.",
                    "%(n)d photos have a missing or unreadable file: see the log.",
                    failed,
                )
                % {"n": failed}
            )
