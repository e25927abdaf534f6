"""Indicators whose source is the survey and police intake of this app (DOMAIN.md "Safety sense and
satisfaction").

* ``survey_safety_rate``        share of "safe" answers (setting SURVEY_SAFE_ANSWERS, default the top three of
                                five) among valid answers; "don't know" is not a valid answer. Weighted.
* ``survey_satisfaction_rate``  the same for satisfaction with public-security work (SURVEY_SATISFIED_ANSWERS).
* ``police_preventable_cases_per_10k``  preventable cases (kinds in PREVENTABLE_CASE_KINDS) per 10,000
                                residents; the denominator is the area's population in the year of the month
                                (AreaPopulation, else Area.population), taken from the last month of a longer
                                period (a stock, not a flow). Lower is better.

The settings are read each time a source is compiled, i.e. at every rollup; after changing them run a
full rebuild (the nightly run notices the change and rebuilds everything by itself).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import F, FloatField, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.utils.functional import lazy
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from dashboards.models import (
    DEFAULT_PREVENTABLE_CASE_KINDS,
    AreaPopulation,
    PreventableCaseCount,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyResponse,
    preventable_case_kinds,
    safe_answers,
    satisfied_answers,
)
from governance.indicators import (
    HIGHER_BETTER,
    LOWER_BETTER,
    PER_10K,
    PERCENT,
    IndicatorSpec,
    MonthOfDate,
    as_date,
    register,
)

SURVEY_MIN_SAMPLE = int(getattr(settings, "SURVEY_MIN_SAMPLE", 30))


@lazy
def preventable_cases_description() -> str:
    """Names the kinds counted (PREVENTABLE_CASE_KINDS, DOMAIN.md: a setting), read when the text is
    shown: the default sentence for the default kinds, else each kind by its name in
    PREVENTABLE_CASE_KIND_LABELS or, without one, its code (as the import page lists them)."""
    kinds = preventable_case_kinds()
    if set(kinds) == set(DEFAULT_PREVENTABLE_CASE_KINDS):
        return gettext(
            "Burglary, robbery at home, vehicle and e-bike theft reported by the police, per 10,000 residents."
        )
    from dashboards.intake import case_kind_labels  # the intake's machinery, loaded when needed

    names = {code: name for name, code in case_kind_labels().items()}
    listed = pgettext("list separator", ", ").join(names.get(kind, kind) for kind in kinds)
    return gettext("Preventable cases reported by the police (%(kinds)s), per 10,000 residents.") % {
        "kinds": listed
    }


def _answers_named(choices, counted: tuple[str, ...], labels: str) -> str:
    """The counted answers, quoted, in the order of the scale: by their labels in the language shown,
    or, where the city's questionnaire words its scale otherwise (SURVEY_SAFETY_LABELS,
    SURVEY_SATISFACTION_LABELS: its 安全 is stored as very_safe), in its own words."""
    from dashboards import intake  # the intake's machinery, loaded when needed

    default = getattr(intake, f"DEFAULT_{labels.removeprefix('SURVEY_')}")
    words = {code: word for word, code in intake.answer_labels(labels, default, choices).items()}
    own = tuple(words[value] for value in choices.values if value != choices.DONT_KNOW) != default
    names = (words[value] if own else label for value, label in choices.choices if value in counted)
    quoted = (pgettext("survey answer in a sentence", "“%(answer)s”") % {"answer": name} for name in names)
    return pgettext("list separator", ", ").join(quoted)


@lazy
def safety_description() -> str:
    """Names the answers counted as safe (SURVEY_SAFE_ANSWERS, DOMAIN.md: a setting), read when the
    text is shown, and says that the answers are weighted, as ``survey_answers`` sums them."""
    return gettext(
        "Share of residents surveyed answering %(answers)s, among valid answers (“don't know” "
        "excluded), each answer counted by its sample weight."
    ) % {"answers": _answers_named(SafetyAnswer, safe_answers(), "SURVEY_SAFETY_LABELS")}


@lazy
def satisfaction_description() -> str:
    """The same for satisfaction with public-security work (SURVEY_SATISFIED_ANSWERS)."""
    return gettext(
        "Share of residents surveyed answering %(answers)s about public-security work, among valid "
        "answers (“don't know” excluded), each answer counted by its sample weight."
    ) % {"answers": _answers_named(SatisfactionAnswer, satisfied_answers(), "SURVEY_SATISFACTION_LABELS")}


def survey_answers(start: dt.date, end: dt.date) -> QuerySet:
    """Both survey indicators from one scan of the answers: per (area, month) the weight of the
    "safe" and of the valid (not "don't know") safety answers, and the same for satisfaction.
    Weights are summed as stored (decimal) and the sums converted once: converting each answer's
    weight to a float costs more than the sums."""

    def rate(field: str, dont_know: str, counted: tuple[str, ...]) -> dict:
        valid = ~Q(**{field: dont_know})
        return {
            # Both NULL (no valid answer in the month): no fact of the indicator (see the registry).
            f"{field}_counted": Cast(
                Sum("weight", filter=valid & Q(**{f"{field}__in": counted})), FloatField()
            ),
            f"{field}_valid": Cast(Sum("weight", filter=valid), FloatField()),
        }

    return (
        SurveyResponse.objects.filter(date__gte=start, date__lt=end)
        .values("area_id", month=MonthOfDate("date"))  # index survey_date_area
        .annotate(
            **rate("safety", SafetyAnswer.DONT_KNOW, safe_answers()),
            **rate("satisfaction", SatisfactionAnswer.DONT_KNOW, satisfied_answers()),
        )
        .order_by()
    )


def police_preventable_cases(start: dt.date, end: dt.date) -> QuerySet:
    # Police report every area they cover each month, zero counts included, so the area's population
    # is present for each month it was reported (index casecount_month_area). Counts of an area without
    # a population (the import refuses them; the population may have been cleared since) are left out:
    # their cases, summed into the parent's numerator without residents in its denominator, would
    # inflate the parent's rate.
    # The population of the area in the month's year: that year's figure (AreaPopulation, index
    # population_unique_area_year), else the area's own. Looked up once per (area, month) group, not
    # once per counted kind (three times slower).
    of_the_year = AreaPopulation.objects.filter(
        area_id=OuterRef("area_id"), year=ExtractYear(OuterRef("month"))
    ).values("population")[:1]
    return (
        PreventableCaseCount.objects.filter(
            month__gte=start, month__lt=end, kind__in=preventable_case_kinds()
        )
        .values("area_id", "month")
        .annotate(numerator=Sum("count"), own=Max("area__population"))
        .annotate(denominator=Coalesce(Subquery(of_the_year), F("own")))
        .filter(denominator__gt=0)
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


def survey_changes(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """Months of the answers imported since ``since`` (answers are only ever added). One query."""
    months = SurveyResponse.objects.filter(created_at__gte=since).values_list(MonthOfDate("date"), flat=True)
    return {as_date(m) for m in months.order_by().distinct()}


def police_changes(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """Months of the case counts imported or corrected since ``since``, and every month of a year whose
    population was entered or corrected since (the run keeps those up to the current one). Two
    queries."""
    months = PreventableCaseCount.objects.filter(updated_at__gte=since).values_list("month", flat=True)
    changed = {as_date(m) for m in months.order_by().distinct()}
    years = AreaPopulation.objects.filter(updated_at__gte=since).values_list("year", flat=True)
    for year in years.order_by().distinct():
        changed |= {dt.date(year, month, 1) for month in range(1, 13)}
    return changed


register(
    IndicatorSpec(
        code="survey_safety_rate",
        name=_("Sense of safety"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=survey_answers,
        changes=survey_changes,
        numerator="safety_counted",
        denominator="safety_valid",
        description=safety_description(),
        min_sample=SURVEY_MIN_SAMPLE,
        headline=True,
    )
)
register(
    IndicatorSpec(
        code="survey_satisfaction_rate",
        name=_("Satisfaction with public security"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=survey_answers,
        changes=survey_changes,
        numerator="satisfaction_counted",
        denominator="satisfaction_valid",
        description=satisfaction_description(),
        min_sample=SURVEY_MIN_SAMPLE,
        headline=True,
    )
)
register(
    IndicatorSpec(
        code="police_preventable_cases_per_10k",
        name=_("Preventable cases per 10,000 residents"),
        unit=PER_10K,
        direction=LOWER_BETTER,
        source=police_preventable_cases,
        changes=police_changes,
        description=preventable_cases_description(),
        denominator_over_time="last",
        headline=True,
    )
)
