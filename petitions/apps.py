from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("petitions")

    def ready(self) -> None:
        from governance.homes import register_home_section, register_nav
        from petitions.homes import home_section

        register_nav("petitions-registry", _("Petitions"), roles={"petition_officer"})
        register_nav("petitions-inbox", _("Petition inbox"), roles={"handler"})
        register_home_section(home_section)
