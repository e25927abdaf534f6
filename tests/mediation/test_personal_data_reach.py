"""A mediator who leaves mediation stops reading the cases once assigned to them: their description,
sessions and (masked) parties. Each test failed before the fix."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from governance.models import Membership, Role
from governance.services import user_token_issue
from mediation.models import OrganisationMember


def token_client(user) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token " + user_token_issue(user=user))
    return c


# --- a mediator who leaves mediation keeps reading every case once assigned to them ------


@pytest.mark.django_db
def test_former_mediator_now_analyst_reads_no_case(med, cast):
    case = med.in_mediation()
    case.transition(action="conclude", actor=cast.mediator, outcome="failure", other_routes=["litigation"])
    case.transition(action="close", actor=cast.mediator)
    # The mediator leaves the organisation and becomes an analyst (statistics only).
    OrganisationMember.objects.filter(user=cast.mediator).delete()
    Membership.objects.filter(user=cast.mediator).update(role=Role.ANALYST, area=cast.city)
    c = token_client(cast.mediator)
    listed = c.get("/api/v1/disputes/").json()
    # Analysts see no case rows (docs/mediation.md "Who sees what"): no description, no parties.
    assert listed["count"] == 0, [r["code"] for r in listed["results"]]
    assert c.get(f"/api/v1/disputes/{case.code}/").status_code == 404


@pytest.mark.django_db
def test_mediator_who_left_every_role_reads_no_case(med, cast):
    case = med.accepted()
    OrganisationMember.objects.filter(user=cast.mediator).delete()
    Membership.objects.filter(user=cast.mediator).delete()
    c = token_client(cast.mediator)
    # docs/api.md: "with no membership left, lists are empty and every record is a 404".
    assert c.get("/api/v1/disputes/").json()["count"] == 0
    assert c.get(f"/api/v1/disputes/{case.code}/").status_code == 404
