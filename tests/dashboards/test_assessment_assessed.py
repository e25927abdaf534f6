"""The assessed see their own result: a street's staff open the district's scheme that assesses their
street, and see the scheme and their street's row (total, rank r/N, items), not the sibling streets'
rows, and only the published run."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboards import assessment
from dashboards.assessment_models import AssessmentItem, AssessmentScheme
from governance.models import Role
from tests.base import api_client, make_area, make_user


def _score(data, area, points: str) -> None:
    assessment.manual_score_enter(
        item=data.ledger,
        area=area,
        points=D(points),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF-1.4"),
        actor=data.district_officer,
    )


@pytest.fixture
def data(cast):
    """District A assesses its streets A1 and A2 (A2 first, 90 to 70 points); the run is published."""
    cast.street_a2 = make_area(
        "340102002000", "甲二街道", "street", cast.district_a, (117.0, 31.8, 117.01, 31.81)
    )
    cast.scheme = AssessmentScheme.objects.create(
        year=2026, name="2026 街道考核", area=cast.district_a, level="street"
    )
    cast.ledger = AssessmentItem.objects.create(
        scheme=cast.scheme, order=1, name="工作台账", max_points=D("100"), method="manual"
    )
    _score(cast, cast.street_a1, "70")
    _score(cast, cast.street_a2, "90")
    cast.run = assessment.assessment_compute(scheme=cast.scheme, actor=cast.district_officer)
    assessment.assessment_publish(run=cast.run, actor=cast.district_officer)
    cast.url = f"/dashboards/assessments/{cast.scheme.pk}/"
    cast.api = f"/api/v1/assessments/{cast.scheme.pk}/results/"
    return cast


def _rows(client, url: str) -> list[tuple[str, str, int]]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return [(r["area"], r["total"], r["rank"]) for r in response.json()["results"]]


def test_a_street_user_sees_the_scheme_and_only_their_streets_row(client, data):
    for user in (data.street_handler, data.community_handler, data.mediator):
        client.force_login(user)
        response = client.get(data.url)
        assert response.status_code == 200, user
        page = response.content.decode()
        assert 'data-area="340102001000"' in page and 'data-area="340102002000"' not in page
        assert "甲二街道" not in page
        assert "70.00" in page and "2<span" in page and "/2</span>" in page  # rank 2 of 2 areas
        assert 'id="own-only"' in page and 'id="assessment-items"' in page and "工作台账" in page
        assert f"{data.url}action/" not in page and f"{data.url}entries/" not in page


def test_the_district_staff_still_see_every_row(client, data):
    client.force_login(data.district_officer)
    page = client.get(data.url).content.decode()
    assert 'data-area="340102001000"' in page and 'data-area="340102002000"' in page
    assert 'id="own-only"' not in page
    assert {a for a, _, _ in _rows(api_client(data.district_officer), data.api)} == {
        "340102001000",
        "340102002000",
    }


def test_the_api_gives_a_street_user_the_scheme_and_only_their_row(data):
    client = api_client(data.street_handler)
    schemes = client.get("/api/v1/assessments/").json()
    assert [s["name"] for s in schemes["results"]] == ["2026 街道考核"]
    assert schemes["results"][0]["items"][0]["max_points"] == "100.00"
    assert _rows(client, data.api) == [("340102001000", "70.00", 2)]
    assert client.get(data.api, HTTP_ACCEPT="text/csv").content.decode("utf-8-sig").count("\n") == 2
    # Rank 2 of the 2 areas ranked, as the page's "2/2": not of the one row they read.
    assert [r["rank_of"] for r in client.get(data.api).json()["results"]] == [2]


def test_the_csv_of_the_page_holds_only_the_users_row(client, data):
    client.force_login(data.street_handler)
    body = client.get(data.url, {"format": "csv"}).content.decode("utf-8-sig")
    assert "340102001000" in body and "340102002000" not in body


def test_another_district_or_a_grid_worker_gets_404(client, data):
    for user in (data.outsider, data.worker_a, make_user("b1_handler", Role.HANDLER, data.street_b1)):
        client.force_login(user)
        assert client.get(data.url).status_code == 404, user
        assert api_client(user).get(data.api).status_code == 404, user
        assert data.scheme.pk not in [
            s["id"] for s in api_client(user).get("/api/v1/assessments/").json()["results"]
        ]


def test_the_entries_page_and_actions_stay_404_to_the_assessed(client, data):
    client.force_login(data.street_handler)
    assert client.get(f"{data.url}entries/").status_code == 404
    assert client.post(f"{data.url}action/", {"action": "compute"}).status_code == 404


def test_the_assessments_page_lists_the_scheme_to_the_assessed(client, data):
    client.force_login(data.street_handler)
    page = client.get("/dashboards/assessments/").content.decode()
    assert "2026 街道考核" in page and 'own-only"' in page
    client.force_login(data.outsider)
    assert "2026 街道考核" not in client.get("/dashboards/assessments/").content.decode()


def test_unpublished_runs_stay_hidden_from_the_assessed(client, data):
    _score(data, data.street_a1, "95")
    draft = assessment.assessment_compute(scheme=data.scheme, actor=data.district_officer)
    assert draft.pk != data.run.pk
    client.force_login(data.street_handler)
    page = client.get(data.url).content.decode()
    assert "70.00" in page and "95.00" not in page and f"?run={draft.pk}" not in page
    bad = client.get(data.url, {"run": draft.pk})
    assert bad.status_code == 400 and "95.00" not in bad.content.decode()
    api = api_client(data.street_handler)
    assert _rows(api, data.api) == [("340102001000", "70.00", 2)]
    refused = api.get(data.api, {"run": draft.pk})
    assert refused.status_code == 400 and "run" in refused.json()["errors"]
    # The district's staff see the draft as before.
    assert ("340102001000", "95.00", 1) in _rows(
        api_client(data.district_officer), f"{data.api}?run={draft.pk}"
    )


def test_a_scheme_never_published_shows_the_assessed_no_result(client, data):
    data.scheme.published_run = None
    data.scheme.save()
    client.force_login(data.street_handler)
    page = client.get(data.url).content.decode()
    assert 'data-area="340102001000"' not in page and "70.00" not in page and 'id="own-only"' in page
    assert _rows(api_client(data.street_handler), data.api) == []
    refused = api_client(data.street_handler).get(data.api, {"run": data.run.pk})
    assert refused.status_code == 400


def test_the_assessed_read_costs_the_same_queries_whatever_the_number_of_areas(client, data):
    client.force_login(data.street_handler)
    api = api_client(data.street_handler)

    def queries() -> tuple[int, int, int]:
        counts = []
        for get in (
            lambda: client.get(data.url),
            lambda: client.get("/dashboards/assessments/"),
            lambda: api.get(data.api),
        ):
            with CaptureQueriesContext(connection) as ctx:
                assert get().status_code == 200
            counts.append(len(ctx))
        return tuple(counts)

    queries()  # warm-up
    before = queries()
    for i in range(5):
        street = make_area(
            f"34010201{i}000", f"街道{i}", "street", data.district_a, (117.0, 31.8, 117.01, 31.81)
        )
        _score(data, street, str(60 + i))
        AssessmentScheme.objects.create(year=2025 - i, name=f"考核{i}", area=data.district_a, level="street")
    run = assessment.assessment_compute(scheme=data.scheme, actor=data.district_officer)
    assessment.assessment_publish(run=run, actor=data.district_officer)
    after = queries()
    assert after == before, (before, after)
    page = client.get(data.url).content.decode()
    assert "/7</span>" in page and page.count("data-area=") == 1
    assert [r["rank_of"] for r in api.get(data.api).json()["results"]] == [7]


def test_the_assessed_read_each_items_weight_and_rule(client, data):
    rule = {"method": "target", "indicator": "survey_safety_rate", "target": 90.0}
    AssessmentItem.objects.create(scheme=data.scheme, order=2, name="安全感", max_points=D("20"), **rule)
    client.force_login(data.street_handler)
    page = client.get(data.url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    items = page.split('id="assessment-items"')[1].split("</ul>")[0]
    assert "工作台账</strong> 100.00 分" in items
    assert "安全感</strong> 20.00 分" in items and "目标值 90.00%" in items


def test_the_assessed_read_a_lower_is_better_target_as_it_is_scored(client, data):
    """Full marks at or below the target of a lower-is-better indicator, max x target / value above
    (score_target); the list said "达到或超过得满分" for every target item."""
    AssessmentItem.objects.create(
        scheme=data.scheme, order=2, name="安全感", max_points=D("20"), method="target",
        indicator="survey_safety_rate", target=90.0,
    )  # fmt: skip
    AssessmentItem.objects.create(
        scheme=data.scheme, order=3, name="可防性案件", max_points=D("10"), method="target",
        indicator="police_preventable_cases_per_10k", target=5.0,
    )  # fmt: skip
    client.force_login(data.street_handler)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(data.url).content.decode()
    items = page.split('id="assessment-items"')[1].split("</ul>")[0]
    lines = dict(re.findall(r"<li><strong>(.*?)</strong>(.*?)</li>", items, re.S))
    lower = "目标值，越低越好（不高于目标值得满分，高于时按“目标值 ÷ 实际值”的比例得分）"
    higher = "目标值（达到或超过得满分，未达到按比例得分）"
    assert lower in lines["可防性案件"] and "目标值 5.00" in lines["可防性案件"]
    assert higher not in lines["可防性案件"]
    assert higher in lines["安全感"] and lower not in lines["安全感"]
    client.cookies["django_language"] = "en"
    page = client.get(data.url).content.decode()
    assert (
        "target, lower is better (full marks at or below it, the points times target ÷ value above)" in page
    )


def test_the_csv_of_a_scheme_never_published_says_so_not_draft(client, data):
    """The file's first line states the run it holds: with none to give, "Draft" told the assessed a
    draft result was theirs (they see no draft), and the assessing staff one that was never computed."""
    import csv
    import io

    def first_line(user, scheme) -> list[str]:
        client.force_login(user)
        response = client.get(f"/dashboards/assessments/{scheme.pk}/", {"format": "csv"})
        assert response.status_code == 200
        return next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    data.scheme.published_run = None
    data.scheme.save()
    assert first_line(data.street_handler, data.scheme)[1] == "No result published yet."
    never = AssessmentScheme.objects.create(
        year=2025, name="2025 街道考核", area=data.district_a, level="street"
    )
    assert first_line(data.district_officer, never)[1] == "Not computed yet."
    assert first_line(data.street_handler, never)[1] == "No result published yet."


def test_the_list_tells_the_assessed_nothing_is_published_not_draft(client, data):
    """A scheme with no published run was listed "Draft" to the assessed, who are never shown a draft
    (its page tells them no result is published yet); the assessing staff keep "Draft"."""
    import re

    data.scheme.published_run = None
    data.scheme.save()

    def status(user, language: str) -> list[str]:
        client.force_login(user)
        page = client.get("/dashboards/assessments/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.findall(r'<span class="status">([^<]*)</span>', page)

    assert status(data.street_handler, "en") == ["No result published yet"]
    assert status(data.street_handler, "zh-hans") == ["尚未发布考核结果"]
    assert status(data.district_officer, "en") == ["Draft"]
    assert status(data.district_officer, "zh-hans") == ["草稿"]


def test_an_items_value_of_an_unregistered_indicator_rounds_a_half_up(client, data):
    """An item whose indicator is no longer registered had its value written with Python's own
    formatting, which rounds the binary float: 93.125 read "93.12" where every other figure, as
    docs/statistics.md "Precision" says, rounds a half away from zero (四舍五入): "93.13"."""
    result = data.run.results.get(area=data.street_a1)
    result.items = [{**result.items[0], "indicator": "retired.indicator", "value": 93.125}]
    result.save()
    client.force_login(data.district_officer)
    page = client.get(data.url).content.decode()
    row = page.split('data-area="340102001000"', 1)[1].split("</tr>", 1)[0]
    assert '<small class="dash-value">Value 93.13</small>' in row, row
    assert "93.12" not in row


def test_the_list_says_a_scheme_never_computed_is_not_computed_not_draft(client, data):
    """A scheme without a single run (set up ahead, or its items not yet adding to 100) was listed
    "Draft" to the assessing staff, where its page and its CSV say "Not computed yet."."""
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def status(language: str) -> list[str]:
        page = client.get("/dashboards/assessments/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.findall(r'<span class="status">([^<]*)</span>', page)

    client.force_login(data.district_officer)
    client.get("/dashboards/assessments/")  # warm up
    with CaptureQueriesContext(connection) as before:
        client.get("/dashboards/assessments/")
    AssessmentScheme.objects.create(year=2025, name="2025 街道考核", area=data.district_a, level="street")
    with CaptureQueriesContext(connection) as after:
        assert status("en") == ["Published", "Not computed yet"]
    assert len(after.captured_queries) == len(before.captured_queries)
    assert status("zh-hans") == ["已发布", "尚未计算"]
    # The assessed see no draft either way: nothing published is what they are told.
    client.force_login(data.street_handler)
    assert status("en") == ["Published", "No result published yet"]
