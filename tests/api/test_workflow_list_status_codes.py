"""The workflow lists (incidents/, disputes/, petitions/, incidents/departments/) never answer 404,
and /api/schema/ no longer says they do.

The schema listed "No such record, or it is outside your area" for every read but those of areas,
statistics and assessments, so a generated client handled a 404 these lists cannot give: a filter
naming an area, grid, department, organisation or mediator missing or outside the scope is a 400
naming the filter (docs/api.md "Lists"), as is a page past the last; nothing in their path names a
record. Each is sent here every request that could draw a 404, by each role of the cast."""

from __future__ import annotations

import json

import pytest

from tests.base import api_client

LISTS = {
    "/api/v1/incidents/": [
        {"area": "999"},
        {"area": "340103000000"},  # district B, outside every district A user's scope
        {"grid": "NOPE"},
        {"grid": "340103001001001"},
        {"department": "999999"},
        {"page": "999"},
        {"page": "abc"},
    ],
    "/api/v1/disputes/": [
        {"area": "999"},
        {"organisation": "999999"},
        {"mediator": "nobody"},
        {"page": "999"},
    ],
    "/api/v1/petitions/": [{"area": "999"}, {"department": "999999"}, {"page": "999"}],
    "/api/v1/incidents/departments/": [{"month": "2026-13"}, {"page": "999"}],
}


def _schema() -> dict:
    from drf_spectacular.generators import SchemaGenerator
    from rest_framework.utils.encoders import JSONEncoder

    raw = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(raw, cls=JSONEncoder))


@pytest.mark.django_db
def test_the_workflow_lists_answer_no_404_and_the_schema_lists_none(cast):
    schema = _schema()
    for path in LISTS:
        assert "404" not in schema["paths"][path]["get"]["responses"], path
    # A record's own read still lists it (and answers it: tests/grids, mediation, petitions).
    assert "404" in schema["paths"]["/api/v1/incidents/{code}/"]["get"]["responses"]
    users = ("worker_a", "community_handler", "street_handler", "district_officer", "mediator")
    users += ("petition_officer", "analyst", "outsider")
    answered = {}
    for name in users:
        client = api_client(getattr(cast, name))
        for path, requests in LISTS.items():
            for params in requests:
                answered[(name, path, tuple(params.items()))] = client.get(path, params).status_code
    assert set(answered.values()) <= {200, 400, 403}
    assert [key for key, code in answered.items() if code == 404] == []
    assert answered[("district_officer", "/api/v1/incidents/", (("area", "340103000000"),))] == 400
