"""A small assessment on the cast: the city assesses districts A, B and C (C added here)."""

from __future__ import annotations

from decimal import Decimal as D

from dashboards.assessment_models import AssessmentItem, AssessmentScheme, NegativeListEntry
from dashboards.models import IndicatorValue
from tests.base import make_area


def indicator_value(indicator: str, area, period: str, value: float, num: float = 0, den: float = 0, **extra):
    return IndicatorValue.objects.create(
        indicator=indicator,
        area=area,
        parent=area.parent,
        level=area.level,
        period=period,
        period_type="year" if len(period) == 4 else "month",
        numerator=num or value,
        denominator=den or 100,
        value=value,
        **extra,
    )


def build(cast, year: int = 2026) -> AssessmentScheme:
    if not hasattr(cast, "district_c"):
        cast.district_c = make_area(
            "340104000000", "丙区", "district", cast.city, (117.2, 31.8, 117.22, 31.81)
        )
    for area, safe in ((cast.district_a, 93.2), (cast.district_b, 88.0), (cast.district_c, 81.0)):
        indicator_value("survey_safety_rate", area, str(year), safe)
    scheme = AssessmentScheme.objects.create(
        year=year,
        name=f"{year} 平安建设考核",
        area=cast.city,
        level="district",
        excellent_share_cap=D("0.34"),
    )
    target = AssessmentItem.objects.create(
        scheme=scheme,
        order=1,
        name="安全感",
        max_points=D("60"),
        method="target",
        indicator="survey_safety_rate",
        target=90.0,
    )
    AssessmentItem.objects.create(
        scheme=scheme, order=2, name="排名", max_points=D("20"), method="rank", indicator="survey_safety_rate"
    )
    manual = AssessmentItem.objects.create(
        scheme=scheme, order=3, name="工作台账", max_points=D("20"), method="manual"
    )
    NegativeListEntry.objects.create(scheme=scheme, item=target, name="重大事件", points=D("2"))
    cast.scheme, cast.manual_item, cast.target_item = scheme, manual, target
    return scheme
