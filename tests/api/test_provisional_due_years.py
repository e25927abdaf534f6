"""``provisional_due_years`` of the incidents and petitions (docs/api.md "Due dates that may move"):
described in the schema, and read from the calendar once per list page, not once per row. What it
holds is tested with each app's API (tests/grids/test_api.py, tests/petitions/test_api.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.models import Incident
from petitions.models import Petition
from tests.base import api_client
from tests.grids.conftest import categories, report  # noqa: F401  (fixtures)
from tests.petitions.conftest import pet  # noqa: F401  (fixtures)

FAR = dt.datetime(2031, 3, 3, 10, 0)


@pytest.mark.parametrize("kind", ["incidents", "petitions"])
def test_a_list_reads_the_calendar_once_however_many_rows_name_a_year_without_one(request, cast, kind):
    far = timezone.make_aware(FAR)
    if kind == "incidents":
        made, user = request.getfixturevalue("report"), cast.community_handler

        def one_more() -> None:
            Incident.objects.filter(pk=made().pk).update(due_at=far)  # reported: a working-hour step
    else:
        made, user = request.getfixturevalue("pet"), cast.petition_officer

        def one_more() -> None:
            Petition.objects.filter(pk=made.accepted().pk).update(reply_due_at=far, due_at=far)

    client, url = api_client(user), f"/api/v1/{kind}/"

    def queries() -> int:
        client.get(url)  # warm-up
        with CaptureQueriesContext(connection) as captured:
            body = client.get(url).json()
        assert {tuple(row["provisional_due_years"]) for row in body["results"]} == {(2031,)}
        return len(captured)

    one_more()
    one = queries()
    for _ in range(4):
        one_more()
    assert queries() == one


@pytest.mark.django_db
@pytest.mark.parametrize("component", ["Incident", "IncidentDetail", "Petition", "PetitionDetail"])
def test_the_schema_describes_provisional_due_years_as_read_only_years(component):
    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en").json()
    field = schema["components"]["schemas"][component]["properties"]["provisional_due_years"]
    assert field["type"] == "array" and field["items"]["type"] == "integer" and field["readOnly"]
    assert "plain weekdays" in field["description"] and "may move" in field["description"]
