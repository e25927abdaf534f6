"""Who may take each step at each level (DOMAIN.md "Grid incidents"; docs/incidents.md "Workflow"),
over the whole cast: a centre acts at the item's level or above, a department on what was
dispatched to it, the grid's worker checks on site, and the read-only roles and anyone outside the
area take no step. The pages' buttons and the API's ``actions`` are ``allowed_actions``; the
transition itself re-checks with the same ``may_perform``."""

from __future__ import annotations

import pytest

from grids.models import IncidentCategory, allowed_actions

CAST = ["worker_a", "worker_b", "community_handler", "street_handler", "district_officer", "department_user",
        "mediator", "petition_officer", "analyst", "outsider"]  # fmt: skip
CENTRES = {"community_handler", "street_handler", "district_officer"}

# A community-level item of grid A, each step taken by the admin (nobody in the cast dispatched or
# fed it back, so separate duties keep nobody from a step), dispatched to district A's police.
COMMUNITY_ITEM = {
    "reported": {"accept": CENTRES, "reject": CENTRES, "escalate": CENTRES},
    "accepted": {"dispatch": CENTRES, "escalate": CENTRES},
    "dispatched": {
        "dispatch": CENTRES,
        "escalate": CENTRES,
        "handle": CENTRES | {"department_user"},
        "return": {"department_user"},
    },  # fmt: skip
    "handling": {"feedback": CENTRES | {"department_user"}},
    "fed_back": {"verify": {"worker_a"}},
    "verified": {"close": CENTRES},
    "closed": {"evaluate": CENTRES | {"worker_a"}},
    "rejected": {},
    "evaluated": {},
}


def who_may(cast, incident) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name in CAST:
        for action in allowed_actions(getattr(cast, name), incident):
            out.setdefault(action, set()).add(name)
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("state", list(COMMUNITY_ITEM))
def test_who_takes_each_step_of_a_community_level_item(cast, incident_in, state):
    assert who_may(cast, incident_in(state)) == COMMUNITY_ITEM[state]


@pytest.mark.django_db
def test_a_street_level_item_is_the_street_centres_and_above_a_grid_level_one_its_workers_to_escalate(
    cast, report, incident_in
):
    street = report(category="work_safety")  # default level: street
    assert who_may(cast, street) == {
        a: {"street_handler", "district_officer"} for a in ("accept", "reject", "escalate")
    }
    IncidentCategory.objects.filter(code="sanitation").update(default_level="grid")
    grid = report()
    assert who_may(cast, grid) == {"accept": CENTRES, "reject": CENTRES, "escalate": CENTRES | {"worker_a"}}
    # At the top of the ladder nobody escalates.
    district = incident_in("accepted", category="work_safety")
    district.level, district.level_area = "district", cast.district_a
    assert who_may(cast, district) == {"dispatch": {"district_officer"}}
