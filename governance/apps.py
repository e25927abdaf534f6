from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as BaseAdminConfig
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


class AdminConfig(BaseAdminConfig):
    """Django's admin, whose own models are its change log (LogEntry), under the log's name: it was
    named "Administration", as the admin's index is (系统管理), so the index showed a section 系统管理
    under the title 系统管理, and the log's breadcrumbs read as the whole administration's."""

    verbose_name = _("admin change log")
