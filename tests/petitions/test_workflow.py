"""The petition workflow: statutory deadlines, the exhaustive transition table, roles, repeats."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from governance.models import Department, Holiday, Membership, PersonalDataAccess, Role, SequenceCounter, User
from governance.periods import end_of_local_day
from governance.workflow import ActionForbidden, ActionInvalid, TransitionNotAllowed
from petitions import services
from petitions.models import (
    WORKFLOW,
    Petition,
    Petitioner,
    PetitionEvent,
    allowed_actions,
    deadlines,
    petition_visible,
)
from petitions.models import may_reveal as petition_may_reveal
from tests.base import api_client, make_user
from tests.petitions.conftest import ID_2, petitioners

TZ = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, 0, tzinfo=TZ)


def end_of(y, m, d):
    """24:00 of a local day, where every period counted in days ends (Civil Code art. 203)."""
    return dt.datetime(y, m, d, 23, 59, 59, 999999, tzinfo=TZ)


def days_after(moment, days):
    """24:00 of the local day ``days`` days after ``moment``, or of the Monday after when that day
    falls on a weekend (these tests load no holiday calendar: weekends are the only rest days)."""
    day = end_of_local_day(moment + dt.timedelta(days=days))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


# --- deadline arithmetic ---------------------------------------------------------------------


def test_route_acknowledge_and_reply_limits_are_calendar_days():
    # Each ends at 24:00 of its last day, not at the hour it started (10:00 here).
    received = at(2026, 9, 28)
    assert deadlines.route_due(received) == end_of(2026, 10, 13)  # 15 days across the National Day week
    assert deadlines.acknowledge_due(received) == end_of(2026, 10, 13)
    assert deadlines.reply_due(received) == end_of(2026, 11, 27)
    assert deadlines.review_request_until(received) == end_of(2026, 10, 28)
    assert deadlines.review_due(received) == end_of(2026, 10, 28)
    # 90 days from acceptance end on Sunday 12-27: the limit runs to the end of Monday.
    assert deadlines.extended(received, 30) == end_of(2026, 12, 28)
    # A reply at 00:30 Shanghai time is still the previous day in UTC: the local day counts.
    assert deadlines.reply_due(at(2026, 9, 28, 0) + dt.timedelta(minutes=30)) == end_of(2026, 11, 27)


def test_a_review_may_be_asked_all_through_the_thirtieth_day_the_page_shows():
    # The page says "Review may be requested until 2026-12-08" (the date only), and a period counted
    # in days ends at 24:00 of its last day (Civil Code art. 203): a request that afternoon is in time,
    # whatever the hour of the reply. The local date counts, not the UTC one.
    assert deadlines.review_request_until(at(2026, 11, 8, 16)) == end_of(2026, 12, 8)
    assert deadlines.review_request_until(at(2026, 11, 8, 23)) == end_of(2026, 12, 8)
    assert deadlines.review_request_until(at(2026, 12, 20, 9)) == end_of(2027, 1, 19)
    # 2026-11-08 00:30 in Shanghai is still 11-07 in UTC.
    utc = at(2026, 11, 8, 0).astimezone(dt.UTC) + dt.timedelta(minutes=30)
    assert deadlines.review_request_until(utc) == end_of(2026, 12, 8)


def test_a_request_late_on_the_last_day_of_the_window_is_in_time(pet):
    officer = pet.cast.petition_officer
    petition = pet.accepted()
    petition.transition(
        action="reply",
        actor=pet.cast.department_user,
        opinion="support",
        text="已整改",
        now=at(2026, 11, 8, 9),
    )
    petition.transition(action="request_review", actor=officer, now=at(2026, 12, 8, 17))
    assert petition.status == "under_review"
    assert petition.review_due_at == end_of(2027, 1, 7)
    petition.transition(
        action="decide_review", actor=officer, decision="upheld", note="维持", now=at(2026, 12, 20, 9)
    )
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="request_review", actor=officer, now=at(2027, 1, 20, 0))
    petition.transition(action="request_review", actor=officer, now=at(2027, 1, 19, 22))
    assert petition.status == "under_re_review"


def test_the_return_window_is_five_working_days_skipping_weekends():
    # Thursday 2026-11-19 + 5 working days = Thursday 2026-11-26 (Sat/Sun skipped).
    assert deadlines.return_due(at(2026, 11, 19)).date() == dt.date(2026, 11, 26)


def test_a_limit_in_calendar_days_ending_on_a_rest_day_runs_to_the_next_working_day():
    # 15 days from Friday 11-13 end on Saturday 11-28: the office is closed, the limit is Monday's.
    assert deadlines.route_due(at(2026, 11, 13)) == end_of(2026, 11, 30)
    assert deadlines.acknowledge_due(at(2026, 11, 14, 18)) == end_of(2026, 11, 30)  # Sunday 11-29
    assert deadlines.review_request_until(at(2026, 10, 29)) == end_of(2026, 11, 30)  # Saturday 11-28
    assert deadlines.route_due(at(2026, 11, 12)) == end_of(2026, 11, 27)  # a Friday: as is
    # The National Day holidays (10-01 to 10-07) and the make-up Saturday 10-10 of the calendar.
    for day in range(1, 8):
        Holiday.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 10), is_workday=True, name="国庆节调休上班")
    SequenceCounter.bump("calendar")
    assert deadlines.route_due(at(2026, 9, 16)) == end_of(2026, 10, 8)  # 10-01 is a holiday
    assert deadlines.review_due(at(2026, 9, 10)) == end_of(2026, 10, 10)  # a working Saturday: as is
    # The reply limit: 60 days from 2026-08-02 end on 10-01; extended by 10, 70 days end on 10-11, a
    # Sunday: counted from acceptance and moved once, not from the moved 10-08.
    assert deadlines.reply_due(at(2026, 8, 2)) == end_of(2026, 10, 8)
    assert deadlines.extended(at(2026, 8, 2), 10) == end_of(2026, 10, 12)


def test_the_return_window_skips_a_holiday_and_counts_a_make_up_working_day():
    Holiday.objects.create(date=dt.date(2026, 11, 23), name="假日")
    Holiday.objects.create(date=dt.date(2026, 11, 24), name="假日")
    Holiday.objects.create(date=dt.date(2026, 11, 22), is_workday=True, name="调休上班")
    SequenceCounter.bump("calendar")
    # Fri 20 -> Sun 22 (make-up workday) 1, Mon 23/Tue 24 holidays, Wed 25 2, Thu 26 3, Fri 27 4, Mon 30 5.
    assert deadlines.return_due(at(2026, 11, 20)).date() == dt.date(2026, 11, 30)


def test_limits_cross_the_year_end_and_end_on_the_29th_of_february_of_a_leap_year():
    # Day 1 is the day after the event, across the turn of the year and through a 29 February (no
    # calendar loaded: weekends are the only rest days; 1 January 2028 is a Saturday).
    assert deadlines.route_due(at(2027, 12, 20)) == end_of(2028, 1, 4)
    assert deadlines.reply_due(at(2027, 12, 31)) == end_of(2028, 2, 29)  # a Tuesday
    assert deadlines.reply_due(at(2026, 12, 31)) == end_of(2027, 3, 1)  # no 29th: 60 days reach March
    assert deadlines.extended(at(2027, 12, 31), 30) == end_of(2028, 3, 30)
    assert deadlines.review_request_until(at(2028, 1, 30, 23)) == end_of(2028, 2, 29)
    assert deadlines.review_due(at(2028, 1, 30)) == end_of(2028, 2, 29)
    # Tuesday 28 December 2027: Wed, Thu, Fri, then Monday 3 and Tuesday 4 January (the 1st a Saturday).
    assert deadlines.return_due(at(2027, 12, 28)) == end_of(2028, 1, 4)


def test_an_extension_is_taken_to_the_last_instant_of_the_reply_limit_and_refused_after_it(pet):
    asked = dict(actor=pet.cast.department_user, days=10, approver="approver", note="情况复杂", notified=True)
    late = pet.accepted()
    with pytest.raises(TransitionNotAllowed):
        late.transition(action="extend", now=late.reply_due_at + dt.timedelta(microseconds=1), **asked)
    late.refresh_from_db()
    assert late.extended_days == 0 and not late.events.filter(action="extend").exists()
    in_time = pet.accepted()
    due = in_time.reply_due_at
    in_time.transition(action="extend", now=due, **asked)
    assert in_time.extended_days == 10
    assert in_time.reply_due_at == days_after(in_time.accepted_at, 70) > due


def test_a_wrongly_routed_item_is_returned_to_the_last_instant_of_the_fifth_working_day(pet):
    late = pet.routed()
    with pytest.raises(TransitionNotAllowed):
        late.transition(
            action="return",
            actor=pet.cast.department_user,
            note="不属本部门职责",
            now=late.return_due_at + dt.timedelta(microseconds=1),
        )
    assert Petition.objects.get(pk=late.pk).status == "routed"
    in_time = pet.routed()
    in_time.transition(
        action="return", actor=pet.cast.department_user, note="不属本部门职责", now=in_time.return_due_at
    )
    assert in_time.status == "registered"


def test_a_review_request_received_in_the_last_minute_of_the_window_is_in_time_a_minute_later_not(pet):
    # The page's field takes the minute: 23:59 of the last day the page shows is in time, 00:00 of
    # the next day is a 400 naming the field, and nothing is saved.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    until = petition.review_request_until
    assert timezone.localtime(until).time() == dt.time.max
    recorded = until + dt.timedelta(days=2)  # within the days the office has to record it
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(
            action="request_review",
            actor=officer,
            requested_at=until + dt.timedelta(microseconds=1),
            now=recorded,
        )
    assert exc.value.field == "requested_at"
    assert timezone.localtime(until).strftime("%Y-%m-%d") in exc.value.message
    assert Petition.objects.get(pk=petition.pk).status == "replied"
    last_minute = until.replace(second=0, microsecond=0)
    petition.transition(action="request_review", actor=officer, requested_at=last_minute, now=recorded)
    assert petition.status == "under_review" and petition.review_due_at == days_after(last_minute, 30)


def test_registration_stores_the_route_deadline_and_routing_stores_the_next_ones(pet):
    petition = pet.register(received_at=timezone.now() - dt.timedelta(days=2))
    assert petition.route_due_at == days_after(petition.received_at, 15)
    assert petition.due_at == petition.route_due_at
    petition.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.police.pk)
    assert petition.status == "routed"
    assert petition.acknowledge_due_at == days_after(petition.routed_at, 15)
    assert petition.return_due_at == deadlines.return_due(petition.routed_at)
    assert petition.due_at == petition.acknowledge_due_at
    petition.transition(action="accept", actor=pet.cast.department_user)
    assert petition.reply_due_at == days_after(petition.accepted_at, 60)
    assert petition.due_at == petition.reply_due_at


def test_the_reply_limit_is_extended_once_by_at_most_thirty_days_with_an_approver(pet):
    petition = pet.accepted()
    before = petition.reply_due_at
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(
            action="extend", actor=pet.cast.department_user, days=31, approver="approver", note="复杂"
        )
    assert exc.value.field == "days"
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="extend", actor=pet.cast.department_user, days=10, note="复杂")
    assert exc.value.field == "approver"
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="extend", actor=pet.cast.department_user, days=10, approver="approver")
    assert exc.value.field == "note"
    # With approval and notice to the petitioner: unconfirmed notice is refused, naming the field.
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(
            action="extend", actor=pet.cast.department_user, days=10, approver="approver", note="复杂"
        )
    assert exc.value.field == "notified"
    petition.refresh_from_db()
    assert petition.reply_due_at == before and petition.extended_days == 0
    petition.transition(
        action="extend",
        actor=pet.cast.department_user,
        days=30,
        approver="approver",
        note="需现场核查",
        notified=True,
    )
    assert petition.reply_due_at == days_after(petition.accepted_at, 90)  # 60 + 30 from acceptance
    assert petition.due_at == petition.reply_due_at
    assert petition.extension_approver == pet.approver
    event = petition.events.get(action="extend")
    assert event.data == {"days": 30, "approver": "approver", "notified": True}
    with pytest.raises(TransitionNotAllowed):
        petition.transition(
            action="extend", actor=pet.cast.department_user, days=5, approver="approver", note="再延"
        )


@pytest.mark.parametrize("days", [0, -5])
def test_an_extension_of_no_days_is_asked_in_days_from_1_to_30_not_told_it_is_too_long(pet, days):
    # The API has no min on ``days``: 0 or -5 were refused with "at most 30 days", which they are.
    petition = pet.accepted()
    resp = api_client(pet.cast.department_user).post(
        f"/api/v1/petitions/{petition.code}/transition/",
        {"action": "extend", "days": days, "approver": "approver", "note": "复杂", "notified": True},
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["errors"]["days"] == ["Give the extension in days (1 to 30)."]
    petition.refresh_from_db()
    assert petition.extended_days == 0 and not petition.events.filter(action="extend").exists()


def test_an_overdue_reply_cannot_be_extended_after_the_fact(pet):
    # Extended afterwards, an overdue item left the overdue list and counted as replied on time.
    petition = pet.accepted()
    late = timezone.now() - dt.timedelta(days=2)
    Petition.objects.filter(pk=petition.pk).update(reply_due_at=late, due_at=late)
    petition.refresh_from_db()
    assert "extend" not in allowed_actions(pet.cast.department_user, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(
            action="extend", actor=pet.cast.department_user, days=30, approver="approver", note="复杂"
        )
    assert timezone.localtime(late).strftime("%Y-%m-%d") in exc.value.message
    petition.refresh_from_db()
    assert petition.reply_due_at == late and petition.extended_days == 0 and petition.is_overdue
    assert not petition.events.filter(action="extend").exists()


def test_the_approver_cannot_be_the_person_asking(pet):
    petition = pet.accepted()
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(
            action="extend", actor=pet.cast.petition_officer, days=5, approver="petition_officer", note="x"
        )
    assert exc.value.field == "approver"


def test_a_head_flag_on_a_membership_that_does_not_act_for_the_department_approves_nothing(pet):
    # Department memberships count through a handler's, officer's or admin's role only: an analyst
    # who kept the department's head flag was still offered, and taken, as the approver.
    from governance.models import Membership
    from petitions import selectors

    petition = pet.accepted()
    Membership.objects.filter(user=pet.approver).update(role=Role.ANALYST)
    assert not selectors.extension_approvers(petition, pet.cast.petition_officer).exists()
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(
            action="extend", actor=pet.cast.petition_officer, days=5, approver="approver", note="x"
        )
    assert exc.value.field == "approver"
    assert not petition.events.filter(action="extend").exists()


def test_a_review_must_be_asked_within_thirty_days_of_the_reply(pet):
    petition = pet.replied()
    assert petition.review_request_until == deadlines.review_request_until(petition.replied_at)
    Petition.objects.filter(pk=petition.pk).update(
        review_request_until=timezone.now() - dt.timedelta(hours=1)
    )
    petition.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="request_review", actor=pet.cast.petition_officer)
    petition.refresh_from_db()
    assert petition.status == "replied"


def test_a_review_request_received_in_time_but_recorded_late_is_taken_from_its_receipt(pet):
    # A letter asking for review reached the office on the 29th day and was recorded on the 32nd:
    # refused as late, the petitioner lost the review through the office's delay.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    replied = timezone.now() - dt.timedelta(days=32)
    # The window closed at the end of the 30th day (two days ago: a working day, whatever today is).
    Petition.objects.filter(pk=petition.pk).update(
        replied_at=replied, review_request_until=end_of_local_day(replied + dt.timedelta(days=30))
    )
    petition.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="request_review", actor=officer)
    for bad in (timezone.now() + dt.timedelta(days=1), replied - dt.timedelta(days=1), "2026-11-01"):
        with pytest.raises(ActionInvalid) as exc:
            petition.transition(action="request_review", actor=officer, requested_at=bad)
        assert exc.value.field == "requested_at"
    assert Petition.objects.get(pk=petition.pk).status == "replied"
    received = replied + dt.timedelta(days=29)
    petition.transition(action="request_review", actor=officer, requested_at=received, note="来信申请复查")
    assert petition.status == "under_review" and petition.review_requested_at == received
    # Decided within 30 days of receiving the request, not of recording it.
    assert petition.review_due_at == petition.due_at == days_after(received, 30)
    event = petition.events.get(action="request_review")
    assert event.data == {"stage": "review", "requested_at": timezone.localtime(received).isoformat()}
    assert event.at > received


def test_review_then_re_review_then_closed_for_good(pet):
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    petition.transition(action="request_review", actor=officer, note="申请复查")
    assert petition.status == "under_review"
    assert petition.review_due_at == days_after(petition.review_requested_at, 30)
    assert petition.due_at == petition.review_due_at
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    assert petition.status == "reviewed" and petition.due_at is None
    assert petition.re_review_request_until == deadlines.review_request_until(petition.reviewed_at)
    petition.transition(action="request_review", actor=officer)
    assert petition.status == "under_re_review"
    petition.transition(action="decide_re_review", actor=officer, decision="upheld", note="维持")
    assert petition.status == "closed" and petition.closed_for_good
    # Nothing moves it again; only the petitioner's evaluation of the re-review may still be recorded.
    for action in WORKFLOW.actions:
        if action != "evaluate":
            with pytest.raises(TransitionNotAllowed):
                petition.transition(action=action, actor=pet.cast.admin)
    petition.transition(action="evaluate", actor=officer, evaluation="basically")
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    assert petition.status == "closed" and petition.closed_for_good
    actions = list(PetitionEvent.objects.filter(petition=petition).values_list("action", flat=True))
    assert actions == [
        "register", "assign", "accept", "reply", "evaluate", "request_review", "decide_review",
        "request_review", "decide_re_review", "evaluate",
    ]  # fmt: skip


def test_closing_after_the_reply_does_not_take_away_the_petitioners_review(pet):
    # DOMAIN.md: the petitioner may ask for a review within 30 days of the reply, and for a
    # re-review within 30 days of the review decision. The office closing the matter as soon as
    # it is answered (as it usually does) must not end that right: the request reopens it.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="close", actor=officer)
    assert petition.status == "closed" and petition.closed_at is not None
    assert "request_review" in allowed_actions(officer, petition)
    petition.transition(action="request_review", actor=officer, note="申请复查")
    assert petition.status == "under_review" and petition.closed_at is None
    assert petition.due_at == petition.review_due_at
    assert petition.review_due_at == days_after(petition.review_requested_at, 30)
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    petition.transition(action="close", actor=officer)
    petition.transition(action="request_review", actor=officer, note="申请复核")
    assert petition.status == "under_re_review" and petition.closed_at is None
    assert petition.events.order_by("-at", "-id").first().action_label == "request a re-review"
    petition.transition(action="decide_re_review", actor=officer, decision="upheld", note="维持")
    assert petition.status == "closed" and petition.closed_for_good
    # Closed for good: nothing reopens it, whatever the dates.
    assert "request_review" not in allowed_actions(officer, petition)
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="request_review", actor=officer)


def test_the_evaluation_is_recorded_after_the_office_closed_the_answered_matter_once_per_answer(pet):
    # The office usually closes a matter as soon as it is answered; the petitioner's evaluation
    # came later and could no longer be recorded (evaluate was only allowed while replied).
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="close", actor=officer)
    assert "evaluate" in allowed_actions(officer, petition)
    petition.transition(action="evaluate", actor=officer, evaluation="basically")
    assert (petition.status, petition.evaluation) == ("closed", "basically")
    assert "evaluate" not in allowed_actions(officer, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    assert "already recorded" in exc.value.message
    assert Petition.objects.get(pk=petition.pk).evaluation == "basically"
    # A review decision is a new answer: once decided and closed, its evaluation is taken too.
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    petition.transition(action="close", actor=officer)
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    assert Petition.objects.get(pk=petition.pk).evaluation == "dissatisfied"
    assert petition.events.filter(action="evaluate").count() == 2


def test_the_replys_evaluation_is_recorded_while_its_review_is_under_way(pet):
    # A petitioner who is dissatisfied asks for a review, and their evaluation of the reply often
    # reaches the office after the request: once the petition was under review, evaluate was
    # refused, so the reply's (dissatisfied) evaluation was lost and only the review's counted.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="request_review", actor=officer)
    assert petition.status == "under_review" and "evaluate" in allowed_actions(officer, petition)
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    assert "evaluate" not in allowed_actions(officer, petition)  # one per answer
    petition.transition(action="decide_review", actor=officer, decision="changed", note="改变原意见")
    petition.transition(action="request_review", actor=officer)
    assert petition.status == "under_re_review"
    petition.transition(action="evaluate", actor=officer, evaluation="basically")  # the review's answer
    petition.transition(action="decide_re_review", actor=officer, decision="upheld", note="维持")
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")  # the re-review's
    evaluations = list(
        petition.events.filter(action="evaluate").order_by("at", "pk").values_list("data", flat=True)
    )
    assert [e["evaluation"] for e in evaluations] == ["dissatisfied", "basically", "satisfied"]


def test_a_closed_petition_takes_no_review_once_the_thirty_days_have_passed(pet):
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="close", actor=officer)
    Petition.objects.filter(pk=petition.pk).update(
        review_request_until=timezone.now() - dt.timedelta(hours=1)
    )
    petition.refresh_from_db()
    # Still offered, to record a request received in time; one received now is refused.
    assert "request_review" in allowed_actions(officer, petition)
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="request_review", actor=officer)
    Petition.objects.filter(pk=petition.pk).update(
        review_request_until=timezone.now() - dt.timedelta(days=16)
    )
    petition.refresh_from_db()
    assert "request_review" not in allowed_actions(officer, petition)
    petition.refresh_from_db()
    assert petition.status == "closed" and petition.closed_at is not None


def _closed_for_good(pet, **kw):
    officer = pet.cast.petition_officer
    petition = pet.replied(**kw)
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    petition.transition(action="request_review", actor=officer)
    petition.transition(action="decide_re_review", actor=officer, decision="upheld", note="维持")
    assert petition.closed_for_good
    return petition


def test_a_repeat_of_a_petition_closed_for_good_is_never_accepted_but_can_be_declined(pet):
    original = _closed_for_good(pet)
    # Linked at registration, or later by the office, or along a chain of repeats: all refused.
    linked = pet.routed(repeat_of=original.code)
    later = pet.routed()
    later.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=original.code)
    chained = pet.routed(repeat_of=linked.code)
    for petition in (linked, later, chained):
        assert "accept" not in allowed_actions(pet.cast.department_user, petition)
        with pytest.raises(TransitionNotAllowed) as exc:
            petition.transition(action="accept", actor=pet.cast.department_user, note="受理")
        assert original.code in exc.value.message and "not accepted again" in exc.value.message
        petition.refresh_from_db()
        assert petition.status == "routed" and petition.accepted_at is None
        assert not petition.events.filter(action="accept").exists()
    linked.transition(action="decline", actor=pet.cast.department_user, note="同一事实和理由，复核后不再受理")
    assert linked.status == "declined"
    # The office may still send one to another legal route before routing it.
    fresh = pet.register(repeat_of=original.code)
    fresh.transition(action="redirect", actor=pet.cast.petition_officer, route="litigation")
    assert fresh.status == "redirected"


def test_the_office_declines_a_repeat_of_a_matter_closed_for_good_without_routing_it(pet):
    # Art. 35: after the re-review the petition office itself no longer accepts the same matter;
    # it used to have to route the repeat to a department only for the department to decline it.
    officer = pet.cast.petition_officer
    original = _closed_for_good(pet)
    repeat = pet.register(repeat_of=original.code)
    assert "decline" in allowed_actions(officer, repeat)
    assert "decline" not in allowed_actions(pet.cast.department_user, repeat)
    with pytest.raises(ActionInvalid) as exc:
        repeat.transition(action="decline", actor=officer)
    assert exc.value.field == "note"
    repeat.transition(action="decline", actor=officer, note="同一事实和理由，复核后不再受理")
    repeat.refresh_from_db()
    assert (repeat.status, repeat.department_id, repeat.due_at) == ("declined", None, None)
    assert repeat.closed_at is not None
    event = repeat.events.get(action="decline")
    assert (event.from_status, event.to_status, event.data) == ("registered", "declined", {"on_time": True})


def test_before_routing_the_office_declines_nothing_else_and_after_it_only_the_department_does(pet):
    officer = pet.cast.petition_officer
    fresh = pet.register()
    assert "decline" not in allowed_actions(officer, fresh)
    with pytest.raises(TransitionNotAllowed) as exc:
        fresh.transition(action="decline", actor=officer, note="不予受理")
    assert "closed for good" in exc.value.message
    assert Petition.objects.get(pk=fresh.pk).status == "registered"
    routed = pet.routed(repeat_of=_closed_for_good(pet).code)
    assert "decline" not in allowed_actions(officer, routed)
    with pytest.raises(ActionForbidden):
        routed.transition(action="decline", actor=officer, note="不予受理")
    assert Petition.objects.get(pk=routed.pk).status == "routed"
    assert not PetitionEvent.objects.filter(action="decline").exists()


def _repeats_of_the_first_petitioner(pet, *, category="urban", area=None, user=None):
    """What the intake offers as likely repeats of ``petitioners(1)``'s matter (their ID number)."""
    id_hash = services._clean_petitioners(petitioners(1), 1)[0][0].id_hash
    return services.likely_repeats(
        category=category,
        area=area or pet.cast.grid_a,
        id_hashes=[id_hash],
        user=user or pet.cast.petition_officer,
        phone_hashes=[],
    )


def test_a_petition_closed_for_good_long_ago_is_still_a_likely_repeat(pet):
    original = _closed_for_good(pet)
    Petition.objects.filter(pk=original.pk).update(closed_at=timezone.now() - dt.timedelta(days=400))
    found = _repeats_of_the_first_petitioner(pet)
    assert list(found) == [original]


def test_a_wrongly_routed_item_goes_back_within_five_working_days_only(pet):
    petition = pet.routed()
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="return", actor=pet.cast.department_user)
    assert exc.value.field == "note"
    petition.transition(action="return", actor=pet.cast.department_user, note="不属本部门职责")
    assert petition.status == "registered" and petition.department_id is None
    assert petition.due_at == petition.route_due_at
    petition.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.police.pk)
    Petition.objects.filter(pk=petition.pk).update(return_due_at=timezone.now() - dt.timedelta(minutes=1))
    petition.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        petition.transition(action="return", actor=pet.cast.department_user, note="晚了")
    assert Petition.objects.get(pk=petition.pk).status == "routed"


def test_a_claim_for_litigation_is_redirected_with_the_route_named(pet):
    petition = pet.register()
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="redirect", actor=pet.cast.petition_officer, route="court")
    assert exc.value.field == "route"
    petition.transition(action="redirect", actor=pet.cast.petition_officer, route="arbitration")
    assert petition.status == "redirected" and petition.redirect_route == "arbitration"
    assert petition.due_at is None


@pytest.mark.parametrize("handling_type", ["suggestion", "report"])
def test_only_a_claim_is_redirected_to_another_legal_route(pet, handling_type):
    petition = pet.register(handling_type=handling_type)
    assert "redirect" not in allowed_actions(pet.cast.petition_officer, petition)
    assert "assign" in allowed_actions(pet.cast.petition_officer, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(action="redirect", actor=pet.cast.petition_officer, route="litigation")
    assert exc.value.status_code == 409
    assert str(Petition.HandlingType(handling_type).label) in exc.value.message
    stored = Petition.objects.get(pk=petition.pk)
    assert (stored.status, stored.redirect_route, stored.closed_at) == ("registered", "", None)
    assert not PetitionEvent.objects.filter(petition=petition, action="redirect").exists()


def test_a_petition_is_never_routed_to_the_unit_it_complains_about(pet):
    petition = pet.register(complained=True)
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.urban.pk)
    assert exc.value.field == "department"
    assert Petition.objects.get(pk=petition.pk).status == "registered"


# --- the transition table, exhaustively -------------------------------------------------------

FIELDS = {
    "assign": {"department": None},  # filled with cast.police
    "redirect": {"route": "litigation"},
    "accept": {},
    "decline": {"note": "不属于信访受理范围"},
    "return": {"note": "不属本部门职责"},
    "extend": {"days": 10, "approver": "approver", "note": "需核查", "notified": True},
    "reply": {"opinion": "explain", "text": "答复意见"},
    "evaluate": {"evaluation": "satisfied"},
    "request_review": {},
    "decide_review": {"decision": "changed", "note": "改变原意见"},
    "decide_re_review": {"decision": "upheld", "note": "维持"},
    "close": {},
    "link_repeat": {"repeat_of": None},  # filled with an earlier matching petition
    "correct_type": {"type": "suggestion", "note": "实为意见建议"},
    "reroute": {"department": None},  # filled with cast.urban; from a department with nobody left
}


@pytest.mark.parametrize("status", Petition.Status.values)
def test_every_action_is_allowed_exactly_from_the_states_the_table_lists(pet, status):
    future = timezone.now() + dt.timedelta(days=10)
    earlier = pet.register(received_at=timezone.now() - dt.timedelta(days=3))
    expected_targets = {
        "assign": "routed", "redirect": "redirected", "accept": "accepted", "decline": "declined",
        "return": "registered", "reply": "replied", "decide_review": "reviewed",
        "decide_re_review": "closed", "close": "closed",
    }  # fmt: skip
    empty = Department.objects.create(name="已撤并科室", area=pet.cast.district_a)
    for action, transition in WORKFLOW.transitions.items():
        petition = pet.register()
        Petition.objects.filter(pk=petition.pk).update(
            status=status,
            department=empty if action == "reroute" else pet.cast.police,
            reply_due_at=future,
            review_request_until=future,
            re_review_request_until=future,
            review_due_at=future,
            re_review_due_at=future,
            acknowledge_due_at=future,
        )
        if action == "evaluate":  # the evaluation of an answer (a closed petition takes one after it)
            Petition.objects.filter(pk=petition.pk).update(replied_at=timezone.now() - dt.timedelta(days=1))
        if action == "decline" and status in ("registered", "accepted"):
            # Declined before routing, or after acceptance, only as a repeat of a matter closed for
            # good (art. 35).
            Petition.objects.filter(pk=earlier.pk).update(closed_for_good=True)
            Petition.objects.filter(pk=petition.pk).update(repeat_of=earlier, is_repeat=True)
        petition.refresh_from_db()
        fields = dict(FIELDS[action])
        if action == "assign":
            fields["department"] = pet.cast.police.pk
        if action == "reroute":
            fields["department"] = pet.cast.urban.pk
        if action == "link_repeat":
            fields["repeat_of"] = earlier.code
        # The superuser takes every step but one: a likely repeat is a match of the petitioners'
        # identities, offered only to those who may reveal them (a petition officer).
        actor = pet.cast.petition_officer if action == "link_repeat" else pet.cast.admin
        if status in transition.sources:
            petition.transition(action=action, actor=actor, **fields)
            if action == "request_review":
                expected = {
                    "replied": "under_review", "reviewed": "under_re_review", "closed": "under_review",
                }[status]  # fmt: skip
            else:
                expected = expected_targets.get(action, status)
            assert petition.status == expected, (action, status)
        else:
            with pytest.raises(TransitionNotAllowed) as exc:
                petition.transition(action=action, actor=actor, **fields)
            assert str(Petition.Status(status).label) in exc.value.message
            assert Petition.objects.get(pk=petition.pk).status == status
            assert not PetitionEvent.objects.filter(petition=petition, action=action).exists()


# --- roles ------------------------------------------------------------------------------------


def test_only_the_office_routes_and_only_the_department_replies(pet):
    petition = pet.register()
    with pytest.raises(ActionForbidden):
        petition.transition(action="assign", actor=pet.cast.department_user, department=pet.cast.police.pk)
    petition.transition(action="assign", actor=pet.cast.petition_officer, department=pet.cast.police.pk)
    for user in (pet.cast.petition_officer, pet.urban_user, pet.cast.district_officer, pet.cast.analyst):
        with pytest.raises(ActionForbidden):
            petition.transition(action="accept", actor=user)
    petition.transition(action="accept", actor=pet.cast.department_user)
    with pytest.raises(ActionForbidden):
        petition.transition(action="reply", actor=pet.cast.petition_officer, opinion="support", text="x")
    assert Petition.objects.get(pk=petition.pk).status == "accepted"


def test_an_officer_of_another_district_cannot_register_there(pet):
    with pytest.raises(ValidationError) as exc:
        pet.register(area=pet.cast.grid_d)
    assert "area" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        pet.register(actor=pet.cast.department_user)
    assert not Petition.objects.exists()


def test_visibility_officers_by_area_departments_by_routing_analysts_nothing(pet):
    routed = pet.routed()
    complained = pet.register(complained=True)
    c = pet.cast
    assert set(Petition.objects.visible_to(c.petition_officer)) == {routed, complained}
    assert set(Petition.objects.visible_to(c.department_user)) == {routed}
    assert set(Petition.objects.visible_to(pet.urban_user)) == {complained}
    for user in (c.analyst, c.outsider, c.district_officer, c.worker_a):
        assert not Petition.objects.visible_to(user).exists()


def test_visibility_by_area_department_and_complained_unit_together_is_their_union(pet):
    """An officer of 园丁社区 who also works in 城市管理局: the petitions of the community's subtree,
    those routed to the bureau and those complaining about it, and no other. The area part is a
    subquery on area ids (so that PostgreSQL may use an index); the rows are the ones
    ``petition_visible`` allows one by one."""
    c = pet.cast
    user = make_user("officer_and_bureau", Role.PETITION_OFFICER, c.community_a1b)
    Membership.objects.create(user=user, role=Role.HANDLER, area=c.district_a, department=c.urban)
    in_area = pet.register(area=c.grid_c)
    routed_here = pet.register()
    routed_here.transition(action="assign", actor=c.petition_officer, department=c.urban.pk)
    complained = pet.register(complained=True)
    pet.routed(), pet.register()  # routed to the police, not routed: neither is theirs
    user = User.objects.get(pk=user.pk)
    expected = {in_area, routed_here, complained}
    assert {p for p in Petition.objects.with_relations() if petition_visible(user, p)} == expected
    assert set(Petition.objects.visible_to(user)) == expected
    assert Petition.objects.visible_to(user).count() == 3
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY(SELECT" in str(Petition.objects.visible_to(user).query)


# --- registration: validation, groups, repeats ------------------------------------------------


def test_bad_input_names_every_field_and_saves_nothing(pet):
    with pytest.raises(ValidationError) as exc:
        pet.register(
            channel="pigeon",
            category="x",
            content="",
            petitioners=[{"name": "", "id_number": "123", "phone": "12"}],
        )
    errors = exc.value.message_dict
    for key in ("channel", "category", "content", "petitioners[0].name", "petitioners[0].id_number",
                "petitioners[0].phone"):  # fmt: skip
        assert key in errors, key
    assert not Petition.objects.exists() and not Petitioner.objects.exists()
    assert SequenceCounter.current("PET", timezone.localtime().year) == 0


def test_a_group_visit_has_at_most_five_representatives_and_is_flagged(pet, settings):
    rows = [dict(petitioners(1)[0], id_number="", phone=f"1380000000{i}") for i in range(6)]
    with pytest.raises(ValidationError) as exc:
        pet.register(petitioners=rows, persons_count=30)
    assert "petitioners" in exc.value.message_dict
    petition = pet.register(petitioners=rows[:5], persons_count=30)
    assert petition.is_group and petition.petitioners.count() == 5
    assert not pet.register(persons_count=4).is_group
    settings.PETITION_GROUP_MIN_PERSONS = 3
    assert pet.register(persons_count=4).is_group


def test_the_five_representatives_are_the_rule_of_a_visit_not_of_a_joint_letter(pet):
    """信访工作条例 (2022) art. 18 caps the representatives of a group *visit* at five: a joint letter
    signed by six was refused, and the sixth signatory's later petitions were never found as repeats."""
    rows = [dict(petitioners(1)[0], id_number="", phone=f"138000000{i:02d}") for i in range(51)]
    for channel in ("visit", "reception_day"):
        with pytest.raises(ValidationError) as exc:
            pet.register(channel=channel, petitioners=rows[:6], persons_count=6)
        assert "at most 5 representatives" in exc.value.message_dict["petitioners"][0]
    letter = pet.register(channel="letter", petitioners=rows[:6], persons_count=6)
    assert letter.petitioners.count() == 6 and letter.is_group
    with pytest.raises(ValidationError) as exc:  # a list without end is a mistake, not a letter
        pet.register(channel="online", petitioners=rows, persons_count=51)
    assert exc.value.message_dict["petitioners"] == ["Record at most 50 petitioners."]
    assert Petition.objects.count() == 1


def test_personal_data_is_encrypted_at_rest_and_hashed(pet):
    from django.db import connection

    petition = pet.register()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT name, id_number, phone FROM petitions_petitioner WHERE petition_id = %s", [petition.pk]
        )
        row = cur.fetchone()
    assert "王建国" not in row[0] and "13812345678" not in row[2]
    person = petition.petitioners.get()
    assert (
        person.name == "王建国" and person.masked_name.startswith("王") and "建国" not in person.masked_name
    )
    assert person.id_hash and person.phone_hash


def test_the_same_person_same_category_same_area_is_a_likely_repeat_and_links(pet):
    first = pet.register()
    # Same person by phone only (ID not given this time).
    rows = [{"name": "王建国", "phone": "138 1234 5678"}]
    hashes = services._clean_petitioners(rows, 1)[0]
    found = services.likely_repeats(
        category="urban",
        area=pet.cast.grid_a,
        id_hashes=[],
        user=pet.cast.petition_officer,
        phone_hashes=[hashes[0].phone_hash],
    )
    assert list(found) == [first]
    second = pet.register(petitioners=rows, repeat_of=first.code)
    assert second.is_repeat and second.repeat_of == first


def test_a_petition_is_never_a_repeat_of_one_that_arrived_after_it(pet):
    # A letter that arrived 5 days ago is registered after a visit of yesterday by the same person:
    # the visit repeats the letter, not the reverse. Linking the letter to the visit made the earlier
    # matter the repeat (out of "matters" in its month) and the later one the new matter; the
    # petition page's link_repeat already offered only earlier ones.
    now = timezone.now()
    visit = pet.register(received_at=now - dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        pet.register(received_at=now - dt.timedelta(days=5), repeat_of=visit.code)
    assert list(exc.value.message_dict) == ["repeat_of"]
    assert Petition.objects.count() == 1
    letter = pet.register(received_at=now - dt.timedelta(days=5))
    visit.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=letter.code)
    assert visit.repeat_of == letter


@pytest.mark.parametrize(
    "change",
    ["other_person", "other_category", "other_area"],
)
def test_no_repeat_is_suggested_for_a_different_person_matter_or_place(pet, change):
    pet.register()
    category, area, id_hash = (
        "urban",
        pet.cast.grid_a,
        services._clean_petitioners(petitioners(1), 1)[0][0].id_hash,
    )
    if change == "other_person":
        id_hash = services._clean_petitioners([{"name": "x", "id_number": ID_2}], 1)[0][0].id_hash
    elif change == "other_category":
        category = "labour"
    else:
        area = pet.cast.grid_b
    found = services.likely_repeats(
        category=category, area=area, id_hashes=[id_hash], user=pet.cast.petition_officer, phone_hashes=[]
    )
    assert not found.exists()


@pytest.mark.parametrize("earlier_at", ["community_a1a", "street_a1", "district_a"])
def test_the_same_matter_registered_at_an_area_above_or_below_is_a_likely_repeat(pet, earlier_at):
    # The intake offers districts, streets and communities, the API any level: registered at the
    # community once and at its street the next time, the same matter went unnoticed.
    first = pet.register(area=getattr(pet.cast, earlier_at))
    for area in (pet.cast.grid_a, pet.cast.community_a1a):
        found = _repeats_of_the_first_petitioner(pet, area=area)
        assert list(found) == [first], area
    # And from above: the earlier one at the grid is found from its community, street and district.
    below = pet.register(area=pet.cast.grid_a, category="labour")
    found = _repeats_of_the_first_petitioner(pet, category="labour", area=getattr(pet.cast, earlier_at))
    assert list(found) == [below]
    # Not across to a sibling: another community of the same street.
    found = _repeats_of_the_first_petitioner(pet, category="labour", area=pet.cast.community_a1b)
    assert not found.exists()


def test_a_likely_repeat_above_the_officers_scope_is_neither_named_nor_linkable(pet, client):
    # The line of areas reaches above the district (the city), where petitions lie outside a
    # district officer's scope: their numbers must not be shown, nor linked to.
    city_officer = make_user("city_officer", Role.PETITION_OFFICER, pet.cast.city, pet.cast.petition_office)
    at_city = pet.register(actor=city_officer, area=pet.cast.city)
    officer = pet.cast.petition_officer
    later = pet.register()
    found = _repeats_of_the_first_petitioner(pet, user=officer)
    assert list(found) == [later]  # not at_city
    assert list(services.likely_repeats_of(later, user=city_officer)) == [at_city]
    body = api_client(officer).get(f"/api/v1/petitions/{later.code}/").json()
    assert body["likely_repeats"] == [] and "link_repeat" in body["actions"]
    with pytest.raises(ActionInvalid) as exc:
        later.transition(action="link_repeat", actor=officer, repeat_of=at_city.code)
    assert exc.value.field == "repeat_of"
    with pytest.raises(ValidationError) as exc:
        pet.register(repeat_of=at_city.code)
    assert list(exc.value.message_dict) == ["repeat_of"]
    client.force_login(officer)
    warning = client.post(
        "/petitions/new/repeats/",
        {"p0_id_number": petitioners(1)[0]["id_number"], "category": "urban", "area": pet.cast.grid_a.code},
    )
    assert at_city.code not in warning.content.decode()


@pytest.mark.parametrize("status", ["closed", "declined", "redirected"])
def test_the_same_matter_closed_long_ago_is_still_a_likely_repeat_and_links(pet, status):
    # DOMAIN.md: a repeat is the same matter while an earlier one is open *or closed*; only those
    # closed within 180 days were found, so a petitioner back after a year was a new matter again
    # (counted twice in the matters total) and the office could not link them.
    first = pet.register()
    Petition.objects.filter(pk=first.pk).update(
        status=status, due_at=None, closed_at=timezone.now() - dt.timedelta(days=400)
    )
    found = _repeats_of_the_first_petitioner(pet)
    assert list(found) == [first]
    later = pet.register()
    later.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=first.code)
    assert (later.is_repeat, later.repeat_of_id) == (True, first.pk)


def test_linking_to_a_petition_that_does_not_match_is_refused(pet):
    other = pet.register(category="labour")
    with pytest.raises(ValidationError) as exc:
        pet.register(repeat_of=other.code)
    assert "repeat_of" in exc.value.message_dict
    assert Petition.objects.count() == 1


# --- identity protection ------------------------------------------------------------------------


def test_the_handling_officers_may_reveal_with_a_reason_and_it_is_logged(pet):
    petition = pet.routed(complained=True)
    person = petition.petitioners.get()
    with pytest.raises(ValidationError):
        services.petitioner_reveal(
            petition=petition, petitioner=person, actor=pet.cast.petition_officer, reason=""
        )
    assert not PersonalDataAccess.objects.exists()
    data = services.petitioner_reveal(
        petition=petition, petitioner=person, actor=pet.cast.department_user, reason="电话回访"
    )
    assert data["id_number"] == "11010519491231002X"
    log = PersonalDataAccess.objects.get()
    assert log.user == pet.cast.department_user and log.record == petition.code and log.reason == "电话回访"


def test_the_unit_complained_about_never_reveals_even_if_the_item_is_routed_there_later(pet):
    petition = pet.register(complained=True)
    Petition.objects.filter(pk=petition.pk).update(department=pet.cast.urban)
    petition.refresh_from_db()
    person = petition.petitioners.get()
    for user in (pet.urban_user, pet.cast.analyst, pet.cast.district_officer):
        with pytest.raises(PermissionDenied):
            services.petitioner_reveal(petition=petition, petitioner=person, actor=user, reason="想知道")
    assert not PersonalDataAccess.objects.exists()


def test_administrators_and_superusers_see_the_petition_masked_and_never_reveal(pet, django_user_model):
    petition = pet.routed()
    person = petition.petitioners.get()
    root = django_user_model.objects.create_superuser("root", password="x-Strong-pass-1")
    for user in (pet.cast.admin, root):
        assert petition_may_reveal(user, petition) is False
        with pytest.raises(PermissionDenied):
            services.petitioner_reveal(petition=petition, petitioner=person, actor=user, reason="检查")
    assert not PersonalDataAccess.objects.exists()
    assert petition_may_reveal(pet.cast.petition_officer, petition) is True


def test_a_likely_repeat_noticed_after_registration_is_linked_by_the_office(pet):
    first = pet.register(received_at=timezone.now() - dt.timedelta(days=5))
    second = pet.register()
    other = pet.register(category="labour")
    with pytest.raises(ActionInvalid) as exc:
        second.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=other.code)
    assert exc.value.field == "repeat_of"
    with pytest.raises(ActionForbidden):
        second.transition(action="link_repeat", actor=pet.cast.department_user, repeat_of=first.code)
    second.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=first.code)
    assert second.is_repeat and second.repeat_of == first and second.status == "registered"
    with pytest.raises(ActionInvalid):
        second.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=first.code)


# --- correcting the handling type -------------------------------------------------------------


def test_the_office_corrects_the_handling_type_and_a_claim_may_then_be_redirected(pet):
    officer = pet.cast.petition_officer
    petition = pet.register(handling_type="suggestion")
    assert "redirect" not in allowed_actions(officer, petition)
    assert "correct_type" in allowed_actions(officer, petition)
    petition.transition(
        action="correct_type", actor=officer, type="claim", note="诉求为追讨欠薪，属申诉求决类"
    )
    petition.refresh_from_db()
    assert (petition.handling_type, petition.status, petition.due_at) == (
        "claim",
        "registered",
        petition.route_due_at,
    )
    event = petition.events.get(action="correct_type")
    assert (event.actor, event.from_status, event.to_status, event.note, event.data) == (
        officer,
        "registered",
        "registered",
        "诉求为追讨欠薪，属申诉求决类",
        {"from": "suggestion", "to": "claim"},
    )
    assert (event.from_type_label, event.to_type_label) == ("suggestion", "claim or appeal")
    assert "redirect" in allowed_actions(officer, petition)
    petition.transition(action="redirect", actor=officer, route="arbitration")
    assert petition.status == "redirected"


@pytest.mark.parametrize("status", ["routed", "accepted"])
def test_the_handling_type_is_corrected_after_routing_while_the_matter_is_unanswered(pet, status):
    petition = pet.routed() if status == "routed" else pet.accepted()
    due = petition.due_at
    petition.transition(
        action="correct_type", actor=pet.cast.petition_officer, type="report", note="实为检举"
    )
    petition.refresh_from_db()
    assert (petition.handling_type, petition.status, petition.due_at) == ("report", status, due)
    assert "correct_type" not in allowed_actions(pet.cast.department_user, petition)
    with pytest.raises(ActionForbidden):
        petition.transition(action="correct_type", actor=pet.cast.department_user, type="claim", note="x")
    assert Petition.objects.get(pk=petition.pk).handling_type == "report"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"note": "理由"}, "type"),
        ({"type": "complaint", "note": "理由"}, "type"),
        ({"type": "claim", "note": "理由"}, "type"),  # the type it already has
        ({"type": "report"}, "note"),
        ({"type": "report", "note": "   "}, "note"),
    ],
)
def test_a_type_correction_without_a_new_type_or_a_reason_names_the_field_and_saves_nothing(
    pet, fields, field
):
    petition = pet.register()
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="correct_type", actor=pet.cast.petition_officer, **fields)
    assert exc.value.field == field and exc.value.status_code == 400
    stored = Petition.objects.get(pk=petition.pk)
    assert (stored.handling_type, stored.status) == ("claim", "registered")
    assert not PetitionEvent.objects.filter(action="correct_type").exists()


@pytest.mark.parametrize("answered", ["replied", "closed", "declined", "redirected"])
def test_an_answered_or_ended_petition_keeps_its_handling_type(pet, answered):
    officer = pet.cast.petition_officer
    if answered == "declined":
        petition = pet.routed()
        petition.transition(action="decline", actor=pet.cast.department_user, note="不属于信访事项")
    elif answered == "redirected":
        petition = pet.register()
        petition.transition(action="redirect", actor=officer, route="litigation")
    else:
        petition = pet.replied()
        if answered == "closed":
            petition.transition(action="close", actor=officer)
    assert "correct_type" not in allowed_actions(officer, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(action="correct_type", actor=officer, type="suggestion", note="更正")
    assert exc.value.status_code == 409
    assert str(Petition.Status(answered).label) in exc.value.message
    assert Petition.objects.get(pk=petition.pk).handling_type == "claim"
    assert not PetitionEvent.objects.filter(action="correct_type").exists()


# --- an accepted petition found to repeat a matter closed for good ---------------------------


def test_an_accepted_repeat_of_a_matter_closed_for_good_is_declined_not_replied(pet):
    # Found only after the department accepted it: art. 35 bars answering it again, so the
    # department declines it with that reason; the reply and its extension are refused.
    officer, department = pet.cast.petition_officer, pet.cast.department_user
    original = _closed_for_good(pet)
    repeat = pet.accepted()
    assert allowed_actions(department, repeat) == ["reply", "extend"]
    repeat.transition(action="link_repeat", actor=officer, repeat_of=original.code)
    repeat.refresh_from_db()
    assert allowed_actions(department, repeat) == ["decline"]
    assert "decline" not in allowed_actions(officer, repeat)
    for action, fields in [
        ("reply", {"opinion": "support", "text": "已处理"}),
        ("extend", {"days": 10, "approver": "approver", "note": "需核查", "notified": True}),
    ]:
        with pytest.raises(TransitionNotAllowed) as exc:
            repeat.transition(action=action, actor=department, **fields)
        assert original.code in exc.value.message and "not accepted again" in exc.value.message
    with pytest.raises(ActionForbidden):
        repeat.transition(action="decline", actor=officer, note="复核后不再受理")
    with pytest.raises(ActionInvalid) as invalid:
        repeat.transition(action="decline", actor=department)
    assert invalid.value.field == "note"
    stored = Petition.objects.get(pk=repeat.pk)
    assert (stored.status, stored.replied_at, stored.extended_days, stored.closed_at) == (
        "accepted",
        None,
        0,
        None,
    )
    assert not repeat.events.filter(action__in=["reply", "extend", "decline"]).exists()
    repeat.transition(action="decline", actor=department, note="同一事实和理由，复核后不再受理")
    repeat.refresh_from_db()
    assert (repeat.status, repeat.due_at, repeat.is_open) == ("declined", None, False)
    assert repeat.closed_at is not None and repeat.accepted_at is not None
    event = repeat.events.get(action="decline")
    assert (event.actor, event.from_status, event.to_status, event.department, event.data) == (
        department,
        "accepted",
        "declined",
        pet.cast.police,
        {"on_time": True},
    )
    assert allowed_actions(officer, repeat) == [] and allowed_actions(department, repeat) == []


def test_an_accepted_petition_repeating_no_closed_matter_is_answered_not_declined(pet):
    department = pet.cast.department_user
    earlier = pet.replied(received_at=timezone.now() - dt.timedelta(days=5))  # answered, not closed for good
    petition = pet.accepted()
    petition.transition(action="link_repeat", actor=pet.cast.petition_officer, repeat_of=earlier.code)
    assert "decline" not in allowed_actions(department, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(action="decline", actor=department, note="不予受理")
    assert "written opinion" in exc.value.message
    assert Petition.objects.get(pk=petition.pk).status == "accepted"
    assert not PetitionEvent.objects.filter(action="decline").exists()
    petition.transition(action="reply", actor=department, opinion="explain", text="已说明")
    assert petition.status == "replied"


@pytest.mark.parametrize(
    ("handling_type", "opinion", "stored"),
    [("claim", "explain", "explain"), ("suggestion", "part_adopted", "part_adopted"), ("report", "", "")],
)
def test_the_reply_states_what_its_handling_type_takes(pet, handling_type, opinion, stored):
    """A claim gets the written opinion, a suggestion its adoption, a report the handling result in
    the reply's words alone (信访工作条例 2022): the opinion of a claim answered a suggestion."""
    petition = pet.accepted(handling_type=handling_type)
    petition.transition(action="reply", actor=pet.cast.department_user, opinion=opinion, text="已书面答复")
    petition.refresh_from_db()
    assert (petition.status, petition.reply_opinion, petition.reply_text) == ("replied", stored, "已书面答复")
    assert [v for v, _l in petition.reply_choices()] == {
        "claim": ["support", "explain", "not_support"],
        "suggestion": ["adopted", "part_adopted", "not_adopted"],
        "report": [],
    }[handling_type]


@pytest.mark.parametrize(
    ("handling_type", "opinion", "says"),
    [
        ("claim", "adopted", "support, explanation or not supported"),
        ("claim", "", "support, explanation or not supported"),
        ("suggestion", "support", "adopted, partly adopted or not adopted"),
        ("suggestion", "", "adopted, partly adopted or not adopted"),
        ("report", "support", "without an opinion"),
        ("report", "adopted", "without an opinion"),
    ],
)
def test_a_reply_that_does_not_fit_the_handling_type_is_refused_naming_the_opinion(
    pet, handling_type, opinion, says
):
    petition = pet.accepted(handling_type=handling_type)
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="reply", actor=pet.cast.department_user, opinion=opinion, text="答复")
    assert exc.value.field == "opinion" and says in str(exc.value)
    petition.refresh_from_db()
    assert (petition.status, petition.reply_opinion, petition.replied_at) == ("accepted", "", None)
    assert not petition.events.filter(action="reply").exists()


def test_a_replied_petition_takes_one_evaluation_of_its_reply_not_a_second_one_replacing_it(pet):
    # Before, a replied (or reviewed) matter took any number of evaluations, each silently
    # replacing the last and moving the month the satisfaction rate counted it in.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    assert petition.status == "replied"
    assert "evaluate" not in allowed_actions(officer, petition)
    with pytest.raises(TransitionNotAllowed) as exc:
        petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    assert "already recorded" in exc.value.message
    stored = Petition.objects.get(pk=petition.pk)
    assert stored.evaluation == "dissatisfied" and stored.evaluated_at == petition.evaluated_at
    assert petition.events.filter(action="evaluate").count() == 1


def test_a_review_request_is_not_recorded_once_the_grace_for_recording_it_has_passed(pet):
    # Only the page's button knew of the 15 days' grace: the API recorded a request back-dated into
    # the window 200 days after the reply, reopening the matter with its review already overdue.
    from tests.base import api_client, shift_back

    officer = pet.cast.petition_officer
    petition = pet.replied()
    moved = ("replied_at", "review_request_until", "received_at", "accepted_at", "routed_at", "registered_at")
    shift_back(Petition.objects.filter(pk=petition.pk), 200, *moved)
    petition.refresh_from_db()
    assert "request_review" not in allowed_actions(officer, petition)
    requested = petition.replied_at + dt.timedelta(days=10)
    resp = api_client(officer).post(
        f"/api/v1/petitions/{petition.code}/transition/",
        {"action": "request_review", "requested_at": requested.isoformat()},
        format="json",
    )
    assert resp.status_code == 409 and "no longer be requested" in resp.json()["detail"]
    petition.refresh_from_db()
    assert petition.status == "replied" and not petition.events.filter(action="request_review").exists()


def test_a_petition_is_never_linked_as_a_repeat_of_its_own_repeat(pet):
    # Two petitions of the same minute each matched the other as earlier: the second registered as
    # the first's repeat, the first could then be linked to the second, a loop counted as no matter.
    officer = pet.cast.petition_officer
    at = timezone.now().replace(second=30, microsecond=0) - dt.timedelta(hours=1)
    first = pet.register(received_at=at)
    second = pet.register(received_at=at - dt.timedelta(seconds=20), repeat_of=first.code)
    third = pet.register(received_at=at - dt.timedelta(seconds=25), repeat_of=second.code)
    from petitions.services import likely_repeats_of

    assert not likely_repeats_of(first, user=officer).filter(pk__in=[second.pk, third.pk]).exists()
    for code in (second.code, third.code):
        with pytest.raises(ActionInvalid) as exc:
            first.transition(action="link_repeat", actor=officer, repeat_of=code)
        assert exc.value.field == "repeat_of"
    first.refresh_from_db()
    assert first.repeat_of_id is None and not first.is_repeat


def test_a_petition_is_routed_only_to_a_department_with_someone_to_accept_it(pet):
    # Routed to a department of nobody, a petition sat there for good: only its people accept,
    # return or decline, and the office had no step left but correcting its type.
    from petitions import selectors

    cast = pet.cast
    petition = pet.register()
    offered = set(selectors.routing_departments(cast.petition_officer, petition))
    assert cast.street_team not in offered and cast.police in offered
    with pytest.raises(ActionInvalid) as exc:
        petition.transition(action="assign", actor=cast.petition_officer, department=cast.street_team.pk)
    assert exc.value.field == "department" and cast.street_team.name in exc.value.message
    petition.refresh_from_db()
    assert petition.status == "registered" and not petition.events.filter(action="assign").exists()
    # A member through a role that acts for it (not an analyst's) makes it a place to route to.
    from tests.base import make_user

    make_user("team_analyst", Role.ANALYST, cast.street_a1, cast.street_team)
    assert cast.street_team not in set(selectors.routing_departments(cast.petition_officer, petition))
    make_user("team_handler", Role.HANDLER, cast.street_a1, cast.street_team)
    petition.transition(action="assign", actor=cast.petition_officer, department=cast.street_team.pk)
    assert petition.status == "routed" and petition.department == cast.street_team
