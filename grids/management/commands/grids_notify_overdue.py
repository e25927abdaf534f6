from __future__ import annotations

from django.core.management.base import BaseCommand

from grids import services


class Command(BaseCommand):
    help = (
        "Notify the responsible handlers of incidents whose current step is overdue (the beat task "
        "grids.notify_overdue does this every 10 minutes). Safe to run any number of times."
    )

    def handle(self, *args, **options) -> None:
        flagged = services.incident_notify_overdue()
        self.stdout.write(f"{flagged} incident(s) newly overdue; their handlers were notified.")
