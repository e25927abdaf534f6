"""A case's page, the case lists and the home page's cases name an area as the incident inbox names
grids: with the names above it where an area of the same name elsewhere in the reader's scope would
be taken for it (governance.views.labels_in_scope, area_labels)."""

from __future__ import annotations

import pytest

from grids import services as grid_services
from tests.base import (
    area_cell,
    assert_a_namesake_grid_is_named_apart,
    assert_list_names_a_namesake_grid_apart,
    assert_the_summary_names_a_namesake_grid_apart,
    described_as,
    home_item_area,
    make_area,
)


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


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("made", "url", "area_of"),
    [
        ("register", "/mediation/cases/", area_cell),
        ("accepted", "/mediation/", area_cell),
        ("accepted", "/", home_item_area),
    ],
    ids=["case-list", "desk", "home"],
)
def test_a_case_list_names_a_namesake_grid_by_its_community(client, med, made, url, area_of):
    case = getattr(med, made)()  # accepted: the mediator's own open case, on the desk and home page
    assert_list_names_a_namesake_grid_apart(client, med.cast, med.cast.mediator, url, case.code, area_of)


@pytest.mark.django_db
def test_the_case_list_s_filter_summary_names_a_namesake_grid_by_its_community(client, med):
    med.register()
    assert_the_summary_names_a_namesake_grid_apart(client, med.cast, med.cast.mediator, "/mediation/cases/")
