"""Escalation (DOMAIN.md "Grid incidents"): an item the current level cannot handle goes up grid ->
community -> street -> district, with a reason. At grid level, where no centre sits, the grid's own
worker sends it up; above it, only a centre at the item's level or above."""

from __future__ import annotations

import pytest

from grids.models import Incident, IncidentCategory
from tests.base import api_client


def escalate(user, incident: Incident, note: str = "网格无法处置"):
    return api_client(user).post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": "escalate", "note": note}, format="json"
    )


@pytest.mark.django_db
def test_the_grid_worker_escalates_a_grid_level_item_to_the_community_with_a_reason(cast, report):
    IncidentCategory.objects.filter(code="sanitation").update(default_level="grid")
    incident = report()
    assert (incident.level, incident.level_area) == ("grid", cast.grid_a)
    assert escalate(cast.worker_b, incident).status_code == 404  # another grid's worker: not in sight
    refused = escalate(cast.worker_a, incident, note="")
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"note"}
    response = escalate(cast.worker_a, incident)
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert (incident.status, incident.level, incident.level_area) == (
        "reported",
        "community",
        cast.community_a1a,
    )
    event = incident.events.get(action="escalate")
    # The grid answered for the acceptance it passed on, in time; the community's clock starts now.
    assert (event.from_level, event.level, event.area_id, event.on_time) == (
        "grid",
        "community",
        cast.grid_a.pk,
        True,
    )
    assert incident.due_at > event.at
    # Up the ladder from the community, the grid worker no longer escalates: the centre does.
    assert escalate(cast.worker_a, incident).status_code == 403
    assert escalate(cast.community_handler, incident).status_code == 200
    incident.refresh_from_db()
    assert (incident.level, incident.level_area) == ("street", cast.street_a1)


@pytest.mark.django_db
def test_a_grid_worker_does_not_escalate_an_item_of_the_community(cast, report):
    incident = report()  # sanitation: community level
    assert escalate(cast.worker_a, incident).status_code == 403
    assert escalate(cast.outsider, incident).status_code == 404
    incident.refresh_from_db()
    assert (incident.level, incident.events.count()) == ("community", 1)
