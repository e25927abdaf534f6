"""Admin of the statistics: the rollup runs (read-only records, with the error of a failed one) and,
in ``assessment_admin``, the set-up of assessment schemes."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

import dashboards.assessment_admin  # noqa: F401  (registers the assessment schemes and runs)
from dashboards.models import RollupRun
from governance.admin import ReadOnlyAdmin


@admin.register(RollupRun)
class RollupRunAdmin(ReadOnlyAdmin):
    """docs/statistics.md "Runs are recorded": when each run started and ended, how, what it
    refreshed, and a failed run's error (on its page)."""

    list_display = [
        "started_at",
        "finished_at",
        "status",
        "kind",
        "trigger",
        "requested_by",
        "months",
        "rows",
        "seconds_shown",
    ]
    list_filter = ["status", "kind", "trigger"]
    list_select_related = ["requested_by"]
    date_hierarchy = "started_at"

    @admin.display(description=_("seconds"), ordering="seconds")
    def seconds_shown(self, run: RollupRun) -> str:
        # To the hundredth, not the float's sixteen digits.
        return "–" if run.seconds is None else f"{run.seconds:.2f}"
