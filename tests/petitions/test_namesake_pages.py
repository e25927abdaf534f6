"""A petition's page names its area as the incident inbox names grids: with the names above it where
an area of the same name elsewhere in the reader's scope would be taken for it
(governance.views.labels_in_scope)."""

from __future__ import annotations

import pytest

from tests.base import assert_a_namesake_grid_is_named_apart


@pytest.mark.django_db
def test_the_petition_page_names_a_namesake_grid_by_its_community(client, pet):
    petition = pet.register()
    assert_a_namesake_grid_is_named_apart(
        client, pet.cast, pet.cast.petition_officer, f"/petitions/{petition.code}/", "Area concerned"
    )
