"""A case's page names its area as the incident inbox names grids: with the names above it where an
area of the same name elsewhere in the reader's scope would be taken for it
(governance.views.labels_in_scope)."""

from __future__ import annotations

import pytest

from grids import services as grid_services
from tests.base import assert_a_namesake_grid_is_named_apart, described_as, make_area


@pytest.mark.django_db
def test_the_case_page_names_a_namesake_grid_by_its_community(client, med):
    case = med.register()
    assert_a_namesake_grid_is_named_apart(
        client, med.cast, med.cast.mediator, f"/mediation/cases/{case.code}/", "Area"
    )


@pytest.mark.django_db
def test_the_page_turning_an_incident_into_a_case_names_a_namesake_grid_by_its_community(client, med):
    cast = med.cast
    incident = grid_services.incident_report(
        actor=cast.worker_a, category="dispute", description="两户因停车位争吵", grid=cast.grid_a.code
    )
    make_area(
        "340102001002009", cast.grid_a.name, "grid", cast.community_a1b, (117.03, 31.805, 117.035, 31.81)
    )
    url = f"/mediation/from-incident/{incident.code}/"
    client.force_login(cast.street_handler)
    assert (
        described_as(client.get(url).content.decode(), "Grid")
        == f"{cast.community_a1a.name} · {cast.grid_a.name}"
    )
    client.force_login(cast.outsider)
    assert client.get(url).status_code == 404
