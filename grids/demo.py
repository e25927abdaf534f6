"""Demo incidents: 15 months (``months``) of realistic grid incidents with their full timelines.

Volumes follow each grid's households, a district "workload" and the season (more in summer); how fast
and how well items are handled varies by district and street (acceptance speed, handling speed, the
share resolved on the spot, escalations, verification failures, residents' satisfaction), so the
dashboards show real differences between areas. Recent items are naturally still open (some overdue).

Everything is generated in memory and written with bulk inserts; numbers are gapless per year and the
INC counters are moved past them. Idempotent: nothing happens if the demo city already has incidents.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Department, Holiday, Membership, Role, SequenceCounter, User
from grids import services
from grids.demo_photos import picture
from grids.models import LEVEL_LADDER, Incident, IncidentCategory, IncidentEvent, IncidentPhoto, Level
from grids.photos import clean_photo

# (category code, weight, responsible department at district level, at street level)
CATEGORY_MIX = [
    ("sanitation", 24, "城市管理局", "城管中队"),
    ("city_appearance", 17, "城市管理局", "城管中队"),
    ("dispute", 12, "司法局", "司法所"),
    ("public_security", 8, "公安分局", "派出所"),
    ("fire_hazard", 7, "应急管理局", "安监站"),
    ("road_traffic", 7, "公安分局", "派出所"),
    ("public_service", 8, "民政局", "街道综治中心"),
    ("vulnerable_care", 5, "民政局", "街道综治中心"),
    ("housing_safety", 3, "住房和城乡建设局", "安监站"),
    ("work_safety", 2, "应急管理局", "安监站"),
    ("food_safety", 2, "市场监督管理局", "街道综治中心"),
    ("other", 5, "区综治中心", "街道综治中心"),
]
DESCRIPTIONS = {
    "sanitation": ["楼道堆放杂物", "垃圾桶满溢未清运", "小区绿化带内建筑垃圾", "路面油污"],
    "city_appearance": ["路灯不亮", "人行道砖松动", "占道经营", "井盖破损", "违规张贴小广告"],
    "dispute": ["邻里噪音纠纷", "停车位纠纷", "楼上漏水引发纠纷", "物业费纠纷"],
    "public_security": ["可疑人员出没", "单元门禁损坏", "电动车被盗隐患"],
    "fire_hazard": ["电动车楼道充电", "消防通道被占用", "灭火器过期", "飞线充电"],
    "road_traffic": ["路口信号灯故障", "学校门口缺少减速带", "违停堵塞通道"],
    "public_service": ["居民咨询医保办理", "申请临时救助", "老旧小区加装电梯诉求"],
    "vulnerable_care": ["独居老人需要探访", "残疾人出行困难", "留守儿童无人照看"],
    "housing_safety": ["外墙瓷砖脱落", "房屋墙体开裂", "阳台护栏锈蚀"],
    "work_safety": ["小作坊违规储存液化气", "工地未设防护"],
    "food_safety": ["无证食品摊贩", "餐馆后厨卫生差"],
    "other": ["其他需协调事项", "共享单车乱停放"],
}
ASSIST_NOTES = [
    "已派员到场配合处置",
    "已配合开展联合执法",
    "已提供相关资料并协助核实",
    "已协调停水停电配合施工",
]
# Incidents given photos (and this morning's reports): a few, so that the photo pages and thumbnails
# are there to see without making seed_demo slow (each photo is drawn, cleaned and stored).
PHOTOGRAPHED = {"small": 30, "city": 120}
WORK_START, WORK_END = dt.time(8, 30), dt.time(17, 30)


class _Calendar:
    """Working time with the Holiday table loaded once (the kernel helper reads a version counter per
    call, which is right for requests but would cost a query per step here)."""

    def __init__(self) -> None:
        self.holidays: set[dt.date] = set()
        self.workdays: set[dt.date] = set()
        for day, is_workday in Holiday.objects.values_list("date", "is_workday"):
            (self.workdays if is_workday else self.holidays).add(day)

    def working(self, day: dt.date) -> bool:
        return day in self.workdays or (day not in self.holidays and day.weekday() < 5)

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        cursor, left = timezone.localtime(start), dt.timedelta(hours=hours)
        tz = cursor.tzinfo
        for _i in range(60):
            day = cursor.date()
            if self.working(day):
                open_at = dt.datetime.combine(day, WORK_START, tz)
                close_at = dt.datetime.combine(day, WORK_END, tz)
                cursor = max(cursor, open_at)
                if cursor < close_at:
                    if left <= close_at - cursor:
                        return cursor + left
                    left -= close_at - cursor
            cursor = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tz)
        return cursor


def _profile(rng: random.Random) -> dict:
    """How one district/street performs; streets vary around their district."""
    return {
        "volume": rng.uniform(0.6, 1.5),
        "accept_mean": rng.uniform(0.4, 3.0),  # working hours
        "dispatch_mean": rng.uniform(0.2, 1.6),
        "handle_factor": rng.uniform(0.25, 1.3),  # of the category's limit
        "spot": rng.uniform(0.08, 0.35),
        "escalate": rng.uniform(0.03, 0.2),
        "verify_fail": rng.uniform(0.03, 0.15),
        "satisfied": rng.uniform(0.55, 0.9),
        "backlog": rng.uniform(0.0, 0.05),  # share of items left stuck before closing
    }


def _vary(rng: random.Random, base: dict) -> dict:
    return {k: v * rng.uniform(0.8, 1.25) for k, v in base.items()}


def _users(demo, rng: random.Random) -> tuple[dict[int, User], dict[int, User], dict[int, User]]:
    """A grid worker per grid and two centre handlers per community/street/district (unusable passwords;
    the demo_* users stand in where they exist): one accepts and closes (supervision), the other
    dispatches (command), as ``grids.models.duty_conflict`` asks."""
    workers: dict[int, User] = {}
    handlers: dict[int, User] = {}
    commands: dict[int, User] = {}
    existing = {
        (m.role, m.area_id, m.department_id): m.user
        for m in Membership.objects.filter(area__path__startswith=demo.city.path)
        .exclude(user__username__startswith="command_")
        .select_related("user")
    }
    new_users, plan = [], []
    unusable = make_password(None)
    for grid in demo.grids:
        user = existing.get((Role.GRID_WORKER, grid.pk, None))
        if user:
            workers[grid.pk] = user
        else:
            u = User(username=f"gw_{grid.code}", display_name=f"网格员{grid.name}", password=unusable)
            new_users.append(u)
            plan.append((u, Role.GRID_WORKER, grid, workers))
    for area in [*demo.communities, *demo.streets, *demo.districts]:
        user = existing.get((Role.HANDLER, area.pk, None))
        if user:
            handlers[area.pk] = user
        else:
            u = User(username=f"centre_{area.code}", display_name=f"{area.name}综治中心", password=unusable)
            new_users.append(u)
            plan.append((u, Role.HANDLER, area, handlers))
        u = User(username=f"command_{area.code}", display_name=f"{area.name}指挥调度", password=unusable)
        new_users.append(u)
        plan.append((u, Role.HANDLER, area, commands))
    taken = set(
        User.objects.filter(username__in=[u.username for u in new_users]).values_list("username", flat=True)
    )
    fresh = [u for u in new_users if u.username not in taken]
    User.objects.bulk_create(fresh, batch_size=2000)
    by_name = {u.username: u for u in User.objects.filter(username__in=[u.username for u in new_users])}
    memberships = []
    for u, role, area, target in plan:
        user = by_name[u.username]
        target[area.pk] = user
        if u.username not in taken:
            memberships.append(Membership(user=user, role=role, area=area))
    Membership.objects.bulk_create(memberships, batch_size=2000, ignore_conflicts=True)
    return workers, handlers, commands


def seed(*, demo, rng: random.Random, scale: str, months: int, stdout) -> None:
    grid_ids = [g.pk for g in demo.grids]
    if Incident.objects.filter(grid_id__in=grid_ids[:50]).exists():
        stdout.write("  grids: " + _("incidents already present; kept."))
        return
    categories = {c.code: c for c in IncidentCategory.objects.all()}
    mix = [(c, w, d, s) for c, w, d, s in CATEGORY_MIX if c in categories]
    weights = [w for _c, w, _d, _s in mix]
    calendar = _Calendar()
    now = timezone.now()
    local_now = timezone.localtime(now)
    first_month = (local_now.replace(day=1) - dt.timedelta(days=months * 30.5)).replace(
        day=1, hour=0, minute=0
    )
    first_month = first_month.replace(second=0, microsecond=0)
    span_seconds = (now - first_month).total_seconds()

    areas_by_code = {
        a.code: a for a in [demo.city, *demo.districts, *demo.streets, *demo.communities, *demo.grids]
    }
    departments: dict[tuple[int, str], Department] = {
        (d.area_id, d.name): d for d in Department.objects.filter(area__path__startswith=demo.city.path)
    }
    by_area: dict[int, list[Department]] = defaultdict(list)
    for d in sorted(departments.values(), key=lambda d: (d.area_id, d.name)):
        if d.is_active:
            by_area[d.area_id].append(d)
    profiles: dict[int, dict] = {}
    for district in demo.districts:
        profiles[district.pk] = _profile(rng)
    for street in demo.streets:
        profiles[street.pk] = _vary(rng, profiles[street.parent_id])
    workers, handlers, commands = _users(demo, rng)
    dept_user = demo.users.get("demo_department")
    dept_user_dept = (
        dept_user.memberships_cached()[0].department_id
        if dept_user and dept_user.memberships_cached()
        else None
    )

    # Per-grid monthly rate: about 3-4 items a month for an average grid at "small" scale, fewer per
    # grid at city scale so that 6,600 grids stay feasible (~100k incidents).
    base_rate = 3.5 if scale == "small" else 0.9
    incidents: list[Incident] = []
    timelines: list[list[dict]] = []
    supported: dict[int, list[Department]] = {}  # index in ``incidents``: a coordination item's supporters
    for grid in demo.grids:
        codes = grid.path.strip("/").split("/")
        district, street, community = (areas_by_code[c] for c in codes[1:4])
        p = profiles[street.pk]
        rate = base_rate * p["volume"] * grid.households / 650.0
        expected = rate * span_seconds / (30.4 * 86400)
        count = max(0, int(rng.gauss(expected, math.sqrt(expected) + 0.1)))
        for _i in range(count):
            # Season: more reports in summer (sanitation, disputes) than in winter.
            while True:
                reported = first_month + dt.timedelta(seconds=rng.random() * span_seconds)
                month = timezone.localtime(reported).month
                if rng.random() < 0.75 + 0.25 * math.sin((month - 3) / 12 * 2 * math.pi):
                    break
            local = timezone.localtime(reported)
            reported = local.replace(hour=rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 15, 16, 17, 19]),
                                     minute=rng.randrange(60))  # fmt: skip
            if reported >= now:
                continue
            code, _w, dept_district, dept_street = rng.choices(mix, weights)[0]
            category = categories[code]
            worker = workers[grid.pk]
            inc = Incident(
                category=category,
                grid=grid,
                lat=(grid.centroid_lat or 0) + rng.uniform(-0.0004, 0.0004),
                lng=(grid.centroid_lng or 0) + rng.uniform(-0.0004, 0.0004),
                description=rng.choice(DESCRIPTIONS.get(code, ["其他事项"])),
                occurred_at=reported - dt.timedelta(minutes=rng.randrange(5, 240)),
                reported_at=reported,
                reporter=worker,
                status=Incident.Status.REPORTED,
            )
            events: list[dict] = [dict(action="report", actor=worker, at=reported, frm="", to="reported")]

            def step(action, actor, at, to, due=None, department=None, note="", level=None, from_level=None,
                     inc=inc, events=events, supporting=()):  # fmt: skip
                if at > now:
                    return False
                events.append(dict(action=action, actor=actor, at=at, frm=inc.status, to=to, due=due,
                                   department=department, note=note, level=level or inc.level,
                                   from_level=from_level or inc.level, supporting=list(supporting),
                                   area=None if due is None else inc.accountable_area_id()))  # fmt: skip
                inc.status = to
                return True

            if code not in ("dispute", "housing_safety", "work_safety") and rng.random() < p["spot"]:
                inc.kind = Incident.Kind.ON_THE_SPOT
                inc.level = Level.GRID
                inc.level_area = grid
                inc.resolution = "现场处置完毕"
                events[0]["level"] = Level.GRID
                closed_at = min(reported + dt.timedelta(minutes=rng.randrange(5, 90)), now)
                step("close", worker, closed_at, "closed", note=inc.resolution)
                inc.resolved_level, inc.resolved_at, inc.closed_at = Level.GRID, closed_at, closed_at
                incidents.append(inc)
                timelines.append(events)
                continue

            # Items of the last days are the ones still open: more of them need coordination, so the demo
            # shows supporting departments at work (inbox, departments' record), not only in timelines.
            coordination = 0.15 if reported < now - dt.timedelta(days=4) else 0.5
            inc.kind = Incident.Kind.COORDINATION if rng.random() < coordination else Incident.Kind.PROMISED
            inc.level = category.default_level
            inc.level_area = areas_by_code[codes[{"community": 3, "street": 2, "district": 1}[inc.level]]]
            events[0]["level"] = inc.level
            t = reported
            due = calendar.add_hours(t, float(category.accept_hours))
            inc.due_at = due
            finished = False
            while True:
                handler = handlers.get(inc.level_area.pk)
                t = calendar.add_hours(t, rng.expovariate(1 / p["accept_mean"]))
                if rng.random() < 0.03:
                    if step("reject", handler, t, "rejected", due=due, note="不属于受理范围"):
                        inc.due_at = None
                    finished = True
                    break
                if inc.level != Level.DISTRICT and rng.random() < p["escalate"]:
                    nxt = LEVEL_LADDER[LEVEL_LADDER.index(Level(inc.level)) + 1]
                    if not step("escalate", handler, t, "reported", due=due, note="本级无法处置，申请上级协调",
                                level=nxt):  # fmt: skip
                        break
                    inc.level = nxt
                    inc.level_area = areas_by_code[codes[{"community": 3, "street": 2, "district": 1}[nxt]]]
                    due = inc.due_at = calendar.add_hours(t, float(category.accept_hours))
                    continue
                break
            if finished or inc.status != "reported" or not step("accept", handlers.get(inc.level_area.pk), t,
                                                                "accepted", due=due):  # fmt: skip
                incidents.append(inc)
                timelines.append(events)
                continue
            inc.accepted_at = t
            handler = handlers.get(inc.level_area.pk)
            due = inc.due_at = calendar.add_hours(t, float(category.dispatch_hours))
            t = calendar.add_hours(t, rng.expovariate(1 / p["dispatch_mean"]))
            dept_area = district if inc.level == Level.DISTRICT or rng.random() < 0.5 else street
            dept_name = dept_district if dept_area is district else dept_street
            department = departments.get((dept_area.pk, dept_name)) or departments.get(
                (district.pk, dept_district)
            )
            # A coordination item: one or two other departments of the district or street support the
            # lead (docs/incidents.md "Coordination items"), and the first records its part.
            supporters: list[Department] = []
            if inc.kind == Incident.Kind.COORDINATION and department:
                candidates = [d for d in by_area[district.pk] + by_area[street.pk] if d.pk != department.pk]
                supporters = rng.sample(candidates, min(len(candidates), rng.choice([1, 1, 2])))
                # demo_department's bureau supports some (every recent one), so its liaison sees the other
                # side of the work in the inbox.
                ours = [d for d in candidates if d.pk == dept_user_dept]
                if ours and ours[0] not in supporters and (coordination > 0.15 or rng.random() < 0.3):
                    supporters = [ours[0], *supporters[:1]]
            while True:  # one pass, left early when the next step lies in the future
                dispatcher = commands[inc.level_area.pk]
                if not step("dispatch", dispatcher, t, "dispatched", due=due, department=department,
                            supporting=supporters):  # fmt: skip
                    break
                inc.department, inc.dispatched_by = department, dispatcher
                if supporters:
                    supported[len(incidents)] = supporters
                due = inc.due_at = t + dt.timedelta(hours=category.handle_hours)
                doer = dept_user if department and department.pk == dept_user_dept else commands[dept_area.pk]
                t += dt.timedelta(hours=rng.uniform(0.3, 4))
                if not step("handle", doer, t, "handling", due=None, department=department):
                    break
                if supporters:
                    helper = supporters[0]
                    helper_user = (
                        dept_user if helper.pk == dept_user_dept else commands.get(helper.area_id, doer)
                    )
                    t += dt.timedelta(hours=rng.uniform(0.5, 6))
                    if not step("assist", helper_user, t, "handling", department=helper,
                                note=rng.choice(ASSIST_NOTES)):  # fmt: skip
                        break
                rounds = 0
                while True:
                    t = events[-1]["at"] + dt.timedelta(
                        hours=rng.expovariate(1 / (category.handle_hours * p["handle_factor"]))
                    )
                    if not step(
                        "feedback", doer, t, "fed_back", due=due, department=department, note="已处置"
                    ):
                        break
                    inc.resolution, inc.fed_back_by = "已按要求处置完毕", doer
                    due = inc.due_at = calendar.add_hours(t, float(category.verify_hours))
                    t = calendar.add_hours(t, rng.expovariate(1 / 5))
                    fail = rounds == 0 and rng.random() < p["verify_fail"]
                    if not step("verify", workers[grid.pk], t, "handling" if fail else "verified", due=due,
                                note="现场核查未整改到位" if fail else ""):  # fmt: skip
                        break
                    if fail:
                        rounds += 1
                        due = inc.due_at = t + dt.timedelta(hours=category.handle_hours)
                        continue
                    inc.resolved_at, inc.resolved_level = t, inc.level
                    due = inc.due_at = calendar.add_hours(t, float(category.verify_hours))
                    break
                # A few checked items wait for their sign-off, recent ones only: a centre does not leave
                # a verified item unclosed for a year (the demo's inbox was mostly such items).
                stuck = rng.random() < p["backlog"] and reported > now - dt.timedelta(days=30)
                if inc.status != "verified" or stuck:
                    break
                t = calendar.add_hours(t, rng.expovariate(1 / 3))
                if not step("close", handler, t, "closed", due=due):
                    break
                inc.closed_at, inc.due_at = t, None
                if rng.random() < 0.7:
                    t += dt.timedelta(hours=rng.uniform(2, 72))
                    r = rng.random()
                    evaluation = (
                        Incident.Evaluation.SATISFIED if r < p["satisfied"]
                        else Incident.Evaluation.BASICALLY if r < p["satisfied"] + (1 - p["satisfied"]) * 0.7
                        else Incident.Evaluation.DISSATISFIED
                    )  # fmt: skip
                    if step("evaluate", workers[grid.pk], t, "evaluated"):
                        inc.evaluation = evaluation
                break
            incidents.append(inc)
            timelines.append(events)

    # Numbers in report order, gapless per year, after whatever the counters already hold.
    order = sorted(range(len(incidents)), key=lambda i: incidents[i].reported_at)
    counters: dict[int, int] = defaultdict(int)
    with transaction.atomic():
        for i in order:
            inc = incidents[i]
            year = timezone.localtime(inc.reported_at).year
            if year not in counters:
                counters[year] = SequenceCounter.current("INC", year)
            counters[year] += 1
            inc.code = f"INC-{year}-{counters[year]:06d}"
            if inc.status in Incident.DONE_STATUSES or inc.status == Incident.Status.REJECTED:
                inc.due_at = None
        Incident.objects.bulk_create([incidents[i] for i in order], batch_size=2000)
        # Events in chunks so that the city scale (~750k events) never holds all model objects at once.
        Incident.supporting_departments.through.objects.bulk_create(
            [
                Incident.supporting_departments.through(incident_id=incidents[i].pk, department_id=d.pk)
                for i, ds in supported.items()
                for d in ds
            ],
            batch_size=5000,
        )
        rows: list[IncidentEvent] = []
        acting_for = IncidentEvent.acting_for
        naming: list[tuple[IncidentEvent, list[Department]]] = []  # dispatch events with supporters
        written = 0
        for inc, events in zip(incidents, timelines, strict=True):
            for e in events:
                due = e.get("due")
                rows.append(
                    IncidentEvent(
                        incident_id=inc.pk,
                        actor=e["actor"],
                        at=e["at"],
                        action=e["action"],
                        from_status=e["frm"],
                        to_status=e["to"],
                        note=e.get("note", ""),
                        department=e.get("department"),
                        # As the step would have recorded it: the centres' users stand in for most
                        # departments, demo_department acts for its own (memberships read once a user).
                        acting_department=acting_for(e["actor"], e["action"], e.get("department")),
                        level=e.get("level") or inc.level,
                        from_level=e.get("from_level") or "",
                        step_due_at=due,
                        on_time=None if due is None else e["at"] <= due,
                        area_id=e.get("area"),
                    )  # fmt: skip
                )
                if e.get("supporting"):
                    naming.append((rows[-1], e["supporting"]))
            if len(rows) >= 20000:
                IncidentEvent.objects.bulk_create(rows, batch_size=5000)
                written, rows = written + len(rows), []
        IncidentEvent.objects.bulk_create(rows, batch_size=5000)
        written += len(rows)
        # bulk_create set the events' ids (RETURNING, on PostgreSQL and SQLite alike).
        IncidentEvent.supporting_departments.through.objects.bulk_create(
            [
                IncidentEvent.supporting_departments.through(incidentevent_id=event.pk, department_id=d.pk)
                for event, ds in naming
                for d in ds
            ],
            batch_size=5000,
        )
        for year, value in counters.items():
            updated = SequenceCounter.objects.filter(key="INC", year=year).update(value=value)
            if not updated:
                SequenceCounter.objects.create(key="INC", year=year, value=value)
    stdout.write(
        "  grids: "
        + _("%(incidents)d incidents, %(events)d events.") % {"incidents": len(incidents), "events": written}
    )
    fresh = _fresh_reports(demo, workers, categories, rng)
    stdout.write("  grids: " + _("%(n)d reports of this morning.") % {"n": fresh})
    photographed = _photos(demo, incidents, rng, scale)
    stdout.write("  grids: " + _("%(n)d incidents with photos.") % {"n": photographed + fresh})
    # What the beat's first tick would send (the embedded default runs no beat): the demo's handlers
    # open the site to notices of their overdue items, not to an empty list.
    notified = services.incident_notify_overdue()
    stdout.write("  grids: " + _("%(n)d overdue incidents notified.") % {"n": notified})


def _fresh_reports(demo, workers: dict, categories: dict, rng: random.Random) -> int:
    """This morning's reports in demo_community's community, through the real service: the random
    history may have left nothing open there, and README shows demo_community its inbox, which then
    opened empty, with nothing to accept or dispatch until someone reported an item."""
    community = demo.communities[0]
    grids = [g for g in demo.grids if g.parent_id == community.pk][:3]
    codes = [c for c in ("sanitation", "city_appearance", "public_security") if c in categories]
    now = timezone.now()
    for hours, (grid, code) in enumerate(zip(grids, codes, strict=False), start=1):
        services.incident_report(
            actor=workers[grid.pk],
            category=code,
            description=rng.choice(DESCRIPTIONS[code]),
            grid=grid,
            occurred_at=now - dt.timedelta(hours=hours),
            photos=[_upload(code, now - dt.timedelta(hours=hours), rng.randrange(1 << 30))],
        )
    return min(len(grids), len(codes))


def _upload(code: str, at: dt.datetime, scene: int, *, found: bool = True) -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", picture(code, at, scene, found=found), content_type="image/jpeg")


def _photos(demo, incidents: list[Incident], rng: random.Random, scale: str) -> int:
    """Photos for a few past incidents, through the uploads' cleaning and storage (thumbnails too): a
    picture at report (for an item resolved on the spot, of the result, with its close, as the report
    form asks) and, when a department fed back, the same street put right. Half are demo_community's
    recent items (its inbox and lists open on them), the rest recent items anywhere."""
    recent = timezone.now() - dt.timedelta(days=60)
    ours = {g.pk for g in demo.grids if g.parent_id == demo.communities[0].pk}
    pool = sorted(
        (i for i in incidents if i.reported_at >= recent), key=lambda i: i.reported_at, reverse=True
    )
    wanted = PHOTOGRAPHED.get(scale, PHOTOGRAPHED["small"])
    chosen = [i for i in pool if i.grid_id in ours][: wanted // 2]
    rest = [i for i in pool if i.grid_id not in ours]
    chosen += rng.sample(rest, min(len(rest), wanted - len(chosen)))
    steps: dict[tuple[int, str], IncidentEvent] = {}
    for event in (
        IncidentEvent.objects.filter(incident__in=chosen, action__in=["report", "close", "feedback"])
        .select_related("actor")
        .order_by("at", "id")
    ):
        steps[event.incident_id, event.action] = event  # the last feedback, the one the check passed
    for inc in chosen:
        scene, code = rng.randrange(1 << 30), inc.category.code
        on_the_spot = inc.kind == Incident.Kind.ON_THE_SPOT
        report = steps[inc.pk, "close" if on_the_spot else "report"]
        # An item resolved on the spot is reported with a photo of the result.
        shots = [(IncidentPhoto.Stage.REPORT, report, not on_the_spot)]
        if (inc.pk, "feedback") in steps:
            shots.append((IncidentPhoto.Stage.FEEDBACK, steps[inc.pk, "feedback"], False))
        for stage, event, found in shots:
            cleaned = clean_photo(_upload(code, event.at, scene, found=found))
            services.incident_photos_save(
                inc, [cleaned], actor=event.actor, stage=stage, event=event, at=event.at
            )
    return len(chosen)
