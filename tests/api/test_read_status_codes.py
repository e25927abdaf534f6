"""The status codes /api/schema/ documents for the reads of areas, statistics and assessments are the
codes those reads answer, no more and no fewer.

Every read listed a 404 and a 403 "this role may not do this" whether or not it could answer them
(the lists refuse an area outside the scope with a 400, and every role may read them), and none
listed the 406 of an Accept header asking for a type it does not give. Here each read is sent every
request that could draw an error (no credentials, a wrong token past the limit, a temporary
password, a bad format, an Accept it does not serve, a parameter it does not read, a page past the
end, each role of the cast, an area or record out of scope or missing, a validator it gave) and the
codes it answered are compared with the codes its schema names."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from dashboards.assessment_models import AssessmentScheme
from dashboards.rollup import run_rollup
from governance.rest import token_failures_reset
from tests.base import api_client
from tests.dashboards import stats_data

SAFE = "survey_safety_rate"


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.utils.encoders import JSONEncoder

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, cls=JSONEncoder))


@pytest.fixture
def world(cast, monkeypatch):
    stats_data.build(cast)
    stats_data.only(monkeypatch)
    run_rollup(full=True)
    cast.scheme = AssessmentScheme.objects.create(
        year=2026, name="街道考核", area=cast.district_a, level="street"
    )
    return cast


def _requests(c) -> dict[str, tuple[str, dict, list[tuple[str, dict]]]]:
    """Per documented path: the URL, its good query (district_officer, in scope), and the requests
    naming something missing or outside the officer's scope (district A)."""
    outside_grid, scheme = c.grid_d.code, c.scheme.pk
    outside_scheme = AssessmentScheme.objects.create(
        year=2026, name="乙区考核", area=c.district_b, level="street"
    )
    return {
        "/api/v1/areas/": (
            "/api/v1/areas/",
            {"level": "grid"},
            [({"within": c.district_b.code}, {}), ({"parent": "999"}, {}), ({"code": outside_grid}, {})],
        ),
        "/api/v1/areas/{code}/": (
            f"/api/v1/areas/{c.grid_a.code}/",
            {},
            [({}, {"path": f"/api/v1/areas/{outside_grid}/"}), ({}, {"path": "/api/v1/areas/999/"})],
        ),
        "/api/v1/areas/geojson/": (
            "/api/v1/areas/geojson/",
            {"within": c.district_a.code},
            [({"within": c.district_b.code}, {}), ({"parent": "999"}, {}), ({"tolerance": "2"}, {})],
        ),
        "/api/v1/areas/locate/": (
            "/api/v1/areas/locate/",
            {"lat": 31.805, "lng": 117.005},
            [({"lat": 31.805, "lng": 117.11}, {}), ({"lat": 0, "lng": 0}, {}), ({"lat": "x"}, {})],
        ),
        "/api/v1/assessments/": (
            "/api/v1/assessments/",
            {"year": 2026},
            [({"area": c.district_b.code}, {}), ({"area": "999"}, {}), ({"level": "moon"}, {})],
        ),
        "/api/v1/assessments/{id}/results/": (
            f"/api/v1/assessments/{scheme}/results/",
            {},
            [
                ({}, {"path": f"/api/v1/assessments/{outside_scheme.pk}/results/"}),
                ({}, {"path": "/api/v1/assessments/999999/results/"}),
                ({"run": "999999"}, {}),
            ],
        ),
        "/api/v1/stats/indicators/": ("/api/v1/stats/indicators/", {}, []),
        "/api/v1/stats/values/": (
            "/api/v1/stats/values/",
            {"indicator": SAFE, "period": "2026-11"},
            [({"area": outside_grid}, {}), ({"parent": c.district_b.code}, {}), ({"indicator": "nope"}, {})],
        ),
        "/api/v1/stats/rankings/": (
            "/api/v1/stats/rankings/",
            {"indicator": SAFE, "period": "2026-11", "parent": c.community_a1a.code},
            [({"parent": c.district_b.code}, {}), ({"parent": "999"}, {}), ({"parent": c.grid_a.code}, {})],
        ),
        "/api/v1/stats/series/": (
            "/api/v1/stats/series/",
            {"indicator": SAFE, "area": c.grid_a.code},
            [({"area": outside_grid}, {}), ({"area": "999"}, {}), ({"from": "2026Q1"}, {})],
        ),
        "/api/v1/stats/rollups/": ("/api/v1/stats/rollups/", {}, []),
        # The caller's own notices: nothing in scope or out of it to name, a bad filter value only.
        "/api/v1/notifications/": ("/api/v1/notifications/", {}, [({"unread": "maybe"}, {})]),
    }


def _answered(c, url: str, query: dict, outside: list[tuple[str, dict]], settings) -> set[str]:
    """The codes one read answers to every request that could draw an error."""
    codes: list[int] = []
    officer = api_client(c.district_officer)
    ok = officer.get(url, query)
    codes.append(ok.status_code)
    assert ok.status_code == 200, (url, ok.content)
    # Every role of the cast, the superuser included: none is refused (the lists are scoped).
    for user in (c.worker_a, c.community_handler, c.street_handler, c.department_user, c.mediator,
                 c.petition_officer, c.analyst, c.outsider, c.admin):  # fmt: skip
        codes.append(api_client(user).get(url, query).status_code)
    # The validators it gave (the statistics, the assessments and the caller's notices give them; the
    # notices no date while the caller has none).
    if "ETag" in ok:
        codes.append(officer.get(url, query, HTTP_IF_NONE_MATCH=ok["ETag"]).status_code)
    if "Last-Modified" in ok:
        codes.append(officer.get(url, query, HTTP_IF_MODIFIED_SINCE=ok["Last-Modified"]).status_code)
    codes.append(officer.get(url, query, HTTP_IF_NONE_MATCH='"stale"').status_code)
    codes.append(api_client().get(url, query).status_code)  # no credentials
    codes.append(officer.get(url, {**query, "format": "xml"}).status_code)
    codes.append(officer.get(url, query, HTTP_ACCEPT="application/xml").status_code)
    codes.append(officer.get(url, {**query, "nope": "1"}).status_code)
    codes.append(officer.get(url, {**query, "page": "999"}).status_code)
    codes.append(officer.get(url, {**query, "page_size": "0"}).status_code)
    for params, where in outside:
        codes.append(officer.get(where.get("path", url), {**query, **params}).status_code)
    # A wrong token, then the address past the limit.
    settings.TOKEN_AUTH_FAILURE_LIMIT = 1
    token_failures_reset("127.0.0.1")
    for _ in range(2):
        codes.append(api_client().get(url, query, HTTP_AUTHORIZATION="Token wrong").status_code)
    token_failures_reset("127.0.0.1")
    # Signed in (by the session) with a temporary password an administrator set.
    c.analyst.must_change_password = True
    c.analyst.save(update_fields=["must_change_password"])
    browser = Client()
    browser.force_login(c.analyst)
    codes.append(browser.get(url, query).status_code)
    c.analyst.must_change_password = False
    c.analyst.save(update_fields=["must_change_password"])
    return {str(code) for code in codes}


def test_each_read_documents_exactly_the_codes_it_answers(world, settings):
    paths = _schema()["paths"]
    reads = {
        path
        for path, methods in paths.items()
        if "get" in methods
        and path.startswith(
            ("/api/v1/areas/", "/api/v1/stats/", "/api/v1/assessments/", "/api/v1/notifications/")
        )
    }
    requests = _requests(world)
    assert reads == set(requests)
    mismatched = {}
    for path, (url, query, outside) in requests.items():
        documented = set(paths[path]["get"]["responses"])
        answered = _answered(world, url, query, outside, settings)
        if documented != answered:
            mismatched[path] = {
                "documented only": documented - answered,
                "answered only": answered - documented,
            }
    assert mismatched == {}


def test_the_reads_say_why_a_403_and_a_406_are_answered():
    """A read refuses no role: its 403 is the temporary password's (governance.middleware), and the
    schema says so rather than "this role may not do this"."""
    paths = _schema()["paths"]
    for path in ("/api/v1/areas/", "/api/v1/stats/values/", "/api/v1/assessments/{id}/results/"):
        answers = paths[path]["get"]["responses"]
        assert "temporary password" in answers["403"]["description"], path
        assert "may not do this" not in answers["403"]["description"], path
        assert "Accept" in answers["406"]["description"], path
        for code in ("403", "406"):
            assert answers[code]["content"] == {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
            }, (path, code)
    # A write that checks roles keeps the role's 403.
    assert (
        "this role may not do this"
        in paths["/api/v1/stats/rollups/"]["post"]["responses"]["403"]["description"]
    )
    assert "406" in paths["/api/v1/incidents/"]["post"]["responses"]


def test_a_csv_answer_documents_its_file_name():
    paths = _schema()["paths"]
    for path in ("/api/v1/stats/values/", "/api/v1/stats/rankings/", "/api/v1/assessments/"):
        header = paths[path]["get"]["responses"]["200"]["headers"]["Content-Disposition"]
        assert header["schema"] == {"type": "string"}
        assert 'attachment; filename="' in header["description"] and "CSV" in header["description"], path
    assert "headers" not in paths["/api/v1/areas/"]["get"]["responses"]["200"]


def test_the_token_endpoint_documents_exactly_the_codes_it_answers(cast, settings):
    """``auth/token/`` takes no credentials and refuses no role, so the schema had removed its 403;
    but a browser signed in with a temporary password an administrator set is answered 403 by
    PasswordChangeRequiredMiddleware before the view, whatever the body, and a form post is a 415
    (the endpoint reads JSON only). It never answers 404: an unknown ?format= is a 400. Each request that could draw an error is
    sent, and the codes answered are compared with the codes its schema names."""
    from tests.base import PASSWORD

    url = "/api/v1/auth/token/"
    good = {"username": "analyst", "password": PASSWORD}

    def post(client=None, body=None, query="", **extra) -> int:
        body = json.dumps(good if body is None else body)
        client = client or api_client()
        return client.post(url + query, body, content_type="application/json", **extra).status_code

    answered = {
        "no session": post(),
        "a session of a user with their own password": post(_session(cast.worker_a)),
        "a wrong password": post(body={**good, "password": "nope"}),
        "a missing field": post(body={"username": "analyst"}),
        "an overlong username": post(body={"username": "x" * 300, "password": "nope"}),
        "?format=xml": post(query="?format=xml"),
        "Accept: application/xml": post(HTTP_ACCEPT="application/xml"),
        "a form post": api_client().post(url, good).status_code,
        "a body over the JSON limit": api_client()
        .post(url, "[" + "0," * settings.API_JSON_MAX_BYTES + "0]", content_type="application/json")
        .status_code,
    }
    # Signed in by the session with a temporary password: refused before the body is read.
    cast.analyst.must_change_password = True
    cast.analyst.save(update_fields=["must_change_password"])
    answered["the temporary password's credentials"] = post()
    browser = _session(cast.analyst)
    answered["a session with a temporary password"] = post(browser)
    answered["the same session, another user's credentials"] = post(
        browser, {"username": "worker_a", "password": PASSWORD}
    )
    cast.analyst.must_change_password = False
    cast.analyst.save(update_fields=["must_change_password"])
    # Locked after repeated failures.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post(body={**good, "password": "nope"})
    answered["locked"] = post()
    assert answered == {
        "no session": 200,
        "a session of a user with their own password": 200,
        "a wrong password": 401,
        "a missing field": 400,
        "an overlong username": 400,
        "?format=xml": 400,
        "Accept: application/xml": 406,
        "a form post": 415,
        "a body over the JSON limit": 413,
        "the temporary password's credentials": 401,
        "a session with a temporary password": 403,
        "the same session, another user's credentials": 403,
        "locked": 429,
    }
    responses = _schema()["paths"][url]["post"]["responses"]
    assert set(responses) == {str(code) for code in answered.values()}
    assert "temporary password" in responses["403"]["description"]
    assert "session" in responses["403"]["description"]


def _session(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _import_rows(c) -> dict[str, list[dict]]:
    return {
        "/api/v1/surveys/responses/": [
            {"area": c.grid_a.code, "date": "2026-11-01", "age_group": "25-34", "safety": "safe",
             "satisfaction": "satisfied"}
        ],
        "/api/v1/stats/case-counts/": [
            {"area": c.community_a1a.code, "month": "2026-10", "kind": "burglary", "count": 1}
        ],
        "/api/v1/stats/populations/": [{"area": c.community_a1b.code, "year": 2026, "population": 2000}],
    }  # fmt: skip


def test_the_imports_document_exactly_the_codes_they_answer(cast, settings):
    """The three statistics imports listed a 404, which they never answer (no record in the path; an
    unknown or outside area is a row's 400), and no 415, which a form post draws (they read JSON or
    multipart). Each is sent every request that could draw an error, and the codes answered are
    compared with the codes its schema names."""
    paths = _schema()["paths"]
    for path, rows in _import_rows(cast).items():
        codes: list[int] = []
        analyst = api_client(cast.analyst)
        codes.append(analyst.post(path, rows, format="json").status_code)
        codes.append(analyst.post(path, rows, format="json").status_code)  # the same again
        codes.append(
            api_client(cast.admin).post(path, rows, format="json", QUERY_STRING="again=true").status_code
        )
        for user in (cast.worker_a, cast.community_handler, cast.street_handler, cast.district_officer,
                     cast.department_user, cast.mediator, cast.petition_officer, cast.outsider):  # fmt: skip
            codes.append(api_client(user).post(path, rows, format="json").status_code)
        codes.append(api_client().post(path, rows, format="json").status_code)  # no credentials
        codes.append(analyst.post(path, [{**rows[0], "area": "999"}], format="json").status_code)
        codes.append(analyst.post(path, {"nope": 1}, format="json").status_code)
        codes.append(analyst.post(path + "?format=xml", rows, format="json").status_code)
        codes.append(analyst.post(path + "?nope=1", rows, format="json").status_code)
        codes.append(analyst.post(path, rows, format="json", HTTP_ACCEPT="application/xml").status_code)
        form = "area=x&month=2026-10"
        codes.append(analyst.post(path, form, content_type="application/x-www-form-urlencoded").status_code)
        limit, settings.IMPORT_JSON_MAX_BYTES = settings.IMPORT_JSON_MAX_BYTES, 100
        codes.append(analyst.post(path, rows * 10, format="json").status_code)
        settings.IMPORT_JSON_MAX_BYTES = limit
        # A wrong token, then the address past the limit.
        settings.TOKEN_AUTH_FAILURE_LIMIT = 1
        token_failures_reset("127.0.0.1")
        for _ in range(2):
            codes.append(
                api_client().post(path, rows, format="json", HTTP_AUTHORIZATION="Token wrong").status_code
            )
        token_failures_reset("127.0.0.1")
        # Signed in by the session with a temporary password.
        cast.analyst.must_change_password = True
        cast.analyst.save(update_fields=["must_change_password"])
        browser = _session(cast.analyst)
        codes.append(browser.post(path, json.dumps(rows), content_type="application/json").status_code)
        cast.analyst.must_change_password = False
        cast.analyst.save(update_fields=["must_change_password"])
        answered = {str(code) for code in codes}
        expected = {"201", "400", "401", "403", "406", "413", "415", "429"}
        if path.startswith("/api/v1/surveys/"):
            expected.add("409")  # the same answers again, without ?again=true
        assert answered == expected, path
        assert set(paths[path]["post"]["responses"]) == answered, path
        assert "JSON" in paths[path]["post"]["responses"]["415"]["description"], path
