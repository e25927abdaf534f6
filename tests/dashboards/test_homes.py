"""The home page's statistics section (dashboards/homes.py): the headline figures of the user's
area for the period the overview opens on, linked to the league tables, with a fixed number of
queries; what is overdue; nothing for those who see no dashboards."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboards import ranking
from governance.models import Membership, Role
from tests.base import make_area, make_user
from tests.dashboards.assessment_data import indicator_value

SAFE = "survey_safety_rate"
POLICE = "police_preventable_cases_per_10k"


def figures(html: str) -> str:
    """The headline section of the home page ('' when it is not there)."""
    found = re.search(r'<section class="card" id="home-figures">.*?</section>', html, re.S)
    return found.group(0) if found else ""


def figure(html: str, code: str) -> str:
    found = re.search(rf'<li class="home-figure" data-indicator="{code}">.*?</li>', figures(html), re.S)
    assert found, code
    return re.sub(r"\s+", " ", found.group(0))


@pytest.fixture
def published(cast):
    """November 2026 for the two districts, as a rollup stores it: the first headline indicator (the
    one whose newest month the overview opens on) has a value in November, so November is shown."""
    first = ranking.headline_specs()[0].code
    iv = indicator_value
    iv(first, cast.district_a, "2026-11", 80.0, 8, 10, rank=2, rank_of=2, previous_value=80.0, delta=0.0)
    iv(first, cast.district_b, "2026-11", 90.0, 9, 10, rank=1, rank_of=2)
    iv(first, cast.district_a, "2026-10", 70.0, 7, 10, rank=2, rank_of=2)
    iv(SAFE, cast.district_a, "2026-11", 93.2, 932, 1000, rank=1, rank_of=2, previous_value=90.53, delta=2.67)
    iv(SAFE, cast.district_b, "2026-11", 88.0, 880, 1000, rank=2, rank_of=2, previous_value=89.0, delta=-1.0)
    # Preventable cases: lower is better, so a rise is worse.
    iv(POLICE, cast.district_a, "2026-11", 1.6, 16, 100000, rank=2, rank_of=2, previous_value=1.2, delta=0.4)
    return cast


def test_a_district_officer_lands_on_the_districts_headline_figures(client, published):
    client.force_login(published.district_officer)
    html = client.get("/").content.decode()
    section = figures(html)
    assert "甲区" in section and "2026-11" in section
    safe = figure(html, SAFE)
    assert "Sense of safety" in safe and "93.20%" in safe
    assert "+2.67 pts" in safe and 'class="trend-better"' in safe and "better" in safe
    assert "rank 1 of 2" in safe
    assert f'href="/dashboards/league/?indicator={SAFE}&amp;period=2026-11&amp;parent=340102000000"' in safe
    police = figure(html, POLICE)
    assert "1.60" in police and "+0.40" in police and 'class="trend-worse"' in police and "worse" in police
    first = figure(html, ranking.headline_specs()[0].code)
    assert "+0.00 pts" in first and 'class="trend-same"' in first and "unchanged" in first
    # An indicator without a value this month says so, with no change and no rank.
    satisfaction = figure(html, "survey_satisfaction_rate")
    assert "No value for this period." in satisfaction and "rank" not in satisfaction
    # The overview opens on the same area and period.
    overview = client.get("/dashboards/").content.decode()
    assert "甲区" in overview and "2026-11" in overview and "93.20%" in overview


def test_the_home_page_shows_the_last_month_that_is_over_not_the_one_under_way(client, cast):
    """Seven days into a month its closure rate is low because its items are still open: the home
    page, read at a glance, shows the month before, where the overview opens on the month under way
    with its warning."""
    from governance.periods import MONTH, Period

    today = timezone.localdate()
    current = Period.of(MONTH, today.year, today.month)
    ended = current.previous()
    first = ranking.headline_specs()[0].code
    indicator_value(first, cast.district_a, current.code, 22.58, 7, 31, rank=2, rank_of=2, delta=-72.58)
    indicator_value(first, cast.district_a, ended.code, 95.16, 59, 62, rank=1, rank_of=2, delta=1.0)
    client.force_login(cast.district_officer)
    section = figures(client.get("/").content.decode())
    assert ended.code in section and current.code not in section
    assert "95.16%" in figure(section, first) and "22.58%" not in section
    assert "is not over yet" not in section
    overview = client.get("/dashboards/").content.decode()
    assert "22.58%" in overview and "is not over yet" in overview


def test_a_month_under_way_is_shown_when_it_is_the_only_one(client, cast):
    today = timezone.localdate()
    first = ranking.headline_specs()[0].code
    indicator_value(first, cast.district_a, today.strftime("%Y-%m"), 22.58, 7, 31, rank=1, rank_of=2)
    client.force_login(cast.district_officer)
    section = figures(client.get("/").content.decode())
    assert "22.58%" in figure(section, first) and "is not over yet" in section


def test_the_figures_are_in_chinese_on_a_chinese_page(client, published):
    client.force_login(published.district_officer)
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    safe = figure(html, SAFE)
    assert "+2.67 个百分点" in safe and "排名第 1（共 2）" in safe and "向好" in safe
    assert "变差" in figure(html, POLICE)


def test_another_district_s_officer_sees_only_their_own_district(client, published):
    client.force_login(published.outsider)
    html = client.get("/").content.decode()
    assert "乙区" in figures(html) and "甲区" not in figures(html)
    safe = figure(html, SAFE)
    assert "88.00%" in safe and "-1.00 pts" in safe and "worse" in safe and "rank 2 of 2" in safe


def test_an_area_without_siblings_gives_no_rank(client, published, cast):
    indicator_value(
        ranking.headline_specs()[0].code, cast.street_a1, "2026-11", 80.0, 8, 10, rank=1, rank_of=1
    )
    indicator_value(SAFE, cast.street_a1, "2026-11", 93.2, 932, 1000, rank=1, rank_of=1)
    client.force_login(make_user("street_only", Role.HANDLER, cast.street_a1))
    safe = figure(client.get("/").content.decode(), SAFE)
    assert "93.20%" in safe and "rank" not in safe


def test_before_anything_is_published_the_section_says_so(client, cast):
    client.force_login(cast.district_officer)
    response = client.get("/")
    assert response.status_code == 200
    section = figures(response.content.decode())
    assert "No figures have been published for 甲区 yet." in section
    assert 'class="home-figure"' not in section


def test_a_user_with_several_areas_sees_the_first_and_links_to_the_others(client, published, cast):
    user = make_user("two_districts", Role.HANDLER, cast.district_a)
    Membership.objects.create(user=user, role=Role.HANDLER, area=cast.district_b)
    client.force_login(user)
    section = figures(client.get("/").content.decode())
    assert "93.20%" in section  # district A, the first, as the overview opens
    assert 'href="/dashboards/?parent=340103000000"' in section and "乙区" in section


def test_those_who_see_no_dashboards_get_no_figures(client, published):
    client.force_login(published.worker_a)
    html = client.get("/").content.decode()
    assert "Welcome" in html and figures(html) == ""


def test_the_home_page_costs_the_same_queries_for_one_figure_and_for_many(client, cast):
    first = ranking.headline_specs()[0].code
    indicator_value(first, cast.district_a, "2026-11", 80.0, 8, 10, rank=1, rank_of=2)
    client.force_login(cast.district_officer)
    client.get("/")  # warm-up: sessions, caches
    with CaptureQueriesContext(connection) as one:
        html = client.get("/").content.decode()
    assert figures(html).count('class="home-figure"') == len(ranking.headline_specs())
    assert figures(html).count("No value for this period.") == len(ranking.headline_specs()) - 1
    for i in range(15):
        make_area(f"3401{50 + i:02d}000000", f"区{i}", "district", cast.city, (118.0, 31.0, 118.1, 31.1))
    for spec in ranking.headline_specs():
        indicator_value(spec.code, cast.district_a, "2026-10", 1.0, rank=2, rank_of=17)
        if spec.code != first:
            indicator_value(spec.code, cast.district_a, "2026-11", 2.0, rank=3, rank_of=17, delta=1.0)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/").content.decode()
    assert figures(html).count("No value for this period.") == 0
    assert figures(html).count("rank 3 of 17") == len(ranking.headline_specs()) - 1
    assert len(many.captured_queries) == len(one.captured_queries)
