"""The demo assessment: schemes scored from the demo's rolled-up values, every kind of entry present."""

from __future__ import annotations

import io
import random

import pytest
from django.utils import timezone

from dashboards import assessment_demo, demo
from dashboards.assessment_models import Adjustment, AssessmentResult, AssessmentScheme, VetoEvent
from governance import demo as demo_city
from tests.dashboards import stats_data


@pytest.mark.django_db
def test_the_demo_scores_districts_this_and_last_year_with_entries_of_every_kind(monkeypatch):
    stats_data.only(monkeypatch)
    city = demo_city.build_city("small", seed=3)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=out)
    assessment_demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=out)
    schemes = list(AssessmentScheme.objects.order_by("year", "level"))
    assert len(schemes) == 3
    for scheme in schemes:
        assert sum(i.max_points for i in scheme.items.all()) == 100
    this_year = AssessmentScheme.objects.get(year=schemes[-1].year, level="district")
    results = list(AssessmentResult.objects.filter(run=this_year.published_run))
    assert len(results) == len(city.districts)
    assert len({r.total for r in results}) > 1  # true differences between districts
    assert any(r.vetoed and r.grade == "fail" for r in results)
    assert all(r.previous_rank is not None for r in results)  # last year's scheme was published
    assert Adjustment.objects.filter(kind="bonus").exists() and VetoEvent.objects.count() == 1
    # The hand scores' evidence is of a type the entries page accepts and serves (a PDF).
    from dashboards.assessment_models import ManualScore

    score = ManualScore.objects.first()
    assert score.evidence.name.endswith(".pdf") and score.evidence.open("rb").read(5) == b"%PDF-"
    assessment_demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=out)
    assert AssessmentScheme.objects.count() == 3  # idempotent


@pytest.mark.django_db
def test_the_demo_entries_keep_the_rules_on_who_enters_approves_and_vetoes(monkeypatch):
    # The city schemes' hand scores and adjustments were entered as demo_district, who may not
    # manage a city scheme: the demo showed entries the rules refuse.
    from dashboards import assessment
    from dashboards.assessment_models import ManualScore

    stats_data.only(monkeypatch)
    city = demo_city.build_city("small", seed=3)
    demo_city.create_demo_users(city, with_passwords=False)
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=io.StringIO())
    assessment_demo.seed(demo=city, rng=random.Random(1), scale="small", months=15, stdout=io.StringIO())
    scores = ManualScore.objects.select_related("item__scheme__area", "entered_by")
    adjustments = Adjustment.objects.select_related("scheme__area", "entered_by", "approved_by")
    vetoes = VetoEvent.objects.select_related("scheme__area", "area", "decided_by")
    assert scores and adjustments and vetoes
    for score in scores:
        assert assessment.can_manage(score.entered_by, score.item.scheme), score.entered_by
    for a in adjustments:
        assert assessment.can_manage(a.entered_by, a.scheme), a.entered_by
        assert assessment.can_manage(a.approved_by, a.scheme), a.approved_by
        assert a.entered_by_id != a.approved_by_id
    for veto in vetoes:
        assert assessment.can_veto(veto.decided_by, veto.scheme, veto.area)
    # The city's scheme is entered by a city manager other than the administrator, who approves.
    this_year = AssessmentScheme.objects.get(year=timezone.localdate().year, level="district")
    assert {a.entered_by.username for a in adjustments if a.scheme_id == this_year.pk} == {"demo_city"}
