"""Assessment services: runs, publication, hand entries with evidence, approvals, vetoes, audit."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards import assessment
from dashboards.assessment_models import (
    Adjustment,
    AssessmentItem,
    AssessmentResult,
    AssessmentRun,
    AssessmentScheme,
    ManualScore,
    VetoEvent,
)
from governance.models import AuditEntry, Membership, Role
from governance.workflow import ActionForbidden, ActionInvalid
from tests.base import make_user
from tests.dashboards import assessment_data


@pytest.fixture
def data(cast):
    assessment_data.build(cast)
    cast.city_officer = make_user("city_officer", Role.HANDLER, cast.city)
    cast.city_officer_2 = make_user("city_officer_2", Role.HANDLER, cast.city)
    return cast


def evidence() -> SimpleUploadedFile:
    return SimpleUploadedFile("minutes.pdf", b"%PDF-1.4 minutes", content_type="application/pdf")


def results(run) -> dict:
    return {r.area.code: r for r in AssessmentResult.objects.filter(run=run).select_related("area")}


def test_a_run_scores_every_assessed_area_from_published_values(data):
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    r = results(run)
    # A: 60 + rank 1 of 3 (20) + no manual score = 80; B: 60*88/90 = 58.67 + 13.33; C: 54 + 6.67
    assert (r["340102000000"].total, r["340102000000"].rank, r["340102000000"].grade) == (
        D("80.00"),
        1,
        "good",
    )
    assert r["340103000000"].total == D("72.00")
    assert r["340104000000"].total == D("60.67")


def test_an_area_below_the_minimum_sample_scores_no_points_from_the_indicator(data, settings):
    """As in the league table, where it is shown but not ranked: 5 answers, all "safe", are no basis
    for first place (nor for the target's points)."""
    from dashboards.models import IndicatorValue

    IndicatorValue.objects.filter(area=data.district_c, period="2026").update(
        value=100.0, numerator=5, denominator=5
    )
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    r = results(run)
    c_items = {i["name"]: i for i in r["340104000000"].items}
    assert c_items["安全感"]["value"] is None and c_items["安全感"]["score"] == "0.00"
    assert c_items["排名"]["rank"] is None and c_items["排名"]["score"] == "0.00"
    # A and B are ranked between themselves: 1 and 2 of 2.
    assert (r["340102000000"].total, r["340103000000"].total) == (D("80.00"), D("68.67"))


def test_computing_twice_stores_one_run_and_a_published_run_never_changes(data):
    first = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert assessment.assessment_compute(scheme=data.scheme, trigger="rollup").pk == first.pk
    assessment.assessment_publish(run=first, actor=data.city_officer)
    assessment.manual_score_enter(
        item=data.manual_item,
        area=data.district_b,
        points=D("20"),
        evidence=evidence(),
        actor=data.city_officer,
    )
    second = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert second.pk != first.pk and AssessmentRun.objects.count() == 2
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == first.pk
    assert results(first)["340103000000"].total == D("72.00")
    assert results(second)["340103000000"].total == D("92.00")
    assert AuditEntry.objects.filter(action="assessment.publish").count() == 1


def test_a_hand_entry_needs_evidence_and_is_audited_with_before_and_after(data):
    with pytest.raises(ActionInvalid) as err:
        assessment.manual_score_enter(
            item=data.manual_item,
            area=data.district_a,
            points=D("15"),
            evidence=None,
            actor=data.city_officer,
        )
    assert err.value.field == "evidence"
    with pytest.raises(ActionInvalid) as err:
        assessment.manual_score_enter(
            item=data.manual_item,
            area=data.district_a,
            points=D("25"),
            evidence=evidence(),
            actor=data.city_officer,
        )
    assert err.value.field == "points"
    assessment.manual_score_enter(
        item=data.manual_item,
        area=data.district_a,
        points=D("15"),
        evidence=evidence(),
        actor=data.city_officer,
    )
    assessment.manual_score_enter(
        item=data.manual_item,
        area=data.district_a,
        points=D("18"),
        evidence=evidence(),
        actor=data.city_officer,
    )
    entries = list(AuditEntry.objects.filter(action="assessment.manual_score").order_by("id"))
    assert [e.before and e.before["points"] for e in entries] == [None, "15.00"]
    assert entries[1].after["points"] == "18.00" and entries[1].actor == data.city_officer


def test_a_deduction_counts_only_once_approved_by_someone_else(data):
    adj = assessment.adjustment_enter(
        scheme=data.scheme,
        area=data.district_a,
        kind="deduction",
        reason="重大事件 2 起",
        negative_entry=data.scheme.negative_list.get(),
        occurrences=2,
        actor=data.city_officer,
    )
    assert adj.points == D("4.00") and adj.item == data.target_item
    run = assessment.assessment_compute(scheme=data.scheme)
    assert results(run)["340102000000"].total == D("80.00")
    with pytest.raises(ActionForbidden):
        assessment.adjustment_decide(adjustment=adj, approve=True, actor=data.city_officer)
    assessment.adjustment_decide(adjustment=adj, approve=True, actor=data.city_officer_2)
    run = assessment.assessment_compute(scheme=data.scheme)
    assert results(run)["340102000000"].total == D("76.00")
    assert results(run)["340102000000"].deductions == D("4.00")
    assert list(
        AuditEntry.objects.filter(object_type="dashboards.adjustment")
        .values_list("action", flat=True)
        .order_by("id")
    ) == ["assessment.deduction", "assessment.approve"]
    with pytest.raises(ActionInvalid):
        assessment.adjustment_decide(
            adjustment=adj, approve=False, actor=data.city_officer_2, reason="重复录入"
        )


def test_bad_adjustments_name_the_field_and_save_nothing(data):
    for kwargs, field in [
        ({"kind": "deduction", "reason": "x"}, "negative_entry"),
        ({"kind": "bonus", "reason": "x", "item": data.manual_item, "points": D("0")}, "points"),
        # Above the item's bonus cap (5): more could never count.
        ({"kind": "bonus", "reason": "x", "item": data.manual_item, "points": D("5.01")}, "points"),
        ({"kind": "bonus", "reason": " ", "item": data.manual_item, "points": D("1")}, "reason"),
        ({"kind": "gift", "reason": "x"}, "kind"),
    ]:
        with pytest.raises(ActionInvalid) as err:
            assessment.adjustment_enter(
                scheme=data.scheme, area=data.district_a, actor=data.city_officer, **kwargs
            )
        assert err.value.field == field
    with pytest.raises(ActionInvalid) as err:
        assessment.adjustment_enter(
            scheme=data.scheme,
            area=data.street_a1,
            kind="bonus",
            reason="x",
            item=data.manual_item,
            points=D("1"),
            actor=data.city_officer,
        )
    assert err.value.field == "area"
    assert Adjustment.objects.count() == 0


def test_a_deduction_whose_points_would_not_fit_is_refused_at_occurrences(data):
    heavy = data.scheme.negative_list.create(item=data.target_item, name="特大事故", points=D("500"))
    for entry, occurrences in ((data.scheme.negative_list.first(), 1000), (heavy, 999)):
        with pytest.raises(ActionInvalid) as err:
            assessment.adjustment_enter(
                scheme=data.scheme,
                area=data.district_a,
                kind="deduction",
                reason="x",
                negative_entry=entry,
                occurrences=occurrences,
                actor=data.city_officer,
            )
        assert err.value.field == "occurrences"
    assert Adjustment.objects.count() == 0


def test_an_adjustment_identical_to_a_pending_one_is_refused_at_reason(data):
    # A resubmitted form entered the same bonus twice, both pending: an approver could count it twice.
    bonus = {
        "scheme": data.scheme,
        "area": data.district_a,
        "kind": "bonus",
        "item": data.manual_item,
        "points": D("1"),
        "reason": "排名上升",
    }
    first = assessment.adjustment_enter(**bonus, actor=data.city_officer)
    for actor in (data.city_officer, data.city_officer_2):  # whoever enters it again
        with pytest.raises(ActionInvalid) as err:
            assessment.adjustment_enter(**{**bonus, "reason": " 排名上升 "}, actor=actor)
        assert err.value.field == "reason" and "city_officer" in err.value.message
    assert Adjustment.objects.count() == 1
    # Not the same: another area, other points, another reason; nor once the first is decided.
    assessment.adjustment_enter(**{**bonus, "area": data.district_b}, actor=data.city_officer)
    assessment.adjustment_enter(**{**bonus, "points": D("2")}, actor=data.city_officer)
    assessment.adjustment_enter(**{**bonus, "reason": "另一项"}, actor=data.city_officer)
    assessment.adjustment_decide(adjustment=first, approve=True, actor=data.city_officer_2)
    assessment.adjustment_enter(**bonus, actor=data.city_officer)
    assert Adjustment.objects.count() == 5


def test_only_district_level_or_above_records_a_veto(data):
    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.district_a, level="street"
    )
    AssessmentItem.objects.create(scheme=street_scheme, name="台账", max_points=100, method="manual")
    with pytest.raises(ActionForbidden):
        assessment.veto_record(
            scheme=street_scheme, area=data.street_a1, event="x", actor=data.street_handler
        )
    # a handler whose membership is at street level, even with a second one elsewhere, cannot decide
    Membership.objects.create(user=data.street_handler, role=Role.HANDLER, area=data.community_b1a)
    with pytest.raises(ActionForbidden):
        assessment.veto_record(
            scheme=street_scheme, area=data.street_a1, event="x", actor=data.street_handler
        )
    with pytest.raises(ActionForbidden):
        assessment.veto_record(scheme=street_scheme, area=data.street_a1, event="x", actor=data.analyst)
    # A handler of a functional department at the district (the police) works its own items, not
    # the district's assessment: no veto, no score, no computation.
    assert data.department_user.memberships.get().area == data.district_a
    with pytest.raises(ActionForbidden):
        assessment.veto_record(
            scheme=street_scheme, area=data.street_a1, event="x", actor=data.department_user
        )
    with pytest.raises(ActionForbidden):
        assessment.assessment_compute(scheme=street_scheme, actor=data.department_user)
    assert not VetoEvent.objects.exists()
    veto = assessment.veto_record(
        scheme=street_scheme, area=data.street_a1, event="重大事故", actor=data.district_officer
    )
    entry = AuditEntry.objects.get(action="assessment.veto")
    assert entry.actor == data.district_officer and entry.after == {
        "area": "340102001000",
        "event": "重大事故",
    }
    run = assessment.assessment_compute(scheme=street_scheme)
    [result] = AssessmentResult.objects.filter(run=run)
    assert result.vetoed and result.grade == "fail" and result.veto_events == [veto.event]


def test_the_same_veto_is_not_recorded_twice(data):
    what = {"scheme": data.scheme, "area": data.district_a}
    assessment.veto_record(**what, event="重大事故", actor=data.city_officer)
    # A second click or a resubmitted page: the same event (spaces aside) for the same area.
    with pytest.raises(ActionInvalid) as exc:
        assessment.veto_record(**what, event=" 重大事故 ", actor=data.city_officer_2)
    assert exc.value.field == "event" and "already recorded" in exc.value.errors["event"]
    assert VetoEvent.objects.count() == 1
    # Another event, or the same event for another area, is its own veto.
    assessment.veto_record(**what, event="重大安全生产事故", actor=data.city_officer)
    assessment.veto_record(
        scheme=data.scheme, area=data.district_b, event="重大事故", actor=data.city_officer
    )
    assert VetoEvent.objects.count() == 3


def test_a_veto_is_withdrawn_with_a_reason_by_other_deciding_staff_and_the_row_is_kept(data):
    # A veto recorded on the wrong area failed it for good: nothing took it back.
    veto = assessment.veto_record(
        scheme=data.scheme, area=data.district_c, event="重大事故", actor=data.city_officer
    )
    first = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assessment.assessment_publish(run=first, actor=data.city_officer)
    assert results(first)["340104000000"].grade == "fail"
    with pytest.raises(ActionInvalid) as exc:
        assessment.veto_withdraw(veto=veto, reason="  ", actor=data.city_officer_2)
    assert exc.value.field == "reason"
    # Not by who recorded it (someone else checks, as with an approval), nor by an analyst, the staff
    # of an assessed district or an outsider.
    for user in (data.city_officer, data.analyst, data.district_officer, data.outsider):
        with pytest.raises(ActionForbidden):
            assessment.veto_withdraw(veto=veto, reason="记错了区", actor=user)
    veto.refresh_from_db()
    assert veto.withdrawn_at is None and not AuditEntry.objects.filter(action="assessment.veto_withdraw")
    assessment.veto_withdraw(veto=veto, reason=" 记错了区 ", actor=data.city_officer_2)
    veto.refresh_from_db()
    assert VetoEvent.objects.get() == veto  # kept, marked withdrawn: the audit trail stays
    assert (veto.withdrawn_by, veto.withdrawal_reason) == (data.city_officer_2, "记错了区")
    assert veto.withdrawn_at is not None
    entry = AuditEntry.objects.get(action="assessment.veto_withdraw")
    assert entry.actor == data.city_officer_2 and entry.after == {
        "area": "340104000000",
        "event": "重大事故",
        "withdrawn": True,
        "reason": "记错了区",
    }
    with pytest.raises(ActionInvalid) as exc:
        assessment.veto_withdraw(veto=veto, reason="再撤一次", actor=data.city_officer_2)
    assert exc.value.field == "veto"
    # The published run does not change until a new one is published; the next run has no veto.
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == first.pk and results(first)["340104000000"].vetoed
    second = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert second.pk != first.pk
    c = results(second)["340104000000"]
    assert (c.vetoed, c.veto_events, c.grade) == (False, [], "pass")
    # The same event can be recorded again once the first is withdrawn (it did happen after all).
    assessment.veto_record(
        scheme=data.scheme, area=data.district_c, event="重大事故", actor=data.city_officer
    )
    assert VetoEvent.objects.count() == 2


def test_a_street_veto_is_withdrawn_by_district_staff_not_by_the_streets_own(data):
    street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=data.district_a, level="street"
    )
    AssessmentItem.objects.create(scheme=street_scheme, name="台账", max_points=100, method="manual")
    veto = assessment.veto_record(
        scheme=street_scheme, area=data.street_a1, event="重大事故", actor=data.district_officer
    )
    for user in (data.street_handler, data.department_user, data.outsider):
        with pytest.raises(ActionForbidden):
            assessment.veto_withdraw(veto=veto, reason="记错了街道", actor=user)
    assessment.veto_withdraw(veto=veto, reason="记错了街道", actor=data.city_officer)
    veto.refresh_from_db()
    assert veto.withdrawn_by == data.city_officer
    run = assessment.assessment_compute(scheme=street_scheme)
    assert not AssessmentResult.objects.filter(run=run, vetoed=True).exists()


def test_analysts_read_only_and_outsiders_cannot_manage(data):
    for user in (data.analyst, data.outsider, data.district_officer):
        with pytest.raises(ActionForbidden):
            assessment.assessment_compute(scheme=data.scheme, actor=user)
    assert AssessmentRun.objects.count() == 0


def test_rank_change_is_against_last_years_published_scheme(data):
    last = AssessmentScheme.objects.create(year=2025, name="2025", area=data.city, level="district")
    from dashboards.assessment_models import AssessmentItem

    AssessmentItem.objects.create(
        scheme=last, name="排名", max_points=D("100"), method="rank", indicator="survey_safety_rate"
    )
    for area, value in ((data.district_a, 80.0), (data.district_b, 90.0), (data.district_c, 85.0)):
        assessment_data.indicator_value("survey_safety_rate", area, "2025", value)
    assessment.assessment_publish(run=assessment.assessment_compute(scheme=last), actor=data.city_officer)
    run = assessment.assessment_compute(scheme=data.scheme)
    r = results(run)
    assert (r["340102000000"].previous_rank, r["340102000000"].rank_change) == (3, 2)
    assert r["340103000000"].rank_change == -1


def test_the_excellent_share_cap_applies_to_stored_results(data):
    for area in (data.district_a, data.district_b):
        assessment.manual_score_enter(
            item=data.manual_item, area=area, points=D("20"), evidence=evidence(), actor=data.city_officer
        )
    assessment.adjustment_enter(
        scheme=data.scheme,
        area=data.district_b,
        kind="bonus",
        reason="进步显著",
        item=data.manual_item,
        points=D("5"),  # the item's bonus cap
        actor=data.city_officer,
    )
    run = assessment.assessment_compute(scheme=data.scheme)
    r = results(run)
    # A 100 and B 92 are both excellent by threshold; 34% of 3 areas allows one
    assert (r["340102000000"].grade, r["340103000000"].grade, r["340103000000"].capped) == (
        "excellent",
        "good",
        True,
    )


def test_a_successful_rollup_run_queues_the_scoring(data, django_capture_on_commit_callbacks):
    from dashboards.rollup import run_rollup
    from governance.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=True):
        run = run_rollup(full=True)
    message = OutboxMessage.objects.get(task="dashboards.assessment_compute_all")
    assert message.kwargs == {"rollup_run_id": run.pk} and message.sent_at is not None
    assert AssessmentRun.objects.filter(scheme=data.scheme, trigger="rollup").count() == 1


def test_a_scheme_whose_items_do_not_add_to_100_is_not_scored(data):
    data.manual_item.max_points = D("25")
    data.manual_item.save()
    with pytest.raises(ActionInvalid) as err:
        assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert err.value.field == "items" and "105.00" in err.value.message
    assert assessment.compute_all() == [] and AssessmentRun.objects.count() == 0


def test_a_real_rollup_scores_the_schemes_from_the_values_it_published(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    from dashboards.rollup import run_rollup
    from tests.dashboards import stats_data

    stats_data.build(cast)
    stats_data.only(monkeypatch)
    scheme = AssessmentScheme.objects.create(year=2026, name="区考核", area=cast.city, level="district")
    AssessmentItem.objects.create(
        scheme=scheme,
        name="安全感",
        max_points=100,
        method="target",
        indicator="survey_safety_rate",
        target=99.0,
    )
    with django_capture_on_commit_callbacks(execute=True):
        rollup = run_rollup(full=True)
    run = AssessmentRun.objects.get(scheme=scheme)
    assert run.rollup_run_id == rollup.pk and run.trigger == "rollup"
    from dashboards.models import IndicatorValue

    value = IndicatorValue.objects.get(
        indicator="survey_safety_rate", area=cast.district_a, period="2026"
    ).value
    result = AssessmentResult.objects.get(run=run, area=cast.district_a)
    assert result.total == assessment.q2(D(100) * D(str(value)) / D(99))


@pytest.mark.parametrize(
    ("model", "update", "field", "words"),
    [
        # floor(-0.1 x 3 areas) = -1 kept "all but the last" excellent: one area was demoted.
        ("scheme", {"excellent_share_cap": D("-0.100")}, "excellent_share_cap", "greater than or equal to 0"),
        # 30 meant as per cent is no cap at all.
        ("scheme", {"excellent_share_cap": D("3.000")}, "excellent_share_cap", "less than or equal to 1"),
        # The city's streets are not its children: the scheme assessed no area, an empty table.
        ("scheme", {"level": "street"}, "level", "one level below it"),
        # A negative deduction cap added the deductions as points; a negative bonus cap deducted.
        ("item", {"deduction_cap": D("-3")}, "items", "安全感, Deduction cap: Ensure"),
        ("item", {"bonus_cap": D("-5")}, "items", "安全感, Bonus cap: Ensure"),
        ("entry", {"points": D("-2")}, "negative_list", "重大事件, Points per occurrence: Ensure"),
    ],
)
def test_a_stored_scheme_the_admin_would_refuse_is_not_scored_and_the_published_run_stays(
    data, caplog, model, update, field, words
):
    """The admin refuses these values now, but rows saved before it did were scored as they were.
    Written here with QuerySet.update(), around the admin's validation."""
    from django.utils import translation

    from dashboards.assessment_models import NegativeListEntry

    published = assessment.assessment_publish(
        run=assessment.assessment_compute(scheme=data.scheme), actor=data.city_officer
    )
    kept = {r.area_id: (r.total, r.grade, r.rank) for r in AssessmentResult.objects.filter(run=published)}
    assessment.manual_score_enter(  # a change since: computing would store a new run
        item=data.manual_item,
        area=data.district_b,
        points=D("20"),
        evidence=evidence(),
        actor=data.city_officer,
    )
    rows = {
        "scheme": AssessmentScheme.objects.filter(pk=data.scheme.pk),
        "item": AssessmentItem.objects.filter(pk=data.target_item.pk),
        "entry": NegativeListEntry.objects.filter(scheme=data.scheme),
    }[model]
    assert rows.update(**update) == 1
    with translation.override("en"), pytest.raises(assessment.StoredSchemeInvalid) as err:
        assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert err.value.field == field and words in err.value.message, err.value.message
    assert err.value.message.endswith("Correct it in the admin, then compute again.")
    # the nightly scoring after a rollup skips it with an error naming the field, and stores nothing
    with translation.override("en"):
        assert assessment.compute_all() == []
    logged = [r for r in caplog.records if r.name == "dashboards.assessment"]
    assert [(r.levelname, r.getMessage()) for r in logged] == [
        ("ERROR", f"assessment scheme {data.scheme.pk} not scored: {field}: {err.value.message}")
    ]
    assert list(AssessmentRun.objects.values_list("pk", flat=True)) == [published.pk]
    data.scheme.refresh_from_db()
    assert data.scheme.published_run_id == published.pk
    assert {
        r.area_id: (r.total, r.grade, r.rank) for r in AssessmentResult.objects.filter(run=published)
    } == kept


def test_computing_from_the_results_page_a_stored_scheme_the_admin_would_refuse_is_a_400_naming_the_field(
    client, data
):
    run = assessment.assessment_compute(scheme=data.scheme)
    AssessmentItem.objects.filter(pk=data.target_item.pk).update(deduction_cap=D("-3"))
    client.force_login(data.city_officer)
    response = client.post(
        f"/dashboards/assessments/{data.scheme.pk}/action/", {"action": "compute"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'data-field="items"' in html, html
    assert "安全感, Deduction cap: Ensure this value is greater than or equal to 0." in html
    assert list(AssessmentRun.objects.values_list("pk", flat=True)) == [run.pk]


def test_a_second_veto_event_of_an_area_already_vetoed_is_in_the_next_run(data):
    # The digest of a run's results held "vetoed" but not the events: a second event for an area
    # already vetoed computed to the same digest, so no new run was stored and the results kept
    # listing only the first event.
    assessment.veto_record(
        scheme=data.scheme, area=data.district_b, event="重大事故", actor=data.city_officer
    )
    first = assessment.assessment_compute(scheme=data.scheme)
    assessment.veto_record(
        scheme=data.scheme, area=data.district_b, event="群体性事件", actor=data.city_officer
    )
    second = assessment.assessment_compute(scheme=data.scheme)
    assert second.pk != first.pk
    assert results(second)["340103000000"].veto_events == ["重大事故", "群体性事件"]
    assert results(first)["340103000000"].veto_events == ["重大事故"]
    # Nothing new since: still one run more, not two.
    assert assessment.assessment_compute(scheme=data.scheme).pk == second.pk


def test_an_items_value_is_kept_as_the_league_table_has_it_and_earlier_runs_keep_their_digest(data):
    # Stored to 4 decimals, 93.12496 became 93.1250 and the results page showed "93.13" beside a
    # league table showing "93.12". A run stored before (4 decimals) keeps its digest: no new draft.
    from django.template.defaultfilters import floatformat

    from dashboards.models import AssessmentRun, IndicatorValue

    IndicatorValue.objects.filter(area=data.district_a, period="2026").update(value=93.12496)
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    a_items = {i["name"]: i for i in results(run)["340102000000"].items}
    assert a_items["安全感"]["value"] == 93.12496 and floatformat(a_items["安全感"]["value"], 2) == "93.12"
    # The digest is taken over the values rounded to 4 decimals (and the run's rules).
    assert run.fingerprint == _fingerprint_before(run, run.rules)
    assert assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer).pk == run.pk
    assert AssessmentRun.objects.filter(scheme=data.scheme).count() == 1


def test_a_run_computed_before_runs_recorded_their_rules_is_followed_by_one_that_records_them(data):
    """Its rules cannot be known (nothing is backfilled): the next computation, the same results
    under the rules in force, stores a run recording them, once."""
    from dashboards.models import AssessmentRun

    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    AssessmentRun.objects.filter(pk=run.pk).update(rules=None, fingerprint=_fingerprint_before(run))
    again = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert again.pk != run.pk and again.rules == run.rules
    assert [(r.area_id, r.grade, r.total) for r in again.results.order_by("area_id")] == [
        (r.area_id, r.grade, r.total) for r in run.results.order_by("area_id")
    ]
    assert assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer).pk == again.pk


def _fingerprint_before(run, rules=None) -> str:
    """The fingerprint as computed when item values were stored to 4 decimals; with ``rules``, as
    computed since runs record their rules, over the values rounded the same way."""
    import hashlib
    import json

    payload = []
    for s in assessment.score_scheme(**assessment._inputs(run.scheme)):
        for i in s.items:
            i["value"] = None if i["value"] is None else round(i["value"], 4)
        payload.append(
            [s.area_id, str(s.total), s.grade, s.rank, s.vetoed, s.capped, s.previous_rank, s.items]
        )
    if rules is not None:
        payload = {"results": payload, "rules": rules}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@pytest.mark.django_db(transaction=True)
def test_two_first_hand_scores_of_one_item_and_area_at_once_keep_one_row(postgres, cast):
    """The first score of an (item, area) had no row to lock: both entries inserted and the second
    broke the unique constraint (a 500 on the entries page). The second now replaces the first."""
    from tests.base import race

    assessment_data.build(cast)
    first = make_user("city_officer", Role.HANDLER, cast.city)
    second = make_user("city_officer_2", Role.HANDLER, cast.city)
    for _ in range(5):
        ManualScore.objects.all().delete()

        def enter(actor, points):
            return assessment.manual_score_enter(
                item=cast.manual_item,
                area=cast.district_a,
                points=D(points),
                evidence=evidence(),
                actor=actor,
            )

        results = race(lambda: enter(first, "10"), lambda: enter(second, "12"))
        assert all(isinstance(r, ManualScore) for r in results), results
        assert ManualScore.objects.filter(item=cast.manual_item, area=cast.district_a).count() == 1


def _bonus(data, points: str, reason: str, area=None) -> dict:
    return {
        "scheme": data.scheme,
        "area": area or data.district_a,
        "kind": "bonus",
        "item": data.manual_item,
        "points": D(points),
        "reason": reason,
    }


def test_bonuses_of_one_item_and_area_together_stay_within_the_bonus_cap(data):
    """Each bonus under the cap (5) was taken, three of 2 points came to 6: the cap was enforced
    one entry at a time. The total of those approved or awaiting approval is held to it, the refusal
    naming the room left; a rejected one leaves its room free."""
    first = assessment.adjustment_enter(**_bonus(data, "2", "排名上升"), actor=data.city_officer)
    assessment.adjustment_decide(adjustment=first, approve=True, actor=data.city_officer_2)
    assessment.adjustment_enter(**_bonus(data, "2", "经验推广"), actor=data.city_officer)
    with pytest.raises(ActionInvalid) as err:
        assessment.adjustment_enter(**_bonus(data, "2", "创新做法"), actor=data.city_officer_2)
    assert err.value.field == "points"
    assert err.value.message == (
        "This item's bonus cap is 5 for each area: 4 already entered (approved or awaiting approval), 1 left."
    )
    assert Adjustment.objects.count() == 2
    # Another area has its own room; the last point here fits.
    assessment.adjustment_enter(**_bonus(data, "2", "创新做法", data.district_b), actor=data.city_officer)
    last = assessment.adjustment_enter(**_bonus(data, "1", "创新做法"), actor=data.city_officer)
    with pytest.raises(ActionInvalid) as err:
        assessment.adjustment_enter(**_bonus(data, "0.5", "再一项"), actor=data.city_officer)
    assert err.value.message.endswith("5 already entered (approved or awaiting approval), 0 left.")
    assessment.adjustment_decide(adjustment=last, approve=False, actor=data.city_officer_2, reason="不符")
    assessment.adjustment_enter(**_bonus(data, "1", "再一项"), actor=data.city_officer)


@pytest.mark.django_db(transaction=True)
def test_two_bonuses_entered_at_once_cannot_together_pass_the_cap(postgres, cast):
    """Each of two 3-point bonuses fits the cap of 5 alone; sent at once, both saw 0 taken."""
    from tests.base import race

    assessment_data.build(cast)
    first = make_user("city_officer", Role.HANDLER, cast.city)
    second = make_user("city_officer_2", Role.HANDLER, cast.city)
    for _ in range(5):
        Adjustment.objects.all().delete()
        results = race(
            lambda: assessment.adjustment_enter(**_bonus(cast, "3", "排名上升"), actor=first),
            lambda: assessment.adjustment_enter(**_bonus(cast, "3", "经验推广"), actor=second),
        )
        assert sorted(type(r).__name__ for r in results) == ["ActionInvalid", "Adjustment"], results
        assert Adjustment.objects.count() == 1


def _stored_bonus(data, points: str, reason: str) -> Adjustment:
    """A pending bonus as stored before the room check held at entry: the entry page refuses it now."""
    from django.utils import timezone

    return Adjustment.objects.create(
        **_bonus(data, points, reason), entered_by=data.city_officer, entered_at=timezone.now()
    )


def _approved_bonus(data) -> D:
    return sum(
        Adjustment.objects.filter(kind="bonus", status="approved").values_list("points", flat=True), D("0")
    )


def test_approving_a_bonus_past_the_room_the_approved_ones_leave_is_refused_at_points(data):
    """Two pending bonuses of 3 points, each within the cap of 5: approving both came to 6. The
    second approval is refused at ``points`` naming the room left, and nothing changes."""
    first = _stored_bonus(data, "3", "排名上升")
    second = _stored_bonus(data, "3", "经验推广")
    assessment.adjustment_decide(adjustment=first, approve=True, actor=data.city_officer_2)
    with pytest.raises(ActionInvalid) as err:
        assessment.adjustment_decide(adjustment=second, approve=True, actor=data.city_officer_2)
    assert err.value.field == "points"
    assert err.value.message == (
        "Approving this bonus of 3 points would take the item past its bonus cap of 5 for this area: "
        "3 already approved, 2 left. Reject it, and enter one that fits if the area earned more."
    )
    second.refresh_from_db()
    assert (second.status, second.approved_by, second.approved_at) == ("pending", None, None)
    assert _approved_bonus(data) == D("3")
    assert AuditEntry.objects.filter(action="assessment.approve").count() == 1
    # Rejecting it is always possible; another area, or another item, has its own room.
    assessment.adjustment_decide(
        adjustment=second, approve=False, actor=data.city_officer_2, reason="超出上限"
    )
    other = assessment.adjustment_enter(
        **_bonus(data, "3", "经验推广", data.district_b), actor=data.city_officer
    )
    assessment.adjustment_decide(adjustment=other, approve=True, actor=data.city_officer_2)
    assert _approved_bonus(data) == D("6")


def test_approving_a_bonus_after_its_cap_was_lowered_keeps_to_the_cap_now(data):
    """Entered under a cap of 5 (3 + 2 fit); the admin then lowered the cap to 4. The approvals that
    would pass it, together or alone, are refused; what fits is approved."""
    three = assessment.adjustment_enter(**_bonus(data, "3", "排名上升"), actor=data.city_officer)
    two = assessment.adjustment_enter(**_bonus(data, "2", "经验推广"), actor=data.city_officer)
    big = assessment.adjustment_enter(
        **_bonus(data, "5", "创新做法", data.district_b), actor=data.city_officer
    )
    AssessmentItem.objects.filter(pk=data.manual_item.pk).update(bonus_cap=D("4"))
    assessment.adjustment_decide(adjustment=three, approve=True, actor=data.city_officer_2)
    for adjustment, left in ((two, "1"), (big, "4")):
        with pytest.raises(ActionInvalid) as err:
            assessment.adjustment_decide(adjustment=adjustment, approve=True, actor=data.city_officer_2)
        assert err.value.field == "points" and f"{left} left" in err.value.message
    assert sorted(Adjustment.objects.values_list("status", flat=True)) == ["approved", "pending", "pending"]


@pytest.mark.django_db(transaction=True)
def test_two_bonuses_approved_at_once_cannot_together_pass_the_cap(postgres, cast):
    """Each of two pending 3-point bonuses fits the cap of 5 alone; approved at once by two managers,
    both would have read 0 approved."""
    from tests.base import race

    assessment_data.build(cast)
    cast.city_officer = make_user("city_officer", Role.HANDLER, cast.city)
    approvers = (
        make_user("city_officer_2", Role.HANDLER, cast.city),
        make_user("c3", Role.HANDLER, cast.city),
    )
    for _ in range(5):
        Adjustment.objects.all().delete()
        pending = [_stored_bonus(cast, "3", "排名上升"), _stored_bonus(cast, "3", "经验推广")]
        results = race(
            *(
                lambda adj=adj, who=who: assessment.adjustment_decide(adjustment=adj, approve=True, actor=who)
                for adj, who in zip(pending, approvers, strict=True)
            )
        )
        assert sorted(type(r).__name__ for r in results) == ["ActionInvalid", "Adjustment"], results
        assert _approved_bonus(cast) == D("3")


def test_only_areas_in_service_on_a_day_of_the_schemes_year_are_assessed(data):
    """Every child of the assessing area was assessed whatever its service dates: a district drawn in
    2027 was in the 2026 results with no values (last place), as the league table was before."""
    import datetime as dt

    from governance.models import Area
    from tests.base import make_area

    later = make_area("340105000000", "丁区", "district", data.city, (117.3, 31.8, 117.32, 31.81))
    gone = make_area("340106000000", "戊区", "district", data.city, (117.4, 31.8, 117.42, 31.81))
    Area.objects.filter(pk=later.pk).update(in_service_from=dt.date(2027, 1, 1))
    Area.objects.filter(pk=gone.pk).update(in_service_until=dt.date(2025, 12, 31))
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert set(results(run)) == {"340102000000", "340103000000", "340104000000"}
    # In service on one day of the year is enough: the last day for one drawn late, the first for one
    # merged away early. Assessed with no values, they take the places after the three.
    Area.objects.filter(pk=later.pk).update(in_service_from=dt.date(2026, 12, 31))
    Area.objects.filter(pk=gone.pk).update(in_service_until=dt.date(2026, 1, 1))
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.city_officer)
    assert set(results(run)) == {"340102000000", "340103000000", "340104000000", later.code, gone.code}
    # A hand entry for an area out of service all year is refused as one the scheme does not assess.
    Area.objects.filter(pk=later.pk).update(in_service_from=dt.date(2027, 1, 1))
    later.refresh_from_db()
    with pytest.raises(ActionInvalid):
        assessment.veto_record(
            scheme=data.scheme, area=later, event="major_incident", actor=data.city_officer
        )


def _deduction_naming_someone(data):
    """A deduction for district A entered by the city's officer, its reason naming a person."""
    return assessment.adjustment_enter(
        scheme=data.scheme,
        area=data.district_a,
        kind="deduction",
        reason="张三 重大事件",
        negative_entry=data.scheme.negative_list.get(),
        actor=data.city_officer,
    )


def test_an_adjustment_entered_tells_the_other_managers_of_the_assessing_area_once(data):
    """A deduction or bonus waits for someone else's approval, and nobody was told: it sat under
    "Awaiting approval" until a manager happened to open the page. The other managers at the
    assessing area hear of it (not the person who entered it, nor a department's handler), once,
    with a link to the scheme's entries page and no reason text (it may name people)."""
    from django.urls import reverse

    from governance.models import Notification

    make_user("city_police", Role.HANDLER, data.city, data.police)  # a department's: not told
    adj = _deduction_naming_someone(data)
    notices = list(Notification.objects.filter(key=f"assessment-adjustment:{adj.pk}"))
    assert [n.user_id for n in notices] == [data.city_officer_2.pk]
    notice = notices[0]
    assert notice.link == reverse("dashboards-assessment-entries", args=[data.scheme.pk])
    assert data.district_a.name in notice.texts["zh-hans"] and "张三" not in notice.message
    assert "awaits your approval" in notice.texts["en"]
    assert "待您审核" in notice.texts["zh-hans"]


@pytest.mark.parametrize("approve", [True, False])
def test_the_person_who_entered_an_adjustment_hears_of_its_decision_once(data, approve):
    """The city's officer submitted a bonus for approval and heard nothing when it was approved or
    rejected: the decision was only on the entries page. They are told once, with the outcome, the
    area and the scheme (no reason text), linking to the entries page; the approver is not."""
    from django.urls import reverse

    from governance.models import Notification

    adj = _deduction_naming_someone(data)
    assessment.adjustment_decide(
        adjustment=adj, approve=approve, actor=data.city_officer_2, reason="" if approve else "证据不足"
    )
    notices = list(Notification.objects.filter(key=f"assessment-decision:{adj.pk}"))
    assert [n.user_id for n in notices] == [data.city_officer.pk]
    notice = notices[0]
    assert notice.link == reverse("dashboards-assessment-entries", args=[data.scheme.pk])
    assert data.district_a.name in notice.texts["zh-hans"] and data.scheme.name in notice.texts["zh-hans"]
    assert "张三" not in notice.texts["zh-hans"]
    if approve:
        assert "was approved" in notice.texts["en"] and "已审核通过" in notice.texts["zh-hans"]
    else:
        assert "was rejected" in notice.texts["en"] and "已被驳回" in notice.texts["zh-hans"]
        # Why, in the rejecter's words: about the entry, not a resident.
        assert "证据不足" in notice.texts["zh-hans"] and "证据不足" in notice.texts["en"]
    # A second decision is refused and tells nobody again.
    with pytest.raises(ActionInvalid):
        assessment.adjustment_decide(
            adjustment=adj,
            approve=not approve,
            actor=data.city_officer_2,
            reason="" if not approve else "再驳回",
        )
    assert Notification.objects.filter(key=f"assessment-decision:{adj.pk}").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", "否", "驳" * 501])
def test_a_rejection_needs_a_reason_of_2_to_500_characters(data, reason):
    adj = _deduction_naming_someone(data)
    with pytest.raises(ActionInvalid) as err:
        assessment.adjustment_decide(adjustment=adj, approve=False, actor=data.city_officer_2, reason=reason)
    assert err.value.field == "reason"
    adj.refresh_from_db()
    assert (adj.status, adj.rejection_reason, adj.approved_by_id) == ("pending", "", None)
    assert not AuditEntry.objects.filter(action="assessment.approve").exists()


def test_a_rejection_keeps_its_reason_in_the_row_and_the_audit_and_approving_keeps_none(data):
    adj = _deduction_naming_someone(data)
    assessment.adjustment_decide(
        adjustment=adj, approve=False, actor=data.city_officer_2, reason=" 证据不足 "
    )
    adj.refresh_from_db()
    assert (adj.status, adj.rejection_reason) == ("rejected", "证据不足")
    entry = AuditEntry.objects.get(action="assessment.approve")
    assert entry.after["rejection_reason"] == "证据不足" and entry.after["status"] == "rejected"
    other = assessment.adjustment_enter(**_bonus(data, "1", "创新做法"), actor=data.city_officer)
    assessment.adjustment_decide(adjustment=other, approve=True, actor=data.city_officer_2, reason="ignored")
    other.refresh_from_db()
    assert (other.status, other.rejection_reason) == ("approved", "")
