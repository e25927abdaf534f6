from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("dashboards")

    def ready(self) -> None:
        # System checks of the statistics settings (survey answers that count, labels, grades).
        from dashboards import checks  # noqa: F401

        # Every app's indicators.py registers its indicator sources (see governance/indicators.py).
        autodiscover_modules("indicators")
        # Ranking pages and assessment: nav entries, home section, scoring after each rollup.
        from dashboards.homes import register

        register()
