"""A mediator signed off (their memberships ended) keeps no access through the organisation rows
left behind: docs/api.md, "with no membership left, lists are empty and every record is a 404"."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import Membership, PersonalDataAccess
from mediation import services
from mediation.models import DisputeCase, OrganisationMember, may_reveal
from tests.base import make_user

pytestmark = pytest.mark.django_db


def test_a_mediator_without_memberships_reads_no_case_and_reveals_nobody(med, client):
    case = med.accepted()
    mediator = med.cast.mediator
    assert case.mediator_id == mediator.pk and may_reveal(mediator, case)
    Membership.objects.filter(user=mediator).delete()
    mediator.refresh_from_db()
    for attr in ("_memberships_cache", "_mediation_memberships_cache"):
        mediator.__dict__.pop(attr, None)
    assert OrganisationMember.objects.filter(user=mediator).exists()  # left behind
    assert not DisputeCase.objects.visible_to(mediator).exists()
    assert not may_reveal(mediator, case)
    client.force_login(mediator)
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.party_reveal(case=case, party=case.parties.first(), actor=mediator, reason="follow-up call")
    assert not PersonalDataAccess.objects.filter(user=mediator).exists()


def test_the_admin_refuses_an_organisation_member_without_the_mediator_role(med):
    nobody = make_user("no_role", None, None)
    member = OrganisationMember(organisation=med.org_x, user=nobody)
    with pytest.raises(ValidationError) as refused:
        member.full_clean()
    assert "does not hold the mediator role" in str(refused.value.message_dict["user"])
    OrganisationMember(organisation=med.org_y, user=med.cast.mediator).full_clean()
