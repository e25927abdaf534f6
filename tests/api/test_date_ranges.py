"""A date range whose end comes before its start is a 400 naming the ``_to`` field (API) and a filter
error (pages): an empty list read as "nothing was reported then"."""

from __future__ import annotations

import pytest

from grids import services
from tests.base import api_client


@pytest.mark.parametrize(
    ("path", "start", "end"),
    [
        ("/api/v1/incidents/", "reported_from", "reported_to"),
        ("/api/v1/disputes/", "received_from", "received_to"),
        ("/api/v1/disputes/", "concluded_from", "concluded_to"),
        ("/api/v1/petitions/", "received_from", "received_to"),
    ],
)
def test_a_reversed_range_is_a_400_naming_its_end(cast, path, start, end):
    api = api_client()
    api.force_authenticate(cast.admin)
    response = api.get(path, {start: "2026-11-30", end: "2026-11-01"})
    assert response.status_code == 400
    assert end in response.json()["detail"]
    assert response.json()["errors"][end] == [
        "The end of the range (2026-11-01) is before its start (2026-11-30)."
    ]
    assert api.get(path, {start: "2026-11-01", end: "2026-11-01"}).status_code == 200  # one day


def test_the_incident_list_page_says_the_range_is_reversed(cast, client, categories):
    incident = services.incident_report(
        actor=cast.worker_a, category="sanitation", description="垃圾堆放", grid=cast.grid_a.code
    )
    client.force_login(cast.street_handler)
    day = incident.reported_at.date()
    response = client.get(f"/grids/inbox/?reported_from={day}&reported_to=2020-01-01")
    html = response.content.decode()
    assert response.status_code == 400 and "is before its start" in html
    assert incident.code not in html
