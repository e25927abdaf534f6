"""A petition's page, the registry, a department's inbox and the home page's petitions name an area
as the incident inbox names grids: with the names above it where an area of the same name elsewhere
in the reader's scope would be taken for it (governance.views.labels_in_scope, area_labels)."""

from __future__ import annotations

import pytest

from tests.base import (
    area_cell,
    assert_a_namesake_grid_is_named_apart,
    assert_list_names_a_namesake_grid_apart,
    assert_the_summary_names_a_namesake_grid_apart,
    home_item_area,
)


@pytest.mark.django_db
def test_the_petition_page_names_a_namesake_grid_by_its_community(client, pet):
    petition = pet.register()
    assert_a_namesake_grid_is_named_apart(
        client, pet.cast, pet.cast.petition_officer, f"/petitions/{petition.code}/", "Area concerned"
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("made", "reader", "url", "area_of"),
    [
        ("register", "petition_officer", "/petitions/", area_cell),
        ("routed", "department_user", "/petitions/inbox/", area_cell),
        ("register", "petition_officer", "/", home_item_area),
        ("routed", "department_user", "/", home_item_area),
    ],
    ids=["registry", "department-inbox", "officer-home", "department-home"],
)
def test_a_petition_list_names_a_namesake_grid_by_its_community(client, pet, made, reader, url, area_of):
    petition = getattr(pet, made)()
    assert_list_names_a_namesake_grid_apart(
        client, pet.cast, getattr(pet.cast, reader), url, petition.code, area_of
    )


@pytest.mark.django_db
def test_the_registry_s_filter_summary_names_a_namesake_grid_by_its_community(client, pet):
    pet.register()
    assert_the_summary_names_a_namesake_grid_apart(client, pet.cast, pet.cast.petition_officer, "/petitions/")
