from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("governance")

    def ready(self) -> None:
        from governance import checks  # noqa: F401  (registers the deployment checks)


class AxesConfig(AxesAppConfig):
    """django-axes under a name the admin's reader understands ("Axes" said nothing, in any language);
    its own strings are translated in locale/vendor (it ships no Chinese)."""

    verbose_name = _("sign-in lockouts")
