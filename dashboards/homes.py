"""Navigation entries and the home-page section of the ranking pages and the assessment (registered
from DashboardsConfig.ready()). Scoring after a rollup is queued by the rollup engine itself."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

STAFF_ROLES = {"handler", "analyst", "admin", "petition_officer", "mediator"}


def _reads_statistics(user) -> bool:
    """Who the home page shows the statistics sections to: the staff who watch and rank areas."""
    return user.is_authenticated and (
        user.is_superuser or bool(user.roles() & {"handler", "analyst", "admin"})
    )


def home_section(request: HttpRequest) -> dict | None:
    user = request.user
    if not _reads_statistics(user):
        return None
    from dashboards.ranking import overdue_counts

    return {
        # Every overdue item of the user's areas, whoever's step it is: a department's liaison sees
        # its own beside it ("Incidents with my department"), a smaller figure.
        "title": _("Overdue across the services in my areas"),
        "template": "dashboards/_home_section.html",
        "overdue": overdue_counts(user),
    }


def figures_section(request: HttpRequest) -> dict | None:
    """The headline figures of the user's area for the period the overview opens on, each linked
    to its league table: district staff rank their areas on these, and landed on overdue counts."""
    if not _reads_statistics(request.user):
        return None
    from dashboards.ranking import home_figures

    figures = home_figures(request.user)
    if figures is None:  # no area in the scope: the overview explains it
        return None
    return {
        "title": _("Headline figures"),
        "template": "dashboards/_home_figures.html",
        "id": "home-figures",
        "stylesheet": "dashboards/dashboards.css",
        **figures,
    }


def register() -> None:
    from dashboards.intake import IMPORT_ROLES
    from governance.homes import register_home_section, register_nav

    register_nav("dashboards-overview", _("Overview"), roles=STAFF_ROLES)
    register_nav("dashboards-league", _("League table"), roles=STAFF_ROLES)
    register_nav("dashboards-assessments", _("Assessment"), roles=STAFF_ROLES)
    register_nav("dashboards-import", _("Data import"), roles=IMPORT_ROLES)
    register_home_section(home_section)
    register_home_section(figures_section)
