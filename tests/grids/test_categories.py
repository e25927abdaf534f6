"""The default incident categories and time limits of DOMAIN.md "Grid incidents", as migration
grids/0002 (and 0012, the English names) seed them."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.mark.django_db
def test_the_twelve_default_categories_of_domain_md_with_its_default_limits(categories):
    assert list(categories) == [
        "public_security", "dispute", "fire_hazard", "work_safety", "road_traffic", "sanitation",
        "city_appearance", "housing_safety", "food_safety", "public_service", "vulnerable_care", "other",
    ]  # fmt: skip
    assert categories["sanitation"].name_en == "Sanitation and environment"
    for category in categories.values():
        # Accept within 2 working hours, dispatch within 1 working hour of acceptance.
        assert (category.accept_hours, category.dispatch_hours) == (Decimal(2), Decimal(1)), category.code
        # Handle within 24 h / 3 days / 7 days by severity.
        assert category.handle_hours in (24, 72, 168), category.code
        # Only a dispute can be turned into a mediation case.
        assert category.is_dispute == (category.code == "dispute"), category.code
    assert {c.handle_hours for c in categories.values()} == {24, 72, 168}
    urgent = {code for code, c in categories.items() if c.handle_hours == 24}
    assert {"public_security", "fire_hazard", "work_safety", "housing_safety"} <= urgent
