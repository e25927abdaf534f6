"""Scoring arithmetic of the assessment on crafted numbers (dashboards/assessment.py)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ImproperlyConfigured

from dashboards.assessment import (
    AreaScore,
    ItemRule,
    apply_excellent_cap,
    grade_for,
    rank_totals,
    score_linear,
    score_rank,
    score_scheme,
    score_target,
)


def test_target_gives_full_marks_at_or_above_and_proportional_below():
    assert score_target(95.0, 90.0, D("20")) == D("20.00")
    assert score_target(90.0, 90.0, D("20")) == D("20.00")
    assert score_target(81.0, 90.0, D("20")) == D("18.00")
    assert score_target(None, 90.0, D("20")) == D("0")


def test_target_for_a_lower_is_better_indicator_scores_target_over_value():
    assert score_target(4.0, 5.0, D("10"), lower_better=True) == D("10.00")
    assert score_target(8.0, 5.0, D("10"), lower_better=True) == D("6.25")


def test_linear_is_zero_and_full_at_the_thresholds_and_straight_between():
    assert score_linear(80.0, 80.0, 95.0, D("15")) == D("0.00")
    assert score_linear(95.0, 80.0, 95.0, D("15")) == D("15.00")
    assert score_linear(87.5, 80.0, 95.0, D("15")) == D("7.50")
    assert score_linear(70.0, 80.0, 95.0, D("15")) == D("0.00")
    assert score_linear(99.0, 80.0, 95.0, D("15")) == D("15.00")
    # lower is better: zero at 10 cases per 10k, full marks at 2
    assert score_linear(6.0, 10.0, 2.0, D("10")) == D("5.00")


def test_rank_scores_first_place_full_and_steps_down_evenly():
    assert [score_rank(r, 4, D("20")) for r in (1, 2, 3, 4)] == [
        D("20.00"),
        D("15.00"),
        D("10.00"),
        D("5.00"),
    ]
    assert score_rank(None, 4, D("20")) == D("0")


def test_grades_follow_the_thresholds_and_the_settings(settings):
    assert [grade_for(D(t)) for t in ("90", "89.99", "80", "60", "59.99")] == [
        "excellent",
        "good",
        "good",
        "pass",
        "fail",
    ]
    settings.ASSESSMENT_GRADE_THRESHOLDS = (95, 85, 70)
    assert grade_for(D("92")) == "good"
    assert grade_for(D("69")) == "fail"


@pytest.mark.parametrize("thresholds", [(60, 80, 90), (90, 90, 60), (90, 80), "90/80/60", (90, 80, -1)])
def test_grade_thresholds_that_cannot_be_grades_fail_loudly(settings, thresholds):
    # (60, 80, 90) rated everything from 60 points "excellent" without a word.
    settings.ASSESSMENT_GRADE_THRESHOLDS = thresholds
    with pytest.raises(ImproperlyConfigured, match="ASSESSMENT_GRADE_THRESHOLDS"):
        grade_for(D("65"))


def test_a_veto_fails_the_area_by_default_and_only_bars_excellent_when_set(settings):
    assert grade_for(D("98"), vetoed=True) == "fail"
    settings.ASSESSMENT_VETO_EFFECT = "no_excellent"
    assert grade_for(D("98"), vetoed=True) == "good"
    assert grade_for(D("70"), vetoed=True) == "pass"


def _s(code: str, total: str, grade: str = "excellent", deductions: str = "0", vetoed=False) -> AreaScore:
    return AreaScore(
        area_id=int(code),
        code=code,
        total=D(total),
        grade=grade,
        deductions=D(deductions),
        approved_deductions=D(deductions),
        vetoed=vetoed,
    )


def test_excellent_share_cap_keeps_the_best_totals_and_breaks_a_tie_by_fewer_deductions():
    scores = [
        _s("1", "95"),
        _s("2", "93", deductions="2"),
        _s("3", "93", deductions="1"),
        _s("4", "91"),
        _s("5", "70", "pass"),
    ]
    apply_excellent_cap(scores, D("0.4"), "fewer_deductions")  # 40% of 5 = 2 excellent
    grades = {s.code: (s.grade, s.capped) for s in scores}
    assert grades == {
        "1": ("excellent", False),
        "3": ("excellent", False),  # tied on 93 with area 2, fewer deductions
        "2": ("good", True),
        "4": ("good", True),
        "5": ("pass", False),
    }


def test_a_tie_at_the_excellent_cap_goes_to_fewer_approved_deduction_points_not_fewer_taken_off():
    """docs/assessment.md: "fewer approved deduction points". The points taken off after each item's
    cap decided: 10 approved on an item capped at 2 beat 3 approved on an item capped at 5."""
    items = [
        ItemRule(id=1, name="a", method="manual", max_points=D("50"), deduction_cap=D("2")),
        ItemRule(id=2, name="b", method="manual", max_points=D("50"), deduction_cap=D("5")),
    ]
    x, y = 1, 2
    scores = score_scheme(
        items=items,
        areas=[(x, "340102000000", "X"), (y, "340103000000", "Y")],
        values={},
        manual={(1, x): D("50"), (2, x): D("47"), (1, y): D("50"), (2, y): D("48")},
        deductions={(1, x): D("10"), (2, y): D("3")},
        bonuses={},
        vetoes={},
        previous_ranks={},
        excellent_share_cap=D("0.5"),
    )
    by = {s.area_id: s for s in scores}
    assert by[x].total == by[y].total == D("95.00")
    assert (by[x].deductions, by[y].deductions) == (D("2"), D("3"))  # taken off, as stored
    assert (by[y].grade, by[x].grade, by[x].capped) == ("excellent", "good", True)


def test_excellent_share_cap_with_the_area_code_rule_and_no_cap():
    scores = [_s("7", "93"), _s("3", "93"), _s("5", "80", "good")]
    apply_excellent_cap(scores, D("0.34"), "area_code")  # floor(1.02) = 1
    assert [(s.code, s.grade) for s in scores] == [("7", "good"), ("3", "excellent"), ("5", "good")]
    uncapped = [_s("1", "95"), _s("2", "94")]
    apply_excellent_cap(uncapped, None, "area_code")
    assert [s.grade for s in uncapped] == ["excellent", "excellent"]


def test_ranks_share_ties_and_vetoed_areas_come_last():
    scores = [_s("1", "80"), _s("2", "90"), _s("3", "90"), _s("4", "99", vetoed=True), _s("5", "70")]
    rank_totals(scores)
    assert {s.code: s.rank for s in scores} == {"2": 1, "3": 1, "1": 3, "5": 4, "4": 5}


def test_a_whole_scheme_with_deductions_bonus_caps_veto_and_rank_change():
    items = [
        ItemRule(id=1, name="safety", method="target", max_points=D("40"), indicator="safe", target=90.0),
        ItemRule(
            id=2,
            name="cases",
            method="linear",
            max_points=D("30"),
            indicator="cases",
            lower_better=True,
            zero_at=10.0,
            full_at=2.0,
            deduction_cap=D("5"),
            bonus_cap=D("3"),
        ),
        ItemRule(id=3, name="rank", method="rank", max_points=D("20"), indicator="safe"),
        ItemRule(id=4, name="work", method="manual", max_points=D("10")),
    ]
    areas = [(1, "A", "A"), (2, "B", "B"), (3, "C", "C")]
    values = {
        ("safe", 1): 93.2,
        ("safe", 2): 85.5,
        ("safe", 3): 90.0,
        ("cases", 1): 2.0,
        ("cases", 2): 6.0,
        ("cases", 3): 12.0,
    }
    result = score_scheme(
        items=items,
        areas=areas,
        values=values,
        manual={(4, 1): D("9.5"), (4, 2): D("12"), (4, 3): D("8")},
        deductions={(2, 1): D("8")},  # capped at 5 for item 2
        bonuses={(2, 2): D("4"), (1, 3): D("1")},  # item 2 bonus capped at 3
        vetoes={3: ["major incident"]},
        previous_ranks={1: 3, 2: 1, 3: 2},
    )
    by_code = {s.code: s for s in result}
    a, b, c = by_code["A"], by_code["B"], by_code["C"]
    # A: 40 + (30 - 5) + 20 + 9.5
    assert a.total == D("94.50") and a.deductions == D("5.00") and a.grade == "excellent"
    # B: 40*85.5/90 = 38.00; linear (10-6)/8*30 = 15 + 3 bonus; rank 3 of 3 -> 20/3 = 6.67; manual capped at 10
    assert b.total == D("72.67") and b.bonus == D("3.00") and b.grade == "pass"
    # C: 40 + 1 bonus (item 1 default cap 5); cases 12 -> 0; rank 2 -> 13.33; 8 -> 62.33; vetoed -> fail, last
    assert c.total == D("62.33") and c.vetoed and c.grade == "fail" and c.veto_events == ["major incident"]
    assert [(s.code, s.rank, s.rank_change) for s in result] == [("A", 1, 2), ("B", 2, -1), ("C", 3, -1)]
    item2 = next(i for i in a.items if i["item"] == 2)
    assert item2 == {
        "item": 2,
        "name": "cases",
        "method": "linear",
        "max_points": "30.00",
        "indicator": "cases",
        "value": 2.0,
        "rank": None,
        "base": "30.00",
        "deductions": "5.00",
        "bonus": "0.00",
        "score": "25.00",
    }


def test_a_deduction_never_takes_an_item_below_zero():
    items = [ItemRule(id=1, name="x", method="manual", max_points=D("10"), deduction_cap=D("10"))]
    [score] = score_scheme(
        items=items,
        areas=[(1, "A", "A")],
        values={},
        manual={(1, 1): D("3")},
        deductions={(1, 1): D("6")},
        bonuses={},
        vetoes={},
        previous_ranks={},
    )
    assert score.total == D("0.00") and score.deductions == D("3.00") and score.rank_change is None


def test_points_round_half_up_at_each_item_not_to_even_and_not_on_the_total():
    """docs/assessment.md: "All points are decimals rounded half-up to 0.01 at each item". Each case
    falls exactly on a half, where rounding to even would give a cent less."""
    assert score_target(1.0, 8.0, D("5")) == D("0.63")  # 5 x 1 / 8 = 0.625
    assert score_target(16.0, 2.0, D("5"), lower_better=True) == D("0.63")  # 5 x 2 / 16
    assert score_linear(82.5, 80.0, 100.0, D("1")) == D("0.13")  # 1 x 2.5 / 20 = 0.125
    assert score_rank(8, 8, D("5")) == D("0.63")  # 5 x (8 - 8 + 1) / 8
    items = [
        ItemRule(
            id=i, name=str(i), method="linear", max_points=D("1"), indicator="x", zero_at=80.0, full_at=100.0
        )
        for i in (1, 2)
    ]
    [score] = score_scheme(
        items=items,
        areas=[(1, "A", "A")],
        values={("x", 1): 82.5},
        manual={},
        deductions={},
        bonuses={},
        vetoes={},
        previous_ranks={},
    )
    # 0.13 + 0.13, not 0.125 + 0.125 = 0.25 rounded once
    assert [i["score"] for i in score.items] == ["0.13", "0.13"] and score.total == D("0.26")


def test_a_lower_is_better_target_gives_full_marks_at_zero():
    assert score_target(0.0, 5.0, D("10"), lower_better=True) == D("10.00")
    assert score_target(0.0, 0.0, D("10"), lower_better=True) == D("10.00")
    assert score_target(3.0, 0.0, D("10"), lower_better=True) == D("0.00")


def test_a_rank_item_ranks_by_the_indicator_s_direction_shares_ties_and_counts_only_areas_with_a_value():
    """docs/assessment.md "rank": ties share a rank (1, 2, 2, 4), rank r of n scores max x (n - r + 1) / n,
    areas without a value score 0 and are not in n. Preventable cases, lower better: 2.5 is first."""
    item = ItemRule(id=1, name="cases", method="rank", max_points=D("20"), indicator="c", lower_better=True)
    areas = [(i, f"A{i}", f"A{i}") for i in range(1, 6)]
    values = {("c", 1): 6.0, ("c", 2): 2.5, ("c", 3): 4.0, ("c", 4): 4.0, ("c", 5): None}
    scores = score_scheme(
        items=[item],
        areas=areas,
        values=values,
        manual={},
        deductions={},
        bonuses={},
        vetoes={},
        previous_ranks={},
    )
    got = {s.area_id: (s.items[0]["rank"], s.items[0]["score"]) for s in scores}
    # n = 4: 20 x 4/4, 20 x 3/4 (twice), 20 x 1/4; no value: no rank, 0
    assert got == {2: (1, "20.00"), 3: (2, "15.00"), 4: (2, "15.00"), 1: (4, "5.00"), 5: (None, "0.00")}
