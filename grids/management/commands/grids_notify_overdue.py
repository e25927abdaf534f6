from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grids import services


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _(
            "Notify the responsible handlers of incidents whose current step is overdue (the beat task "
            "grids.notify_overdue does this every 10 minutes). Safe to run any number of times."
        )

    def handle(self, *args, **options) -> None:
        flagged = services.incident_notify_overdue()
        self.stdout.write(
            ngettext(
                "%(n)d incident newly overdue; its handlers were notified.",
                "%(n)d incidents newly overdue; their handlers were notified.",
                flagged,
            )
            % {"n": flagged}
        )
