"""Indicator sources: set-based numerator/denominator per (area, local month)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from django.db.models import Count, Q
from django.utils import timezone

from dashboards.models import IndicatorValue, RollupRun
from dashboards.rollup import run_rollup
from governance import indicators as registry_api
from governance.indicators import count_or_null, get, per_area_month, registry
from mediation.models import DisputeCase, DisputeEvent
from tests.base import described, nightly_run_matches_full_rebuild, shift_back


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
    # Of the written agreements only: an oral one cannot be confirmed by a court (it counted, 1 of 2).
    assert _rows("dispute_judicial_confirmation_rate")[a] == (1, 1)
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


def test_oral_agreements_are_in_neither_part_of_the_judicial_confirmation_rate(med):
    """Only a written agreement may be confirmed by a court (CONFIRMABLE_OUTCOMES; the API refuses to
    apply for an oral one): the rate divides the confirmed agreements by the written ones concluded
    in the month. Over every success, a community whose mediators settle small matters orally could
    never reach 100%."""
    confirmed = _conclude(med, "success_written")
    confirmed.transition(action="apply_confirmation", actor=confirmed.mediator, joint=True)
    confirmed.transition(action="record_confirmation", actor=confirmed.mediator, result="confirmed")
    _conclude(med, "success_written")  # not applied for
    for outcome in ("success_oral", "success_oral", "failure"):
        _conclude(med, outcome)
    only_oral = _conclude(med, "success_oral", area=med.cast.grid_b)
    month = timezone.localdate().replace(day=1)
    a = (med.cast.grid_a.pk, month)
    assert _rows("dispute_judicial_confirmation_rate")[a] == (1, 2)  # was (1, 4)
    assert _rows("dispute_success_rate")[a] == (4, 5)  # oral agreements are successes all the same
    assert (only_oral.area_id, month) not in _rows("dispute_judicial_confirmation_rate")  # no data, not 0%

    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    rate = IndicatorValue.objects.get(indicator="dispute_judicial_confirmation_rate", area=med.cast.grid_a,
                                      period=month.strftime("%Y-%m"))  # fmt: skip
    assert (rate.numerator, rate.denominator, rate.value) == (1, 2, 50.0)
    assert not IndicatorValue.objects.filter(
        indicator="dispute_judicial_confirmation_rate", area=med.cast.grid_b
    ).exclude(denominator=None)


def test_months_rolled_up_on_the_old_definition_are_rebuilt_by_the_next_run(med, monkeypatch):
    """The denominator was every success (oral agreements included) until revision 2: a deployment
    must not leave the months already published on it while the nightly run refreshes only recent
    ones. The revision is part of the configuration, so the next run is a full rebuild."""
    confirmed = _conclude(med, "success_written")
    confirmed.transition(action="apply_confirmation", actor=confirmed.mediator, joint=True)
    confirmed.transition(action="record_confirmation", actor=confirmed.mediator, result="confirmed")
    _conclude(med, "success_oral")
    fields = ("received_at", "accepted_at", "due_at", "concluded_at")
    shift_back(DisputeCase.objects.filter(pk=confirmed.pk), 100, *fields)
    shift_back(DisputeCase.objects.filter(outcome="success_oral"), 100, *fields)
    period = timezone.localtime(DisputeCase.objects.get(pk=confirmed.pk).concluded_at).strftime("%Y-%m")
    current = dict(registry())
    spec = current["dispute_judicial_confirmation_rate"]
    assert spec.revision == 2

    def before(start, end):  # revision 1: over every success
        success = Q(outcome__in=DisputeCase.SUCCESS_OUTCOMES)
        return per_area_month(
            DisputeCase.objects.filter(concluded_at__isnull=False),
            "concluded_at",
            confirmed=Count("id", filter=success & Q(judicial_status="confirmed")),
            succeeded=count_or_null(success),
        )

    old = replace(spec, source=before, denominator="succeeded", revision=1)
    monkeypatch.setattr(registry_api, "_registry", {**current, spec.code: old})
    run_rollup(full=True)

    def rate():
        row = IndicatorValue.objects.get(indicator=spec.code, area=med.cast.grid_a, period=period)
        return row.numerator, row.denominator, row.value

    assert rate() == (1, 2, 50.0)  # the old definition, in a month no nightly run refreshes
    monkeypatch.setattr(registry_api, "_registry", current)  # deployed
    assert run_rollup().kind == RollupRun.Kind.FULL
    assert rate() == (1, 1, 100.0)


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


def test_the_on_time_rate_counts_every_concluded_case_and_its_description_says_so(med):
    """Its denominator is every case concluded in the month, withdrawn and refused included (a
    mediation that ended, ended on time or late), while "Dispute cases concluded" counts success and
    failure only. The description said "/ cases concluded" (结案总数), which a reader takes for that
    count: 4 on time of 4 here, beside a published count of 2 concluded cases."""
    for outcome in ("success_written", "failure", "withdrawn", "refused"):
        _conclude(med, outcome)
    key = (med.cast.grid_a.pk, timezone.localdate().replace(day=1))
    assert _rows("dispute_on_time_rate")[key] == (4, 4)
    assert _rows("dispute_cases_concluded")[key] == (2, 2)
    assert described("dispute_on_time_rate") == {
        "en": (
            "Cases concluded within the time limit (one month, or as extended) / every case concluded, "
            "withdrawn and refused cases included (unlike the count of cases concluded)."
        ),
        "zh-hans": (
            "在调解期限内（一个月或延长后的期限）终结的案件数 / 全部调解终结的案件数，含撤回和一方拒绝调解而终止的案件"
            "（与“纠纷案件调解终结数”不同）。"
        ),
    }
