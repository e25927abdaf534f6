"""A synthetic but realistic city for demos and benchmarks.

Areas carry real-format codes (a Hefei-like 3401 prefix) and rectangular boundaries produced by
recursive cuts at uneven positions, so every level exactly tiles its parent: districts tile the city,
streets their district, communities their street, grids their community. Nothing overlaps and there
are no gaps, which is what a point -> grid lookup needs to be tested honestly.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from governance.models import Area, Department, Membership, Role, SequenceCounter, User

CITY_CODE = "340100000000"
# The code is Hefei's real one: the name tells the demo's tree from an imported city.
CITY_NAME = "合肥市（示例）"
# The names demo databases were seeded under before (half-width brackets in a Chinese UI): still the
# demo's, so seeding one again adds to it, where it would be refused as a real city.
FORMER_CITY_NAMES = ("合肥市(示例)",)


class NotTheDemoCity(Exception):
    """An area holds the demo city's code but is not the demo's (a real city imported with its code)."""


CITY_BOX = (116.90, 31.60, 117.60, 32.10)  # lng/lat of a city-sized rectangle

SCALES = {
    # districts, streets per district, communities per street, grids per community (ranges)
    "small": {"districts": 2, "streets": (3, 3), "communities": (3, 4), "grids": (4, 6)},
    "city": {"districts": 12, "streets": (9, 13), "communities": (11, 15), "grids": (3, 5)},
}

DISTRICT_NAMES = [
    "瑶海区",
    "庐阳区",
    "蜀山区",
    "包河区",
    "长丰县",
    "肥东县",
    "肥西县",
    "庐江县",
    "巢湖市",
    "经开区",
    "高新区",
    "新站区",
    "滨湖区",
    "政务区",
]
STREET_WORDS = [
    "明光",
    "大兴",
    "红光",
    "和平",
    "胜利",
    "七里",
    "三里",
    "双岗",
    "杏林",
    "亳州",
    "望湖",
    "芙蓉",
    "南七",
    "稻香",
    "琥珀",
    "西园",
    "荷叶",
    "井岗",
    "滨湖",
    "义城",
    "方兴",
    "常青",
    "烟墩",
    "骆岗",
]
COMMUNITY_WORDS = [
    "春晖",
    "园丁",
    "新村",
    "金桥",
    "翠竹",
    "玉兰",
    "桂花",
    "梧桐",
    "阳光",
    "幸福",
    "安居",
    "东苑",
    "西苑",
    "南苑",
    "北苑",
    "锦绣",
    "书香",
    "花园",
    "清溪",
    "石桥",
    "紫云",
    "长宁",
]
DISTRICT_DEPARTMENTS = [
    "公安分局",
    "城市管理局",
    "住房和城乡建设局",
    "市场监督管理局",
    "应急管理局",
    "生态环境分局",
    "信访局",
    "民政局",
    "司法局",
    "区综治中心",
]
STREET_DEPARTMENTS = ["街道综治中心", "派出所", "城管中队", "司法所", "安监站"]
COMMUNITY_DEPARTMENTS = ["社区综治中心"]

DEMO_PASSWORD = "demo-pass-2026"

# The hours (local) at which the demo's people act: a mediator's acceptance at 01:10 or an office
# recording a letter at 23:36 told a story nobody would believe.
OFFICE_OPENS, OFFICE_CLOSES = 8, 18


def office_hours(at: dt.datetime, now: dt.datetime) -> dt.datetime:
    """``at`` moved forward into office hours (a time in the evening or the night to the next
    opening, the minutes kept): never backwards, so steps keep their order. A time that would move
    past ``now`` stays as it is (the step happened; the demo has no future)."""
    local = timezone.localtime(at)
    if OFFICE_OPENS <= local.hour < OFFICE_CLOSES:
        return at
    day = local.date() + dt.timedelta(days=1 if local.hour >= OFFICE_CLOSES else 0)
    opened = dt.datetime.combine(day, dt.time(OFFICE_OPENS, local.minute, local.second))
    moved = timezone.make_aware(opened, local.tzinfo)
    return moved if moved <= now else at


@dataclass
class DemoCity:
    city: Area
    districts: list[Area] = field(default_factory=list)
    streets: list[Area] = field(default_factory=list)
    communities: list[Area] = field(default_factory=list)
    grids: list[Area] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)


def _rect(x0: float, y0: float, x1: float, y1: float) -> dict:
    x0, y0, x1, y1 = (round(v, 7) for v in (x0, y0, x1, y1))
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def _cuts(rng: random.Random, lo: float, hi: float, n: int) -> list[float]:
    """n pieces between lo and hi with uneven widths (each between 0.6 and 1.4 of the mean)."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(n)]
    total, acc, out = sum(weights), 0.0, [lo]
    for w in weights[:-1]:
        acc += w
        out.append(round(lo + (hi - lo) * acc / total, 7))
    out.append(hi)
    return out


def _split(rng: random.Random, box: tuple, n: int, vertical: bool) -> list[tuple]:
    x0, y0, x1, y1 = box
    if vertical:
        xs = _cuts(rng, x0, x1, n)
        return [(xs[i], y0, xs[i + 1], y1) for i in range(n)]
    ys = _cuts(rng, y0, y1, n)
    return [(x0, ys[i], x1, ys[i + 1]) for i in range(n)]


def _grid_split(rng: random.Random, box: tuple, n: int) -> list[tuple]:
    """Split a community into n grids: two rows when n >= 4, else one row."""
    if n >= 4:
        top, bottom = _split(rng, box, 2, vertical=False)
        first = n // 2
        return _split(rng, top, first, True) + _split(rng, bottom, n - first, True)
    return _split(rng, box, n, vertical=True)


def _area(code: str, name: str, level: str, parent: Area | None, box: tuple, households: int) -> Area:
    area = Area(
        code=code,
        name=name,
        level=level,
        parent=parent,
        households=households,
        population=int(households * 2.7),
        boundary=_rect(*box),
    )
    area.path = (parent.path if parent else "") + code + "/"
    area.depth = parent.depth + 1 if parent else 0
    area.centroid_lat = round((box[1] + box[3]) / 2, 7)
    area.centroid_lng = round((box[0] + box[2]) / 2, 7)
    return area


@transaction.atomic
def build_city(scale: str = "small", seed: int = 1) -> DemoCity:
    """Create the area tree (bulk inserts; about 8,900 areas at city scale)."""
    rng = random.Random(seed)
    spec = SCALES[scale]
    city = _area(CITY_CODE, CITY_NAME, Area.Level.CITY, None, CITY_BOX, 0)
    city.save()
    demo = DemoCity(city=city)
    county_codes = [2, 3, 4, 11, 21, 22, 23, 24, 81, 71, 72, 73, 74, 75][: spec["districts"]]
    district_boxes = _split(rng, CITY_BOX, spec["districts"], vertical=True)
    for d_index, (county, d_box) in enumerate(zip(county_codes, district_boxes, strict=True)):
        d_code = f"3401{county:02d}000000"
        district = _area(d_code, DISTRICT_NAMES[d_index], Area.Level.DISTRICT, city, d_box, 0)
        demo.districts.append(district)
        n_streets = rng.randint(*spec["streets"])
        for s_index, s_box in enumerate(_split(rng, d_box, n_streets, vertical=False), start=1):
            s_code = f"{d_code[:6]}{s_index:03d}000"
            s_name = (
                STREET_WORDS[(d_index * 7 + s_index) % len(STREET_WORDS)]
                + f"街道{'' if s_index < 24 else s_index}"
            )
            street = _area(s_code, s_name, Area.Level.STREET, district, s_box, 0)
            demo.streets.append(street)
            n_comm = rng.randint(*spec["communities"])
            for c_index, c_box in enumerate(_split(rng, s_box, n_comm, vertical=True), start=1):
                c_code = f"{s_code[:9]}{c_index:03d}"
                c_name = COMMUNITY_WORDS[(s_index * 5 + c_index) % len(COMMUNITY_WORDS)] + f"社区{c_index}"
                community = _area(c_code, c_name, Area.Level.COMMUNITY, street, c_box, 0)
                demo.communities.append(community)
                n_grids = rng.randint(*spec["grids"])
                for g_index, g_box in enumerate(_grid_split(rng, c_box, n_grids), start=1):
                    households = rng.randint(300, 1000)
                    grid = _area(
                        f"{c_code}{g_index:03d}",
                        f"{c_name}第{g_index}网格",
                        Area.Level.GRID,
                        community,
                        g_box,
                        households,
                    )
                    demo.grids.append(grid)
    # Bulk inserts level by level; parents must exist (and have ids) before their children.
    for level_list in (demo.districts, demo.streets, demo.communities, demo.grids):
        for area in level_list:
            area.parent_id = area.parent.pk
        Area.objects.bulk_create(level_list, batch_size=2000)
    # Totals of households and population up the tree.
    by_code = {a.code: a for a in [*demo.communities, *demo.streets, *demo.districts, city]}
    for child in [*demo.grids, *demo.communities, *demo.streets, *demo.districts]:
        parent = by_code[child.path.strip("/").split("/")[-2]]
        parent.households += child.households
        parent.population += child.population
    Area.objects.bulk_update(list(by_code.values()), ["households", "population"], batch_size=2000)
    # Bulk writes send no signals: the caches keyed by these counters are told here.
    SequenceCounter.bump("geo")
    SequenceCounter.bump("areas")
    _departments(demo)
    return demo


def _departments(demo: DemoCity) -> None:
    rows = []
    for district in demo.districts:
        rows += [
            Department(
                name=n,
                area=district,
                kind=Department.Kind.CENTRE if "中心" in n else Department.Kind.FUNCTIONAL,
            )
            for n in DISTRICT_DEPARTMENTS
        ]
    for street in demo.streets:
        rows += [
            Department(
                name=n,
                area=street,
                kind=Department.Kind.CENTRE if "中心" in n else Department.Kind.FUNCTIONAL,
            )
            for n in STREET_DEPARTMENTS
        ]
    for community in demo.communities:
        rows += [
            Department(name=n, area=community, kind=Department.Kind.CENTRE) for n in COMMUNITY_DEPARTMENTS
        ]
    Department.objects.bulk_create(rows, batch_size=2000)


def load_city() -> DemoCity | None:
    city = Area.objects.filter(code=CITY_CODE).first()
    if city is None:
        return None
    if city.name != CITY_NAME and city.name not in FORMER_CITY_NAMES:
        # Demo records (and demo logins) were about to be written into a real city's areas, or the
        # seeding stopped with a traceback on a department only the demo creates.
        raise NotTheDemoCity(city)
    demo = DemoCity(city=city)
    for area in Area.objects.filter(path__startswith=city.path).exclude(pk=city.pk).order_by("code"):
        getattr(
            demo,
            {"district": "districts", "street": "streets", "community": "communities", "grid": "grids"}[
                area.level
            ],
        ).append(area)
    demo.users = {u.username: u for u in User.objects.filter(username__startswith="demo_")}
    return demo


def create_demo_users(demo: DemoCity, *, with_passwords: bool) -> list[tuple[str, str, str]]:
    """One demo user per role, in the first district / street / community / grid. They can log in
    (with DEMO_PASSWORD) only when ``with_passwords`` is set, which seed_demo does only under DEBUG;
    otherwise they exist as the actors of the demo records, with unusable passwords."""
    district, street = demo.districts[0], demo.streets[0]
    community = demo.communities[0]
    grid = demo.grids[0]
    district_petition_office = Department.objects.get(area=district, name="信访局")
    public_security = Department.objects.get(area=district, name="公安分局")
    cast = [
        ("demo_gridworker", Role.GRID_WORKER, grid, None, "网格员 王小明"),
        ("demo_community", Role.HANDLER, community, None, "社区综治专干 李娟"),
        ("demo_street", Role.HANDLER, street, None, "街道综治中心 赵刚"),
        ("demo_district", Role.HANDLER, district, None, "区综治中心 陈静"),
        ("demo_department", Role.HANDLER, district, public_security, "公安分局 联络员 周伟"),
        ("demo_mediator", Role.MEDIATOR, street, None, "调解员 孙丽"),
        ("demo_petition", Role.PETITION_OFFICER, district, district_petition_office, "信访专员 吴敏"),
        # A city manager besides the administrator: the city's assessment of its districts is
        # entered by one and approved by the other (dashboards.assessment_demo).
        ("demo_city", Role.HANDLER, demo.city, None, "市综治中心 刘洋"),
        ("demo_analyst", Role.ANALYST, demo.city, None, "数据分析员 郑洁"),
        ("demo_admin", Role.ADMIN, demo.city, None, "系统管理员"),
    ]
    out = []
    for username, role, area, department, display in cast:
        user, created = User.objects.get_or_create(username=username, defaults={"display_name": display})
        if created:
            if with_passwords:
                user.set_password(DEMO_PASSWORD)
            else:
                user.set_unusable_password()
            if role == Role.ADMIN:
                user.is_staff = user.is_superuser = True
            user.save()
        Membership.objects.get_or_create(user=user, role=role, area=area, defaults={"department": department})
        demo.users[username] = user
        out.append((username, str(role.label), f"{area.name} {area.code}"))
    return out
