"""PostgreSQL row locks: two officers routing the same petition at once, or two department users
answering at once, serialise; the second sees the new state (409) and only one event is written."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import OperationalError
from django.utils import timezone

from governance.models import Role
from governance.workflow import TransitionNotAllowed
from petitions import services
from petitions.models import Petition, PetitionEvent
from tests.base import api_client, make_user, race


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


@pytest.mark.django_db(transaction=True)
def test_two_petitions_linked_to_each_other_at_once_make_no_loop_and_no_500(postgres, pet):
    """Two petitions of the same minute each match the other as earlier. Linked at once, both passed
    the loop check (the other link not committed yet): a deadlock (a 500) and, with the rows locked
    FOR NO KEY UPDATE, A -> B -> A (the matter counted zero times). Links take turns."""
    officer_2 = make_user("officer_2", Role.PETITION_OFFICER, pet.cast.district_a, pet.cast.petition_office)
    for i in range(4):
        at = timezone.now().replace(second=30, microsecond=0) - dt.timedelta(hours=1 + i)
        a = pet.register(received_at=at)
        b = pet.register(received_at=at - dt.timedelta(seconds=10))

        def link(petition, other, actor):
            client = api_client(actor)
            client.raise_request_exception = False
            return client.post(
                f"/api/v1/petitions/{petition.code}/transition/",
                {"action": "link_repeat", "repeat_of": other.code},
                format="json",
            ).status_code

        statuses = race(lambda: link(a, b, pet.cast.petition_officer), lambda: link(b, a, officer_2))
        assert sorted(statuses) == [200, 400], statuses
        a.refresh_from_db()
        b.refresh_from_db()
        assert not (a.repeat_of_id == b.pk and b.repeat_of_id == a.pk)


@pytest.mark.django_db(transaction=True)
def test_a_repeat_registered_while_the_department_gives_the_original_back_both_succeed(postgres, pet):
    """The registration (its submission key locks the officer's row) links to X; giving X back (X
    locked) notifies that officer. Each wanted a key-share lock on what the other held FOR UPDATE."""
    for i in range(8):
        original = pet.routed(received_at=timezone.now() - dt.timedelta(hours=2 + i))

        def give_back():
            return services.petition_transition(
                petition=Petition.objects.get(pk=original.pk),
                actor=pet.cast.department_user,
                action="return",
                note="不属于本单位职责",
            )

        results = race(lambda: pet.register(repeat_of=original.code, submission=uuid.uuid4()), give_back)
        assert not [r for r in results if isinstance(r, OperationalError)], results
        assert isinstance(results[0], Petition), results
