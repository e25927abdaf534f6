"""PostgreSQL row locks: two officers routing the same petition at once, or two department users
answering at once, serialise; the second sees the new state (409) and only one event is written."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from governance.models import Role
from governance.workflow import TransitionNotAllowed
from petitions.models import Petition, PetitionEvent
from tests.base import make_user


def _race(*targets):
    barrier = threading.Barrier(len(targets))
    results: list = [None] * len(targets)

    def run(i, fn):
        try:
            barrier.wait()
            results[i] = fn()
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


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

    results = _race(
        lambda: route(pet.cast.petition_officer, pet.cast.police.pk),
        lambda: route(second_officer, pet.cast.urban.pk),
    )
    assert sum(isinstance(r, PetitionEvent) for r in results) == 1
    assert sum(isinstance(r, TransitionNotAllowed) for r in results) == 1
    assert PetitionEvent.objects.filter(petition=petition, action="assign").count() == 1
