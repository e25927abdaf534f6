"""PostgreSQL row locks: two officers routing the same petition at once, or two department users
answering at once, serialise; the second sees the new state (409) and only one event is written."""

from __future__ import annotations

import pytest

from governance.models import Role
from governance.workflow import TransitionNotAllowed
from petitions.models import Petition, PetitionEvent
from tests.base import make_user, race


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_routings_serialise(postgres, pet):
    petition = pet.register()
    second_officer = make_user(
        "officer_2", Role.PETITION_OFFICER, pet.cast.district_a, pet.cast.petition_office
    )

    def route(actor, department):
        return Petition.objects.get(pk=petition.pk).transition(
            action="assign", actor=actor, department=department
        )

    results = race(
        lambda: route(pet.cast.petition_officer, pet.cast.police.pk),
        lambda: route(second_officer, pet.cast.urban.pk),
    )
    assert sum(isinstance(r, PetitionEvent) for r in results) == 1
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    assert PetitionEvent.objects.filter(petition=petition, action="assign").count() == 1
