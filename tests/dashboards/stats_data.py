"""A hand-built dataset for the rollup and statistics tests (numbers worked out in the comments).

Community A1a gets two extra grids (E, F) so that four siblings can tie. Survey weights stand for
counts of answers, so exact percentages need few rows.

    safety, Nov 2026   A 93.20% (9000 safe + 320 basically safe of 10000; 500 don't know)
                       B 90.00%  E 90.00%  F 80.00%          -> ranks 1, 2, 2, 4
    safety, Oct 2026   A 90.53%  B 95.00%  E 85.00%  F 99.00% -> ranks 3, 2, 4, 1
    safety, Nov 2025   A 88.00%
    grid C (community A1b): 20 answers a month, below the minimum sample of 30 -> shown, not ranked
    police, community A1a: 3 cases in Oct and Nov 2026 (+2 fraud, not a preventable kind), 6 in Nov 2025;
            community A1b: 6 in Nov 2026; population 1500 each.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from dashboards.models import PreventableCaseCount, SurveyResponse
from governance import indicators as registry_api
from governance.models import Area
from tests.base import make_area

NOV, OCT, NOV_LAST = dt.date(2026, 11, 10), dt.date(2026, 10, 10), dt.date(2025, 11, 10)


def answers(area: Area, day: dt.date, **weights: float) -> list[SurveyResponse]:
    """One weighted response per answer kind: answers(a, d, safe=90, unsafe=10)."""
    rows = []
    for safety, weight in weights.items():
        rows.append(
            SurveyResponse(
                area=area,
                date=day,
                age_group="35-44",
                safety=safety,
                satisfaction="satisfied" if safety in {"very_safe", "safe"} else "dissatisfied",
                weight=Decimal(str(weight)),
            )
        )
    return rows


def build(cast) -> None:
    cast.grid_e = make_area(
        "340102001001003", "春晖第3网格", "grid", cast.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    cast.grid_f = make_area(
        "340102001001004", "春晖第4网格", "grid", cast.community_a1a, (117.0, 31.8, 117.01, 31.81)
    )
    rows = []
    rows += answers(cast.grid_a, NOV, safe=9000, basically_safe=320, unsafe=680, dont_know=500)
    rows += answers(cast.grid_b, NOV, safe=90, not_very_safe=10)
    rows += answers(cast.grid_e, NOV, very_safe=90, unsafe=10)
    rows += answers(cast.grid_f, NOV, safe=80, unsafe=20)
    rows += answers(cast.grid_a, OCT, safe=9053, unsafe=947)
    rows += answers(cast.grid_b, OCT, safe=95, unsafe=5)
    rows += answers(cast.grid_e, OCT, safe=85, unsafe=15)
    rows += answers(cast.grid_f, OCT, safe=99, unsafe=1)
    rows += answers(cast.grid_a, NOV_LAST, safe=88, unsafe=12)
    rows += answers(cast.grid_c, NOV, safe=19, unsafe=1)
    rows += answers(cast.grid_c, OCT, safe=15, unsafe=5)
    SurveyResponse.objects.bulk_create(rows)
    now = timezone.now()
    counts = [
        (cast.community_a1a, dt.date(2026, 11, 1), "burglary", 2),
        (cast.community_a1a, dt.date(2026, 11, 1), "ebike_theft", 1),
        (cast.community_a1a, dt.date(2026, 11, 1), "fraud", 2),
        (cast.community_a1a, dt.date(2026, 10, 1), "burglary", 3),
        (cast.community_a1a, dt.date(2025, 11, 1), "burglary", 6),
        (cast.community_a1b, dt.date(2026, 11, 1), "burglary", 6),
    ]
    PreventableCaseCount.objects.bulk_create(
        PreventableCaseCount(area=a, month=m, kind=k, count=n, updated_at=now) for a, m, k, n in counts
    )


OWN = ("survey_safety_rate", "survey_satisfaction_rate", "police_preventable_cases_per_10k")


def only(monkeypatch, *extra: registry_api.IndicatorSpec, codes=OWN) -> None:
    """Restrict the registry to this app's indicators (and test-only specs) for exact tests."""
    full = registry_api.registry()
    chosen = {c: full[c] for c in codes}
    chosen.update({s.code: s for s in extra})
    monkeypatch.setattr(registry_api, "_registry", chosen)
