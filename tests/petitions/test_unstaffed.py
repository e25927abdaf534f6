"""A department whose people all left after a petition was routed to it: only its people accept,
return or decline, so the petition sat there for good and its deadline notices went to nobody."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Membership, Notification
from petitions import services
from petitions.models import Petition, allowed_actions

pytestmark = pytest.mark.django_db


def _empty(department) -> None:
    Membership.objects.filter(department=department).delete()


def test_the_office_takes_back_a_petition_whose_department_has_nobody_left(pet):
    cast = pet.cast
    petition = pet.routed()
    assert "return" not in allowed_actions(cast.petition_officer, petition)  # the department's step
    _empty(cast.police)
    # Past the department's 5 working days to return, which do not bind the office.
    Petition.objects.filter(pk=petition.pk).update(return_due_at=timezone.now() - dt.timedelta(days=1))
    petition.refresh_from_db()
    assert "return" in allowed_actions(cast.petition_officer, petition)
    petition.transition(action="return", actor=cast.petition_officer, note="公安分局已无人办理，收回重新交办")
    petition.refresh_from_db()
    assert petition.status == Petition.Status.REGISTERED and petition.department_id is None
    assert "assign" in allowed_actions(cast.petition_officer, petition)


def test_the_deadline_notice_of_an_unstaffed_department_goes_to_the_office(pet):
    cast = pet.cast
    routed, accepted = pet.routed(), pet.accepted()
    _empty(cast.police)
    Petition.objects.filter(pk__in=[routed.pk, accepted.pk]).update(
        due_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert services.petition_notify_deadlines() >= 2
    told = set(Notification.objects.values_list("user__username", "key"))
    for petition in (routed, accepted):
        assert any(user == cast.petition_officer.username and petition.code in key for user, key in told), (
            told
        )
