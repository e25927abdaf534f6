"""An area administrator (a membership with the admin role, not a superuser) works on the records of
their area and sees nothing of another's: the role is in the role checks of every app, and the
shared cast of the tests had no such user (tests/reliability/test_authorization_matrix.py now asks
every keyed URL as one)."""

from __future__ import annotations

from governance.models import Role
from mediation.models import DisputeCase
from tests.base import api_client, make_user
from tests.grids.conftest import categories, incident_in, report  # noqa: F401  (fixtures)
from tests.mediation.conftest import med  # noqa: F401  (fixture)
from tests.petitions.conftest import pet  # noqa: F401  (fixture)


def test_an_area_administrator_acts_on_the_incidents_of_their_area_only(cast, incident_in):  # noqa: F811
    incident = incident_in("reported")
    mine = api_client(make_user("district_admin_a", Role.ADMIN, cast.district_a))
    response = mine.post(
        f"/api/v1/incidents/{incident.code}/transition/", {"action": "accept"}, format="json"
    )
    assert response.status_code == 200, response.json()
    incident.refresh_from_db()
    assert incident.status == "accepted"
    theirs = api_client(make_user("district_admin_b", Role.ADMIN, cast.district_b))
    response = theirs.post(
        f"/api/v1/incidents/{incident.code}/transition/",
        {"action": "dispatch", "department": cast.police.pk},
        format="json",
    )
    assert response.status_code == 404
    incident.refresh_from_db()
    assert incident.status == "accepted" and incident.department_id is None


def test_an_area_administrator_reads_the_dispute_cases_of_their_area_only(cast, med):  # noqa: F811
    case = med.register()
    mine = api_client(make_user("area_admin_a", Role.ADMIN, cast.district_a))
    theirs = api_client(make_user("area_admin_b", Role.ADMIN, cast.district_b))
    assert mine.get(f"/api/v1/disputes/{case.code}/").status_code == 200
    assert mine.get("/api/v1/disputes/").json()["count"] == DisputeCase.objects.count() == 1
    assert theirs.get(f"/api/v1/disputes/{case.code}/").status_code == 404
    assert theirs.get("/api/v1/disputes/").json()["count"] == 0


def test_an_area_administrator_reads_the_petitions_of_their_area_only(cast, pet):  # noqa: F811
    petition = pet.register()
    mine = api_client(make_user("area_admin_a", Role.ADMIN, cast.district_a))
    theirs = api_client(make_user("area_admin_b", Role.ADMIN, cast.district_b))
    assert mine.get(f"/api/v1/petitions/{petition.code}/").status_code == 200
    assert theirs.get(f"/api/v1/petitions/{petition.code}/").status_code == 404
    assert theirs.get("/api/v1/petitions/").json()["count"] == 0
