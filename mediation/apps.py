from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = _("dispute mediation")

    def ready(self) -> None:
        from governance.deadlines import calendar_changed, deadlines_between
        from governance.homes import register_home_section, register_nav
        from governance.retention import Eraser, Texts, register_eraser
        from mediation.homes import home_section
        from mediation.models import DisputeCase, DisputeEvent, DisputeSession
        from mediation.selectors import parties_past_retention
        from mediation.services import dispute_deadlines_between, dispute_refresh_deadlines

        calendar_changed.connect(dispute_refresh_deadlines, dispatch_uid="mediation-deadlines")
        deadlines_between.connect(dispute_deadlines_between, dispatch_uid="mediation-deadlines-between")

        register_nav("mediation-home", _("Mediation"), roles={"mediator"})
        register_nav("mediation-cases", _("Disputes"), roles={"handler"})
        register_home_section(home_section)
        # manage.py erase_personal_data: the personal columns and the hashes kept to match them, and
        # every free text of the case that may name them (none of them stored encrypted).
        erased = ("name", "id_number", "id_hash", "phone", "address")
        case_texts = (
            "description", "decline_reason", "suggested_route", "outcome_note", "agreement_facts",
            "agreement_terms", "performance_method",
        )  # fmt: skip
        register_eraser(
            Eraser(
                people=parties_past_retention,
                record="case_id",
                clear=dict.fromkeys(erased, ""),
                counted=_("%(people)d parties of %(records)d dispute cases"),
                texts=(
                    Texts(DisputeCase, "pk", case_texts),
                    Texts(DisputeSession, "case_id", ("place", "attendees", "summary", "next_step")),
                    Texts(DisputeEvent, "case_id", ("note",)),
                    Texts(DisputeCase.incident.field.related_model, "dispute_case", ("description",)),
                ),
            )
        )
