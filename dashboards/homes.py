"""Navigation entries and the home-page section of the ranking pages and the assessment (registered
from DashboardsConfig.ready()). Scoring after a rollup is queued by the rollup engine itself."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

STAFF_ROLES = {"handler", "analyst", "admin", "petition_officer", "mediator"}


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not user.is_authenticated or not (user.is_superuser or user.roles() & {"handler", "analyst", "admin"}):
        return None
    from dashboards.ranking import overdue_counts

    return {
        "title": _("Overdue across the services"),
        "template": "dashboards/_home_section.html",
        "overdue": overdue_counts(user),
    }


def register() -> None:
    from dashboards.intake import IMPORT_ROLES
    from governance.homes import register_home_section, register_nav

    register_nav("dashboards-overview", _("Overview"), roles=STAFF_ROLES)
    register_nav("dashboards-league", _("League table"), roles=STAFF_ROLES)
    register_nav("dashboards-assessments", _("Assessment"), roles=STAFF_ROLES)
    register_nav("dashboards-import", _("Data import"), roles=IMPORT_ROLES)
    register_home_section(home_section)
