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
def fuzz_token(db):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from rest_framework.authtoken.models import Token

    # Calling the WSGI application directly would close the test's database connection at the end
    # of every request; Django's own test client disconnects these handlers the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cast = build_cast()
    yield Token.objects.create(user=cast.district_officer).key
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


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
