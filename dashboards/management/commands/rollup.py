"""``manage.py rollup [--full] [--since YYYY-MM] [--time-limit SECONDS]``: run the rollup engine now (DESIGN.md section 6)."""

from __future__ import annotations

import argparse
import datetime as dt
import math

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.rollup import RollupTimeLimitExceeded, run_rollup
from governance.periods import parse_month


def _month(text: str) -> dt.date:
    """A month as ``POST stats/rollups/`` takes it: YYYY-MM, not after the current month. The error
    is argparse's (usage and exit status 2); a CommandError raised while the arguments are parsed
    escaped as a traceback, and a later month ran an ordinary night's run as if it were done."""
    try:
        # The API's reading: spaces around it trimmed (DRF's CharField strips them, an ideographic
        # one included, so " 2026-01" was queued there and refused here), full-width digits count,
        # Arabic-Indic do not.
        month = parse_month(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("must be a month like 2026-01, not %(text)r") % {"text": text}
        ) from None
    if month > timezone.localdate().replace(day=1):
        raise argparse.ArgumentTypeError(_("%(text)s is after the current month") % {"text": text})
    return month


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not (seconds > 0 and math.isfinite(seconds)):
        raise argparse.ArgumentTypeError(
            _("must be a number of seconds above 0, not %(text)r") % {"text": text}
        )
    return seconds


class Command(BaseCommand):
    @property
    def help(self) -> str:  # in the site's language; argparse takes no lazy text
        return _("Roll indicator sources up into values and rankings (incremental unless --full).")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--full", action="store_true", help=_("rebuild every month and period"))
        parser.add_argument("--since", type=_month, help=_("also recompute every month from YYYY-MM on"))
        parser.add_argument(
            "--time-limit",
            type=_seconds,
            help=_(
                "give up after this many seconds, cancelling the statement in progress (default: no limit)"
            ),
        )

    def handle(
        self,
        *args,
        full: bool = False,
        since: dt.date | None = None,
        time_limit: float | None = None,
        **options,
    ) -> None:
        try:
            run = run_rollup(full=full, since=since, trigger="command", time_limit=time_limit)
        except RollupTimeLimitExceeded as exc:  # recorded on the run as failed; no traceback
            raise CommandError(
                _(
                    "the rollup run reached its time limit of %(seconds)g s and was rolled back; the previous values are kept"
                )
                % {"seconds": time_limit}
            ) from exc
        if run is None:
            raise CommandError(_("another rollup run is in progress; nothing done"))
        self.stdout.write(
            _(
                "rollup run %(run)d (%(kind)s): %(rows)d values, %(periods)d periods, %(months)d months "
                "refreshed, %(statements)d SQL statements, %(seconds).2f s"
            )
            % {
                "run": run.pk,
                "kind": run.get_kind_display(),
                "rows": run.rows,
                "periods": run.periods,
                "months": run.months,
                "statements": run.statements,
                "seconds": run.seconds,
            }
        )
