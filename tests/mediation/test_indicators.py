"""Indicator sources: set-based numerator/denominator per (area, local month)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from dashboards.models import IndicatorValue
from governance.indicators import get, registry
from mediation.models import DisputeCase, DisputeEvent
from tests.base import nightly_run_matches_full_rebuild, shift_back


def _conclude(med, outcome, **kw):
    case = med.in_mediation(**kw)
    fields = {"outcome": outcome}
    if outcome.startswith("success"):
        fields.update(
            agreement_facts="噪音扰邻",
            agreement_terms="赔偿",
            performance_method="现金",
            performance_due=timezone.localdate(),
        )
    if outcome == "failure":
        fields["other_routes"] = ["litigation"]
    case.transition(action="conclude", actor=case.mediator, **fields)
    return case


def _rows(code: str):
    today = timezone.localdate()
    start = today.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return {
        (r["area_id"], r["month"]): (r["numerator"], r["denominator"]) for r in get(code).rows(start, end)
    }


def test_every_indicator_is_registered_with_a_set_based_source():
    codes = {c for c in registry() if c.startswith("dispute_")}
    assert {
        "dispute_cases_received", "dispute_cases_concluded", "dispute_success_rate",
        "dispute_judicial_confirmation_rate", "dispute_escalations_prevented", "dispute_escalation_persons",
        "dispute_on_time_rate",
    } <= codes  # fmt: skip


def test_success_rate_counts_success_over_success_plus_failure_in_the_month_of_conclusion(med):
    for outcome in ("success_written", "success_oral", "success_written", "failure", "withdrawn", "refused"):
        _conclude(med, outcome)
    med.in_mediation()  # not concluded: in nothing but "received"
    month = timezone.localdate().replace(day=1)
    key = (med.cast.grid_a.pk, month)
    assert _rows("dispute_success_rate")[key] == (3, 4)
    # "Concluded" as the success rate counts it (DOMAIN.md: success + failure): its denominator, so
    # the published rate is successes over the published concluded count. It counted all 6.
    assert _rows("dispute_cases_concluded")[key] == (4, 4)
    assert _rows("dispute_cases_received")[key] == (7, 7)
    assert isinstance(next(iter(_rows("dispute_success_rate")))[1], dt.date)


def test_confirmation_on_time_and_prevention_indicators(med):
    confirmed = _conclude(med, "success_written")
    confirmed.transition(action="apply_confirmation", actor=confirmed.mediator, joint=True)
    confirmed.transition(action="record_confirmation", actor=confirmed.mediator, result="confirmed")
    _conclude(med, "success_oral")
    late = med.in_mediation(area=med.cast.grid_b)
    DisputeCase.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    late.refresh_from_db()
    late.transition(
        action="record_prevention", actor=late.mediator, escalation_prevented=True, escalation_persons=3
    )
    late.transition(action="conclude", actor=late.mediator, outcome="withdrawn")
    month = timezone.localdate().replace(day=1)
    a, b = (med.cast.grid_a.pk, month), (med.cast.grid_b.pk, month)
    assert _rows("dispute_judicial_confirmation_rate")[a] == (1, 2)
    assert _rows("dispute_on_time_rate")[a] == (2, 2)
    assert _rows("dispute_on_time_rate")[b] == (0, 1)
    assert _rows("dispute_escalations_prevented")[b] == (1, 1)
    assert _rows("dispute_escalation_persons")[b] == (3, 1)
    assert a not in _rows("dispute_escalations_prevented")


def test_group_disputes_defused_are_counted_in_cases_and_in_persons(med):
    # DOMAIN.md: statistics count group disputes defused "(cases and persons)", as they do the
    # criminal escalations prevented.
    for persons in (12, 7):
        case = med.in_mediation(area=med.cast.grid_b)
        case.transition(
            action="record_prevention", actor=case.mediator, group_defused=True, group_persons=persons
        )
    only_escalation = med.in_mediation(area=med.cast.grid_b)
    only_escalation.transition(
        action="record_prevention",
        actor=only_escalation.mediator,
        escalation_prevented=True,
        escalation_persons=2,
    )
    b = (med.cast.grid_b.pk, timezone.localdate().replace(day=1))
    assert _rows("dispute_group_defused")[b] == (2, 2)
    assert _rows("dispute_group_defused_persons")[b] == (19, 2)
    assert get("dispute_group_defused_persons").source is get("dispute_group_defused").source


def test_sources_run_in_one_query(med, django_assert_num_queries):
    _conclude(med, "success_written")
    with django_assert_num_queries(1):
        _rows("dispute_success_rate")


def test_a_court_confirmation_months_after_the_agreement_reaches_the_month_of_conclusion_at_night(med):
    case = _conclude(med, "success_written")
    case.transition(action="apply_confirmation", actor=case.mediator, joint=True)
    fields = ("received_at", "accepted_at", "due_at", "concluded_at")
    shift_back(DisputeCase.objects.filter(pk=case.pk), 100, *fields)
    shift_back(DisputeEvent.objects.filter(case=case), 100, "at")
    case.refresh_from_db()

    def confirm():
        case.transition(action="record_confirmation", actor=case.mediator, result="confirmed")

    nightly = nightly_run_matches_full_rebuild(confirm)
    assert nightly.months >= 3
    month = timezone.localtime(case.concluded_at).strftime("%Y-%m")
    rate = IndicatorValue.objects.get(
        indicator="dispute_judicial_confirmation_rate", area=case.area, period=month
    )
    assert rate.value == 100.0


def test_a_group_dispute_defused_a_month_after_an_escalation_counts_in_its_own_month(med, monkeypatch):
    """Both facts counted in the month of the case's first prevention record: a group dispute
    defused in December went into November's report, which was out already, and December showed
    none. Each fact now counts in the month it was recorded, and the nightly run finds that month."""
    earlier = timezone.now() - dt.timedelta(days=40)
    monkeypatch.setattr("django.utils.timezone.now", lambda: earlier)
    case = med.in_mediation(area=med.cast.grid_b)
    case.transition(
        action="record_prevention", actor=case.mediator, escalation_prevented=True, escalation_persons=2
    )
    monkeypatch.undo()

    def defuse():
        case.transition(action="record_prevention", actor=case.mediator, group_defused=True, group_persons=9)

    nightly_run_matches_full_rebuild(defuse)
    then, now = (timezone.localtime(t).strftime("%Y-%m") for t in (earlier, timezone.now()))

    def value(code, period):
        row = IndicatorValue.objects.filter(indicator=code, area=med.cast.grid_b, period=period).first()
        return row and (row.numerator, row.denominator)

    assert value("dispute_group_defused", now) == (1, 1)
    assert value("dispute_group_defused_persons", now) == (9, 1)
    assert value("dispute_group_defused", then) in (None, (0, 0), (0, None))
    assert value("dispute_escalations_prevented", then) == (1, 1)
    assert value("dispute_escalation_persons", then) == (2, 1)
    assert value("dispute_escalations_prevented", now) in (None, (0, 0), (0, None))
