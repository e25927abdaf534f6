"""Schemathesis against our own OpenAPI schema, authenticated: no server errors, and every response
conforms to the schema. `make test` runs a modest number of examples per operation; `make fuzz`
runs many more (FUZZ_EXAMPLES=200).

The schema is generated in-process by drf-spectacular (the same code that serves /api/schema/) and
each operation is one pytest case, called through the WSGI application against the test database
with the cast loaded and a district officer's token."""

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.base import build_cast

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))


def _load_schema():
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.utils.encoders import JSONEncoder

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(json.dumps(raw, cls=JSONEncoder)))


SCHEMA = _load_schema()
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture
def fuzz_cast(db):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # Calling the WSGI application directly would close the test's database connection at the end
    # of every request; Django's own test client disconnects these handlers the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield build_cast()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(fuzz_cast):
    from governance.services import user_token_issue

    return user_token_issue(user=fuzz_cast.district_officer)


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_the_api_never_fails_and_matches_its_schema(operation, fuzz_token):
    from governance.wsgi import application

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Token {fuzz_token}"}
        response = case.call(app=application)
        case.validate_response(
            response, checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
        )

    check()


@pytest.fixture
def fresh_records(fuzz_cast):
    """One record of each kind just as registered, before anyone acts on it: no department, no
    mediator, no outcome, no earlier petition; and a rollup run nobody requested. The fuzzing above
    starts from an empty database, so it never checks the schema of a record."""
    import importlib

    from django.apps import apps

    from dashboards.rollup import run_rollup
    from grids import services as grid_services
    from mediation import services as mediation_services
    from mediation.models import MediationOrganisation, OrganisationMember
    from petitions import services as petition_services
    from tests.mediation.conftest import parties
    from tests.petitions.conftest import petitioners

    cast = fuzz_cast
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    incident = grid_services.incident_report(
        actor=cast.worker_a, category="sanitation", description="垃圾堆放", grid=cast.grid_a.code
    )
    org = MediationOrganisation.objects.create(
        name="甲一街道调解中心", kind=MediationOrganisation.Kind.STREET_CENTRE, area=cast.street_a1
    )
    OrganisationMember.objects.create(organisation=org, user=cast.mediator, is_head=True)
    dispute = mediation_services.dispute_register(
        actor=cast.mediator, category="neighbours", area=cast.grid_a, origin="application",
        description="楼上漏水导致楼下天花板受损。", parties=parties(), organisation=org,
    )  # fmt: skip
    petition = petition_services.petition_register(
        actor=cast.petition_officer, channel="visit", category="urban",
        content="小区旁工地夜间施工噪音扰民，多次反映未解决。", area=cast.grid_a, petitioners=petitioners(1),
    )  # fmt: skip
    run_rollup(full=True)
    from governance.services import notify

    notify(user=cast.district_officer, key="fresh", message="事件已逾期", link="/grids/inbox/")
    return {"incident": incident.code, "dispute": dispute.code, "petition": petition.code}


READS = [
    ("/api/v1/incidents/", {}, {}),
    ("/api/v1/incidents/{code}/", {"code": "incident"}, {}),
    ("/api/v1/incidents/{code}/events/", {"code": "incident"}, {}),
    ("/api/v1/disputes/", {}, {}),
    ("/api/v1/disputes/{code}/", {"code": "dispute"}, {}),
    ("/api/v1/disputes/{code}/events/", {"code": "dispute"}, {}),
    ("/api/v1/petitions/", {}, {"as": "petition_officer"}),
    ("/api/v1/petitions/{code}/", {"code": "petition"}, {"as": "petition_officer"}),
    ("/api/v1/areas/locate/", {}, {"lat": 31.805, "lng": 117.005}),  # its ancestors reach the city
    ("/api/v1/stats/values/", {}, {"level": "city", "as": "analyst"}),  # the city has no parent
    ("/api/v1/stats/rollups/", {}, {}),
    ("/api/v1/notifications/", {}, {}),  # one unread: read_at null
]


@pytest.mark.parametrize("path, path_parameters, query", READS, ids=[r[0] for r in READS])
def test_a_fresh_record_matches_the_schema(fresh_records, fuzz_cast, path, path_parameters, query):
    from governance.services import user_token_issue
    from governance.wsgi import application

    query = dict(query)
    user = getattr(fuzz_cast, query.pop("as", "district_officer"))  # petitions: the officers' own
    case = SCHEMA[path]["GET"].Case(
        path_parameters={name: fresh_records[kind] for name, kind in path_parameters.items()},
        query=query,
        headers={"Authorization": f"Token {user_token_issue(user=user)}"},
    )
    response = case.call(app=application)
    assert response.status_code == 200, response.text
    if path.endswith("/stats/values/"):
        assert response.json()["results"][0]["parent"] is None
    case.validate_response(response, checks=[response_schema_conformance])


def test_a_409_is_documented_only_where_a_post_can_answer_it():
    """The schema listed 409 on every POST; a client generated from it handled a conflict that
    registering a record, revealing a party or a case-count import never answers. The workflow steps,
    starting a rollup run, a survey import of answers already imported and a dispute registration
    incident report or petition sent again after its record went out of reach can (tests/*/test_api.py and
    tests/dashboards/test_intake.py get their 409s)."""
    raw = SCHEMA.raw_schema["paths"]
    conflicting = {
        path for path, methods in raw.items() if "409" in methods.get("post", {}).get("responses", {})
    }
    assert conflicting == {
        "/api/v1/incidents/{code}/transition/",
        "/api/v1/disputes/{code}/transition/",
        "/api/v1/disputes/{code}/sessions/",
        "/api/v1/petitions/{code}/transition/",
        "/api/v1/stats/rollups/",
        "/api/v1/surveys/responses/",
        "/api/v1/disputes/",
        "/api/v1/incidents/",
        "/api/v1/petitions/",
    }
    assert "400" in raw["/api/v1/incidents/"]["post"]["responses"]
    # Each in the one error format: the survey import's 409 (its view gives a description only)
    # had no body in the schema, though it answers {"detail": ..., "errors": {"again": [...]}}.
    for path in conflicting:
        conflict = raw[path]["post"]["responses"]["409"]
        assert conflict["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
            path
        )


def test_the_statistics_reads_document_their_304():
    """They answer 304 to a validator still current (docs/statistics.md); the schema said only
    200 and the errors, so a client generated from it treated the 304 as a failure."""
    raw = SCHEMA.raw_schema["paths"]
    reads = [p for p, methods in raw.items() if p.startswith("/api/v1/stats/") and "get" in methods]
    assert len(reads) == 5 and all("304" in raw[p]["get"]["responses"] for p in reads)
    assert "304" not in raw["/api/v1/incidents/"]["get"]["responses"]


def test_every_read_that_answers_304_lists_the_request_headers_that_ask_for_it():
    """The schema listed the 304 and the ETag and Last-Modified of the 200, but not the request headers
    the 304 answers (If-None-Match, If-Modified-Since): a client generated from it had no way to send
    them, and could only ever read the whole answer again."""
    raw = SCHEMA.raw_schema["paths"]
    conditional = [p for p, methods in raw.items() if "304" in methods.get("get", {}).get("responses", {})]
    assert len(conditional) == 8  # five statistics reads, two assessment reads, the notices
    for path in conditional:
        headers = {x["name"]: x for x in raw[path]["get"]["parameters"] if x["in"] == "header"}
        assert set(headers) == {"If-None-Match", "If-Modified-Since"}, path
        assert all(h["schema"] == {"type": "string"} and not h.get("required") for h in headers.values())
        assert "ETag" in headers["If-None-Match"]["description"], path
        assert "Last-Modified" in headers["If-Modified-Since"]["description"], path
    # The reads without validators take neither.
    assert not [x for x in raw["/api/v1/incidents/"]["get"]["parameters"] if x["in"] == "header"]


def test_the_statistics_reads_describe_their_csv_and_the_headers_a_client_pages_with():
    """The CSV answer was described as the JSON page (an object with count, next and results): a
    client generated from the schema parsed the CSV text as that object. And the headers a CSV client
    pages with (X-Total-Count, Link) and revalidates with (ETag, Last-Modified) were in no answer."""
    raw = SCHEMA.raw_schema["paths"]
    reads = [
        p
        for p, methods in raw.items()
        if p.startswith(("/api/v1/stats/", "/api/v1/assessments/")) and "get" in methods
    ]
    assert len(reads) == 7
    for path in reads:
        answers = raw[path]["get"]["responses"]
        csv = answers["200"]["content"]["text/csv"]["schema"]
        assert csv["type"] == "string" and "BOM" in csv["description"], path
        assert "$ref" in answers["200"]["content"]["application/json"]["schema"], path
        assert {"ETag", "Last-Modified", "Cache-Control", "X-Total-Count", "Link"} <= set(
            answers["200"]["headers"]
        )
        assert {"ETag", "Last-Modified"} <= set(answers["304"]["headers"]), path
    link = raw["/api/v1/stats/values/"]["get"]["responses"]["200"]["headers"]["Link"]
    assert 'rel="next"' in link["description"] and link["schema"] == {"type": "string"}
    # The other lists answer neither CSV nor these headers.
    assert "headers" not in raw["/api/v1/incidents/"]["get"]["responses"]["200"]


def test_the_paging_parameters_say_their_bounds_and_what_is_refused():
    """page and page_size were bare integers described as DRF's "Number of results to return per
    page." (in the language of whoever fetched the schema): nothing said that the size stops at 500,
    that 0 is a 400, or that a page past the end is a 400 rather than an empty page."""
    raw = SCHEMA.raw_schema["paths"]
    for path in ("/api/v1/stats/values/", "/api/v1/incidents/", "/api/v1/assessments/"):
        params = {p["name"]: p for p in raw[path]["get"]["parameters"]}
        size, page = params["page_size"], params["page"]
        assert size["schema"] == {"type": "integer", "minimum": 1}, path
        # In the site's language, Chinese (the English: tests/api/test_schema_language.py).
        assert "默认 50" in size["description"] and "超过 500 时按 500 返回" in size["description"]
        assert page["schema"] == {"type": "integer", "minimum": 1}, path
        assert "超过最后一页" in page["description"] and "400" in page["description"]


def test_every_request_body_documents_its_413_and_the_imports_name_their_limits():
    """The imports answer 413 to a JSON body over IMPORT_JSON_MAX_BYTES (governance.rest) and any
    request to a body over DATA_UPLOAD_MAX_MEMORY_SIZE (governance.middleware), as every other POST
    does over its own JSON limit; the schema listed no 413, so a client generated from it reported
    an oversized import as an unknown failure instead of "split the file"."""
    raw = SCHEMA.raw_schema["paths"]
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in ("/api/v1/surveys/responses/", "/api/v1/stats/case-counts/", "/api/v1/stats/populations/"):
        too_large = raw[path]["post"]["responses"]["413"]
        assert too_large["content"] == error, path
        # The limits as configured: 256 bytes a row for 200,000 rows (48.8 MB), 80 MB for a CSV upload.
        assert "48.8 MB" in too_large["description"] and "80 MB" in too_large["description"], path
    with_body = {
        (path, method)
        for path, methods in raw.items()
        for method, operation in methods.items()
        if "requestBody" in operation
    }
    assert ("/api/v1/incidents/", "post") in with_body and ("/api/v1/auth/token/", "post") in with_body
    for path, method in with_body:
        assert raw[path][method]["responses"]["413"]["content"] == error, (path, method)
    assert "1 MB" in raw["/api/v1/incidents/"]["post"]["responses"]["413"]["description"]
    assert "413" not in raw["/api/v1/incidents/"]["get"]["responses"]


def test_the_rankings_page_describes_the_parents_own_records():
    """stats/rankings/ gives, beside the page, the records filed at the parent itself: a client
    generated from the schema must know the key, that it may be null, and that so may its value."""
    raw = SCHEMA.raw_schema
    ok = raw["paths"]["/api/v1/stats/rankings/"]["get"]["responses"]["200"]["content"]["application/json"]
    page = raw["components"]["schemas"][ok["schema"]["$ref"].rsplit("/", 1)[-1]]
    own = page["properties"]["parent_own_records"]
    assert "parent_own_records" in page["required"] and own["nullable"] is True
    assert own["required"] == ["numerator", "denominator", "value"]
    assert own["properties"]["value"]["nullable"] is True and "nullable" not in own["properties"]["numerator"]
    # Only the league's page has it.
    values = raw["paths"]["/api/v1/stats/values/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert (
        "parent_own_records"
        not in raw["components"]["schemas"][values["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
    )
