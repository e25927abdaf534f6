"""Demo statistics: resident surveys and police preventable-case counts, then a full rollup.

* Surveys: a few hundred respondents per district and month (sampled per district, as in practice),
  each attached to the community they live in. The share feeling safe lies between ~90% and ~97%
  depending on the district and street and drifts slowly over time; satisfaction runs a few points
  lower; about 3% answer "don't know".
* Police: preventable-case counts per community, month and kind (zero counts included), from a rate
  per 10,000 residents that differs by district and has a winter peak for burglary.

Idempotent (nothing happens when survey answers exist); bulk inserts only; ends with a full rollup so
that the dashboards and the statistics API have values straight away.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.models import (
    AgeGroup,
    PreventableCaseCount,
    SurveyResponse,
    preventable_case_kinds,
)
from dashboards.rollup import run_rollup

SAFE = (["very_safe", "safe", "basically_safe"], [30, 45, 25])
UNSAFE = (["not_very_safe", "unsafe"], [70, 30])
SATISFIED = (["satisfied", "fairly_satisfied", "basically_satisfied"], [35, 40, 25])
DISSATISFIED = (["not_very_satisfied", "dissatisfied"], [65, 35])
AGES = [a.value for a in AgeGroup]
AGE_WEIGHTS = [12, 18, 18, 18, 17, 17]
# Monthly preventable cases per 10,000 residents, by kind (before the district factor).
KIND_RATES = {"burglary": 0.9, "home_robbery": 0.05, "motor_vehicle_theft": 0.2, "ebike_theft": 1.6}


def _months(months: int) -> list[dt.date]:
    now = timezone.localdate().replace(day=1)
    out = []
    for i in range(months - 1, -1, -1):
        index = now.year * 12 + now.month - 1 - i
        out.append(dt.date(index // 12, index % 12 + 1, 1))
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:  # normal approximation for large means
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    threshold, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= threshold:
            return k
        k += 1


def seed(*, demo, rng: random.Random, scale: str, months: int, stdout) -> None:
    """Survey answers and police counts, a full rollup, then the demo assessment (each idempotent)."""
    from dashboards import assessment_demo

    if SurveyResponse.objects.exists():
        stdout.write("  dashboards: " + _("survey answers already present; kept."))
    else:
        _seed_intake(demo=demo, rng=rng, scale=scale, months=months, stdout=stdout)
    assessment_demo.seed(demo=demo, rng=rng, scale=scale, months=months, stdout=stdout)


def _seed_intake(*, demo, rng: random.Random, scale: str, months: int, stdout) -> None:
    month_list = _months(months)
    today = timezone.localdate()
    communities_of: dict[int, list] = defaultdict(list)
    street_of: dict[int, int] = {}
    district_of_street = {s.pk: s.parent_id for s in demo.streets}
    for c in demo.communities:
        communities_of[district_of_street.get(c.parent_id)].append(c)
        street_of[c.pk] = c.parent_id
    district_safe = {d.pk: rng.uniform(0.905, 0.965) for d in demo.districts}
    district_trend = {d.pk: rng.uniform(-0.002, 0.003) for d in demo.districts}
    street_offset = {s.pk: rng.uniform(-0.015, 0.012) for s in demo.streets}
    per_month = {"small": 120, "medium": 250}.get(scale, 350)

    responses: list[SurveyResponse] = []
    for district in demo.districts:
        communities = communities_of.get(district.pk) or []
        if not communities:
            continue
        weights = [max(c.population, 1) for c in communities]
        for i, month in enumerate(month_list):
            n = per_month + rng.randint(-per_month // 5, per_month // 5)
            last_day = (today.day if month == today.replace(day=1) else 28) or 1
            picks = rng.choices(communities, weights=weights, k=n)
            for community in picks:
                p_safe = district_safe[district.pk] + street_offset[street_of[community.pk]]
                p_safe = min(0.99, p_safe + district_trend[district.pk] * i + rng.gauss(0, 0.004))
                p_sat = p_safe - rng.uniform(0.02, 0.05)
                if rng.random() < 0.03:
                    safety = "dont_know"
                else:
                    safety = rng.choices(*(SAFE if rng.random() < p_safe else UNSAFE))[0]
                if rng.random() < 0.04:
                    satisfaction = "dont_know"
                else:
                    satisfaction = rng.choices(*(SATISFIED if rng.random() < p_sat else DISSATISFIED))[0]
                responses.append(
                    SurveyResponse(
                        area=community,
                        date=month.replace(day=rng.randint(1, last_day)),
                        age_group=rng.choices(AGES, weights=AGE_WEIGHTS)[0],
                        safety=safety,
                        satisfaction=satisfaction,
                        weight=Decimal("1"),
                    )
                )
    SurveyResponse.objects.bulk_create(responses, batch_size=5000)

    kinds = [k for k in preventable_case_kinds() if k in KIND_RATES] or list(preventable_case_kinds())
    district_factor = {d.pk: rng.uniform(0.6, 1.6) for d in demo.districts}
    now = timezone.now()
    counts: list[PreventableCaseCount] = []
    for community in demo.communities:
        factor = district_factor.get(district_of_street.get(community.parent_id), 1.0) * rng.uniform(0.7, 1.3)
        for month in month_list:
            winter = 1.3 if month.month in (11, 12, 1, 2) else 1.0
            for kind in kinds:
                rate = KIND_RATES.get(kind, 0.5) * factor * (winter if kind == "burglary" else 1.0)
                lam = rate * max(community.population, 0) / 10000
                counts.append(
                    PreventableCaseCount(
                        area=community, month=month, kind=kind, count=_poisson(rng, lam), updated_at=now
                    )
                )
    PreventableCaseCount.objects.bulk_create(counts, batch_size=5000)
    stdout.write(
        "  dashboards: "
        + _("%(answers)d survey answers, %(counts)d police counts")
        % {"answers": len(responses), "counts": len(counts)}
    )
    run = run_rollup(full=True, trigger="demo")
    if run is not None:
        stdout.write(
            "  dashboards: "
            + _("rollup: %(rows)d values in %(seconds).1f s") % {"rows": run.rows, "seconds": run.seconds}
        )
