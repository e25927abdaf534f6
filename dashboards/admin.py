"""Admin of the statistics: the rollup runs (read-only records, with the error of a failed one) and,
in ``assessment_admin``, the set-up of assessment schemes."""

from __future__ import annotations

from django.contrib import admin

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
        "seconds",
    ]
    list_filter = ["status", "kind", "trigger"]
    list_select_related = ["requested_by"]
    date_hierarchy = "started_at"
