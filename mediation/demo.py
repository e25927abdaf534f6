"""Demo data for mediation: organisations with mediators across the demo city, and months of cases.

* Organisations: a people's mediation committee per community, a mediation centre per street, and per
  district a district centre, a police-people joint mediation room and a medical-dispute committee.
  ``demo_mediator`` heads the first street's centre and has a lively desk (overdue cases, a closing
  judicial-confirmation window, cases waiting for acceptance).
* Cases: a few per community and month, more in larger communities; categories weighted as in
  monthly reports; each organisation has its own success rate (90-98 %), shifted by category (family
  and medical disputes are harder), so the dashboards show real differences.

Everything is written with bulk inserts (city scale: ~50,000 cases) and the DSP counters are set to
the numbers used, so cases registered afterwards continue the sequence without gaps.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import pii
from governance.demo import OFFICE_OPENS, DemoCity, office_hours
from governance.models import Area, Membership, Role, SequenceCounter, User
from mediation import services
from mediation.models import (
    CONFIRMATION_WARN_DAYS,
    CONFIRMATION_WINDOW_DAYS,
    DisputeCase,
    DisputeCategory,
    DisputeEvent,
    DisputeParty,
    DisputeSession,
    MediationOrganisation,
    OrganisationMember,
    confirmation_window_end,
    time_limit_due,
)

# code: (weight, success-rate shift)
CATEGORY_MIX = {
    "neighbours": (20, 0.015),
    "marriage_family": (15, -0.03),
    "housing_homestead": (8, -0.01),
    "contract": (6, 0.0),
    "production_business": (4, -0.005),
    "damage_compensation": (10, 0.005),
    "land_forest": (3, -0.02),
    "requisition_demolition": (3, -0.035),
    "environment": (2, -0.01),
    "labour": (8, -0.02),
    "consumer": (5, 0.01),
    "medical": (3, -0.04),
    "traffic_accident": (6, 0.0),
    "property_management": (5, 0.01),
    "other": (2, 0.0),
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强海燕红梅玉兰春梅小红德胜"
DESCRIPTIONS = {
    "neighbours": [
        "楼上装修噪音扰民，双方多次争吵。",
        "邻居堆放杂物占用公共楼道引发矛盾。",
        "空调外机滴水至楼下阳台引发纠纷。",
    ],
    "marriage_family": ["夫妻因子女抚养费问题发生争执。", "兄弟姐妹因老人赡养分担产生矛盾。"],
    "housing_homestead": ["相邻宅基地界址不清引发争议。", "房屋漏水导致邻户墙体受损。"],
    "contract": ["装修合同工期延误，双方就违约金产生争议。", "租赁合同到期押金退还发生纠纷。"],
    "production_business": ["个体商户之间货款结算发生争议。"],
    "damage_compensation": ["宠物犬咬伤路人，双方就医疗费赔偿协商未果。", "高空坠物砸坏车辆引发赔偿纠纷。"],
    "land_forest": ["承包地边界争议。"],
    "requisition_demolition": ["拆迁补偿分配家庭内部发生争议。"],
    "environment": ["餐饮油烟扰民引发居民投诉。"],
    "labour": ["农民工讨要拖欠工资。", "员工离职经济补偿金发生争议。"],
    "consumer": ["预付卡商家停业，消费者要求退款。"],
    "medical": ["患者家属对诊疗结果不满，要求赔偿。"],
    "traffic_accident": ["电动车与行人相撞，就医疗费赔偿发生争议。"],
    "property_management": ["业主拒交物业费，与物业公司发生纠纷。", "小区停车位管理引发业主与物业矛盾。"],
    "other": ["其他民间纠纷。"],
}
ORIGIN_MIX = [
    (DisputeCase.Origin.APPLICATION, 45),
    (DisputeCase.Origin.OWN_INITIATIVE, 25),
    (DisputeCase.Origin.POLICE, 15),
    (DisputeCase.Origin.COURT, 5),
    (DisputeCase.Origin.PETITION_OFFICE, 5),
]
ROUTES = DisputeCase.Route.values


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _i in range(rng.choice((1, 2))))


def _id_number(rng: random.Random) -> str:
    first = f"3401{rng.randint(2, 24):02d}{rng.randint(1950, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    return first + pii.id_check_digit(first)


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"


def _organisations(demo: DemoCity, rng: random.Random, stdout) -> None:
    if MediationOrganisation.objects.exists():
        return
    orgs: list[MediationOrganisation] = []
    staff: list[tuple[int, int]] = []  # (org index, number of mediators)
    for district in demo.districts:
        for kind, suffix, industry in (
            (MediationOrganisation.Kind.DISTRICT_CENTRE, "矛盾纠纷调解中心", ""),
            (MediationOrganisation.Kind.POLICE_JOINT, "警民联调室", ""),
            (MediationOrganisation.Kind.INDUSTRY, "医疗纠纷人民调解委员会", "medical"),
        ):
            orgs.append(
                MediationOrganisation(
                    name=district.name + suffix, kind=kind, industry=industry, area=district
                )
            )
            staff.append((len(orgs) - 1, 2))
    for street in demo.streets:
        orgs.append(
            MediationOrganisation(
                name=street.name + "人民调解委员会",
                kind=MediationOrganisation.Kind.STREET_CENTRE,
                area=street,
            )
        )
        staff.append((len(orgs) - 1, 3))
    for community in demo.communities:
        orgs.append(
            MediationOrganisation(
                name=community.name + "人民调解委员会",
                kind=MediationOrganisation.Kind.COMMITTEE,
                area=community,
            )
        )
        staff.append((len(orgs) - 1, rng.choice((1, 2, 2))))
    MediationOrganisation.objects.bulk_create(orgs, batch_size=2000)

    # Mediators: users with unusable passwords (actors of the demo records, no logins).
    password = make_password(None)
    users = []
    plan = []
    for index, count in staff:
        org = orgs[index]
        for n in range(count):
            users.append(
                User(
                    username=f"med_{org.area.code}_{org.kind[:4]}_{n + 1}",
                    display_name=f"调解员 {_name(rng)}",
                    password=password,
                )
            )
            plan.append((org, n == 0))
    User.objects.bulk_create(users, batch_size=2000, ignore_conflicts=True)
    by_name = {
        u.username: u.pk for u in User.objects.filter(username__startswith="med_").only("id", "username")
    }
    members = []
    roles = []
    for user, (org, head) in zip(users, plan, strict=True):
        uid = by_name[user.username]
        members.append(OrganisationMember(organisation=org, user_id=uid, is_head=head))
        roles.append(Membership(user_id=uid, role=Role.MEDIATOR, area=org.area))
    mediator = demo.users.get("demo_mediator")
    if mediator is not None:
        street_centre = next(o for o in orgs if o.area_id == demo.streets[0].pk)
        # demo_mediator heads the first street's centre (its first mediator becomes a plain member).
        members = [
            OrganisationMember(organisation=m.organisation, user_id=m.user_id, is_head=False)
            if m.organisation is street_centre
            else m
            for m in members
        ]
        members.append(OrganisationMember(organisation=street_centre, user=mediator, is_head=True))
    OrganisationMember.objects.bulk_create(members, batch_size=2000, ignore_conflicts=True)
    Membership.objects.bulk_create(roles, batch_size=2000, ignore_conflicts=True)
    stdout.write(
        "  mediation: "
        + _("%(orgs)d organisations, %(mediators)d mediators") % {"orgs": len(orgs), "mediators": len(users)}
    )


def seed(*, demo: DemoCity, rng: random.Random, scale: str, months: int, stdout) -> None:
    rng = random.Random(rng.random())  # our own stream: other apps' draws do not shift ours
    with transaction.atomic():
        _organisations(demo, rng, stdout)
        if DisputeCase.objects.exists():
            stdout.write("  mediation: " + _("cases already present; kept."))
            return
        _cases(demo, rng, months, stdout)


def _cases(demo: DemoCity, rng: random.Random, months: int, stdout) -> None:
    now = timezone.now()
    tz = timezone.get_current_timezone()
    categories = {c.code: c for c in DisputeCategory.objects.all()}
    cat_codes = [c for c in CATEGORY_MIX if c in categories]
    cat_weights = [CATEGORY_MIX[c][0] for c in cat_codes]
    orgs = list(MediationOrganisation.objects.select_related("area"))
    members: dict[int, list[int]] = defaultdict(list)
    for org_id, user_id in OrganisationMember.objects.values_list("organisation_id", "user_id"):
        members[org_id].append(user_id)
    by_area = {o.area_id: [] for o in orgs}
    for o in orgs:
        by_area[o.area_id].append(o)
    org_rate = {o.pk: rng.uniform(0.90, 0.98) for o in orgs}
    grids_of: dict[int, list[Area]] = defaultdict(list)
    for g in demo.grids:
        grids_of[g.parent_id].append(g)
    street_of = {c.pk: c.parent_id for c in demo.communities}
    district_of = {s.pk: s.parent_id for s in demo.streets}
    registrar = demo.users.get("demo_mediator") or User.objects.filter(is_superuser=True).first()
    demo_mediator = demo.users.get("demo_mediator")
    demo_street_centre = next(
        (
            o
            for o in by_area.get(demo.streets[0].pk, [])
            if o.kind == MediationOrganisation.Kind.STREET_CENTRE
        ),
        None,
    )

    first_month = (
        timezone.localtime(now).date().replace(day=1) - dt.timedelta(days=31 * (months - 1))
    ).replace(day=1)
    span_days = (timezone.localdate(now) - first_month).days

    cases: list[DisputeCase] = []
    extra: list[dict] = []  # per case: parties, sessions, events to add once ids exist
    for community in demo.communities:
        households = sum(g.households for g in grids_of[community.pk]) or 1000
        per_month = max(0.6, households / 1500)  # ~2 cases a month in a 3,000-household community
        n_cases = int(rng.gauss(per_month * months, per_month * months * 0.15))
        street_id = street_of[community.pk]
        district_id = district_of[street_id]
        committee = by_area[community.pk][0]
        street_orgs = by_area.get(street_id, [])
        district_orgs = {o.kind: o for o in by_area.get(district_id, [])}
        for _i in range(max(n_cases, 0)):
            code = rng.choices(cat_codes, cat_weights)[0]
            draw = rng.random()
            if code == "medical" and MediationOrganisation.Kind.INDUSTRY in district_orgs:
                org = district_orgs[MediationOrganisation.Kind.INDUSTRY]
            elif draw < 0.62:
                org = committee
            elif draw < 0.87 and street_orgs:
                org = street_orgs[0]
            elif code in ("neighbours", "damage_compensation", "traffic_accident") and (
                MediationOrganisation.Kind.POLICE_JOINT in district_orgs
            ):
                org = district_orgs[MediationOrganisation.Kind.POLICE_JOINT]
            else:
                org = district_orgs.get(MediationOrganisation.Kind.DISTRICT_CENTRE, committee)
            received = timezone.make_aware(
                dt.datetime.combine(first_month, dt.time(8))
                + dt.timedelta(days=rng.randint(0, max(span_days, 0)), minutes=rng.randint(0, 600)),
                tz,
            )
            if received > now:
                received = now - dt.timedelta(hours=rng.randint(1, 48))
            grid_list = grids_of[community.pk]
            area = rng.choice(grid_list) if grid_list and rng.random() < 0.8 else community
            mediator_id = rng.choice(members[org.pk]) if members[org.pk] else None
            if demo_mediator and org is demo_street_centre and rng.random() < 0.5:
                mediator_id = demo_mediator.pk
            rate = min(0.98, max(0.90, org_rate[org.pk] + CATEGORY_MIX[code][1]))
            case, rows = _one_case(
                rng, now, received, categories[code], org, area, mediator_id, rate, registrar
            )
            cases.append(case)
            extra.append(rows)

    if demo_mediator and demo_street_centre:
        _demo_desk(rng, now, categories, demo_street_centre, demo_mediator, cases, extra, grids_of)

    # Numbers in order of receipt, per year; counters continue from there.
    order = sorted(range(len(cases)), key=lambda i: cases[i].received_at)
    per_year: dict[int, int] = defaultdict(int)
    for i in order:
        year = timezone.localtime(cases[i].received_at).year
        per_year[year] += 1
        cases[i].code = f"DSP-{year}-{per_year[year]:06d}"
    for year, value in per_year.items():
        SequenceCounter.objects.update_or_create(key="DSP", year=year, defaults={"value": value})
    DisputeCase.objects.bulk_create(cases, batch_size=2000)

    parties, sessions, events = [], [], []
    for case, rows in zip(cases, extra, strict=True):
        for p in rows["parties"]:
            p.case_id = case.pk
            parties.append(p)
        for s in rows["sessions"]:
            s.case_id = case.pk
            sessions.append(s)
        for e in rows["events"]:
            e.case_id = case.pk
            events.append(e)
    DisputeParty.objects.bulk_create(parties, batch_size=5000)
    DisputeSession.objects.bulk_create(sessions, batch_size=5000)
    DisputeEvent.objects.bulk_create(events, batch_size=5000)
    stdout.write(
        "  mediation: "
        + _("%(cases)d cases, %(parties)d parties, %(sessions)d sessions")
        % {"cases": len(cases), "parties": len(parties), "sessions": len(sessions)}
    )
    # The beat's daily notice, sent once here (the embedded default runs no beat): see grids.demo.
    notified = services.dispute_notify_confirmation_closing()
    stdout.write("  mediation: " + _("%(n)d confirmation windows closing notified.") % {"n": notified})


def _parties(rng: random.Random, n: int) -> list[DisputeParty]:
    out = []
    for i in range(n):
        id_number = _id_number(rng)
        out.append(
            DisputeParty(
                role="applicant" if i == 0 else "respondent" if i == 1 else "other",
                name=_name(rng),
                id_number=id_number,
                id_hash=pii.keyed_hash(id_number),
                phone=_phone(rng),
                address=f"{rng.choice(['幸福路', '长江路', '望江路', '芙蓉路', '徽州大道'])}{rng.randint(1, 300)}号",
                position=i,
            )
        )
    return out


def _one_case(rng, now, received, category, org, area, mediator_id, rate, registrar):
    age = now - received
    n_parties = 2 if rng.random() < 0.85 else 3
    risk_violence = rng.random() < 0.08
    risk_group = rng.random() < 0.03
    persons = n_parties + (rng.randint(5, 40) if risk_group else rng.randint(0, 2))
    origin = rng.choices([o for o, _w in ORIGIN_MIX], [w for _o, w in ORIGIN_MIX])[0]
    case = DisputeCase(
        category=category,
        origin=origin,
        referral_reference=f"{origin[:2].upper()}-{received:%Y%m%d}-{rng.randint(100, 999)}"
        if origin in ("police", "court", "petition_office")
        else "",
        area=area,
        description=rng.choice(DESCRIPTIONS.get(category.code, DESCRIPTIONS["other"])),
        amount=rng.choice([None, rng.randint(5, 500) * 100]),
        persons_involved=persons,
        risk_violence=risk_violence,
        risk_group=risk_group,
        received_at=received,
        registered_by_id=mediator_id or registrar.pk,
        organisation=org,
        status=DisputeCase.Status.REGISTERED,
    )
    rows = {"parties": _parties(rng, n_parties), "sessions": [], "events": []}
    ev = rows["events"]
    ev.append(
        DisputeEvent(
            actor_id=mediator_id or registrar.pk,
            at=received,
            action="register",
            to_status="registered",
            organisation=org,
            # As dispute_register writes it (no demo case comes from a grid incident).
            data={"origin": origin, "incident": None},
        )
    )
    if age < dt.timedelta(days=2) and rng.random() < 0.6:
        return case, rows  # still waiting for acceptance
    # People act in office hours (governance.demo.office_hours): never before the receipt.
    accepted = office_hours(min(received + dt.timedelta(hours=rng.randint(1, 30)), now), now)
    case.mediator_id = mediator_id
    case.accepted_at = accepted
    case.due_at = time_limit_due(accepted)
    case.status = DisputeCase.Status.ACCEPTED
    ev.append(
        DisputeEvent(
            actor_id=mediator_id,
            at=accepted,
            action="accept",
            from_status="registered",
            to_status="accepted",
            organisation=org,
            data={"mediator": mediator_id},
        )
    )
    # How long it takes: mostly well within the month, a few beyond it (late or extended).
    days = rng.choices([rng.randint(1, 10), rng.randint(10, 28), rng.randint(29, 45)], [55, 38, 7])[0]
    concluded = office_hours(accepted + dt.timedelta(days=days, hours=rng.randint(0, 8)), now)
    n_sessions = rng.choice((1, 1, 2, 3))
    for k in range(n_sessions):
        held = accepted + (min(concluded, now) - accepted) * (k + 1) / (n_sessions + 1)
        held = min(office_hours(held, now), concluded)
        if held > now:
            break
        rows["sessions"].append(
            DisputeSession(
                held_at=held,
                place=rng.choice(["调解室", "当事人家中", "社区议事厅", "派出所调解室"]),
                attendees="双方当事人、调解员",
                summary=rng.choice(
                    ["听取双方陈述，释法明理。", "背对背调解，缩小分歧。", "双方初步达成一致意见。"]
                ),
                next_step=rng.choice(["", "约定再次面谈", "核实损失金额"]),
                recorded_by_id=mediator_id,
                recorded_at=held,
            )
        )
        ev.append(
            DisputeEvent(
                actor_id=mediator_id,
                at=held,
                action="record_session",
                from_status=case.status,
                to_status="in_mediation",
                organisation=org,
            )
        )
        case.status = DisputeCase.Status.IN_MEDIATION
    # The limit ends at the end of its day: asked for in the morning after that hour, days before.
    asked = office_hours(case.due_at - dt.timedelta(days=rng.randint(1, 5)), now)
    if concluded > case.due_at and asked <= now and rng.random() < 0.5:
        # Both parties agreed to the one extension, a few days before the limit: in the timeline too.
        held = any(e.action == "record_session" and e.at <= asked for e in ev)
        status = DisputeCase.Status.IN_MEDIATION if held else DisputeCase.Status.ACCEPTED
        ev.append(
            DisputeEvent(
                actor_id=mediator_id,
                at=asked,
                action="extend",
                from_status=status,
                to_status=status,
                note="双方当事人同意延长调解期限",
                organisation=org,
                # As the extend step records it (mediation.models.DisputeCase._do_extend).
                data={
                    "consent": True,
                    "from_due": timezone.localdate(case.due_at).isoformat(),
                    "due": timezone.localdate(time_limit_due(case.due_at)).isoformat(),
                },
            )
        )
        case.extended = True
        case.due_at = time_limit_due(case.due_at)
    if concluded > now:
        return case, rows  # still running (maybe overdue)
    draw = rng.random()
    if draw < 0.03:
        outcome = DisputeCase.Outcome.WITHDRAWN
    elif draw < 0.05:
        outcome = DisputeCase.Outcome.REFUSED
    elif rng.random() < rate:
        outcome = (
            DisputeCase.Outcome.SUCCESS_WRITTEN if rng.random() < 0.62 else DisputeCase.Outcome.SUCCESS_ORAL
        )
    else:
        outcome = DisputeCase.Outcome.FAILURE
    case.status = DisputeCase.Status.CONCLUDED
    case.outcome = outcome
    case.concluded_at = concluded
    case.concluded_on_time = concluded <= case.due_at
    if outcome in DisputeCase.SUCCESS_OUTCOMES:
        effective = timezone.localtime(concluded).date()
        case.agreement_facts = "经查明，" + case.description
        amount = case.amount and int(case.amount * rng.uniform(0.4, 0.9))
        case.agreement_terms = (
            f"一、被申请人于协议生效后十五日内一次性支付申请人人民币{amount}元；二、双方就此纠纷再无其他争议。"
            if amount
            else "一、双方互相谅解，被申请人向申请人赔礼道歉；二、双方今后和睦相处，不再因此事发生争执。"
        )
        case.agreement_amount = amount or None
        case.performance_method = "银行转账" if amount else "当场履行"
        # Paid within the fifteen days the terms give; an apology is made on the spot, that day.
        case.performance_due = effective + dt.timedelta(days=15) if amount else effective
        case.agreement_effective_on = effective
        # Only a written agreement is confirmed by a court (DisputeCase.CONFIRMABLE_OUTCOMES).
        written = outcome == DisputeCase.Outcome.SUCCESS_WRITTEN
        case.confirmation_due = confirmation_window_end(effective) if written else None
        if written and rng.random() < 0.4:
            applied = effective + dt.timedelta(days=rng.randint(1, 20))
            if applied <= timezone.localdate(now):
                case.judicial_status = DisputeCase.Judicial.APPLIED
                case.judicial_applied_on = applied
                decided = applied + dt.timedelta(days=rng.randint(3, 15))
                if decided <= timezone.localdate(now):
                    case.judicial_status = (
                        DisputeCase.Judicial.CONFIRMED
                        if rng.random() < 0.95
                        else DisputeCase.Judicial.REJECTED
                    )
                    case.judicial_decided_on = decided
        if now - concluded > dt.timedelta(days=20) and rng.random() < 0.7:
            case.follow_up = rng.choices(DisputeCase.FollowUp.values, [85, 10, 5])[0]
            case.follow_up_at = concluded + dt.timedelta(days=rng.randint(15, 20))
        if risk_violence:
            case.escalation_prevented = True
            case.escalation_persons = rng.randint(2, 6)
            # The record raises the people involved to those it names (_do_record_prevention).
            case.persons_involved = max(case.persons_involved, case.escalation_persons)
            case.escalation_recorded_at = concluded
        if risk_group:
            case.group_defused = True
            case.group_persons = persons
            case.group_recorded_at = concluded
        if case.escalation_prevented or case.group_defused:
            case.prevention_recorded_at = concluded
    elif outcome == DisputeCase.Outcome.FAILURE:
        case.other_routes = sorted(set(rng.sample(ROUTES, rng.randint(1, 2))))
    ev.append(
        DisputeEvent(
            actor_id=mediator_id,
            at=concluded,
            action="conclude",
            from_status="in_mediation" if rows["sessions"] else "accepted",
            to_status="concluded",
            organisation=org,
            data={"outcome": outcome},
        )
    )
    if not rows["sessions"]:
        case.status = DisputeCase.Status.CONCLUDED
    if now - concluded > dt.timedelta(days=35) and rng.random() < 0.8:
        closed = concluded + dt.timedelta(days=rng.randint(30, 35))
        case.status = DisputeCase.Status.CLOSED
        case.closed_at = closed
        ev.append(
            DisputeEvent(
                actor_id=mediator_id,
                at=closed,
                action="close",
                from_status="concluded",
                to_status="closed",
                organisation=org,
            )
        )
    _after_conclusion(case, ev, mediator_id, org)
    return case, rows


def _after_conclusion(case: DisputeCase, ev: list[DisputeEvent], actor_id: int, org) -> None:
    """The steps after the conclusion whose facts the case carries (a prevention record, the
    application for judicial confirmation and the court's decision, the follow-up visit), each with
    its event as DisputeCase._do_<step> writes it: the timeline told none of them, though the case's
    page showed a confirmed agreement and a visit."""
    tz = timezone.get_current_timezone()

    def status_at(at: dt.datetime) -> str:
        return "closed" if case.closed_at and at >= case.closed_at else "concluded"

    def step(at: dt.datetime, action: str, data: dict) -> None:
        status = status_at(at)
        ev.append(DisputeEvent(actor_id=actor_id, at=at, action=action, from_status=status,
                               to_status=status, organisation=org, data=data))  # fmt: skip

    def on(day: dt.date, hour: int) -> dt.datetime:
        return max(timezone.make_aware(dt.datetime.combine(day, dt.time(hour)), tz), case.concluded_at)

    if case.prevention_recorded_at:
        data = {}
        if case.escalation_prevented:
            data["escalation_persons"] = case.escalation_persons
        if case.group_defused:
            data["group_persons"] = case.group_persons
        data["persons_involved"] = case.persons_involved
        step(case.prevention_recorded_at, "record_prevention", data)
    if case.judicial_applied_on:
        applied = case.judicial_applied_on.isoformat()
        step(on(case.judicial_applied_on, 10), "apply_confirmation", {"joint": True, "applied_on": applied})
    if case.judicial_decided_on:
        decided = case.judicial_decided_on.isoformat()
        step(on(case.judicial_decided_on, 15), "record_confirmation",
             {"result": case.judicial_status, "decided_on": decided})  # fmt: skip
    if case.follow_up:
        step(case.follow_up_at, "follow_up", {"performance": case.follow_up})


# The agreements whose confirmation window is closing on demo_mediator's desk: a neighbours' dispute
# whose terms, facts and amount belong to it (the terms once spoke of a leaking pipe under a
# description of renovation noise).
DESK_AGREEMENT = {
    "description": "空调外机滴水至楼下阳台引发纠纷。",
    "claimed": 2000,
    "facts": "经查明，被申请人空调外机冷凝水管未接入排水管，滴水致申请人阳台墙面霉变，被申请人负全部责任。",
    "terms": "一、被申请人于十日内将空调冷凝水管接入排水管，并赔偿申请人阳台修复费用人民币1500元；"
    "二、双方再无争议。",
    "amount": 1500,
}


def _closing_effective(today: dt.date, days_ago: int) -> dt.date:
    """The day an agreement took effect, ``days_ago`` days before ``today`` or as little earlier as
    it takes for its confirmation window to end within the warning (CONFIRMATION_WARN_DAYS): a
    window ending in a long holiday runs to the first working day after it, which may lie beyond
    the warning, and the desk then showed no closing window."""
    for back in range(days_ago, CONFIRMATION_WINDOW_DAYS + 1):
        effective = today - dt.timedelta(days=back)
        if 0 <= (confirmation_window_end(effective) - today).days <= CONFIRMATION_WARN_DAYS:
            return effective
    return today - dt.timedelta(days=days_ago)


def _demo_desk(rng, now, categories, org, mediator, cases, extra, grids_of) -> None:
    """A few cases that make demo_mediator's desk worth showing: overdue, running, waiting for
    acceptance, and agreements whose confirmation window is about to close."""
    place = next((g for gl in grids_of.values() for g in gl if g.path.startswith(org.area.path)), None)
    if place is None:
        return
    specs = [
        # Overdue by weeks: a limit ending in a holiday week runs to the first working day after it.
        ("overdue", 50),
        ("overdue", 45),
        ("running", 6),
        ("running", 12),
        ("waiting", 0),
        ("closing", 25),
        ("closing", 27),
    ]
    for kind, days_ago in specs:
        received = office_hours(now - dt.timedelta(days=days_ago, hours=2), now)
        if kind == "closing":
            # Received, mediated and concluded on the day its agreement took effect, in the morning:
            # counted back from the hour the demo is seeded at, a case seeded at 17:14 was concluded
            # at 18:14, after the office closed, and one whose window had to start earlier took effect
            # before it was received.
            effective = _closing_effective(timezone.localdate(now), days_ago)
            received = timezone.make_aware(dt.datetime.combine(effective, dt.time(OFFICE_OPENS + 1, 5)))
        case, rows = _one_case(
            rng, received, received, categories["neighbours"], org, place, mediator.pk, 1.0, mediator
        )
        # Re-shape its state: keep the registration, then write the steps this kind needs.
        rows["events"], rows["sessions"] = rows["events"][:1], []
        case.status, case.extended = DisputeCase.Status.REGISTERED, False
        case.mediator_id = case.accepted_at = case.due_at = None
        if kind in ("overdue", "running"):
            case.status = DisputeCase.Status.IN_MEDIATION
            case.mediator_id = mediator.pk
            case.accepted_at = office_hours(received + dt.timedelta(hours=1), now)
            case.due_at = time_limit_due(case.accepted_at)
            held = office_hours(case.accepted_at + dt.timedelta(days=1), now)
            _demo_accept_and_session(rows, case, org, mediator, held)
        elif kind == "closing":
            case.status = DisputeCase.Status.CONCLUDED
            case.mediator_id = mediator.pk
            case.accepted_at = office_hours(received + dt.timedelta(hours=1), now)
            case.due_at = time_limit_due(case.accepted_at)
            # Concluded the day the agreement took effect, after the session (not before receipt).
            held = office_hours(case.accepted_at + dt.timedelta(hours=1), now)
            concluded = max(
                timezone.make_aware(dt.datetime.combine(effective, dt.time(16))), held + dt.timedelta(hours=1)
            )
            _demo_accept_and_session(rows, case, org, mediator, held)
            case.outcome = DisputeCase.Outcome.SUCCESS_WRITTEN
            case.concluded_at = concluded
            case.concluded_on_time = True
            # A written agreement as the conclude step requires it (mediation.models._do_conclude):
            # facts and responsibility, terms that fit the dispute, how and by when it is carried out.
            case.description = DESK_AGREEMENT["description"]
            case.amount = DESK_AGREEMENT["claimed"]
            case.agreement_facts = DESK_AGREEMENT["facts"]
            case.agreement_terms = DESK_AGREEMENT["terms"]
            case.agreement_amount = DESK_AGREEMENT["amount"]
            case.performance_method = "银行转账"
            case.performance_due = effective + dt.timedelta(days=10)
            case.agreement_effective_on = effective
            case.confirmation_due = confirmation_window_end(effective)
            case.judicial_status = ""
            rows["events"].append(
                DisputeEvent(
                    actor_id=mediator.pk,
                    at=concluded,
                    action="conclude",
                    from_status="in_mediation",
                    to_status="concluded",
                    organisation=org,
                    data={"outcome": case.outcome},
                )
            )
        cases.append(case)
        extra.append(rows)


def _demo_accept_and_session(rows, case, org, mediator, held) -> None:
    """The acceptance and one session (row and event) of a desk case: a timeline that says a session
    was recorded shows that session."""
    rows["events"].append(
        DisputeEvent(
            actor_id=mediator.pk,
            at=case.accepted_at,
            action="accept",
            from_status="registered",
            to_status="accepted",
            organisation=org,
            data={"mediator": mediator.pk},
        )
    )
    rows["sessions"].append(
        DisputeSession(
            held_at=held,
            place="社区调解室",
            attendees="双方当事人、调解员",
            summary="听取双方陈述，释法明理，双方同意继续协商。",
            recorded_by_id=mediator.pk,
            recorded_at=held,
        )
    )
    rows["events"].append(
        DisputeEvent(
            actor_id=mediator.pk,
            at=held,
            action="record_session",
            from_status="accepted",
            to_status="in_mediation",
            organisation=org,
        )
    )
