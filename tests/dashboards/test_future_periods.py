"""A period that has not begun, on the ranking pages (overview, league table and its exports and map
data, trends): refused as a malformed period is, a 400 naming the period, as stats/rankings refuses it
(it was a page of "no values" on every page); the period under way stays allowed, and no period list
offers one to come."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from dashboards import ranking
from governance.periods import MONTH, Period
from tests.dashboards.assessment_data import indicator_value

SAFE = "survey_safety_rate"
PAGES = ("/dashboards/", "/dashboards/league/", "/dashboards/trends/")


@pytest.fixture
def values(cast):
    current = ranking.current_month()
    for period in (current, current.previous()):
        for area in (cast.district_a, cast.street_a1):
            indicator_value(SAFE, area, period.code, 90.0, rank=1, rank_of=1)
    return cast


def _next_month() -> Period:
    end = ranking.current_month().end
    return Period.of(MONTH, end.year, end.month)


def _offered(html: str) -> list[str]:
    return re.findall(r'<option value="(\d{4}(?:-\d{2}|Q\d|H\d)?)"', html)


def test_a_period_to_come_is_a_400_naming_the_period_on_every_ranking_page(client, values):
    client.force_login(values.district_officer)
    today = timezone.localdate()
    coming = [
        _next_month().code,
        f"{today.year + 1}",
        f"{today.year + 1}Q1",
        f"{today.year + 1}H1",
    ]
    for path in PAGES:
        for code in coming:
            response = client.get(path, {"indicator": SAFE, "period": code})
            html = response.content.decode()
            assert response.status_code == 400, (path, code)
            assert 'data-field="period"' in html and "has not begun yet" in html, (path, code)
            assert "<strong>Period</strong>" in html
    # The exports are refused likewise: no spreadsheet of an empty league.
    for fmt in ("csv", "xlsx"):
        response = client.get("/dashboards/league/", {"indicator": SAFE, "period": coming[0], "format": fmt})
        assert response.status_code == 400 and 'data-field="period"' in response.content.decode()
    # The map's data in JSON, keyed by the parameter.
    response = client.get("/dashboards/league/map-data/", {"indicator": SAFE, "period": coming[1]})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["period"]
    # In the reader's language, the period as the pages write it.
    zh = client.get(
        "/dashboards/league/",
        {"indicator": SAFE, "period": f"{today.year + 1}"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert zh.status_code == 400
    assert f"{today.year + 1}年 尚未开始" in zh.content.decode()


def test_the_period_under_way_stays_allowed(client, values):
    client.force_login(values.district_officer)
    today = timezone.localdate()
    current = ranking.current_month()
    for path in PAGES:
        for code in (current.code, f"{today.year}", f"{today.year}Q{(today.month - 1) // 3 + 1}"):
            response = client.get(path, {"indicator": SAFE, "period": code})
            assert response.status_code == 200, (path, code)
    csv = client.get("/dashboards/league/", {"indicator": SAFE, "period": current.code, "format": "csv"})
    assert csv.status_code == 200


def test_an_area_outside_the_scope_is_still_a_404_for_a_period_to_come(client, values):
    client.force_login(values.outsider)
    coming = _next_month().code
    for path in PAGES:
        response = client.get(path, {"indicator": SAFE, "period": coming, "parent": values.district_a.code})
        assert response.status_code == 404, path
    response = client.get(
        "/dashboards/league/map-data/",
        {"indicator": SAFE, "period": coming, "parent": values.district_a.code},
    )
    assert response.status_code == 404


def test_changing_the_period_type_never_lands_on_a_period_to_come(client, cast, monkeypatch):
    # In March, the year 2026 turned into months was 2026-12, nine months away: a page of blanks.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2026, 3, 10))
    indicator_value(SAFE, cast.district_a, "2026-02", 90.0, rank=1, rank_of=1)
    client.force_login(cast.district_officer)
    for path in PAGES:
        html = client.get(
            path, {"indicator": SAFE, "period": "2026", "period_type": "month"}
        ).content.decode()
        assert re.findall(r'<option value="([^"]+)" selected>', html)[-1] == "2026-03", path
        html = client.get(
            path, {"indicator": SAFE, "period": "2026H1", "period_type": "quarter"}
        ).content.decode()
        assert re.findall(r'<option value="([^"]+)" selected>', html)[-1] == "2026Q1", path


def test_no_period_list_offers_a_period_to_come(client, cast, monkeypatch):
    # Values stored for a month to come (a clock set wrong at a rollup) made it the default, the list
    # starting from it.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: dt.date(2026, 3, 10))
    for period in ("2026-02", "2026-05"):
        indicator_value(SAFE, cast.district_a, period, 90.0, rank=1, rank_of=1)
    client.force_login(cast.district_officer)
    for path in PAGES:
        for kind, first in (
            ("month", "2026-03"),
            ("quarter", "2026Q1"),
            ("half", "2026H1"),
            ("year", "2026"),
        ):
            response = client.get(path, {"indicator": SAFE, "period_type": kind})
            assert response.status_code == 200, (path, kind)
            offered = _offered(response.content.decode())
            assert offered[0] == first, (path, kind, offered[:3])


# --- assessment schemes of a year to come --------------------------------------------------------


@pytest.fixture
def next_year_scheme(cast):
    from tests.dashboards import assessment_data

    return assessment_data.build(cast, year=timezone.localdate().year + 1)


def test_a_scheme_of_a_year_to_come_is_not_computed_from_its_page(client, cast, next_year_scheme):
    # Set up ahead, the scheme's "Compute now" stored a run of a year without values, which could be
    # published as the year's result.
    from dashboards.assessment_models import AssessmentRun
    from governance.models import Role
    from tests.base import make_area, make_user

    s = next_year_scheme
    client.force_login(make_user("city_officer", Role.HANDLER, cast.city))
    page = client.get(f"/dashboards/assessments/{s.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="year-not-begun"' in html
    assert f"{s.year} has not begun yet: nothing can be scored before it does." in html
    assert 'value="compute"' not in html
    response = client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "compute"})
    assert response.status_code == 400 and 'data-field="year"' in response.content.decode()
    assert "has not begun yet" in response.content.decode()
    assert not AssessmentRun.objects.filter(scheme=s).exists()
    zh = client.get(f"/dashboards/assessments/{s.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"{s.year}年 尚未开始" in zh
    # Outside the scope (another city): not found, as for any other scheme.
    other = make_area("340200000000", "芜湖市", "city", None, (118.3, 31.3, 118.4, 31.4))
    client.force_login(make_user("wuhu_officer", Role.HANDLER, other))
    assert client.get(f"/dashboards/assessments/{s.pk}/").status_code == 404
    assert client.post(f"/dashboards/assessments/{s.pk}/action/", {"action": "compute"}).status_code == 404


def test_the_scheme_of_the_year_under_way_is_computed_and_the_nightly_run_skips_one_to_come(
    cast, next_year_scheme
):
    from dashboards import assessment
    from dashboards.assessment_models import AssessmentRun
    from tests.dashboards import assessment_data

    this_year = assessment_data.build(cast, year=timezone.localdate().year)
    assessment.compute_all()
    assert AssessmentRun.objects.filter(scheme=this_year).count() == 1
    assert not AssessmentRun.objects.filter(scheme=next_year_scheme).exists()
