"""System checks of the settings the statistics read (``manage.py check``, and so ``migrate`` when a
container starts).

Each of these settings is also checked where it is read (dashboards.models, dashboards.intake,
dashboards.assessment), but that is at 02:00, when the nightly rollup or the assessment scoring runs,
or when an analyst uploads a survey: a misspelt answer code in SURVEY_SAFE_ANSWERS deployed on Monday
stopped the rollup that night. The same readers are called here so that the deployment fails
instead, with the reader's own message naming the setting and what it accepts."""

from __future__ import annotations

from collections.abc import Callable

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def _readers() -> list[tuple[str, str, Callable[[], object]]]:
    # Imported here: a check module is imported by AppConfig.ready, the models only once apps are ready.
    from dashboards import assessment, intake, models

    return [
        ("dashboards.E001", "SURVEY_SAFE_ANSWERS", models.safe_answers),
        ("dashboards.E002", "SURVEY_SATISFIED_ANSWERS", models.satisfied_answers),
        (
            "dashboards.E003",
            "SURVEY_SAFETY_LABELS",
            lambda: intake.answer_labels(
                "SURVEY_SAFETY_LABELS", intake.DEFAULT_SAFETY_LABELS, models.SafetyAnswer
            ),
        ),
        (
            "dashboards.E004",
            "SURVEY_SATISFACTION_LABELS",
            lambda: intake.answer_labels(
                "SURVEY_SATISFACTION_LABELS", intake.DEFAULT_SATISFACTION_LABELS, models.SatisfactionAnswer
            ),
        ),
        ("dashboards.E005", "PREVENTABLE_CASE_KINDS", models.preventable_case_kinds),
        ("dashboards.E006", "ASSESSMENT_GRADE_THRESHOLDS", assessment.grade_thresholds),
        ("dashboards.E007", "PREVENTABLE_CASE_KIND_LABELS", intake.case_kind_labels),
    ]


@checks.register()
def check_statistics_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for check_id, name, read in _readers():
        try:
            read()
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(
                    str(exc),
                    hint=f"Set {name} in the environment as comma-separated values "
                    "(README.md, Configuration; docs/statistics.md).",
                    id=check_id,
                )
            )
    return errors
