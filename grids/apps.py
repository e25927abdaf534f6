from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    name = "grids"
    verbose_name = _("grid management")

    def ready(self) -> None:
        from governance.deadlines import calendar_changed, deadlines_between
        from governance.homes import register_home_section, register_nav
        from governance.models import department_closing, grid_workers_left
        from grids.homes import home_section
        from grids.services import (
            incident_deadlines_between,
            incident_department_closing,
            incident_notify_checks_left,
            incident_refresh_deadlines,
        )

        calendar_changed.connect(incident_refresh_deadlines, dispatch_uid="grids-deadlines")
        deadlines_between.connect(incident_deadlines_between, dispatch_uid="grids-deadlines-between")
        department_closing.connect(incident_department_closing, dispatch_uid="grids-department-closing")
        grid_workers_left.connect(incident_notify_checks_left, dispatch_uid="grids-checks-left")

        register_nav("grids-my", _("My grid"), roles={"grid_worker"})
        register_nav("grids-report", _("Report"), roles={"grid_worker"})
        register_nav("grids-inbox", _("Incidents"), roles={"handler", "analyst"})
        register_home_section(home_section)
