"""The demo's timelines tell what the real workflow would have written.

The demo writes its months of cases and petitions in bulk, event rows included; those rows were
written before the steps recorded their details (an acceptance without its mediator, a routing
without its on-time flag, a conclusion on the desk without its outcome, confirmations and follow-up
visits on the case with no event at all). What each step records is not copied here: after seeding,
the test takes records of the demo city through the real steps (services and ``transition``) and
learns from their events which details each kind carries, always (required) or at times (allowed);
every demo event must then carry the required ones, nothing the step never writes, and values of
the same types.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections import defaultdict

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from governance import demo as demo_city
from governance.models import Membership
from mediation import demo as mediation_demo
from mediation import services as mediation_services
from mediation.models import DisputeCase, DisputeEvent
from petitions import demo as petitions_demo
from petitions import services as petition_services
from petitions.models import Petition, PetitionEvent

pytestmark = pytest.mark.django_db

PARTIES = [
    {"role": "applicant", "name": "张三丰", "id_number": "11010519491231002X", "phone": "13812345678"},
    {"role": "respondent", "name": "李四", "id_number": "340104199003071235", "phone": "13987654321"},
]


class Written:
    """What the real steps wrote, by action: the details every event of it had, those some had, and
    the types each detail's values took."""

    def __init__(self) -> None:
        self.always: dict[str, set[str]] = {}
        self.ever: dict[str, set[str]] = defaultdict(set)
        self.types: dict[tuple[str, str], set[type]] = defaultdict(set)

    def learn(self, events) -> None:
        for event in events:
            keys = set(event.data or {})
            self.always[event.action] = self.always.get(event.action, keys) & keys
            self.ever[event.action] |= keys
            for key in keys:
                self.types[(event.action, key)].add(type(event.data[key]))

    def mismatches(self, events) -> list[str]:
        """Each demo event that differs from the real step's, named with what is wrong (so a failure
        reads as a list of reasons, not a count)."""
        wrong = []
        for event in events:
            keys = set(event.data or {})
            if event.action not in self.always:
                wrong.append(f"{event.action}: no real step of it was taken to learn from")
                continue
            if missing := self.always[event.action] - keys:
                wrong.append(f"{event.action} lacks {sorted(missing)}")
            if extra := keys - self.ever[event.action]:
                wrong.append(f"{event.action} has {sorted(extra)}, which the step never writes")
            for key in keys & self.ever[event.action]:
                if type(event.data[key]) not in self.types[(event.action, key)]:
                    wrong.append(f"{event.action}.{key} is {type(event.data[key]).__name__}")
        return sorted(set(wrong))


@pytest.fixture
def city(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    city = demo_city.build_city("small", seed=5)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    mediation_demo.seed(demo=city, rng=random.Random(5), scale="small", months=8, stdout=out)
    petitions_demo.seed(demo=city, rng=random.Random(5), scale="small", months=8, stdout=out)
    return city


def _real_dispute_events(city) -> list[DisputeEvent]:
    """Three new cases of demo_mediator's centre through every step the demo's cases take: a written
    agreement confirmed by the court and visited, a failure, a withdrawal; preventions of each kind."""
    mediator = city.users["demo_mediator"]
    grid = next(g for g in city.grids if g.path.startswith(city.streets[0].path))
    ids = []
    for outcome in ("success_written", "failure", "withdrawn"):
        case = mediation_services.dispute_register(
            actor=mediator,
            category="neighbours",
            area=grid,
            origin="application",
            description="楼上漏水，双方争执。",
            parties=PARTIES,
            received_at=timezone.now() - dt.timedelta(days=3),
        )
        ids.append(case.pk)
        step = case.transition
        step(action="accept", actor=mediator)
        if outcome == "withdrawn":
            step(action="conclude", actor=mediator, outcome=outcome)
            continue
        mediation_services.dispute_record_session(
            case=case,
            actor=mediator,
            held_at=timezone.now() - dt.timedelta(hours=2),
            place="调解室",
            attendees="双方当事人、调解员",
            summary="听取双方陈述。",
        )
        case.refresh_from_db()
        step = case.transition
        if outcome == "failure":
            step(action="extend", actor=mediator, note="双方同意延长", consent=True)
            step(action="record_prevention", actor=mediator, group_defused=True, group_persons=9)
            step(action="conclude", actor=mediator, outcome=outcome, other_routes=["litigation"])
            continue
        step(action="record_prevention", actor=mediator, escalation_prevented=True, escalation_persons=3)
        today = timezone.localdate()
        step(
            action="conclude",
            actor=mediator,
            outcome=outcome,
            agreement_facts="楼上漏水，责任在李四",
            agreement_terms="李四赔偿张三丰维修费2000元",
            agreement_amount="2000",
            performance_method="银行转账",
            performance_due=today,
            agreement_effective_on=today,
        )
        step(action="apply_confirmation", actor=mediator, joint=True)
        step(action="record_confirmation", actor=mediator, result="confirmed")
        step(action="follow_up", actor=mediator, performance="performed")
        step(action="close", actor=mediator)
    return list(DisputeEvent.objects.filter(case_id__in=ids))


def test_every_demo_case_event_carries_what_the_real_step_writes(city):
    demo_events = list(DisputeEvent.objects.all())
    real = Written()
    real.learn(_real_dispute_events(city))
    assert real.mismatches(demo_events) == []
    # A fact on the case has its step in the timeline: an application to the court, its decision,
    # a follow-up visit, a prevention record.
    cases = DisputeCase.objects.annotate(
        **{
            f"n_{action}": Count("events", filter=Q(events__action=action))
            for action in ("apply_confirmation", "record_confirmation", "follow_up", "record_prevention")
        }
    )
    for fact, action in (
        (Q(judicial_applied_on__isnull=False), "apply_confirmation"),
        (Q(judicial_decided_on__isnull=False), "record_confirmation"),
        (~Q(follow_up=""), "follow_up"),
        (Q(prevention_recorded_at__isnull=False), "record_prevention"),
    ):
        assert cases.filter(fact).exists(), action  # the demo has each, or the check proves nothing
        untold = cases.filter(fact).exclude(**{f"n_{action}": 1}).values_list("code", flat=True)
        assert list(untold) == [], action
        assert not cases.filter(~fact, **{f"n_{action}__gt": 0}).exists(), action
    # Each event says what the case says: the outcome, the court's decision, the visit's finding.
    for event in DisputeEvent.objects.filter(
        action__in=["conclude", "record_confirmation", "follow_up"], case__in=DisputeCase.objects.all()
    ).select_related("case"):
        case = event.case
        expected = {
            "conclude": {"outcome": case.outcome},
            "record_confirmation": {"result": case.judicial_status},
            "follow_up": {"performance": case.follow_up},
        }[event.action]
        assert expected.items() <= event.data.items(), (case.code, event.action)
        assert event.detail  # the timeline shows it


def _real_petition_events(city) -> list[PetitionEvent]:
    """New petitions through every step the demo's take: routed, accepted, extended, replied,
    evaluated, reviewed; closed; redirected; declined by the department; a repeat registered."""
    officer = city.users["demo_petition"]
    community = city.communities[0]
    district = city.districts[0]
    dept = next(
        m.department
        for m in Membership.objects.filter(
            department__area=district, department__name="城市管理局", is_head=False
        ).select_related("department")
    )
    handler = Membership.objects.filter(department=dept, is_head=False).first().user
    head = Membership.objects.filter(department=dept, is_head=True).first().user
    petitioner = {"name": "王伟", "id_number": "340104199003071235", "phone": "13800000001"}
    ids = []

    def register(**kw) -> Petition:
        fields = dict(
            actor=officer,
            channel="visit",
            category="urban",
            content="工地夜间施工噪音扰民。",
            area=community,
            petitioners=[petitioner],
            received_at=timezone.now() - dt.timedelta(days=1),
        )
        petition = petition_services.petition_register(**{**fields, **kw})
        ids.append(petition.pk)
        return petition

    def transition(petition, actor, action, **fields):
        petition_services.petition_transition(petition=petition, actor=actor, action=action, **fields)
        petition.refresh_from_db()

    first = register()
    transition(first, officer, "assign", department=dept.pk)
    transition(first, handler, "accept")
    transition(first, handler, "extend", note="情况复杂", days=10, approver=head.username, notified=True)
    transition(first, handler, "reply", opinion="not_support", text="诉求缺乏政策依据。")
    transition(first, officer, "evaluate", evaluation="dissatisfied")
    transition(first, officer, "request_review")
    transition(first, officer, "decide_review", decision="upheld", note="维持原意见。")
    transition(first, officer, "close")
    register(repeat_of=first.code)
    redirected = register(petitioners=[{"name": "李娜", "phone": "13800000002"}])
    transition(redirected, officer, "redirect", route=Petition.Route.values[0])
    declined = register(petitioners=[{"name": "赵敏", "phone": "13800000003"}], handling_type="report")
    transition(declined, officer, "assign", department=dept.pk)
    transition(declined, handler, "decline", note="已依法处理，不予受理。")
    return list(PetitionEvent.objects.filter(petition_id__in=ids))


def test_every_demo_petition_event_carries_what_the_real_step_writes(city):
    demo_events = list(PetitionEvent.objects.all())
    demo_petitions = list(Petition.objects.values_list("pk", flat=True))
    real = Written()
    real.learn(_real_petition_events(city))
    assert real.mismatches(demo_events) == []
    # The on-time flags say what the stored limits say (the on-time rates are counted from them).
    for event in PetitionEvent.objects.filter(
        action__in=["assign", "accept", "decline", "reply", "decide_review"], petition__in=demo_petitions
    ).select_related("petition"):
        p = event.petition
        due = {
            "assign": p.route_due_at,
            "accept": p.acknowledge_due_at,
            "decline": p.acknowledge_due_at,
            "reply": p.reply_due_at,
            "decide_review": p.review_due_at,
        }[event.action]
        assert event.data["on_time"] is (event.at <= due), (p.code, event.action)
    # A repeat's registration names the petition it repeats, as the officer's registration does.
    repeats = Petition.objects.filter(is_repeat=True).select_related("repeat_of")
    assert repeats.exists()
    for p in repeats:
        register = p.events.get(action="register")
        assert register.data == {"repeat_of": p.repeat_of.code, "persons": p.persons_count}


def _after_hours(events, now: dt.datetime) -> list[str]:
    """The steps of ``events`` taken outside office hours, older than a day before ``now`` (a step of
    the last day may stay where it fell: moved to the next morning it would lie in the future)."""
    recent = now - dt.timedelta(days=1)
    return sorted(
        {
            f"{e.action} {timezone.localtime(e.at):%H:%M}"
            for e in events
            if e.at < recent
            and not demo_city.OFFICE_OPENS <= timezone.localtime(e.at).hour < demo_city.OFFICE_CLOSES
        }
    )


def test_the_demos_people_act_in_office_hours(city):
    """A mediator accepting a case at 01:10, an office recording a letter at 23:36: the demo's
    steps happen while offices are open (only online petitions arrive at any hour)."""
    now = timezone.now()
    assert _after_hours(DisputeEvent.objects.all(), now) == []
    assert (
        _after_hours(PetitionEvent.objects.exclude(action="register", petition__channel="online"), now) == []
    )
    # Online petitions still come in at night: the rule is the office's, not the petitioner's.
    online = Petition.objects.filter(channel="online", received_at__lt=now - dt.timedelta(days=1))
    hours = {timezone.localtime(at).hour for at in online.values_list("received_at", flat=True)}
    assert hours - set(range(demo_city.OFFICE_OPENS, demo_city.OFFICE_CLOSES))


@pytest.mark.parametrize("hour,minute", [(7, 10), (17, 14), (19, 40)])
def test_the_demo_keeps_office_hours_whatever_the_hour_it_is_seeded_at(settings, monkeypatch, hour, minute):
    """Seeded at 17:14, the desk's agreement "about to lose its confirmation window" was received at
    15:14, accepted at 16:14, mediated at 17:14 and concluded at 18:14: after the office closed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seeded = timezone.make_aware(dt.datetime(2026, 12, 7, hour, minute))
    monkeypatch.setattr(timezone, "now", lambda: seeded)
    city = demo_city.build_city("small", seed=5)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    mediation_demo.seed(demo=city, rng=random.Random(5), scale="small", months=2, stdout=out)
    petitions_demo.seed(demo=city, rng=random.Random(5), scale="small", months=2, stdout=out)
    assert _after_hours(DisputeEvent.objects.all(), seeded) == []
    assert (
        _after_hours(PetitionEvent.objects.exclude(action="register", petition__channel="online"), seeded)
        == []
    )


def test_office_hours_move_a_time_forward_to_the_next_opening_but_never_into_the_future():
    tz = timezone.get_current_timezone()

    def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
        return timezone.make_aware(dt.datetime(2026, 11, day, hour, minute), tz)

    now = at(20, 12)
    assert demo_city.office_hours(at(10, 9, 30), now) == at(10, 9, 30)
    assert demo_city.office_hours(at(10, 1, 10), now) == at(10, 8, 10)
    assert demo_city.office_hours(at(10, 23, 36), now) == at(11, 8, 36)
    assert demo_city.office_hours(at(20, 6, 5), now) == at(20, 8, 5)
    assert demo_city.office_hours(at(19, 21, 0), at(20, 7, 0)) == at(19, 21, 0)  # stays: not after now
