"""Demo assessment: the city assesses its districts (last year and this year) and district 0 its
streets, scored from the rolled-up indicator values, with hand-entered scores (evidence attached),
approved deductions and bonuses and one veto, so the results page shows every kind of entry.

Call ``seed`` after the rollup (``dashboards/demo.py`` ends with the rollup; it should call this at its
very end). Idempotent: skips when schemes exist.
"""

from __future__ import annotations

import io
import random
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards import assessment
from dashboards.assessment_models import (
    Adjustment,
    AssessmentItem,
    AssessmentScheme,
    ManualScore,
    NegativeListEntry,
    VetoEvent,
)
from governance import indicators as registry

# (name, max points, method, indicator, options): indicators absent from the registry are skipped and
# their points go to the hand-scored item, so the items always add to 100.
ITEMS = [
    ("群众安全感", 25, "target", "survey_safety_rate", {"target": 95.0}),
    ("群众满意度", 20, "linear", "survey_satisfaction_rate", {"zero_at": 80.0, "full_at": 95.0}),
    ("可防性案件万人发案率", 15, "rank", "police_preventable_cases_per_10k", {}),
    ("网格事件按时办结率", 10, "target", "incidents_on_time_rate", {"target": 90.0}),
    ("矛盾纠纷调解成功率", 10, "target", "dispute_success_rate", {"target": 95.0}),
]
MANUAL_NAME = "平安建设工作台账"


def _make_scheme(year: int, area, level: str, name: str, cap: Decimal | None) -> AssessmentScheme:
    scheme = AssessmentScheme.objects.create(
        year=year, name=name, area=area, level=level, excellent_share_cap=cap
    )
    known = registry.registry()
    manual_points = 100
    items = []
    for order, (item_name, points, method, code, options) in enumerate(ITEMS, start=1):
        if code not in known:
            continue
        manual_points -= points
        items.append(
            AssessmentItem(
                scheme=scheme,
                order=order,
                name=item_name,
                max_points=Decimal(points),
                method=method,
                indicator=code,
                deduction_cap=Decimal(min(points, 6)),
                **options,
            )
        )
    items.append(
        AssessmentItem(
            scheme=scheme, order=99, name=MANUAL_NAME, max_points=Decimal(manual_points), method="manual"
        )
    )
    AssessmentItem.objects.bulk_create(items)
    first = scheme.items.order_by("order").first()
    NegativeListEntry.objects.bulk_create(
        [
            NegativeListEntry(scheme=scheme, item=first, name="发生重大刑事案件", points=Decimal("2")),
            NegativeListEntry(scheme=scheme, item=first, name="发生越级集体访", points=Decimal("1")),
        ]
    )
    return scheme


def _hand_entries(
    scheme: AssessmentScheme, rng: random.Random, enterer, approver, veto_user, veto: bool
) -> None:
    now = timezone.now()
    areas = list(assessment.assessed_areas(scheme))  # those a run scores: in service that year
    manual = scheme.items.get(method="manual")
    ManualScore.objects.bulk_create(
        [
            ManualScore(
                item=manual,
                area=area,
                points=(manual.max_points * Decimal(str(rng.uniform(0.7, 1.0)))).quantize(Decimal("0.01")),
                evidence=ContentFile(_ledger_pdf(area.code, scheme.year), name=f"ledger-{area.code}.pdf"),
                note="台账检查",
                entered_by=enterer,
                entered_at=now,
            )
            for area in areas
        ]
    )
    negative = list(scheme.negative_list.all())
    adjustments = []
    for area in rng.sample(areas, k=min(3, len(areas))):
        entry = rng.choice(negative)
        n = rng.randint(1, 3)
        adjustments.append(
            Adjustment(
                scheme=scheme,
                item=entry.item,
                area=area,
                kind="deduction",
                negative_entry=entry,
                occurrences=n,
                points=entry.points * n,
                reason=f"{entry.name} {n} 起",
                status="approved",
                entered_by=enterer,
                entered_at=now,
                approved_by=approver,
                approved_at=now,
            )
        )
    for area in rng.sample(areas, k=min(2, len(areas))):
        adjustments.append(
            Adjustment(
                scheme=scheme,
                item=manual,
                area=area,
                kind="bonus",
                points=Decimal("2"),
                reason="排名较上年上升 5 位以上",
                status="approved",
                entered_by=enterer,
                entered_at=now,
                approved_by=approver,
                approved_at=now,
            )
        )
    Adjustment.objects.bulk_create(adjustments)
    if veto and len(areas) >= 2:
        VetoEvent.objects.create(
            scheme=scheme,
            area=areas[-1],
            event="发生重大安全生产责任事故",
            decided_by=veto_user,
            decided_at=now,
        )


def _ledger_pdf(code: str, year: int) -> bytes:
    """A one-page PDF standing for the scanned ledger a hand score attaches (an accepted evidence type)."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (595, 842), "white")
    ImageDraw.Draw(page).text((60, 60), f"Safety ledger {code} {year} (demo)", fill="black")
    out = io.BytesIO()
    page.save(out, format="PDF")
    return out.getvalue()


def seed(*, demo, rng: random.Random, scale: str, months: int, stdout) -> None:
    if AssessmentScheme.objects.exists():
        stdout.write("  assessment: " + _("schemes already present; kept."))
        return
    year = timezone.localdate().year
    users = demo.users
    if not {"demo_admin", "demo_city", "demo_district"} <= users.keys():
        stdout.write("  assessment: " + _("no demo users (seed_demo creates them); skipped."))
        return
    # Entered and approved as the rules ask: by managers of the assessing area or above, the approver
    # someone else, the veto decided at district level or above. The city's schemes were entered as
    # demo_district, who may not manage them.
    admin, city_user, district_user = users["demo_admin"], users["demo_city"], users["demo_district"]
    with transaction.atomic():
        last = _make_scheme(
            year - 1, demo.city, "district", f"{year - 1} 年度平安建设考核（区）", Decimal("0.3")
        )
        this = _make_scheme(year, demo.city, "district", f"{year} 年度平安建设考核（区）", Decimal("0.3"))
        streets = _make_scheme(year, demo.districts[0], "street", f"{year} 年度平安建设考核（街道）", None)
        _hand_entries(last, rng, city_user, admin, admin, veto=False)
        _hand_entries(this, rng, city_user, admin, admin, veto=True)
        _hand_entries(streets, rng, admin, district_user, district_user, veto=False)
        assessment.assessment_publish(
            run=assessment.assessment_compute(scheme=last, trigger="demo"), actor=admin
        )
        assessment.assessment_publish(
            run=assessment.assessment_compute(scheme=this, trigger="demo"), actor=admin
        )
        assessment.assessment_compute(scheme=streets, trigger="demo")
    stdout.write(
        "  assessment: "
        + _("3 schemes scored (the districts last year and this year, the first district's streets).")
    )
