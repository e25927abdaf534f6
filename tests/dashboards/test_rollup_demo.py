"""The demo statistics: varied survey and police data, rolled up so the pages have values."""

from __future__ import annotations

import io
import random

import pytest

from dashboards import demo
from dashboards.models import IndicatorValue, PreventableCaseCount, SurveyResponse
from governance import demo as demo_city
from tests.dashboards import stats_data


@pytest.mark.django_db
def test_the_demo_seeds_varied_surveys_and_police_counts_then_rolls_up_once(monkeypatch):
    stats_data.only(monkeypatch)
    city = demo_city.build_city("small", seed=3)
    out = io.StringIO()
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=out)
    answers = SurveyResponse.objects.count()
    assert answers >= 15 * 100 * len(city.districts)
    assert PreventableCaseCount.objects.filter(count__gt=0).exists()
    districts = IndicatorValue.objects.filter(
        indicator="survey_safety_rate", level="district", period_type="month"
    )
    values = [v for v in districts.values_list("value", flat=True)]
    assert len(values) == 15 * len(city.districts)
    assert min(values) > 85 and max(values) < 100 and len({round(v, 2) for v in values}) > len(values) // 2
    assert IndicatorValue.objects.filter(
        indicator="police_preventable_cases_per_10k", level="community"
    ).exists()
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=out)
    assert SurveyResponse.objects.count() == answers  # idempotent
