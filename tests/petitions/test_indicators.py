"""Petition indicator sources: set-based, per area and local month, ratio-of-sums ready."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dashboards.models import IndicatorValue, RollupRun
from governance import indicators
from governance.workflow import ActionInvalid
from petitions.models import Petition, PetitionEvent
from tests.base import api_client, described, nightly_run_matches_full_rebuild, shift_back

pytestmark = pytest.mark.django_db


def rows(code):
    today = timezone.localdate()
    start = today.replace(day=1) - dt.timedelta(days=40)
    end = today + dt.timedelta(days=32)
    return indicators.get(code).rows(start, end)


def totals(code):
    found = rows(code)
    return sum(r["numerator"] for r in found), sum(r["denominator"] for r in found)


def test_all_petition_indicators_are_registered_with_the_expected_columns(pet):
    pet.register()
    codes = [c for c in indicators.registry() if c.startswith("petitions_")]
    assert sorted(codes) == sorted([
        "petitions_matters", "petitions_person_times", "petitions_routed_on_time_rate",
        "petitions_replied_on_time_rate", "petitions_satisfaction_rate", "petitions_repeat_rate",
        "petitions_group",
    ])  # fmt: skip
    for code in codes:
        for row in rows(code):
            assert set(row) == {"area_id", "month", "numerator", "denominator"}
            assert isinstance(row["month"], dt.date) and row["month"].day == 1


def test_the_group_indicator_names_the_group_size_in_force(pet, settings):
    response = api_client(pet.cast.analyst).get("/api/v1/stats/indicators/", HTTP_ACCEPT_LANGUAGE="en")
    group = next(r for r in response.json()["results"] if r["code"] == "petitions_group")
    assert group["description"] == "Petitions brought by 5 or more people."
    settings.PETITION_GROUP_MIN_PERSONS = 8
    spec = indicators.registry()["petitions_group"]
    assert str(spec.description) == "Petitions brought by 8 or more people."


def test_repeats_count_in_person_times_but_not_as_new_matters(pet):
    first = pet.register(persons_count=3)
    pet.register(repeat_of=first.code, persons_count=2)
    pet.register(category="labour", persons_count=6)
    assert totals("petitions_matters")[0] == 2
    assert totals("petitions_person_times")[0] == 11
    assert totals("petitions_repeat_rate") == (1, 3)
    assert totals("petitions_group")[0] == 1


def test_on_time_rates_and_satisfaction(pet):
    c = pet.cast
    on_time = pet.replied()
    on_time.transition(action="evaluate", actor=c.petition_officer, evaluation="basically")
    late = pet.accepted()
    Petition.objects.filter(pk=late.pk).update(reply_due_at=timezone.now() - dt.timedelta(days=1))
    late.refresh_from_db()
    late.transition(action="reply", actor=c.department_user, opinion="explain", text="说明")
    late.transition(action="evaluate", actor=c.petition_officer, evaluation="dissatisfied")
    pet.accepted()  # reply not due yet: in neither numerator nor denominator
    not_routed = pet.register()
    Petition.objects.filter(pk=not_routed.pk).update(route_due_at=timezone.now() - dt.timedelta(hours=1))
    assert totals("petitions_replied_on_time_rate") == (1, 2)
    assert totals("petitions_satisfaction_rate") == (1, 2)
    assert totals("petitions_routed_on_time_rate") == (3, 4)


def test_a_repeat_of_a_matter_closed_for_good_declined_by_the_office_counts_as_its_routing_step(pet):
    officer = pet.cast.petition_officer
    original = pet.replied()
    for step in ("request_review", "decide_review", "request_review", "decide_re_review"):
        original.transition(action=step, actor=officer, decision="upheld", note="维持")
    in_time = pet.register(repeat_of=original.code)
    in_time.transition(action="decline", actor=officer, note="复核后不再受理")
    late = pet.register(repeat_of=original.code)
    Petition.objects.filter(pk=late.pk).update(route_due_at=timezone.now() - dt.timedelta(hours=1))
    late.refresh_from_db()
    late.transition(action="decline", actor=officer, note="复核后不再受理")
    # The original was routed in time; of the two declines only the first was within 15 days.
    assert totals("petitions_routed_on_time_rate") == (2, 3)
    # The description names that third way of ending the office's step: it read "routed or
    # redirected", and a reader could not tell why a declined repeat was in the rate.
    assert described("petitions_routed_on_time_rate") == {
        "en": (
            "Routed to a department, redirected, or declined as a repeat of a matter closed for good, "
            "within 15 days of receipt, of those due."
        ),
        "zh-hans": (
            "应转送交办的信访件中，自接收之日起 15 日内转送交办、导入法定途径或因重复已终结事项不予受理的比例。"
        ),
    }


def _received_months_ago(pet, days: int) -> Petition:
    """An accepted petition as if received ``days`` ago; its reply (extended) not yet due."""
    petition = pet.accepted()
    shift_back(
        Petition.objects.filter(pk=petition.pk),
        days,
        "received_at",
        "registered_at",
        "routed_at",
        "accepted_at",
    )
    shift_back(PetitionEvent.objects.filter(petition=petition), days, "at")
    petition.refresh_from_db()
    return petition


def _reply_rate(petition: Petition) -> IndicatorValue:
    month = timezone.localtime(petition.received_at).strftime("%Y-%m")
    return IndicatorValue.objects.get(
        indicator="petitions_replied_on_time_rate", area=petition.area, period=month
    )


def test_a_reply_months_after_receipt_reaches_the_month_of_receipt_at_night(pet):
    # The nightly run refreshes the current months and those the sources report as changed: here
    # the month of receipt, four months back, through the reply's event.
    petition = _received_months_ago(pet, 120)

    def reply():
        petition.transition(
            action="reply", actor=pet.cast.department_user, opinion="support", text="已处理。"
        )

    nightly = nightly_run_matches_full_rebuild(reply)
    assert nightly.months >= 3
    assert _reply_rate(petition).value == 100.0


def test_a_reply_falling_due_reaches_the_month_of_receipt_at_night(pet):
    # No event: time passes the reply deadline, and the petition now counts as due and late.
    petition = _received_months_ago(pet, 120)

    def time_passes():
        Petition.objects.filter(pk=petition.pk).update(reply_due_at=timezone.now())

    nightly_run_matches_full_rebuild(time_passes)
    assert _reply_rate(petition).value == 0.0


def test_a_reply_committed_while_the_last_run_read_the_records_still_reaches_its_month(pet):
    # The reply's event is stamped when the step starts; it commits a moment later, after the last
    # run (started meanwhile) has read the petitions. The next run asks for changes from a little
    # before the last run's start.
    petition = _received_months_ago(pet, 120)

    def reply_stamped_before_the_last_run_started():
        petition.transition(
            action="reply", actor=pet.cast.department_user, opinion="support", text="已处理。"
        )
        last = RollupRun.objects.order_by("-started_at").first()
        stamped = last.started_at - dt.timedelta(minutes=1)
        PetitionEvent.objects.filter(petition=petition, action="reply").update(at=stamped)
        Petition.objects.filter(pk=petition.pk).update(replied_at=stamped)

    nightly_run_matches_full_rebuild(reply_stamped_before_the_last_run_started)
    assert _reply_rate(petition).value == 100.0


def test_an_accepted_repeat_of_a_matter_closed_for_good_declined_in_time_owes_no_reply(pet):
    officer, department = pet.cast.petition_officer, pet.cast.department_user
    original = pet.replied()
    for step in ("request_review", "decide_review", "request_review", "decide_re_review"):
        original.transition(action=step, actor=officer, decision="upheld", note="维持")
    original.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    in_time = pet.accepted()
    in_time.transition(action="link_repeat", actor=officer, repeat_of=original.code)
    in_time.transition(action="decline", actor=department, note="复核后不再受理")
    # Its reply limit would have ended since: still no reply owed.
    Petition.objects.filter(pk=in_time.pk).update(
        reply_due_at=timezone.now() - dt.timedelta(hours=1), closed_at=timezone.now() - dt.timedelta(days=2)
    )
    late = pet.accepted()
    Petition.objects.filter(pk=late.pk).update(reply_due_at=timezone.now() - dt.timedelta(days=1))
    late.refresh_from_db()
    late.transition(action="link_repeat", actor=officer, repeat_of=original.code)
    late.transition(action="decline", actor=department, note="复核后不再受理")
    assert late.events.get(action="decline").data == {"on_time": False}
    overdue = pet.accepted(category="labour")  # accepted, unanswered, past its limit, not declined
    Petition.objects.filter(pk=overdue.pk).update(reply_due_at=timezone.now() - dt.timedelta(days=1))
    # The original on time; the late decline came after the limit had run out unanswered.
    assert totals("petitions_replied_on_time_rate") == (1, 3)
    assert totals("petitions_routed_on_time_rate") == (4, 4)
    assert totals("petitions_matters")[0] == 2
    assert totals("petitions_repeat_rate") == (2, 4)
    assert totals("petitions_satisfaction_rate") == (0, 1)


def test_a_corrected_handling_type_leaves_the_reply_and_its_evaluation_counted(pet):
    officer = pet.cast.petition_officer
    petition = pet.accepted()
    petition.transition(action="correct_type", actor=officer, type="report", note="实为检举控告")
    # The reply follows the corrected type: a report's handling result, without a claim's opinion.
    with pytest.raises(ActionInvalid):
        petition.transition(action="reply", actor=pet.cast.department_user, opinion="support", text="已查处")
    petition.transition(action="reply", actor=pet.cast.department_user, text="已查处")
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    petition.refresh_from_db()
    assert (petition.handling_type, petition.status, petition.evaluation) == (
        "report",
        "replied",
        "satisfied",
    )
    assert [e.action for e in petition.events.all()] == [
        "register", "assign", "accept", "correct_type", "reply", "evaluate",
    ]  # fmt: skip
    assert totals("petitions_matters") == (1, 1)
    assert totals("petitions_replied_on_time_rate") == (1, 1)
    assert totals("petitions_satisfaction_rate") == (1, 1)


def test_each_evaluation_stays_in_the_month_it_was_recorded_when_a_later_answer_is_evaluated(pet):
    # The reply was evaluated "dissatisfied" in an earlier month; the review decided since is evaluated
    # "satisfied" this month. That month's published rate keeps its evaluation: the one of the
    # review's answer does not overwrite it (nor move it into this month).
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    shift_back(
        Petition.objects.filter(pk=petition.pk),
        40,
        "received_at", "registered_at", "routed_at", "accepted_at", "replied_at", "evaluated_at",
        "review_request_until",
    )  # fmt: skip
    shift_back(PetitionEvent.objects.filter(petition=petition), 40, "at")
    petition.refresh_from_db()
    earlier_month = timezone.localtime(petition.evaluated_at).date().replace(day=1)
    this_month = timezone.localdate().replace(day=1)
    petition.transition(
        action="request_review", actor=officer, requested_at=petition.replied_at + dt.timedelta(days=2)
    )
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    by_month = {r["month"]: (r["numerator"], r["denominator"]) for r in rows("petitions_satisfaction_rate")}
    assert by_month == {earlier_month: (0, 1), this_month: (1, 1)}
