"""assessments/ and assessments/{id}/results/: scheme, per-area total, item scores, veto, grade, rank."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.utils import timezone

from dashboards import assessment
from dashboards.assessment_models import Adjustment, AssessmentItem, AssessmentScheme
from governance.models import Role
from tests.base import api_client, make_user
from tests.dashboards import assessment_data


@pytest.fixture
def data(cast):
    assessment_data.build(cast)
    cast.city_officer = make_user("city_officer", Role.HANDLER, cast.city)
    cast.street_scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=cast.district_a, level="street"
    )
    AssessmentItem.objects.create(scheme=cast.street_scheme, name="台账", max_points=100, method="manual")
    assessment.veto_record(
        scheme=cast.street_scheme, area=cast.street_a1, event="重大事故", actor=cast.district_officer
    )
    assessment.assessment_compute(scheme=cast.street_scheme)
    cast.run = assessment.assessment_compute(scheme=cast.scheme)
    return cast


def test_the_list_shows_schemes_in_scope_with_their_items(data, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        body = api_client(data.analyst).get("/api/v1/assessments/").json()
    assert body["count"] == 2
    city = next(s for s in body["results"] if s["area"] == "340100000000")
    assert [i["name"] for i in city["items"]] == ["安全感", "排名", "工作台账"]
    assert city["items"][0]["method"] == "target" and city["items"][0]["max_points"] == "60.00"
    # District A's staff keep their district's scheme of streets and, assessed by the city, read the
    # city's scheme too (their district's row of it: test_assessment_assessed).
    own = api_client(data.district_officer).get("/api/v1/assessments/").json()
    assert [s["name"] for s in own["results"]] == ["2026 平安建设考核", "街道考核"]


def test_the_list_filters_by_year_and_area_and_rejects_bad_values(data):
    client = api_client(data.analyst)
    assert client.get("/api/v1/assessments/?year=2025").json()["count"] == 0
    assert client.get("/api/v1/assessments/?area=340102000000").json()["count"] == 1
    bad = client.get("/api/v1/assessments/?year=last")
    assert bad.status_code == 400 and "year" in bad.json()["errors"]
    bad = client.get("/api/v1/assessments/?area=999")
    assert bad.status_code == 400 and "area" in bad.json()["errors"]


@pytest.mark.parametrize(
    "query, field",
    [("year=2026.5", "year"), ("year=1e30", "year"), ("year=0", "year"), ("level=distrct", "level")],
)
def test_a_year_or_level_that_cannot_be_one_is_a_400_naming_it(data, query, field):
    # year=2026.5 was read as 2026 and a misspelt level answered 200 with no schemes, which reads as
    # "none set up".
    bad = api_client(data.analyst).get(f"/api/v1/assessments/?{query}")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == [field]


def test_the_list_filters_by_level(data):
    client = api_client(data.analyst)
    assert [s["name"] for s in client.get("/api/v1/assessments/?level=street").json()["results"]] == [
        "街道考核"
    ]
    assert client.get("/api/v1/assessments/?level=district&year=2026").json()["count"] == 1


def test_results_give_total_items_veto_grade_and_rank(data):
    body = api_client(data.analyst).get(f"/api/v1/assessments/{data.scheme.pk}/results/").json()
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["area"], first["total"], first["grade"], first["rank"], first["published"]) == (
        "340102000000",
        "80.00",
        "good",
        1,
        False,
    )
    assert [i["score"] for i in first["items"]] == ["60.00", "20.00", "0.00"]
    street = (
        api_client(data.district_officer).get(f"/api/v1/assessments/{data.street_scheme.pk}/results/").json()
    )
    assert street["results"][0]["vetoed"] is True and street["results"][0]["veto_events"] == ["重大事故"]
    assert street["results"][0]["grade"] == "fail"


def _publish_then_compute_anew(data):
    """Publish the fixture's run, then enter a hand score and compute a newer (draft) run."""
    officer = data.city_officer
    assessment.assessment_publish(run=data.run, actor=officer)
    assessment_data.indicator_value("survey_safety_rate", data.district_c, "2025", 70.0)  # unrelated year
    from django.core.files.uploadedfile import SimpleUploadedFile

    assessment.manual_score_enter(
        item=data.manual_item,
        area=data.district_c,
        points=D("20"),
        evidence=SimpleUploadedFile("e.pdf", b"%PDF"),
        actor=officer,
    )
    return assessment.assessment_compute(scheme=data.scheme, actor=officer)


def test_results_show_the_published_run_until_another_is_published(data):
    newer = _publish_then_compute_anew(data)
    client = api_client(data.analyst)
    shown = client.get(f"/api/v1/assessments/{data.scheme.pk}/results/").json()["results"]
    assert {r["run"] for r in shown} == {data.run.pk} and shown[0]["published"] is True
    draft = client.get(f"/api/v1/assessments/{data.scheme.pk}/results/?run={newer.pk}").json()["results"]
    assert next(r for r in draft if r["area"] == "340104000000")["total"] == "80.67"


def test_results_reject_a_bad_run_naming_the_field(data):
    client = api_client(data.analyst)
    for value in ("abc", "999999", "²", "9" * 30):
        response = client.get(f"/api/v1/assessments/{data.scheme.pk}/results/?run={value}")
        assert response.status_code == 400 and "run" in response.json()["errors"]


def test_an_outsider_gets_404_for_a_scheme_outside_their_scope(data):
    client = api_client(data.outsider)
    assert client.get(f"/api/v1/assessments/{data.street_scheme.pk}/results/").status_code == 404
    assert client.get("/api/v1/assessments/999999/results/").status_code == 404
    # District B is assessed by the city: that scheme only.
    listed = client.get("/api/v1/assessments/").json()["results"]
    assert [s["area"] for s in listed] == ["340100000000"]


def test_a_run_published_before_another_was_published_is_no_longer_published(data):
    # ``published`` said whether the run had ever been published: after run 2 was published in its
    # place, ``?run=1`` still answered "published": true, as if both were the published result.
    newer = _publish_then_compute_anew(data)
    assessment.assessment_publish(run=newer, actor=data.city_officer)
    client = api_client(data.analyst)
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    shown = client.get(url).json()["results"]
    assert {(r["run"], r["published"]) for r in shown} == {(newer.pk, True)}
    old = client.get(f"{url}?run={data.run.pk}").json()["results"]
    assert {(r["run"], r["published"]) for r in old} == {(data.run.pk, False)}


def test_the_published_ranking_is_what_the_staff_work_out_by_hand(data):
    """A small assessment worked through as the office would on paper, entered through the services
    and read back from the API: four districts, 安全感 (target 90, 60 points), 排名 (rank on the same
    indicator, 20 points), 工作台账 (by hand, 20 points), at most 34% excellent.

    values: A 93.2, B 88.0, C 81.0, D 88.0 (B and D tie on the rank item: 1, 2, 2, 4 of 4)
    A: 60 − 2 × 2 (重大事件, approved) + 20 + 20           = 96.00  excellent
    B: 60 × 88/90 = 58.67; 20 × 3/4 = 15; 20 + 1 bonus    = 94.67  excellent by total, cut by the cap
    C: 54 + 5 (bonuses 3 + 4 stored approved, cap 5); 20 × 1/4 = 5; 20  = 84.00  good
    D: 58.67 + 15 + 20                                     = 93.67  vetoed: fail, ranked last
    A deduction still awaiting approval and a rejected one count for nothing.
    Last year's published ranks A 3, B 1, C 2, D 4 give the changes +2, −1, −1, 0."""
    from tests.base import make_area

    officer, approver = data.city_officer, make_user("city_officer_2", Role.HANDLER, data.city)
    d = make_area("340105000000", "丁区", "district", data.city, (117.3, 31.8, 117.31, 31.81))
    assessment_data.indicator_value("survey_safety_rate", d, "2026", 88.0)
    a, b, c = data.district_a, data.district_b, data.district_c
    last = AssessmentScheme.objects.create(year=2025, name="2025 考核", area=data.city, level="district")
    AssessmentItem.objects.create(
        scheme=last, name="排名", max_points=D("100"), method="rank", indicator="survey_safety_rate"
    )
    for area, value in ((a, 80.0), (b, 90.0), (c, 85.0), (d, 70.0)):
        assessment_data.indicator_value("survey_safety_rate", area, "2025", value)
    assessment.assessment_publish(run=assessment.assessment_compute(scheme=last), actor=officer)

    from django.core.files.uploadedfile import SimpleUploadedFile

    for area, points in ((a, "20"), (b, "20"), (c, "20"), (d, "20")):
        assessment.manual_score_enter(
            item=data.manual_item,
            area=area,
            points=D(points),
            evidence=SimpleUploadedFile("e.pdf", b"%PDF"),
            actor=officer,
        )
    entry = data.scheme.negative_list.get()

    def adjust(area, decide, **kwargs):
        adjustment = assessment.adjustment_enter(scheme=data.scheme, area=area, actor=officer, **kwargs)
        if decide is not None:
            assessment.adjustment_decide(
                adjustment=adjustment, approve=decide, actor=approver, reason="" if decide else "驳回理由"
            )

    adjust(a, True, kind="deduction", negative_entry=entry, occurrences=2, reason="两起重大事件")
    adjust(b, None, kind="deduction", negative_entry=entry, occurrences=1, reason="待审")
    adjust(b, False, kind="deduction", negative_entry=entry, occurrences=3, reason="驳回")
    adjust(b, True, kind="bonus", item=data.manual_item, points=D("1"), reason="创新做法")
    adjust(c, True, kind="bonus", item=data.target_item, points=D("3"), reason="进步五位")
    # Stored before the cap held for an area's bonuses together (entering it now is refused): the
    # score still takes no more than the cap.
    Adjustment.objects.create(
        scheme=data.scheme,
        item=data.target_item,
        area=c,
        kind="bonus",
        points=D("4"),
        reason="表彰",
        status="approved",
        entered_by=officer,
        entered_at=timezone.now(),
        approved_by=approver,
        approved_at=timezone.now(),
    )
    assessment.veto_record(scheme=data.scheme, area=d, event="重大安全事故", actor=officer)
    assessment.assessment_publish(run=assessment.assessment_compute(scheme=data.scheme), actor=officer)

    body = api_client(data.analyst).get(f"/api/v1/assessments/{data.scheme.pk}/results/").json()
    table = [
        (
            r["area"],
            r["rank"],
            r["total"],
            r["grade"],
            r["capped"],
            r["vetoed"],
            r["deductions"],
            r["bonus"],
            r["previous_rank"],
            r["rank_change"],
            [i["score"] for i in r["items"]],
            r["published"],
        )
        for r in body["results"]
    ]
    assert table == [
        ("340102000000", 1, "96.00", "excellent", False, False, "4.00", "0.00", 3, 2, ["56.00", "20.00", "20.00"], True),
        ("340103000000", 2, "94.67", "good", True, False, "0.00", "1.00", 1, -1, ["58.67", "15.00", "21.00"], True),
        ("340104000000", 3, "84.00", "good", False, False, "0.00", "5.00", 2, -1, ["59.00", "5.00", "20.00"], True),
        ("340105000000", 4, "93.67", "fail", False, True, "0.00", "0.00", 4, 0, ["58.67", "15.00", "20.00"], True),
    ]  # fmt: skip
    ranks = {r["area"]: [i["rank"] for i in r["items"]][1] for r in body["results"]}
    assert ranks == {"340102000000": 1, "340103000000": 2, "340104000000": 4, "340105000000": 2}


# --- conditional GET and CSV, as the statistics API (docs/statistics.md section 5) --------------------


def _validators_an_hour_old():
    """The counters as if an hour had passed: HTTP dates have whole seconds, and a change within the
    second of the first answer would be told only by the tag."""
    import datetime as dt

    from governance.models import SequenceCounter

    SequenceCounter.objects.exclude(changed_at=None).update(changed_at=timezone.now() - dt.timedelta(hours=1))


def _both_validators(first) -> list[dict]:
    return [{"HTTP_IF_NONE_MATCH": first["ETag"]}, {"HTTP_IF_MODIFIED_SINCE": first["Last-Modified"]}]


def test_unchanged_assessments_answer_304_until_a_run_is_published(data):
    """The assessment reads carried no validator: a client polling for the published result fetched
    every table again. They now carry an ETag and Last-Modified from the last change to the schemes,
    items and runs (the "assessments" version), the areas and the memberships."""
    _validators_an_hour_old()
    client = api_client(data.analyst)
    urls = ["/api/v1/assessments/", f"/api/v1/assessments/{data.scheme.pk}/results/"]
    firsts = [client.get(url) for url in urls]
    for url, first in zip(urls, firsts, strict=True):
        assert first.status_code == 200 and first["ETag"] and first["Last-Modified"]
        assert first["Cache-Control"] == "private, no-cache"
        for headers in _both_validators(first):
            unchanged = client.get(url, **headers)
            assert (unchanged.status_code, unchanged.content) == (304, b"")
            assert unchanged["ETag"] == first["ETag"]
    assessment.assessment_publish(run=data.run, actor=data.city_officer)
    for url, first in zip(urls, firsts, strict=True):
        for headers in _both_validators(first):
            changed = client.get(url, **headers)
            assert changed.status_code == 200, (url, headers)
    listed = client.get(urls[0]).json()["results"]
    assert next(s for s in listed if s["id"] == data.scheme.pk)["published_run"] == data.run.pk
    assert {r["published"] for r in client.get(urls[1]).json()["results"]} == {True}


def _changed_by(client, url: str, change, shown: str) -> None:
    """``change()`` makes the read at ``url`` answer 200 again, with ``shown`` in it, by tag and by date."""
    _validators_an_hour_old()
    first = client.get(url)
    change()
    for headers in _both_validators(first):
        again = client.get(url, **headers)
        assert again.status_code == 200 and shown in again.content.decode(), headers


def test_an_edited_item_or_a_renamed_area_is_not_a_304(data):
    client = api_client(data.analyst)
    item, area = data.manual_item, data.district_a

    def edit():
        item.name = "台账检查"
        item.save()

    def rename():
        area.name = "新甲区"
        area.save()

    _changed_by(client, "/api/v1/assessments/", edit, "台账检查")
    _changed_by(client, f"/api/v1/assessments/{data.scheme.pk}/results/", rename, "新甲区")


def test_another_users_scope_or_a_failing_request_gets_no_304(data):
    url = f"/api/v1/assessments/{data.street_scheme.pk}/results/"
    officer = api_client(data.district_officer).get(url)
    outsider = api_client(data.outsider)
    for headers in (
        {"HTTP_IF_NONE_MATCH": officer["ETag"]},
        {"HTTP_IF_NONE_MATCH": "*"},
        {"HTTP_IF_MODIFIED_SINCE": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        response = outsider.get(url, **headers)
        assert response.status_code == 404 and "ETag" not in response, headers
        bad = api_client(data.analyst).get("/api/v1/assessments/?year=last", **headers)
        assert bad.status_code == 400 and "year" in bad.json()["errors"]
    analyst = api_client(data.analyst)
    assert analyst.get(url, HTTP_IF_NONE_MATCH=officer["ETag"]).status_code == 200


def test_assessments_as_csv_by_format_or_accept(data):
    client = api_client(data.analyst)
    listed = client.get("/api/v1/assessments/", {"format": "csv", "level": "district"})
    assert listed.status_code == 200 and listed["Content-Type"].startswith("text/csv")
    lines = listed.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "id,year,name,area,area_name,level,excellent_share_cap,tie_rule,published_run,items"
    import csv

    (row,) = list(csv.DictReader(lines))
    assert (row["area"], row["name"], row["excellent_share_cap"], row["published_run"]) == (
        "340100000000",
        "2026 平安建设考核",
        "0.340",
        "",
    )
    import json

    assert [i["name"] for i in json.loads(row["items"])] == ["安全感", "排名", "工作台账"]
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    results = client.get(url, HTTP_ACCEPT="text/csv")
    assert results["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(results.content.decode("utf-8-sig").splitlines()))
    assert [(r["area"], r["rank"], r["total"], r["grade"]) for r in rows] == [
        ("340102000000", "1", "80.00", "good"),
        ("340103000000", "2", "72.00", "pass"),
        ("340104000000", "3", "60.67", "pass"),
    ]
    assert [i["score"] for i in json.loads(rows[0]["items"])] == ["60.00", "20.00", "0.00"]
    for row, as_json in zip(rows, client.get(url).json()["results"], strict=True):
        assert json.loads(row["items"]) == as_json["items"] and json.loads(row["veto_events"]) == []
    assert client.get(url, {"format": "csv"}, HTTP_IF_NONE_MATCH=results["ETag"]).status_code == 200
    assert client.get(url, HTTP_ACCEPT="text/csv", HTTP_IF_NONE_MATCH=results["ETag"]).status_code == 304
    # No results yet: still the header row.
    empty = AssessmentScheme.objects.create(year=2027, name="空", area=data.city, level="district")
    header = client.get(f"/api/v1/assessments/{empty.pk}/results/", {"format": "csv"})
    assert header.content.decode("utf-8-sig").splitlines()[0].startswith("scheme,run,published,area,")
    # Errors stay JSON.
    bad = client.get(url, {"run": "abc", "format": "csv"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"


def test_assessment_reads_cost_the_same_queries_whatever_the_number_of_areas(data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.base import make_area

    client = api_client(data.analyst)
    urls = ["/api/v1/assessments/", f"/api/v1/assessments/{data.scheme.pk}/results/"]

    def queries(url: str, **extra) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, **extra).status_code == 200
        return len(ctx)

    queries(urls[0])  # warm-up: the test client keeps the user and its memberships
    before = {url: queries(url) for url in urls}
    for i in range(20):
        area = make_area(
            f"3401{50 + i:02d}000000", f"区{i}", "district", data.city, (117.0, 31.8, 117.01, 31.81)
        )
        assessment_data.indicator_value("survey_safety_rate", area, "2026", 80.0 + i / 10)
        AssessmentScheme.objects.create(year=2026, name=f"街道考核{i}", area=area, level="street")
    assessment.assessment_compute(scheme=data.scheme)
    after = {url: queries(url) for url in urls}
    assert after == before and max(after.values()) <= 6, after
    csv_after = {url: queries(url, HTTP_ACCEPT="text/csv") for url in urls}
    assert csv_after == after


def test_the_csv_of_results_writes_true_and_false(data):
    import csv

    url = f"/api/v1/assessments/{data.street_scheme.pk}/results/?format=csv"
    response = api_client(data.district_officer).get(url)
    rows = list(csv.DictReader(response.content.decode("utf-8-sig").splitlines()))
    vetoed = next(r for r in rows if r["area"] == data.street_a1.code)
    assert (vetoed["vetoed"], vetoed["capped"], vetoed["published"]) == ("true", "false", "false")
    assert vetoed["veto_events"] == '["重大事故"]' and vetoed["previous_rank"] == ""


def test_the_schema_gives_the_assessment_reads_their_csv_and_304(data):
    schema = api_client(data.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/assessments/", "/api/v1/assessments/{id}/results/"):
        responses = schema["paths"][path]["get"]["responses"]
        assert "text/csv" in responses["200"]["content"] and "304" in responses, path


def test_the_assessments_carry_a_last_modified_from_the_first_deploy(cast):
    # The "assessments" version row appeared at the first change to a scheme, item or run: until
    # then the answers had an ETag and no Last-Modified. The data migration creates it.
    from governance.models import SequenceCounter

    response = api_client(cast.analyst).get("/api/v1/assessments/")
    assert response.status_code == 200 and response["ETag"] and response.get("Last-Modified")
    assert SequenceCounter.objects.filter(key="assessments", year=0).exclude(changed_at=None).exists()
    again = api_client(cast.analyst).get(
        "/api/v1/assessments/", HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]
    )
    assert again.status_code == 304


def test_the_version_rows_migration_keeps_existing_rows_and_goes_back_without_loss(cast):
    # Run again (or over a database where the row was made by a change), it keeps the row's value and
    # date: the version must not go back, or a client's ETag of a later state would match again.
    import datetime as dt
    import importlib

    from django.apps import apps
    from django.db import migrations

    from governance.models import SequenceCounter

    migration = importlib.import_module("dashboards.migrations.0016_assessments_version_row")
    then = timezone.now() - dt.timedelta(days=3)
    SequenceCounter.objects.filter(key="assessments", year=0).update(value=7, changed_at=then)
    migration.create_version_row(apps, None)
    assert SequenceCounter.objects.filter(key="assessments", year=0).values_list(
        "value", "changed_at"
    ).get() == (
        7,
        then,
    )
    # A row left without a date (made by numbering) gets one; a missing row is made, at value 0.
    SequenceCounter.objects.filter(key="assessments", year=0).update(changed_at=None)
    migration.create_version_row(apps, None)
    row = SequenceCounter.objects.get(key="assessments", year=0)
    assert row.value == 7 and row.changed_at > then
    SequenceCounter.objects.filter(key="assessments").delete()
    migration.create_version_row(apps, None)
    row = SequenceCounter.objects.get(key="assessments", year=0)
    assert row.value == 0 and row.changed_at is not None
    # Backwards it leaves the row: a version the signals moved since must not be lost.
    operation = migration.Migration.operations[0]
    assert operation.reverse_code is migrations.RunPython.noop


def test_each_result_says_how_many_areas_the_run_ranked(data):
    # The page prints rank "1/3": the API gave the 1 and no 3, and a client counting the rows it got
    # counts a page of them (or, assessed, its own row alone).
    client = api_client(data.analyst)
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    body = client.get(url, {"page_size": 1}).json()
    assert [(r["rank"], r["rank_of"]) for r in body["results"]] == [(1, 3)]
    import csv

    rows = list(csv.DictReader(client.get(url, {"format": "csv"}).content.decode("utf-8-sig").splitlines()))
    assert [(r["rank"], r["rank_of"]) for r in rows] == [("1", "3"), ("2", "3"), ("3", "3")]
    schema = api_client(data.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    result = schema["components"]["schemas"]["AssessmentResult"]
    assert result["properties"]["rank_of"]["type"] == "integer" and "rank_of" in result["required"]


def test_each_result_gives_the_rules_its_run_was_graded_by(data, settings):
    """A run records the rules it was graded by; the API gives them with each row (read-only), the
    recorded ones after a setting changed, and null for a run computed before runs recorded them."""
    import csv
    import json

    from dashboards.assessment_models import AssessmentRun

    client = api_client(data.analyst)
    url = f"/api/v1/assessments/{data.scheme.pk}/results/"
    recorded = {
        "thresholds": {"excellent": "90", "good": "80", "pass": "60"},
        "veto_effect": "fail",
        "excellent_share_cap": "0.34",
        "excellent_allowed": 1,
        "areas": 3,
        "tie_rule": "fewer_deductions",
    }
    settings.ASSESSMENT_GRADE_THRESHOLDS = (95, 85, 70)
    rows = client.get(url).json()["results"]
    assert [r["rules"] for r in rows] == [recorded] * 3
    as_csv = list(csv.DictReader(client.get(url, {"format": "csv"}).content.decode("utf-8-sig").splitlines()))
    assert json.loads(as_csv[0]["rules"]) == recorded
    newer = assessment.assessment_compute(scheme=data.scheme)
    assert newer.pk != data.run.pk
    rows = client.get(url, {"run": newer.pk}).json()["results"]
    assert rows[0]["rules"]["thresholds"] == {"excellent": "95", "good": "85", "pass": "70"}
    AssessmentRun.objects.filter(pk=data.run.pk).update(rules=None)
    assert {r["rules"] for r in client.get(url, {"run": data.run.pk}).json()["results"]} == {None}
    schema = api_client(data.admin).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    rules = schema["components"]["schemas"]["AssessmentResult"]["properties"]["rules"]
    assert rules.get("readOnly") is True and rules.get("nullable") is True
