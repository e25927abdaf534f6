"""Demo data for petitions: months of letters, visits, calls and online petitions in every community.

* Volume follows the community's households, times a district factor (some districts are calmer).
* Each district has its own diligence: how fast its petition office routes, how fast its departments
  accept and reply (so the on-time rates differ), and how satisfied petitioners are.
* Categories are routed to the district department that fits (public security, urban management,
  housing, ...); a few items are redirected to litigation / arbitration / administrative review, a
  few complain about a department, ~5 % are group petitions, ~8 % are repeats of an earlier petition
  by the same person (same identity hashes), linked as the officer would.
* Steps happen only up to now, so recent items are still waiting and some are overdue: the demo
  petition officer and the demo department user find a lively desk.

Everything is written with bulk inserts; PET counters are set to the numbers used so petitions
registered afterwards continue the sequence without gaps. Due dates come from ``deadlines``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import pii
from governance.demo import DemoCity, office_hours
from governance.models import Department, Membership, Role, SequenceCounter, User
from petitions import services
from petitions.models import Petition, Petitioner, PetitionEvent, deadlines, group_min_persons

CATEGORY_MIX = {
    # category: (weight, department name)
    "urban": (20, "城市管理局"),
    "labour": (14, "市场监督管理局"),
    "land": (10, "住房和城乡建设局"),
    "security": (10, "公安分局"),
    "environment": (9, "生态环境分局"),
    "civil": (8, "民政局"),
    "law": (7, "司法局"),
    "health": (5, "市场监督管理局"),
    "education": (4, "民政局"),
    "transport": (5, "公安分局"),
    "agriculture": (3, "住房和城乡建设局"),
    "other": (5, "区综治中心"),
}
CONTENT = {
    "urban": ["小区旁工地夜间施工噪音扰民，多次反映未解决。", "沿街商户占道经营，影响居民出行。"],
    "labour": ["工厂拖欠工资三个月，多次讨要无果。", "公司未依法缴纳社会保险，要求补缴。"],
    "land": ["房屋征收补偿标准偏低，要求重新评估。", "安置房迟迟未交付，要求说明进度。"],
    "security": ["小区周边夜间有人聚集滋事，请求加强巡逻。", "电动车被盗报案后无进展。"],
    "environment": ["餐饮店油烟直排，影响楼上住户。", "河道有异味，疑似企业偷排。"],
    "civil": ["申请低保被拒，对审核结果有异议。", "独居老人无人照料，请求社区帮扶。"],
    "law": ["对行政处罚决定不服，要求说明依据。", "法院判决执行不到位。"],
    "health": ["社区卫生服务站服务态度差。", "药店销售过期药品。"],
    "education": ["孩子入学划片不合理。", "学校周边交通拥堵存在安全隐患。"],
    "transport": ["公交线路调整后出行不便。", "路口信号灯配时不合理，事故多发。"],
    "agriculture": ["承包地被占用，补偿未到位。"],
    "other": ["对政策有疑问，请求答复。"],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志海燕红梅玉春德胜"
CHANNELS = (
    ["visit"] * 30 + ["letter"] * 20 + ["online"] * 30 + ["phone"] * 15 + ["fax"] * 1 + ["reception_day"] * 4
)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _i in range(rng.choice((1, 2))))


def _id_number(rng: random.Random) -> str:
    first = (
        f"3401{rng.randint(2, 24):02d}{rng.randint(1950, 2002)}"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return first + pii.id_check_digit(first)


def _person(rng: random.Random) -> dict:
    id_number = _id_number(rng)
    phone = f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}"
    return {
        "name": _name(rng),
        "id_number": id_number,
        "phone": phone,
        "address": f"{rng.choice(['春晖路', '和平路', '长江路', '淮河路'])}{rng.randint(1, 300)}号",
    }


# What a reply states by handling type, with how often: (choices, weights).
REPLIES = {
    "claim": (["support", "explain", "not_support"], [45, 40, 15]),
    "suggestion": (["adopted", "part_adopted", "not_adopted"], [30, 40, 30]),
    "report": ([""], [1]),
}


def seed(*, demo: DemoCity, rng: random.Random, scale: str, months: int, stdout) -> None:
    rng = random.Random(rng.random())  # our own stream: other apps' draws do not shift ours
    if Petition.objects.exists():
        stdout.write("  petitions: " + _("petitions already present; kept."))
        return
    with transaction.atomic():
        _petitions(demo, rng, months, stdout)


def _petitions(demo: DemoCity, rng: random.Random, months: int, stdout) -> None:
    now = timezone.now()
    officer = demo.users.get("demo_petition") or User.objects.filter(is_superuser=True).first()
    if officer is None:
        stdout.write("  petitions: " + _("no demo petition officer; skipped."))
        return
    departments: dict[tuple[int, str], Department] = {
        (d.area_id, d.name): d for d in Department.objects.filter(area__in=demo.districts)
    }
    dept_handlers = _department_liaisons(demo, departments.values())
    dept_heads = _department_heads(departments.values())
    street_of = {c.pk: c.parent_id for c in demo.communities}
    district_of = {s.pk: s.parent_id for s in demo.streets}
    households: dict[int, int] = defaultdict(int)
    for g in demo.grids:
        households[g.parent_id] += g.households
    # Per district: (volume factor, routing diligence, department diligence, satisfaction).
    quality = {
        d.pk: (rng.uniform(0.6, 1.5), rng.uniform(0.75, 0.98), rng.uniform(0.7, 0.97), rng.uniform(0.6, 0.92))
        for d in demo.districts
    }
    cats = list(CATEGORY_MIX)
    weights = [CATEGORY_MIX[c][0] for c in cats]
    first_month = (timezone.localdate(now).replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(
        day=1
    )
    span = (now - timezone.make_aware(dt.datetime.combine(first_month, dt.time.min))).total_seconds()
    group_min = group_min_persons()

    plans = []  # (petition, people, events, repeat_index)
    # (community, category) -> petitions generated so far, for drawing repeats of the same matter
    history: dict[tuple[int, str], list[Petition]] = defaultdict(list)
    for community in demo.communities:
        district_id = district_of[street_of[community.pk]]
        volume, route_q, dept_q, satisfied_q = quality[district_id]
        per_month = max(0.2, (households[community.pk] or 1500) / 3500) * volume
        n = max(0, int(rng.gauss(per_month * months, per_month * months * 0.2)))
        for _i in range(n):
            received = now - dt.timedelta(seconds=rng.uniform(0, span))
            received = received.replace(microsecond=0)
            category = rng.choices(cats, weights)[0]
            earlier = history[(community.pk, category)]
            repeat_target = rng.choice(earlier) if earlier and rng.random() < 0.12 else None
            persons = rng.randint(group_min, 40) if rng.random() < 0.05 else rng.choice((1, 1, 1, 2, 3))
            people = [_person(rng) for _i in range(min(persons, 5, rng.randint(1, 3)))]
            channel = "visit" if persons >= group_min else rng.choice(CHANNELS)
            if channel != "online":
                # Letters, calls and visits are registered while the office is open; online
                # petitions arrive at any hour (governance.demo.office_hours).
                received = office_hours(received, now)
            p = Petition(
                channel=channel,
                received_at=received,
                handling_type=rng.choices(["claim", "report", "suggestion"], [70, 18, 12])[0],
                category=category,
                content=rng.choice(CONTENT[category]),
                area=community,
                persons_count=persons,
                is_group=persons >= group_min,
                registered_by=officer,
                registered_at=received,
                route_due_at=deadlines.route_due(received),
            )
            if rng.random() < 0.08:
                unit = departments.get(
                    (district_id, rng.choice(["城市管理局", "市场监督管理局", "住房和城乡建设局"]))
                )
                p.complained_unit = unit
            dept = departments.get((district_id, CATEGORY_MIX[category][1]))
            if dept is not None and dept.pk == p.complained_unit_id:
                dept = departments.get((district_id, "区综治中心"))
            events = _lifecycle(p, rng, now, dept, officer.pk, dept_handlers.get(dept.pk if dept else 0, officer.pk),
                                dept_heads.get(dept.pk if dept else 0), route_q, dept_q, satisfied_q)  # fmt: skip
            history[(community.pk, category)].append(p)
            plans.append((p, people, events, repeat_target))

    # Repeats: the later petition comes from the same person (same identity, same hashes).
    plans.sort(key=lambda plan: plan[0].received_at)
    petitions = [plan[0] for plan in plans]
    per_year: dict[int, int] = defaultdict(int)
    for p in petitions:
        year = timezone.localtime(p.received_at).year
        per_year[year] += 1
        p.code = f"PET-{year}-{per_year[year]:06d}"
    for year, value in per_year.items():
        SequenceCounter.objects.update_or_create(key="PET", year=year, defaults={"value": value})
    Petition.objects.bulk_create(petitions, batch_size=2000)

    # Walk in receipt order so an earlier petition's people are known when its repeat comes; a
    # repeat drawn against a petition that turned out later in time is simply a new matter.
    people_rows, event_rows, repeats = [], [], []
    first_person: dict[int, dict] = {}
    for p, people, events, target in plans:
        if target is not None and target.pk in first_person and target.received_at < p.received_at:
            p.repeat_of_id, p.is_repeat = target.pk, True
            events[0].data["repeat_of"] = target.code  # petition_register names the earlier one
            repeats.append(p)
            people = [first_person[target.pk], *people[1:]]
        first_person[p.pk] = people[0]
        for pos, person in enumerate(people):
            people_rows.append(
                Petitioner(
                    petition_id=p.pk,
                    position=pos,
                    name=person["name"],
                    id_number=person["id_number"],
                    id_hash=pii.keyed_hash(person["id_number"]),
                    phone=person["phone"],
                    phone_hash=pii.keyed_hash(person["phone"]),
                    address=person["address"],
                )
            )
        for e in events:
            e.petition_id = p.pk
            event_rows.append(e)
    Petition.objects.bulk_update(repeats, ["repeat_of", "is_repeat"], batch_size=2000)
    Petitioner.objects.bulk_create(people_rows, batch_size=2000)
    PetitionEvent.objects.bulk_create(event_rows, batch_size=5000)
    stdout.write(
        "  petitions: "
        + _("%(petitions)d petitions (%(repeats)d repeats), %(petitioners)d petitioners, %(events)d events.")
        % {
            "petitions": len(petitions),
            "repeats": len(repeats),
            "petitioners": len(people_rows),
            "events": len(event_rows),
        }
    )
    # The beat's hourly notice, sent once here (the embedded default runs no beat): see grids.demo.
    notices = services.petition_notify_deadlines()
    stdout.write("  petitions: " + _("%(n)d deadline notices.") % {"n": notices})


def _department_liaisons(demo: DemoCity, departments) -> dict[int, int]:
    """A user of each department who accepts, declines and replies for it in the demo's timelines
    (the department's demo login where there is one, else a liaison who cannot log in): the petition
    officer doing a department's steps read as if the office answered its own routing). Returns
    department id -> user id."""
    liaisons: dict[int, int] = {}
    for user in demo.users.values():
        for m in user.memberships.all():
            if m.department_id:
                liaisons[m.department_id] = user.pk
    missing = [d for d in departments if d.pk not in liaisons]
    users = []
    for dept in missing:
        user = User(username=f"demo_liaison_{dept.pk}", display_name=f"{dept.name} 联络员")
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    Membership.objects.bulk_create(
        Membership(user=user, role=Role.HANDLER, area_id=dept.area_id, department=dept)
        for user, dept in zip(users, missing, strict=True)
    )
    liaisons.update({dept.pk: user.pk for user, dept in zip(users, missing, strict=True)})
    return liaisons


def _department_heads(departments) -> dict[int, User]:
    """A head (负责人) of each department, who approves its extensions of reply limits (docs/petitions.md);
    not a demo login. Returns department id -> user."""
    departments = list(departments)
    heads = [User(username=f"demo_head_{d.pk}", display_name=f"{d.name} 负责人") for d in departments]
    for user in heads:
        user.set_unusable_password()
    User.objects.bulk_create(heads)
    Membership.objects.bulk_create(
        Membership(user=user, role=Role.HANDLER, area_id=dept.area_id, department=dept, is_head=True)
        for user, dept in zip(heads, departments, strict=True)
    )
    return {dept.pk: user for user, dept in zip(heads, departments, strict=True)}


# The reasons the steps that take one are given in the demo's timelines, as the workflow requires.
DECLINE_REASON = "该事项已依法通过诉讼程序解决，不予受理，已书面告知信访人。"
REVIEW_REASONS = {
    "upheld": "经复查，原处理意见认定事实清楚、适用政策正确，予以维持。",
    "changed": "经复查，原处理意见对部分事实认定不准确，予以变更。",
}


def _lifecycle(p: Petition, rng, now, dept, officer_id, handler_id, head, route_q, dept_q, satisfied_q):
    """Walk the petition through the workflow up to ``now``; set stored dates; return event rows."""
    events: list[PetitionEvent] = []

    def event(at, actor, action, before, after, note="", **data):
        events.append(
            PetitionEvent(
                actor_id=actor, at=at, action=action, from_status=before, to_status=after, note=note,
                department_id=p.department_id, data=data,
            )
        )  # fmt: skip

    # The details each step's event carries are those Petition._apply and petition_register write
    # (tests/petitions/test_demo_events.py derives them from the real steps): the timeline and the
    # on-time counts read them. A repeat's link is set on the register event once it is known.
    event(p.received_at, officer_id, "register", "", "registered", repeat_of=None, persons=p.persons_count)
    p.status, p.due_at = "registered", p.route_due_at
    t = p.received_at + dt.timedelta(
        days=rng.uniform(0.2, 13) if rng.random() < route_q else rng.uniform(15, 25)
    )
    t = office_hours(t, now)
    if t > now or dept is None:
        return events
    if p.handling_type == "claim" and rng.random() < 0.06:
        p.redirect_route = rng.choice(Petition.Route.values)
        p.redirected_at = p.closed_at = t
        p.status, p.due_at = "redirected", None
        event(t, officer_id, "redirect", "registered", "redirected", route=p.redirect_route,
              on_time=t <= p.route_due_at)  # fmt: skip
        return events
    p.department = dept
    p.routed_at = t
    p.acknowledge_due_at = deadlines.acknowledge_due(t)
    p.return_due_at = deadlines.return_due(t)
    p.status, p.due_at = "routed", p.acknowledge_due_at
    event(t, officer_id, "assign", "registered", "routed", department=dept.pk, department_name=dept.name,
          on_time=t <= p.route_due_at)  # fmt: skip
    t = t + dt.timedelta(days=rng.uniform(0.5, 12) if rng.random() < dept_q else rng.uniform(15, 22))
    t = office_hours(t, now)
    if t > now:
        return events
    if rng.random() < 0.03:
        p.closed_at, p.status, p.due_at = t, "declined", None
        # A decline gives its reason (the step refuses one without): the demo's read as unexplained.
        event(t, handler_id, "decline", "routed", "declined", note=DECLINE_REASON,
              on_time=t <= p.acknowledge_due_at)  # fmt: skip
        return events
    p.accepted_at, p.reply_due_at = t, deadlines.reply_due(t)
    p.status, p.due_at = "accepted", p.reply_due_at
    event(t, handler_id, "accept", "routed", "accepted", on_time=t <= p.acknowledge_due_at)
    if head is not None and rng.random() < 0.07 and t + dt.timedelta(days=5) <= now:
        days = rng.randint(10, 30)
        p.extended_days, p.extension_approver_id, p.extension_reason = days, head.pk, "情况复杂，需多部门核查"
        p.reply_due_at = p.due_at = deadlines.extended(p.accepted_at, days)
        event(t + dt.timedelta(days=5), handler_id, "extend", "accepted", "accepted", note=p.extension_reason,
              days=days, approver=head.username, notified=True)  # fmt: skip
        t = t + dt.timedelta(days=5)
    on_time = rng.random() < dept_q
    t = t + dt.timedelta(days=rng.uniform(10, 58) if on_time else rng.uniform(61, 80))
    t = office_hours(t, now)
    if t > now:
        return events
    # The reply fits the handling type (Petition.reply_choices): an opinion on a claim, an adoption
    # of a suggestion, the handling result alone for a report.
    choices, weights = REPLIES[p.handling_type]
    p.replied_at, p.reply_opinion = t, rng.choices(choices, weights)[0]
    p.reply_text = {"support": "经核查情况属实，已责成相关单位整改。", "explain": "已向信访人解释相关政策。",
                    "not_support": "经核查，诉求缺乏政策依据，不予支持。",
                    "adopted": "建议已采纳，将纳入下一步工作安排。", "part_adopted": "建议部分采纳，其余部分已说明理由。",
                    "not_adopted": "经研究论证，建议暂不具备实施条件，未予采纳。",
                    "": "经调查核实，已依规处理，处理结果已书面反馈。"}[p.reply_opinion]  # fmt: skip
    p.review_request_until = deadlines.review_request_until(t)
    p.status, p.due_at = "replied", None
    event(t, handler_id, "reply", "accepted", "replied", opinion=p.reply_opinion, on_time=t <= p.reply_due_at)
    t = t + dt.timedelta(days=rng.uniform(1, 10))
    t = office_hours(t, now)
    if t > now:
        return events
    good = satisfied_q - (0.25 if p.reply_opinion == "not_support" else 0)
    p.evaluation = (
        "satisfied" if rng.random() < good * 0.7 else ("basically" if rng.random() < good else "dissatisfied")
    )
    p.evaluated_at = t
    event(t, officer_id, "evaluate", "replied", "replied", evaluation=p.evaluation)
    if p.evaluation == "dissatisfied" and rng.random() < 0.35:
        t = t + dt.timedelta(days=rng.uniform(2, 15))
        t = office_hours(t, now)
        if t > now or t > p.review_request_until:
            return events
        p.review_requested_at, p.review_due_at = t, deadlines.review_due(t)
        p.status, p.due_at = "under_review", p.review_due_at
        event(t, officer_id, "request_review", "replied", "under_review", stage="review")
        t = t + dt.timedelta(days=rng.uniform(5, 33))
        t = office_hours(t, now)
        if t > now:
            return events
        p.reviewed_at, p.review_decision = t, rng.choices(["upheld", "changed"], [80, 20])[0]
        p.re_review_request_until = deadlines.review_request_until(t)
        p.status, p.due_at = "reviewed", None
        event(t, officer_id, "decide_review", "under_review", "reviewed", note=REVIEW_REASONS[p.review_decision],
              decision=p.review_decision, on_time=t <= p.review_due_at)  # fmt: skip
        return events
    # Nobody asked for a review within 30 days: the office closes the matter soon after.
    t = p.review_request_until + dt.timedelta(days=rng.uniform(0.5, 10))
    t = office_hours(t, now)
    if t <= now:
        p.closed_at, p.status = t, "closed"
        event(t, officer_id, "close", "replied", "closed")
    return events
