from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PetitionsConfig(AppConfig):
    name = "petitions"
    verbose_name = _("petitions")

    def ready(self) -> None:
        from governance.deadlines import calendar_changed, deadlines_between
        from governance.homes import register_home_section, register_nav
        from governance.models import department_closing
        from governance.retention import Eraser, Texts, register_eraser
        from petitions.homes import home_section
        from petitions.models import Petition, PetitionEvent
        from petitions.selectors import petitioners_past_retention
        from petitions.services import (
            petition_deadlines_between,
            petition_department_closing,
            petition_refresh_deadlines,
        )

        calendar_changed.connect(petition_refresh_deadlines, dispatch_uid="petitions-deadlines")
        deadlines_between.connect(petition_deadlines_between, dispatch_uid="petitions-deadlines-between")
        department_closing.connect(petition_department_closing, dispatch_uid="petitions-department-closing")

        register_nav("petitions-registry", _("Petitions"), roles={"petition_officer"})
        register_nav("petitions-inbox", _("Petition inbox"), roles={"handler"})
        register_home_section(home_section)
        # manage.py erase_personal_data: the personal columns and the hashes kept to match them, and
        # every free text of the petition that may name them (none of them stored encrypted).
        erased = ("name", "id_number", "id_hash", "phone", "address", "phone_hash")
        register_eraser(
            Eraser(
                people=petitioners_past_retention,
                record="petition_id",
                clear=dict.fromkeys(erased, ""),
                counted=_("%(people)d petitioners of %(records)d petitions"),
                texts=(
                    Texts(Petition, "pk", ("content", "extension_reason", "reply_text")),
                    Texts(PetitionEvent, "petition_id", ("note",)),
                ),
            )
        )
