"""Indicators whose source is the survey and police intake of this app (DOMAIN.md "Safety sense and
satisfaction").

* ``survey_safety_rate``        share of "safe" answers (setting SURVEY_SAFE_ANSWERS, default the top three of
                                five) among valid answers; "don't know" is not a valid answer. Weighted.
* ``survey_satisfaction_rate``  the same for satisfaction with public-security work (SURVEY_SATISFIED_ANSWERS).
* ``police_preventable_cases_per_10k``  preventable cases (kinds in PREVENTABLE_CASE_KINDS) per 10,000
                                residents; the denominator is the area's population, taken from the last month
                                of a longer period (a stock, not a flow). Lower is better.

The settings are read each time a source is compiled, i.e. at every rollup; after changing them run a
full rebuild (the nightly run notices the change and rebuilds everything by itself).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import DateField, FloatField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils.translation import gettext_lazy as _

from dashboards.models import (
    PreventableCaseCount,
    SafetyAnswer,
    SatisfactionAnswer,
    SurveyResponse,
    preventable_case_kinds,
    safe_answers,
    satisfied_answers,
)
from governance.indicators import HIGHER_BETTER, LOWER_BETTER, PER_10K, PERCENT, IndicatorSpec, register

SURVEY_MIN_SAMPLE = int(getattr(settings, "SURVEY_MIN_SAMPLE", 30))


def _survey_rate(
    start: dt.date, end: dt.date, field: str, dont_know: str, counted: tuple[str, ...]
) -> QuerySet:
    qs = SurveyResponse.objects.filter(date__gte=start, date__lt=end).exclude(**{field: dont_know})
    weight = Cast("weight", FloatField())
    return (
        qs.values("area_id", month=Cast(TruncMonth("date"), DateField()))  # index survey_date_area
        .annotate(
            numerator=Coalesce(Sum(weight, filter=Q(**{f"{field}__in": counted})), Value(0.0)),
            denominator=Sum(weight),
        )
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


def survey_safety_rate(start: dt.date, end: dt.date) -> QuerySet:
    return _survey_rate(start, end, "safety", SafetyAnswer.DONT_KNOW, safe_answers())


def survey_satisfaction_rate(start: dt.date, end: dt.date) -> QuerySet:
    return _survey_rate(start, end, "satisfaction", SatisfactionAnswer.DONT_KNOW, satisfied_answers())


def police_preventable_cases(start: dt.date, end: dt.date) -> QuerySet:
    # Police report every area they cover each month, zero counts included, so the area's population
    # is present for each month it was reported (index casecount_month_area).
    qs = PreventableCaseCount.objects.filter(
        month__gte=start, month__lt=end, kind__in=preventable_case_kinds()
    )
    return (
        qs.values("area_id", "month")
        .annotate(numerator=Sum("count"), denominator=Max("area__population"))
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


register(
    IndicatorSpec(
        code="survey_safety_rate",
        name=_("Sense of safety"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=survey_safety_rate,
        description=_(
            "Share of residents surveyed who feel safe, among valid answers (don't know excluded)."
        ),
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
        source=survey_satisfaction_rate,
        description=_(
            "Share of residents surveyed satisfied with public-security work, among valid answers."
        ),
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
        description=_(
            "Burglary, robbery at home, vehicle and e-bike theft reported by the police, per 10,000 residents."
        ),
        denominator_over_time="last",
        headline=True,
    )
)
