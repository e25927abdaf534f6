from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("dispute mediation")

    def ready(self) -> None:
        from governance.homes import register_home_section, register_nav
        from mediation.homes import home_section

        register_nav("mediation-home", _("Mediation"), roles={"mediator"})
        register_nav("mediation-cases", _("Disputes"), roles={"handler"})
        register_home_section(home_section)
