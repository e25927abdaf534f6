"""The transition table, exhaustively, and the rules of each action (deadlines, outcomes, windows)."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from governance.workflow import ActionForbidden, ActionInvalid, TransitionNotAllowed
from mediation import services
from mediation.models import WORKFLOW, DisputeCase, DisputeEvent, allowed_actions
from tests.base import api_client

TZ = ZoneInfo("Asia/Shanghai")  # the project's TIME_ZONE

ALL_STATUSES = DisputeCase.Status.values


def _window_end(effective: dt.date) -> dt.date:
    """The last day to apply for judicial confirmation, worked out by hand: 30 days after the effect,
    and the test database lists no holidays, so only a weekend moves it (to Monday)."""
    day = effective + dt.timedelta(days=30)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def _fields(action, med):
    return {
        "accept": {"mediator": med.cast.mediator.pk},
        "decline": {"note": "不属于民间纠纷", "suggested_route": "向人民法院起诉"},
        "transfer": {"note": "属地管辖", "organisation": med.org_y.pk},
        "reassign": {"mediator": med.mediator_x2.pk},
        "extend": {"consent": True},
        "apply_confirmation": {"joint": True},
        "record_prevention": {"escalation_prevented": True, "escalation_persons": 2},
        "conclude": {"outcome": "refused"},  # the one outcome every source state takes
        "record_confirmation": {"result": "confirmed"},
        "follow_up": {"performance": "performed"},
    }.get(action, {})


@pytest.mark.parametrize("action", WORKFLOW.actions)
def test_every_action_is_allowed_exactly_from_its_source_states(med, action):
    for status in ALL_STATUSES:
        case = med.accepted()
        future = timezone.localdate() + dt.timedelta(days=20)
        DisputeCase.objects.filter(pk=case.pk).update(
            status=status,
            outcome="success_written",
            agreement_terms="赔偿",
            confirmation_due=future,
            judicial_status="applied" if action == "record_confirmation" else "",
        )
        case.refresh_from_db()
        events_before = DisputeEvent.objects.filter(case=case).count()
        allowed = status in WORKFLOW.transitions[action].sources
        fields = _fields(action, med)
        note = fields.pop("note", "说明")
        if allowed:
            event = case.transition(action=action, actor=med.head_x, note=note, **fields)
            expected = WORKFLOW.transitions[action].target or status
            assert case.status == expected == event.to_status, (action, status)
            assert event.from_status == status
            assert DisputeEvent.objects.filter(case=case).count() == events_before + 1
        else:
            with pytest.raises(TransitionNotAllowed) as exc:
                case.transition(action=action, actor=med.head_x, note=note, **fields)
            assert str(DisputeCase.Status(status).label) in exc.value.message
            case.refresh_from_db()
            assert case.status == status, (action, status)
            assert DisputeEvent.objects.filter(case=case).count() == events_before


def test_registration_writes_a_numbered_case_with_encrypted_parties(med):
    from django.db import connection

    case = med.register()
    assert case.code.startswith(f"DSP-{timezone.localdate().year}-") and len(case.code) == 15
    assert case.status == "registered" and case.organisation == med.org_x
    assert [e.action for e in case.events.all()] == ["register"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, id_number, phone FROM mediation_disputeparty WHERE case_id = %s", [case.pk]
        )
        raw = cursor.fetchall()
    assert raw and all("张三丰" not in v and "13812345678" not in v for row in raw for v in row)
    party = case.parties.get(role="applicant")
    assert party.name == "张三丰" and party.masked_name == "张**" and party.id_hash


def _clock(monkeypatch, when: dt.datetime) -> None:
    monkeypatch.setattr("django.utils.timezone.now", lambda: when.astimezone(dt.UTC))


def _accepted_on(med, monkeypatch, when: dt.datetime) -> DisputeCase:
    """A case registered and accepted at ``when`` (local time), through the real actions."""
    _clock(monkeypatch, when)
    case = med.register()
    case.transition(action="accept", actor=med.cast.mediator)
    assert case.mediator == med.cast.mediator  # a mediator accepting takes the case on themselves
    assert case.accepted_at == when
    return case


def _at(y, m, d, h=10, minute=0):
    return dt.datetime(y, m, d, h, minute, tzinfo=TZ)


def _end_of(y, m, d):
    """24:00 of a local day, where a period counted in months ends (Civil Code arts. 202-203)."""
    return dt.datetime(y, m, d, 23, 59, 59, 999999, tzinfo=TZ)


@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        (_at(2026, 3, 15), _end_of(2026, 4, 15)),  # the same day of next month, to its end
        (_at(2025, 1, 31), _end_of(2025, 2, 28)),  # a month is not 30 days: no 31 February
        (_at(2028, 1, 31), _end_of(2028, 2, 29)),  # a leap year
        (_at(2025, 1, 31, 23, 30), _end_of(2025, 2, 28)),  # late in the evening: still the local 31st
        (_at(2026, 3, 1, 0, 30), _end_of(2026, 4, 1)),  # 00:30 local is 28 February in UTC
        # A last day on a rest day runs to the end of the next working day (Civil Code art. 203):
        # 28 February 2026 is a Saturday, 31 January 2027 a Sunday (these were due on them before).
        (_at(2026, 1, 31), _end_of(2026, 3, 2)),
        (_at(2026, 12, 31), _end_of(2027, 2, 1)),
    ],
)
def test_accepting_sets_a_one_month_time_limit_to_the_end_of_that_day(med, monkeypatch, accepted, due):
    case = _accepted_on(med, monkeypatch, accepted)
    assert case.due_at == due
    case.refresh_from_db()
    assert case.due_at == due and not case.extended


def test_the_setting_gives_the_time_limit_in_months(med, monkeypatch, settings):
    settings.MEDIATION_TIME_LIMIT_MONTHS = 3
    case = _accepted_on(med, monkeypatch, _at(2026, 11, 30))
    # 28 February 2027 is a Sunday: the limit runs to Monday 1 March (Civil Code art. 203), and the
    # extension counts from that due date (it used to be 28 February, extended to 28 May).
    assert case.due_at == _end_of(2027, 3, 1)
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert case.due_at == _end_of(2027, 6, 1)  # three months more, from the due date


def test_a_case_is_overdue_from_the_first_instant_after_its_last_day(med, monkeypatch):
    # 2025, not 2026: 28 February 2026 is a Saturday, which moves the limit to Monday.
    case = _accepted_on(med, monkeypatch, _at(2025, 1, 31))
    other = med.register()  # registered, never accepted: no time limit runs
    client = api_client(med.head_x)

    def overdue_codes():
        return [r["code"] for r in client.get("/api/v1/disputes/?overdue=true").json()["results"]]

    _clock(monkeypatch, _end_of(2025, 2, 28))  # the last instant of the month is still in time
    assert not DisputeCase.objects.overdue().exists() and not case.is_overdue
    assert overdue_codes() == []
    _clock(monkeypatch, _at(2025, 3, 1, 0, 0))
    assert list(DisputeCase.objects.overdue()) == [case] and case.is_overdue
    assert overdue_codes() == [case.code]
    assert other.code not in overdue_codes()


@pytest.mark.parametrize(
    ("concluded", "on_time"), [(_end_of(2026, 4, 15), True), (_at(2026, 4, 16, 0, 0), False)]
)
def test_concluding_on_the_last_day_is_on_time(med, monkeypatch, concluded, on_time):
    case = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    case.transition(action="start", actor=med.cast.mediator)
    _clock(monkeypatch, concluded)
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="failure", other_routes=["litigation"]
    )
    assert case.concluded_on_time is on_time


def test_only_the_head_assigns_a_case_to_someone_else(med):
    case = med.register()
    with pytest.raises(ActionForbidden):
        case.transition(action="accept", actor=med.cast.mediator, mediator=med.mediator_x2.pk)
    case.transition(action="accept", actor=med.head_x, mediator=med.mediator_x2.pk)
    assert case.mediator == med.mediator_x2


def test_the_mediator_must_belong_to_the_organisation(med):
    case = med.register()
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="accept", actor=med.head_x, mediator=med.mediator_y.pk)
    assert exc.value.field == "mediator"


def test_the_time_limit_extends_once_and_only_with_both_parties_consent(med, monkeypatch):
    case = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    case.transition(action="start", actor=med.cast.mediator)
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="extend", actor=med.cast.mediator)
    assert exc.value.field == "consent"
    _clock(monkeypatch, _at(2026, 4, 2))  # agreed before the limit ran out: it counts from the due date
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert case.extended and case.due_at == _end_of(2026, 5, 15)
    with pytest.raises(TransitionNotAllowed):
        case.transition(action="extend", actor=med.cast.mediator, consent=True)
    case.refresh_from_db()
    assert case.due_at == _end_of(2026, 5, 15)


@pytest.mark.parametrize(
    ("accepted", "extended_to"),
    [
        # 2025, not 2026: 28 February and 28 March 2026 are Saturdays (the limit moves to Monday).
        (_at(2025, 1, 31), _end_of(2025, 3, 28)),  # one month from the due date, 28 February
        (_at(2028, 1, 31), _end_of(2028, 3, 29)),
        (_at(2025, 1, 31, 23, 30), _end_of(2025, 3, 28)),
        (_at(2026, 1, 31), _end_of(2026, 4, 2)),  # due Monday 2 March (28 February a Saturday)
    ],
)
def test_an_extension_adds_the_months_to_the_current_due_date(med, monkeypatch, accepted, extended_to):
    case = _accepted_on(med, monkeypatch, accepted)
    _clock(monkeypatch, accepted + dt.timedelta(days=20))
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    case.refresh_from_db()
    assert case.extended and case.due_at == extended_to


def test_an_extension_of_a_due_date_stored_under_the_old_30_day_rule_keeps_it_as_the_start(med, monkeypatch):
    # Cases accepted before the limit counted in months keep their stored due_at (no data migration);
    # an extension counts the months from it and ends at 24:00 of the day reached.
    case = med.in_mediation()
    # (2025: 28 February 2026 is a Saturday, which would move the end to Monday 2 March.)
    old_due = _at(2025, 1, 30, 14, 5)
    DisputeCase.objects.filter(pk=case.pk).update(due_at=old_due)
    case.refresh_from_db()
    _clock(monkeypatch, _at(2025, 1, 29))  # agreed while that limit still ran
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert case.due_at == _end_of(2025, 2, 28)


def test_reassignment_is_for_the_head_only(med):
    case = med.in_mediation()
    with pytest.raises(ActionForbidden):
        case.transition(action="reassign", actor=med.cast.mediator, mediator=med.mediator_x2.pk)
    case.transition(action="reassign", actor=med.head_x, mediator=med.mediator_x2.pk, note="工作量平衡")
    assert case.mediator == med.mediator_x2


def test_another_mediator_of_the_organisation_cannot_act_on_a_case_not_theirs(med):
    case = med.in_mediation()
    with pytest.raises(ActionForbidden):
        case.transition(action="conclude", actor=med.mediator_x2, outcome="withdrawn")


def test_district_staff_cannot_act(med):
    case = med.in_mediation()
    with pytest.raises(ActionForbidden):
        case.transition(action="extend", actor=med.cast.street_handler, consent=True)


def test_transfer_needs_a_reason_and_hands_the_case_to_the_other_organisation(med):
    case = med.in_mediation()
    with pytest.raises(ActionInvalid):
        case.transition(action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk)
    case.transition(
        action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属社区调委会管辖"
    )
    assert case.status == "registered" and case.organisation == med.org_y and case.mediator is None
    case.transition(action="accept", actor=med.mediator_y)
    assert case.mediator == med.mediator_y


def test_a_transfer_names_a_missing_reason_and_an_organisation_out_of_reach_together(med):
    """The reason was checked before the organisation: a client sending another district's
    organisation without a reason was told of the reason, then of the organisation, one at a time.
    The case page's dry run asks the same step, so it named them one submit apart as well."""
    case = med.in_mediation()
    for organisation in (med.org_b.pk, case.organisation_id):
        with pytest.raises(ActionInvalid) as exc:
            case.transition(action="transfer", actor=med.cast.mediator, organisation=organisation)
        assert set(exc.value.errors) == {"note", "organisation"}
    case.refresh_from_db()
    assert case.status == "in_mediation" and case.organisation == med.org_x


def test_a_case_transferred_after_its_time_limit_does_not_conclude_on_time(med):
    # Transferred when already late, it got the receiving organisation's fresh limit and then counted
    # as concluded on time: a transfer wiped the lateness off the on-time rate.
    late, early = med.in_mediation(), med.in_mediation()
    DisputeCase.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    late.refresh_from_db()
    for case in (late, early):
        case.transition(
            action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属社区调委会管辖"
        )
        case.transition(action="accept", actor=med.mediator_y)
        assert case.due_at > timezone.now()  # the receiving organisation's own limit
        case.transition(action="start", actor=med.mediator_y)
        case.transition(
            action="conclude", actor=med.mediator_y, outcome="failure", note="双方分歧较大",
            other_routes=["litigation"],
        )  # fmt: skip
    assert (late.concluded_on_time, early.concluded_on_time) == (False, True)
    assert late.events.get(action="transfer").data["late"] is True
    assert "late" not in early.events.get(action="transfer").data


def test_decline_needs_a_reason_and_a_route(med):
    case = med.register()
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="decline", actor=med.cast.mediator, note="不属于调解范围")
    assert exc.value.field == "suggested_route"
    case.transition(
        action="decline", actor=med.cast.mediator, note="不属于调解范围", suggested_route="劳动仲裁"
    )
    assert case.status == "declined" and case.suggested_route == "劳动仲裁"


def test_conclude_without_outcome_or_terms_is_refused_and_nothing_changes(med):
    case = med.in_mediation()
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="conclude", actor=med.cast.mediator)
    assert exc.value.field == "outcome"
    with pytest.raises(ActionInvalid) as exc:
        case.transition(
            action="conclude", actor=med.cast.mediator, outcome="success_written", performance_method="当场"
        )
    assert exc.value.field == "agreement_terms"
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="conclude", actor=med.cast.mediator, outcome="failure")
    assert exc.value.field == "other_routes"
    case.refresh_from_db()
    assert case.status == "in_mediation" and case.outcome == "" and case.concluded_at is None


def test_a_written_agreement_opens_the_30_day_confirmation_window(med):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=10))
    effective = timezone.localdate() - dt.timedelta(days=2)
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="楼上漏水，责任在李四",
        agreement_terms="李四赔偿张三丰维修费2000元",
        agreement_amount="2000.00",
        performance_method="银行转账",
        performance_due=effective,
        agreement_effective_on=effective,
    )
    assert case.status == "concluded" and case.concluded_on_time is True
    assert case.confirmation_due == _window_end(effective)
    assert case.confirmation_days_left == (_window_end(effective) - timezone.localdate()).days >= 28
    assert not case.confirmation_closing


def test_an_oral_agreement_takes_effect_the_same_day(med):
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    assert case.agreement_effective_on == timezone.localdate()


def test_the_closing_window_is_flagged_and_applications_after_it_are_refused(med):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=40))
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="噪音扰邻",
        agreement_terms="赔偿",
        performance_method="现金",
        performance_due=timezone.localdate(),
        agreement_effective_on=timezone.localdate() - dt.timedelta(days=25),
    )
    effective = timezone.localdate() - dt.timedelta(days=25)
    assert case.confirmation_closing
    assert case.confirmation_days_left == (_window_end(effective) - timezone.localdate()).days  # 5 to 7
    assert DisputeCase.objects.confirmation_closing().filter(pk=case.pk).exists()
    too_late = case.confirmation_due + dt.timedelta(days=1)
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="apply_confirmation", actor=med.cast.mediator, applied_on=too_late, joint=True)
    assert exc.value.field == "applied_on"
    case.transition(action="apply_confirmation", actor=med.cast.mediator, joint=True)
    assert case.judicial_status == "applied" and not case.confirmation_closing
    case.transition(action="record_confirmation", actor=med.cast.mediator, result="confirmed")
    case.transition(action="follow_up", actor=med.cast.mediator, performance="partly", note="已付一半")
    case.transition(action="close", actor=med.cast.mediator)
    assert (case.status, case.judicial_status, case.follow_up) == ("closed", "confirmed", "partly")


def _written() -> dict:
    """A written agreement's fields, complete but for the day it took effect."""
    return {
        "outcome": "success_written",
        "agreement_facts": "噪音扰邻",
        "agreement_terms": "赔偿",
        "performance_method": "现金",
        "performance_due": timezone.localdate(),
    }


def test_the_agreement_takes_effect_between_receipt_and_today(med):
    received = timezone.now() - dt.timedelta(days=10)
    case = med.in_mediation(received_at=received)
    written = _written()
    received_on = timezone.localdate(received)
    for effective in (
        received_on - dt.timedelta(days=1),
        "2001-01-01",
        timezone.localdate() + dt.timedelta(days=1),
    ):
        with pytest.raises(ActionInvalid) as exc:
            case.transition(
                action="conclude", actor=med.cast.mediator, agreement_effective_on=effective, **written
            )
        assert exc.value.field == "agreement_effective_on"
        case.refresh_from_db()
        assert case.status == "in_mediation" and case.agreement_effective_on is None
    assert not case.events.filter(action="conclude").exists()
    case.transition(action="conclude", actor=med.cast.mediator, agreement_effective_on=received_on, **written)
    assert case.confirmation_due == _window_end(received_on)


def test_the_agreement_takes_effect_no_earlier_than_the_first_session(med):
    # Received ten days ago, first mediated four days ago: an agreement "signed and sealed" eight
    # days ago predates the mediation that reached it, and its 30-day window would run from then.
    case = med.accepted(received_at=timezone.now() - dt.timedelta(days=10))
    first = timezone.now() - dt.timedelta(days=4)
    for held_at in (first, first + dt.timedelta(days=2)):
        services.dispute_record_session(
            case=case,
            actor=med.cast.mediator,
            held_at=held_at,
            place="调解室",
            attendees="双方",
            summary="协商",
        )
    written = _written()
    with pytest.raises(ActionInvalid) as exc:
        case.transition(
            action="conclude",
            actor=med.cast.mediator,
            agreement_effective_on=timezone.localdate() - dt.timedelta(days=8),
            **written,
        )
    assert exc.value.field == "agreement_effective_on"
    assert timezone.localdate(first).isoformat() in exc.value.errors["agreement_effective_on"]
    case.refresh_from_db()
    assert case.status == "in_mediation" and case.agreement_effective_on is None
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        agreement_effective_on=timezone.localdate(first),
        **written,
    )
    assert case.agreement_effective_on == timezone.localdate(first)


def test_the_court_application_is_dated_between_the_agreement_and_today(med):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=10))
    effective = timezone.localdate() - dt.timedelta(days=5)
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="噪音扰邻",
        agreement_terms="赔偿",
        performance_method="现金",
        performance_due=timezone.localdate(),
        agreement_effective_on=effective,
    )
    for applied_on in (
        effective - dt.timedelta(days=1),
        timezone.localdate() + dt.timedelta(days=1),
        "2001-01-01",
    ):
        with pytest.raises(ActionInvalid) as exc:
            case.transition(
                action="apply_confirmation", actor=med.cast.mediator, applied_on=applied_on, joint=True
            )
        assert exc.value.field == "applied_on"
        case.refresh_from_db()
        assert case.judicial_status == "" and case.judicial_applied_on is None
    assert not case.events.filter(action="apply_confirmation").exists()
    case.transition(action="apply_confirmation", actor=med.cast.mediator, applied_on=effective, joint=True)
    assert (case.judicial_status, case.judicial_applied_on) == ("applied", effective)


def test_an_application_once_the_window_has_closed_is_refused(med):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=40))
    effective = timezone.localdate() - dt.timedelta(days=31)
    while _window_end(effective) >= timezone.localdate():  # ended yesterday on a Sunday: runs to today
        effective -= dt.timedelta(days=1)
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="噪音扰邻",
        agreement_terms="赔偿",
        performance_method="现金",
        performance_due=timezone.localdate(),
        agreement_effective_on=effective,
    )
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="apply_confirmation", actor=med.cast.mediator, joint=True)
    assert exc.value.field == "applied_on" and "30-day window" in exc.value.message


def test_a_confirmation_window_ending_on_a_rest_day_runs_to_the_next_working_day(db):
    """30 days after the effect, the day of effect not counted; a last day that is a rest day or a
    holiday moves to the first working day after it (Civil Code art. 203, as the Civil Procedure Law
    counts the court's periods); a weekend working day (调休) is a working day."""
    from governance.models import Holiday
    from mediation.models import confirmation_window_end

    assert confirmation_window_end(dt.date(2026, 10, 9)) == dt.date(2026, 11, 9)  # a Monday: as is
    assert confirmation_window_end(dt.date(2026, 10, 8)) == dt.date(2026, 11, 9)  # Saturday -> Monday
    Holiday.objects.create(date=dt.date(2026, 11, 9), name="假日")
    assert confirmation_window_end(dt.date(2026, 10, 8)) == dt.date(2026, 11, 10)  # and past the holiday
    Holiday.objects.create(date=dt.date(2026, 11, 7), name="调休", is_workday=True)
    assert confirmation_window_end(dt.date(2026, 10, 8)) == dt.date(2026, 11, 7)  # a working Saturday
    # National Day: 1-7 October off; a window ending on the 3rd runs to Thursday the 8th.
    for day in range(1, 8):
        Holiday.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    assert confirmation_window_end(dt.date(2026, 9, 3)) == dt.date(2026, 10, 8)


def test_a_confirmation_window_runs_across_the_year_end_and_to_the_29th_of_february(db):
    """The 30 days are counted as days, across 31 December and through a 29 February (no calendar
    loaded: weekends are the only rest days)."""
    from mediation.models import confirmation_window_end

    # 31 December 2027 + 30 = Sunday 30 January 2028: the window runs to Monday the 31st.
    assert confirmation_window_end(dt.date(2027, 12, 31)) == dt.date(2028, 1, 31)
    assert confirmation_window_end(dt.date(2028, 1, 30)) == dt.date(2028, 2, 29)  # a Tuesday
    assert confirmation_window_end(dt.date(2027, 1, 30)) == dt.date(2027, 3, 1)  # no 29th in 2027


def test_an_application_on_the_monday_after_a_window_ending_on_saturday_is_recorded(med):
    """The window of an agreement effective 30 days before a Saturday ended that Saturday, and the
    application the parties made on Monday, which the court takes, was refused as too late."""
    today = timezone.localdate()
    saturday = today - dt.timedelta(days=(today.weekday() - 5) % 7)
    if saturday + dt.timedelta(days=2) > today:
        saturday -= dt.timedelta(days=7)
    monday, effective = saturday + dt.timedelta(days=2), saturday - dt.timedelta(days=30)
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=50))
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="噪音扰邻",
        agreement_terms="赔偿",
        performance_method="现金",
        performance_due=effective,
        agreement_effective_on=effective,
    )
    assert case.confirmation_due == monday
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/transition/",
        {"action": "apply_confirmation", "applied_on": monday.isoformat(), "joint": True},
        format="json",
    )
    assert response.status_code == 200, response.json()
    case.refresh_from_db()
    assert (case.judicial_status, case.judicial_applied_on) == ("applied", monday)


def test_judicial_confirmation_and_follow_up_need_a_successful_outcome(med):
    case = med.in_mediation()
    case.transition(action="conclude", actor=med.cast.mediator, outcome="withdrawn")
    for action, fields in (
        ("apply_confirmation", {"joint": True}),
        ("follow_up", {"performance": "performed"}),
    ):
        with pytest.raises(TransitionNotAllowed):
            case.transition(action=action, actor=med.cast.mediator, **fields)


def test_concluding_after_the_deadline_is_recorded_as_late(med):
    case = med.in_mediation()
    DisputeCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    assert DisputeCase.objects.overdue().filter(pk=case.pk).exists()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="failure", other_routes=["arbitration"]
    )
    assert case.concluded_on_time is False


def test_escalation_prevention_needs_persons(med):
    case = med.in_mediation()
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="record_prevention", actor=med.cast.mediator, escalation_prevented=True)
    assert exc.value.field == "escalation_persons"
    case.transition(
        action="record_prevention", actor=med.cast.mediator, group_defused=True, group_persons=12, note="劝离"
    )
    assert case.group_defused and case.group_persons == 12 and case.prevention_recorded_at
    case.refresh_from_db()
    assert case.risk_group  # a group dispute defused is a group dispute, marked or not at registration


def test_a_prevention_record_of_more_persons_than_a_case_can_involve_is_refused(med):
    # 99,999,999,999 persons "kept from a criminal escalation" was recorded (and became the case's
    # people involved, and the month's statistic): registration caps the people involved at 100,000.
    case = med.in_mediation()
    for fields, name in (
        ({"escalation_prevented": True, "escalation_persons": 100001}, "escalation_persons"),
        ({"group_defused": True, "group_persons": 99999999999}, "group_persons"),
    ):
        with pytest.raises(ActionInvalid) as exc:
            case.transition(action="record_prevention", actor=med.cast.mediator, **fields)
        assert exc.value.field == name
    case.refresh_from_db()
    assert (case.persons_involved, case.escalation_persons, case.group_persons) == (2, 0, 0)
    assert not case.events.filter(action="record_prevention").exists()


def test_a_prevention_record_counts_its_persons_among_the_people_involved(med):
    # The case page read "people involved: 2" above "group dispute defused: 12 persons": the group
    # and the people kept from a criminal escalation are people the dispute involves.
    case = med.in_mediation()
    before = case.persons_involved
    case.transition(action="record_prevention", actor=med.cast.mediator, group_defused=True, group_persons=12)
    case.refresh_from_db()
    assert (before, case.persons_involved) == (2, 12)
    event = case.events.get(action="record_prevention")
    assert event.data == {"group_persons": 12, "persons_involved": 12}
    # A smaller record (the escalation among them) leaves the number as it is.
    case.transition(
        action="record_prevention", actor=med.cast.mediator, escalation_prevented=True, escalation_persons=3
    )
    case.refresh_from_db()
    assert (case.persons_involved, case.escalation_persons, case.group_persons) == (12, 3, 12)
    assert case.events.filter(action="record_prevention").last().data == {
        "escalation_persons": 3,
        "persons_involved": 12,
    }


def test_register_refuses_bad_input_and_saves_nothing(med):
    from mediation.models import DisputeParty

    from .conftest import parties

    with pytest.raises(ValidationError) as exc:
        med.register(
            category="no_such_category",
            parties=parties(p0__id_number="110105194912310021"),
            origin="rumour",
            description=" ",
        )
    errors = exc.value.message_dict
    assert {"category", "source", "description", "parties[0].id_number"} <= set(errors)
    assert "check digit" in errors["parties[0].id_number"][0]
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_referrals_transfers_and_assignments_notify_the_people_concerned(med):
    from governance.models import Notification
    from mediation import services

    case = med.register(actor=med.cast.street_handler, origin="police", referral_reference="JQ-1")
    assert Notification.objects.filter(user=med.head_x, message__contains=case.code).count() == 1
    services.dispute_transition(case=case, actor=med.head_x, action="accept", mediator=med.cast.mediator.pk)
    assert Notification.objects.filter(user=med.cast.mediator, message__contains=case.code).count() == 1
    services.dispute_transition(
        case=case, actor=med.cast.mediator, action="transfer", organisation=med.org_y.pk, note="属地"
    )
    assert Notification.objects.filter(user=med.mediator_y, message__contains=case.code).count() == 1
    # Sent back, then transferred to the same organisation again: its head is told again (the
    # notice was keyed by case and organisation, so the second arrival told nobody).
    services.dispute_transition(
        case=case, actor=med.mediator_y, action="transfer", organisation=med.org_x.pk, note="退回"
    )
    services.dispute_transition(
        case=case, actor=med.head_x, action="transfer", organisation=med.org_y.pk, note="再次移送"
    )
    assert Notification.objects.filter(user=med.mediator_y, message__contains=case.code).count() == 2


def test_an_extension_is_agreed_while_the_time_limit_runs_not_after_it_ended(med, monkeypatch):
    # Granted afterwards it would take the case off the overdue list and count its late conclusion
    # as on time (concluded_on_time, dispute_on_time_rate).
    late = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    on_its_last_day = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    _clock(monkeypatch, _at(2026, 4, 16, 0, 1))  # the limit ended at 24:00 on 15 April
    assert late.is_overdue
    with pytest.raises(TransitionNotAllowed) as exc:
        late.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert exc.value.message == "Cannot extend: the time limit ended on 2026-04-15."
    late.refresh_from_db()
    assert late.due_at == _end_of(2026, 4, 15) and not late.extended
    assert list(late.events.values_list("action", flat=True)) == ["register", "accept"]
    assert "extend" not in allowed_actions(med.cast.mediator, late)
    _clock(monkeypatch, _at(2026, 4, 15, 23, 59))
    assert "extend" in allowed_actions(med.cast.mediator, on_its_last_day)
    on_its_last_day.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert on_its_last_day.due_at == _end_of(2026, 5, 15)


def test_a_time_limit_ending_in_the_national_day_holiday_runs_to_the_first_working_day_after_it(
    med, monkeypatch
):
    # Accepted 1 September 2026: one month ends on 1 October, the first day of the National Day
    # holiday (1-7 October). It was due then, overdue on the 2nd while the office was closed, and an
    # extension asked for on the 8th was refused; Civil Code art. 203 moves it to the 8th.
    call_command("load_holidays", stdout=io.StringIO())
    case = _accepted_on(med, monkeypatch, _at(2026, 9, 1))
    assert case.due_at == _end_of(2026, 10, 8)
    _clock(monkeypatch, _at(2026, 10, 2, 9))
    assert not case.is_overdue and not DisputeCase.objects.overdue().exists()
    _clock(monkeypatch, _end_of(2026, 10, 8))
    assert not case.is_overdue and "extend" in allowed_actions(med.cast.mediator, case)
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    case.refresh_from_db()
    # A month from the 8th: Sunday 8 November, so the end of Monday the 9th.
    assert case.extended and case.due_at == _end_of(2026, 11, 9)


def test_a_holiday_entered_later_moves_the_time_limit_of_a_running_case(
    med, monkeypatch, django_capture_on_commit_callbacks
):
    from governance.models import Holiday

    running = _accepted_on(med, monkeypatch, _at(2026, 3, 15))  # due Wednesday 15 April
    extended = _accepted_on(med, monkeypatch, _at(2026, 2, 15))  # due Monday 16 March (15th a Sunday)
    concluded = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    legacy = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    _clock(monkeypatch, _at(2026, 3, 16, 9))
    extended.transition(action="extend", actor=med.cast.mediator, consent=True)
    assert extended.due_at == _end_of(2026, 4, 16)
    concluded.transition(action="conclude", actor=med.cast.mediator, outcome="withdrawn")
    # Stored under the old 30-day rule, at the hour of acceptance: kept as it is.
    DisputeCase.objects.filter(pk=legacy.pk).update(due_at=_at(2026, 4, 14))
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=dt.date(2026, 4, 15), name="地方假日")
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=dt.date(2026, 4, 16), name="地方假日")
    for case in (running, extended, concluded, legacy):
        case.refresh_from_db()
    assert running.due_at == _end_of(2026, 4, 17) and extended.due_at == _end_of(2026, 4, 17)
    assert concluded.due_at == _end_of(2026, 4, 15)  # judged by the limit it had
    assert legacy.due_at == _at(2026, 4, 14)


@pytest.mark.parametrize("outcome", ["refused", "withdrawn"])
def test_a_party_refusing_or_withdrawing_ends_an_accepted_case_before_any_session(med, outcome):
    # 人民调解法 art. 17: mediation needs both parties; one's clear refusal ends it, with no need
    # to "start mediation" first.
    case = med.accepted()
    event = case.transition(
        action="conclude", actor=med.cast.mediator, outcome=outcome, note="被申请人明确拒绝"
    )
    case.refresh_from_db()
    assert (case.status, case.outcome, event.from_status) == ("concluded", outcome, "accepted")
    assert case.concluded_at and case.concluded_on_time is True


@pytest.mark.parametrize(
    "fields",
    [
        {"outcome": "success_oral", "agreement_terms": "赔礼道歉"},
        {"outcome": "failure", "other_routes": ["litigation"]},
    ],
)
def test_success_and_failure_are_results_of_mediating_so_an_accepted_case_cannot_have_them(med, fields):
    case = med.accepted()
    with pytest.raises(TransitionNotAllowed) as exc:
        case.transition(action="conclude", actor=med.cast.mediator, **fields)
    assert "the case is accepted and no mediation has taken place yet" in exc.value.message
    case.refresh_from_db()
    assert (case.status, case.outcome, case.concluded_at) == ("accepted", "", None)
    assert case.events.count() == 2


WRITTEN = {
    "outcome": "success_written",
    "agreement_facts": "李四家卫生间漏水致张三丰家天花板受损，李四负全部责任",
    "agreement_terms": "李四赔偿张三丰维修费2000元",
    "performance_method": "银行转账",
}


@pytest.mark.parametrize("missing", ["agreement_facts", "performance_method", "performance_due"])
def test_a_written_agreement_states_the_facts_and_how_and_when_it_is_carried_out(med, missing):
    # DOMAIN.md / 人民调解法 art. 29: parties, facts and responsibilities, terms, how and when.
    case = med.in_mediation()
    fields = {**WRITTEN, "performance_due": timezone.localdate(), missing: ""}
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="conclude", actor=med.cast.mediator, **fields)
    assert exc.value.field == missing
    case.refresh_from_db()
    assert (case.status, case.outcome, case.agreement_terms) == ("in_mediation", "", "")


def test_an_oral_agreement_needs_its_terms_only(med):
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="赔礼道歉"
    )
    assert case.outcome == "success_oral" and case.agreement_effective_on == timezone.localdate()


def test_an_oral_agreement_ignores_the_hidden_written_date_left_in_the_form(med):
    # Choosing "written" first and then "oral" left the (hidden) effective date in the form: a date in
    # the future or malformed refused the oral agreement over a field the mediator could not see.
    for left in ("2999-01-01", "31/12/2026"):
        case = med.in_mediation()
        case.transition(
            action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="赔礼道歉",
            agreement_effective_on=left,
        )  # fmt: skip
        assert case.agreement_effective_on == timezone.localdate()


@pytest.mark.parametrize("placeholder", ["(to be completed)", "（待补充）"])
def test_no_agreement_binds_parties_still_named_by_the_placeholder(med, placeholder):
    # A case converted from a grid incident starts with placeholder parties (the incident names
    # nobody); an agreement printed with "（待补充）" for a name binds no one.
    from .conftest import parties

    case = med.in_mediation(parties=parties(p1__name=placeholder, p1__id_number="", p1__phone=""))
    with pytest.raises(ActionInvalid) as exc:
        case.transition(
            action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="赔礼道歉"
        )
    assert exc.value.field == "parties"
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    respondent = case.parties.get(role="respondent")
    services.dispute_party_update(case=case, party=respondent, actor=med.cast.mediator, name="李四")
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        **WRITTEN,
        performance_due=timezone.localdate(),
    )
    assert case.outcome == "success_written"


def test_a_second_prevention_record_adds_to_the_first_one(med):
    # The form names what this visit achieved: a group dispute defused later must not wipe the
    # criminal escalation prevented before (nor its persons).
    case = med.in_mediation()
    case.transition(
        action="record_prevention", actor=med.cast.mediator, escalation_prevented=True, escalation_persons=3
    )
    first = case.prevention_recorded_at
    case.transition(action="record_prevention", actor=med.cast.mediator, group_defused=True, group_persons=12)
    case.refresh_from_db()
    assert (case.escalation_prevented, case.escalation_persons) == (True, 3)
    assert (case.group_defused, case.group_persons) == (True, 12)
    assert case.prevention_recorded_at == first
    case.transition(
        action="record_prevention", actor=med.cast.mediator, escalation_prevented=True, escalation_persons=5
    )
    case.refresh_from_db()
    assert (case.escalation_persons, case.group_persons) == (5, 12)  # a record corrects its own count
    # Each fact keeps the time it was first recorded: the month it counts in.
    assert case.escalation_recorded_at == first < case.group_recorded_at


def test_a_second_prevention_record_moments_later_is_kept(med):
    # The group dispute defused after the escalation prevented, within ten minutes, was taken as
    # the first record sent twice ("done") and thrown away: the record's details were not compared.
    from mediation import services

    case = med.in_mediation()
    services.dispute_transition(
        case=case, actor=case.mediator, action="record_prevention", state="in_mediation",
        escalation_prevented=True, escalation_persons=3,
    )  # fmt: skip
    second = services.dispute_transition(
        case=case, actor=case.mediator, action="record_prevention", state="in_mediation",
        group_defused=True, group_persons=12,
    )  # fmt: skip
    assert not second.repeated
    case.refresh_from_db()
    assert (case.escalation_persons, case.group_defused, case.group_persons) == (3, True, 12)
    # The same record sent twice is still the first one.
    again = services.dispute_transition(
        case=case, actor=case.mediator, action="record_prevention", state="in_mediation",
        group_defused=True, group_persons=12,
    )  # fmt: skip
    assert again.repeated and again.pk == second.pk
    assert case.events.filter(action="record_prevention").count() == 2


def test_a_stale_form_asking_for_another_mediator_is_refused_not_done(med):
    # The head accepted for one mediator, then from the same page for another: "done", and the case
    # stayed with the first. A double tap asking the same is still the first one.
    from mediation import services

    case = med.register()
    first = services.dispute_transition(
        case=case, actor=med.head_x, action="accept", state="registered", mediator=med.mediator_x2.pk
    )
    again = services.dispute_transition(
        case=case, actor=med.head_x, action="accept", state="registered", mediator=med.mediator_x2.pk
    )
    assert again.repeated and again.pk == first.pk
    with pytest.raises(TransitionNotAllowed):
        services.dispute_transition(
            case=case, actor=med.head_x, action="accept", state="registered", mediator=med.cast.mediator.pk
        )
    case.refresh_from_db()
    assert case.mediator == med.mediator_x2 and case.events.filter(action="accept").count() == 1


def test_an_organisation_with_cases_to_move_is_not_closed(med):
    # Closed with an accepted case, its head and mediators lost every action on it (they act
    # through active organisations only): the case sat with nobody to move it.
    from django.core.exceptions import ValidationError

    case = med.accepted(org=med.org_y, area=med.cast.grid_c)
    med.org_y.is_active = False
    with pytest.raises(ValidationError) as exc:
        med.org_y.full_clean()
    assert "1 case of this organisation is still open" in exc.value.message_dict["is_active"][0]
    services.dispute_transition(
        case=case, actor=case.mediator, action="transfer", organisation=med.org_x.pk, note="撤并"
    )
    med.org_y.full_clean()  # nothing left to move: it may close


def test_a_case_is_not_given_to_a_member_who_was_signed_off(client, med):
    """Signing someone off is removing their mediator role (docs/api.md); their organisation row may
    stay. Accepting or reassigning a case to them was taken: they then saw no case at all, and the
    case sat with a mediator who could not act on it. The page offered them too."""
    from governance.models import Membership

    Membership.objects.filter(user=med.mediator_x2).delete()
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    response = api_client(med.head_x).post(url, {"action": "reassign", "mediator": med.mediator_x2.pk})
    assert response.status_code == 400 and "mediator" in response.json()["errors"]
    registered = med.register()
    response = api_client(med.head_x).post(
        f"/api/v1/disputes/{registered.code}/transition/",
        {"action": "accept", "mediator": med.mediator_x2.pk},
    )
    assert response.status_code == 400 and "mediator" in response.json()["errors"]
    assert DisputeCase.objects.get(pk=case.pk).mediator == med.cast.mediator
    assert DisputeCase.objects.get(pk=registered.pk).status == "registered"
    assert not DisputeEvent.objects.filter(action__in=("reassign", "accept"), actor=med.head_x).exists()
    client.force_login(med.head_x)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert (
        f'<option value="{med.cast.mediator.pk}"' in html
        and f'<option value="{med.mediator_x2.pk}"' not in html
    )


def test_a_risk_of_violence_found_during_mediation_is_reported_to_the_police_and_marks_the_case(med, client):
    # DOMAIN.md: where a dispute may turn violent the mediator reports it to the police. The risk was
    # a box of the registration only: a threat made at the second session could not be recorded.
    case = med.in_mediation()
    assert not case.risk_violence and "report_risk" in allowed_actions(case.mediator, case)
    api = api_client(case.mediator)
    url = f"/api/v1/disputes/{case.code}/transition/"
    refused = api.post(url, {"action": "report_risk", "note": ""}, format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["note"]
    case.refresh_from_db()
    assert not case.risk_violence and case.police_reported_at is None
    done = api.post(url, {"action": "report_risk", "note": "甲方扬言报复，已报春晖派出所"}, format="json")
    assert done.status_code == 200 and done.json()["risk_violence"] is True
    assert done.json()["police_reported_at"] and done.json()["status"] == "in_mediation"
    case.refresh_from_db()
    assert case.risk_violence and case.events.filter(action="report_risk").count() == 1
    # The page says when, and refuses a report without saying what was reported, naming the field.
    client.force_login(case.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert f"reported to the police on {timezone.localdate(case.police_reported_at).isoformat()}" in page
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "report_risk", "note": ""})
    assert response.status_code == 400
    assert "Say what was reported to the police, and to which police station." in response.content.decode()
    # At intake, whoever of the organisation took it reports it (no mediator is assigned yet).
    registered = med.register()
    registered.transition(action="report_risk", actor=med.mediator_x2, note="双方在门口推搡，已报警")
    assert registered.risk_violence and registered.status == "registered"
    # Once the mediation is over, the step is gone (409, naming the state); an outsider gets 404.
    case.transition(action="conclude", actor=case.mediator, outcome="withdrawn")
    late = api.post(url, {"action": "report_risk", "note": "x"}, format="json")
    assert late.status_code == 409 and "concluded" in late.json()["detail"]
    outsider = api_client(med.cast.outsider).post(url, {"action": "report_risk", "note": "x"}, format="json")
    assert outsider.status_code == 404


def test_a_transferred_case_keeps_its_one_extension(med, django_capture_on_commit_callbacks):
    # The time limit is extended once for the case, with both parties' consent: the receiving
    # organisation's acceptance reset the mark, and a transfer bought the case a second extension.
    from governance.models import Holiday

    case = med.in_mediation()
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    case.transition(
        action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属社区调委会管辖"
    )
    case.transition(action="accept", actor=med.mediator_y)
    case.transition(action="start", actor=med.mediator_y)
    assert case.extended and "extend" not in allowed_actions(med.mediator_y, case)
    due = case.due_at
    assert timezone.localdate(due) <= timezone.localdate() + dt.timedelta(days=45)  # its own month
    with pytest.raises(TransitionNotAllowed) as exc:
        case.transition(action="extend", actor=med.mediator_y, consent=True)
    assert "already extended once" in exc.value.message
    case.refresh_from_db()
    assert case.due_at == due and case.events.filter(action="extend").count() == 1
    # The receiving organisation's limit still follows the calendar (a holiday on its last day).
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=timezone.localdate(due), name="地方假日")
    case.refresh_from_db()
    assert timezone.localdate(case.due_at) > timezone.localdate(due)


def test_a_transferred_case_not_yet_extended_may_be_extended_once(med):
    case = med.in_mediation()
    case.transition(
        action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属社区调委会管辖"
    )
    case.transition(action="accept", actor=med.mediator_y)
    assert "extend" in allowed_actions(med.mediator_y, case)
    case.transition(action="extend", actor=med.mediator_y, consent=True)
    assert case.extended


def test_an_oral_agreement_has_no_judicial_confirmation(med):
    # 人民调解法 art. 33: the parties apply within 30 days of receiving the written agreement
    # (调解协议书); the court confirms a written agreement, and an oral one has none to submit.
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    assert case.confirmation_due is None and case.confirmation_days_left is None
    assert "apply_confirmation" not in allowed_actions(med.cast.mediator, case)
    assert "follow_up" in allowed_actions(med.cast.mediator, case)  # it is still carried out
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="apply_confirmation", actor=med.cast.mediator, joint=True)
    assert exc.value.field == "outcome" and "written agreement" in exc.value.message
    case.refresh_from_db()
    assert case.judicial_status == "" and not case.events.filter(action="apply_confirmation").exists()
    # One stored with a window before this rule is not warned about as closing, nor refreshed.
    DisputeCase.objects.filter(pk=case.pk).update(
        confirmation_due=timezone.localdate() + dt.timedelta(days=2)
    )
    case.refresh_from_db()
    assert not case.confirmation_closing
    assert not DisputeCase.objects.confirmation_closing().filter(pk=case.pk).exists()


def test_an_extension_records_the_parties_consent_and_the_limit_it_moved(med, monkeypatch):
    # The event said only "extend the time limit": not that both parties consented (what makes it
    # lawful), nor from which day to which, once a transfer or a calendar change moved the limit.
    case = _accepted_on(med, monkeypatch, _at(2026, 3, 15))
    _clock(monkeypatch, _at(2026, 4, 2))
    event = case.transition(action="extend", actor=med.cast.mediator, consent=True, note="双方同意")
    assert event.data == {"consent": True, "from_due": "2026-04-15", "due": "2026-05-15"}


def test_a_migration_clears_the_confirmation_window_stored_for_oral_agreements(med):
    # Concluded before oral agreements lost their window, they kept a "judicial confirmation window
    # ends" date that the API still gave out.
    import importlib

    from django.apps import apps

    migration = importlib.import_module("mediation.migrations.0016_oral_agreements_no_confirmation_window")
    oral, applied, written = med.in_mediation(), med.in_mediation(), med.agreed(effective_days_ago=3)
    for case in (oral, applied):
        case.transition(
            action="conclude", actor=case.mediator, outcome="success_oral", agreement_terms="互相道歉"
        )
    window = written.confirmation_due
    DisputeCase.objects.filter(pk__in=[oral.pk, applied.pk]).update(confirmation_due=window)
    DisputeCase.objects.filter(pk=applied.pk).update(judicial_status="applied")
    migration.clear_oral_windows(apps, None)
    assert DisputeCase.objects.get(pk=oral.pk).confirmation_due is None
    # What was recorded as applied for stays as it was; a written agreement keeps its window.
    assert DisputeCase.objects.get(pk=applied.pk).confirmation_due == window
    assert DisputeCase.objects.get(pk=written.pk).confirmation_due == window


def test_the_confirmation_steps_name_a_bad_date_and_a_missing_answer_together(med):
    """A date in the future and no joint application (or no court result) came one per refusal: the
    page showed the date, then, once it was fixed, the box left unticked. Nothing is written."""
    case = med.agreed(effective_days_ago=3)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="apply_confirmation", actor=med.cast.mediator, applied_on=tomorrow)
    assert set(exc.value.errors) == {"applied_on", "joint"}
    case.refresh_from_db()
    assert case.judicial_status == "" and not case.events.filter(action="apply_confirmation").exists()
    case.transition(action="apply_confirmation", actor=med.cast.mediator, joint=True)
    before = timezone.localdate() - dt.timedelta(days=10)
    with pytest.raises(ActionInvalid) as exc:
        case.transition(action="record_confirmation", actor=med.cast.mediator, decided_on=before)
    assert set(exc.value.errors) == {"result", "decided_on"}
    assert "before the application" in exc.value.errors["decided_on"]
    case.refresh_from_db()
    assert case.judicial_status == "applied" and case.judicial_decided_on is None
