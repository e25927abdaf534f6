"""The engine against a plain-Python reading of docs/statistics.md section 2, on random data.

The hand-worked tests pin chosen cases; these draw survey answers and police counts at random
(fixed seeds) across every level of the tree, two years and a year end, with yearly populations
for some areas, and compute every published number again in Python, area by area, from the rules
as documented: ratio of sums over the subtree, "don't know" left out, a stock counted once (an area
with counts of its own divides by its own population), 6 decimals half away from zero, sibling
ranks with ties by the indicator's direction, the minimum sample, previous period and last year."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from dashboards.models import AreaPopulation, IndicatorValue, PreventableCaseCount, SurveyResponse
from dashboards.rollup import run_rollup
from governance import indicators as registry_api
from governance.indicators import MonthOfDate
from governance.models import Area
from governance.periods import PERIOD_TYPES, Period
from tests.base import make_area
from tests.dashboards import stats_data

SAFETY = ["very_safe", "safe", "basically_safe", "not_very_safe", "unsafe", "dont_know"]
SAFE = {"very_safe", "safe", "basically_safe"}  # SURVEY_SAFE_ANSWERS by default
SATISFACTION = ["satisfied", "fairly_satisfied", "basically_satisfied", "not_very_satisfied", "dissatisfied",
                "dont_know"]  # fmt: skip
SATISFIED = {"satisfied", "fairly_satisfied", "basically_satisfied"}
MONTHS = [dt.date(2025, m, 1) for m in (1, 3, 6, 7, 11, 12)] + [dt.date(2026, m, 1) for m in (1, 2, 3)]
BOX = (117.0, 31.8, 117.01, 31.81)


def six(x: float) -> float:
    return float(Decimal(repr(x)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))


@pytest.fixture
def tree(cast, monkeypatch):
    stats_data.only(monkeypatch)
    for i in (3, 4, 5):  # five grids in community A1a: room for ties and the minimum sample
        make_area(f"34010200100100{i}", f"春晖第{i}网格", "grid", cast.community_a1a, BOX)
    make_area("340102001003", "第三社区", "community", cast.street_a1, BOX)
    return {a.id: a for a in Area.objects.all()}


def expected(sums: dict, areas: dict, factor: float, *, lower_better: bool, min_sample: float) -> dict:
    """(area, period) -> the published numbers, from the (area, period) sums. ``factor`` 0: a count,
    whose value is its numerator and which is ranked whatever its denominator."""
    value = {
        k: float(n) if not factor else six(factor * float(n) / float(d)) if d else None
        for k, (n, d) in sums.items()
    }
    siblings = defaultdict(list)
    for area_id, period in sums:
        siblings[areas[area_id].parent_id, period].append(area_id)
    rank, rank_of = {}, {}
    for (_parent, period), ids in siblings.items():
        ranked = [i for i in ids if (sums[i, period][1] or not factor) and sums[i, period][1] >= min_sample]
        for i in ids:
            rank_of[i, period] = len(ranked)
            better = (
                value[j, period] < value[i, period] if lower_better else value[j, period] > value[i, period]
                for j in ranked
            )
            rank[i, period] = 1 + sum(better) if i in ranked else None
    # The data begins in the first month with a sum in any area: a previous or last-year period
    # starting before it is no comparison (docs/statistics.md section 2, "Previous value").
    first = min(p.start for p in (Period.parse(period) for _area, period in sums) if p.kind == "month")
    out = {}
    for (area_id, period), (n, d) in sums.items():
        p = Period.parse(period)
        prev = (area_id, p.previous().code) if p.previous().start >= first else None
        last_year = (area_id, p.same_last_year().code) if p.same_last_year().start >= first else None
        out[area_id, period] = (
            float(n), float(d), value[area_id, period], rank[area_id, period], rank_of[area_id, period],
            value.get(prev), rank.get(prev), value.get(last_year),
        )  # fmt: skip
    return out


def published(indicator: str) -> dict:
    fields = ("numerator", "denominator", "value", "rank", "rank_of", "previous_value", "previous_rank",
              "yoy_value")  # fmt: skip
    rows = {}
    for v in IndicatorValue.objects.filter(indicator=indicator):
        rows[v.area_id, v.period] = tuple(getattr(v, f) for f in fields)
        # delta and rank_change are differences of the columns compared above
        assert v.delta == (None if v.previous_value is None else six(v.value - v.previous_value))
        assert v.rank_change == (None if None in (v.rank, v.previous_rank) else v.previous_rank - v.rank)
    return rows


def ancestors(area: Area, areas: dict):
    while area is not None:
        yield area.id
        area = areas.get(area.parent_id)


@pytest.mark.parametrize("seed", [1, 2])
def test_survey_rates_are_what_the_documented_rules_give_on_random_answers(tree, seed):
    """Then more answers for past months, imported later: the nightly (incremental) run agrees too."""
    rnd = random.Random(seed)

    def draw(n: int) -> list[SurveyResponse]:
        return [
            SurveyResponse(
                area=rnd.choice(list(tree.values())),
                date=rnd.choice(MONTHS).replace(day=rnd.randint(1, 28)),
                age_group="35-44",
                safety=rnd.choice(SAFETY),
                satisfaction=rnd.choice(SATISFACTION),
                weight=Decimal(rnd.choice(["1", "2.5", "0.333", "7", "10", "12.125"])),
            )
            for _ in range(n)
        ]

    def oracle(question: str, counted: set[str]) -> dict:
        sums: dict = {}
        for a in answers:
            answer = getattr(a, question)
            if answer == "dont_know":  # not a valid answer: no row for a month of these alone
                continue
            for kind in PERIOD_TYPES:
                period = Period.of(kind, a.date.year, a.date.month).code
                for area_id in ancestors(a.area, tree):
                    n, d = sums.get((area_id, period), (Decimal(0), Decimal(0)))
                    sums[area_id, period] = (n + (a.weight if answer in counted else 0), d + a.weight)
        return expected(sums, tree, 100.0, lower_better=False, min_sample=30)

    def agree() -> None:
        # One scan gives both (a shared source): an answer "don't know" to one question is valid
        # for the other.
        assert published("survey_safety_rate") == oracle("safety", SAFE)
        assert published("survey_satisfaction_rate") == oracle("satisfaction", SATISFIED)

    answers = draw(80)
    SurveyResponse.objects.bulk_create(answers)
    run_rollup(full=True)
    agree()
    late = draw(25)
    SurveyResponse.objects.bulk_create(late)
    answers += late
    assert run_rollup().kind == "incremental"
    agree()


@pytest.mark.parametrize("seed", [1, 2])
def test_preventable_case_rates_are_what_the_documented_rules_give_on_random_counts(tree, seed):
    """Then counts corrected and a year's population entered: the nightly run agrees too."""
    rnd = random.Random(seed)
    now = timezone.now()
    populations = {
        (area_id, year): rnd.choice([7, 800, 1234, 3000])
        for area_id in tree
        for year in (2025, 2026)
        if rnd.random() < 0.4
    }
    AreaPopulation.objects.bulk_create(
        AreaPopulation(area_id=a, year=y, population=n, updated_at=now) for (a, y), n in populations.items()
    )
    keys = {
        (rnd.choice(list(tree)), rnd.choice(MONTHS), rnd.choice(["burglary", "ebike_theft", "fraud"]))
        for _ in range(40)
    }
    counts = {key: rnd.randint(0, 9) for key in keys}
    PreventableCaseCount.objects.bulk_create(
        PreventableCaseCount(area_id=a, month=m, kind=k, count=n, updated_at=now)
        for (a, m, k), n in counts.items()
    )
    run_rollup(full=True)
    children = defaultdict(list)
    for area in tree.values():
        children[area.parent_id].append(area.id)

    def oracle() -> dict:
        def population(area_id: int, year: int) -> int:
            return populations.get((area_id, year), tree[area_id].population)

        cases: dict = defaultdict(int)  # (area, month) -> cases; fraud is not a preventable kind
        for (area_id, month, kind), n in counts.items():
            if kind != "fraud" and population(area_id, month.year):  # (the city has no residents)
                cases[area_id, month] += n
        sums: dict = {}

        def total(area_id: int, period: Period) -> tuple[int, int] | None:
            own = sorted(m for a, m in cases if a == area_id and period.contains(m))
            below = [s for s in (total(c, period) for c in children[area_id]) if s is not None]
            if not own and not below:
                return None
            n = sum(cases[area_id, m] for m in own) + sum(s[0] for s in below)
            # A stock counted once: the area's own residents (its last reporting month's year) when
            # it reported itself, which include its children's; else those of the reporting areas below.
            d = population(area_id, own[-1].year) if own else sum(s[1] for s in below)
            sums[area_id, period.code] = (n, d)
            return n, d

        periods = {Period.of(kind, m.year, m.month) for _a, m in cases for kind in PERIOD_TYPES}
        for root in children[None]:
            for period in periods:
                total(root, period)
        return expected(sums, tree, 10000.0, lower_better=True, min_sample=0)

    assert published("police_preventable_cases_per_10k") == oracle()
    # Later: counts corrected and added, and a census figure for 2025 entered (the nightly run).
    later = timezone.now()
    corrected = {key: rnd.randint(0, 9) for key in rnd.sample(sorted(counts), 5)}
    corrected |= {
        (rnd.choice(list(tree)), rnd.choice(MONTHS), "home_robbery"): rnd.randint(1, 9) for _ in range(5)
    }
    for (a, m, k), n in corrected.items():
        PreventableCaseCount.objects.update_or_create(
            area_id=a, month=m, kind=k, defaults={"count": n, "updated_at": later}
        )
    counts.update(corrected)
    area_id = rnd.choice([a for a in tree if tree[a].population])
    AreaPopulation.objects.update_or_create(
        area_id=area_id, year=2025, defaults={"population": 555, "updated_at": later}
    )
    populations[area_id, 2025] = 555
    assert run_rollup().kind == "incremental"
    assert published("police_preventable_cases_per_10k") == oracle()


def answers_counted(start: dt.date, end: dt.date):
    """A test-only count, lower better: the answer sheets of each area and month."""
    return (
        SurveyResponse.objects.filter(date__gte=start, date__lt=end)
        .values("area_id", month=MonthOfDate("date"))
        .annotate(numerator=Count("id"), denominator=Count("id"))
        .order_by()
    )


SHEETS = registry_api.IndicatorSpec(
    code="t_sheets",
    name="sheets",
    unit=registry_api.COUNT,
    direction=registry_api.LOWER_BETTER,
    source=answers_counted,
)


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_are_zero_beside_siblings_with_records_and_rank_so_on_random_answers(tree, monkeypatch, seed):
    """A count is zero, not missing, for an area whose siblings have records in the period (and
    only then: below an area without records nothing is filled in)."""
    stats_data.only(monkeypatch, SHEETS)
    rnd = random.Random(seed)
    sheets = [
        SurveyResponse(
            area=rnd.choice(list(tree.values())),
            date=rnd.choice(MONTHS).replace(day=3),
            age_group="35-44",
            safety="safe",
            satisfaction="satisfied",
        )
        for _ in range(25)
    ]
    SurveyResponse.objects.bulk_create(sheets)
    run_rollup(full=True)
    sums: dict = defaultdict(lambda: (0, 0))
    for s in sheets:
        for kind in PERIOD_TYPES:
            period = Period.of(kind, s.date.year, s.date.month).code
            for area_id in ancestors(s.area, tree):
                n, d = sums[area_id, period]
                sums[area_id, period] = (n + 1, d + 1)
    counted = dict(sums)
    for area_id, period in counted:
        parent_id = tree[area_id].parent_id
        for sibling in (a for a in tree.values() if parent_id is not None and a.parent_id == parent_id):
            sums.setdefault((sibling.id, period), (0, 0))
    assert published("t_sheets") == expected(dict(sums), tree, 0.0, lower_better=True, min_sample=0)
