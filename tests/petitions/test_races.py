"""Two people acting on one petition at the same moment, over HTTP against real PostgreSQL (the API
in threads released together, ``tests.base.race``): one step wins, the other is a clear 4xx, and one
event is written."""

from __future__ import annotations

import pytest

from governance.models import Role
from petitions.models import Petition, PetitionEvent
from tests.base import api_client, make_user, race


@pytest.mark.django_db(transaction=True)
def test_two_officers_of_the_department_replying_at_once_one_reply_is_recorded(postgres, pet):
    petition = pet.accepted()
    colleague = make_user("police_2", Role.HANDLER, pet.cast.district_a, pet.cast.police)
    url = f"/api/v1/petitions/{petition.code}/transition/"

    def reply(user, text):
        body = {"action": "reply", "opinion": "support", "text": text, "state": "accepted"}
        return api_client(user).post(url, body, format="json")

    results = race(
        lambda: reply(pet.cast.department_user, "已责令停工"), lambda: reply(colleague, "已约谈施工方")
    )
    statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
    assert statuses == [200, 409], [getattr(r, "content", r) for r in results]
    assert PetitionEvent.objects.filter(petition=petition, action="reply").count() == 1
    refused = next(r for r in results if r.status_code == 409)
    assert "replied" in refused.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_reroute_while_the_department_replies_one_wins_and_nothing_breaks(postgres, pet):
    """The reroute hands the petition to urban management; the reply that waited for its lock read
    the new department's id with the old department's row."""
    petition = pet.accepted()
    url = f"/api/v1/petitions/{petition.code}/transition/"
    results = race(
        lambda: api_client(pet.cast.petition_officer).post(
            url, {"action": "reroute", "department": pet.cast.urban.pk, "note": "属城管"}, format="json"
        ),
        lambda: api_client(pet.cast.department_user).post(
            url, {"action": "reply", "opinion": "support", "text": "已责令停工"}, format="json"
        ),
    )
    statuses = sorted(getattr(r, "status_code", repr(r)) for r in results)
    assert statuses[0] == 200 and statuses[1] in (403, 409), [getattr(r, "content", r) for r in results]
    assert PetitionEvent.objects.filter(petition=petition, action__in=("reroute", "reply")).count() == 1
    petition = Petition.objects.get(pk=petition.pk)
    assert (petition.department_id, petition.status) in {
        (pet.cast.urban.pk, "accepted"),
        (pet.cast.police.pk, "replied"),
    }


@pytest.mark.django_db(transaction=True)
def test_registrations_sent_at_the_same_instant_in_one_area_get_distinct_numbers(postgres, pet):
    import uuid

    from governance.models import SequenceCounter
    from tests.petitions.test_api import LIST, payload

    second = make_user("officer_2", Role.PETITION_OFFICER, pet.cast.district_a, pet.cast.petition_office)

    def register(user):
        return api_client(user).post(LIST, payload(pet.cast, submission=str(uuid.uuid4())), format="json")

    results = race(
        *(lambda user=user: register(user) for user in (pet.cast.petition_officer, second, second))
    )
    assert [getattr(r, "status_code", r) for r in results] == [201] * 3, [
        getattr(r, "content", r) for r in results
    ]
    assert len({r.json()["code"] for r in results}) == 3
    assert Petition.objects.count() == 3 and SequenceCounter.objects.get(key="PET").value == 3
