"""Two people acting on one petition at the same moment, over HTTP against real PostgreSQL (the API
in threads released together, ``tests.base.race``): one step wins, the other is a clear 4xx, and one
event is written."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.models import Role
from petitions.models import Petition, PetitionEvent
from tests.base import (
    api_client,
    drawn_state,
    make_user,
    one_taken_one_refused,
    race,
    stale_state_over_the_api,
)


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
    reroute, reply = (getattr(r, "status_code", repr(r)) for r in results)
    assert sorted([reroute, reply])[0] == 200, [getattr(r, "content", r) for r in results]
    # If the reroute committed before the reply's request looked the petition up, it was already
    # urban management's: the police officer gets the 404 of any petition outside their reach.
    assert reply in (200, 403, 404, 409) and reroute in (200, 403, 409), [reroute, reply]
    assert reply != 404 or reroute == 200
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


def _page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _other_types(petition: Petition) -> list[str]:
    return [t for t in Petition.HandlingType.values if t != petition.handling_type]


@pytest.mark.django_db(transaction=True)
def test_two_officers_correcting_one_petition_s_type_at_once_one_wins_the_other_gets_409(postgres, pet):
    """A type correction leaves the status as it was: before, both went through and the last one won."""
    petition = pet.accepted()
    second = make_user("officer_2", Role.PETITION_OFFICER, pet.cast.district_a, pet.cast.petition_office)
    clients = _page(pet.cast.petition_officer), _page(second)
    state = drawn_state(clients[0], f"/petitions/{petition.code}/")
    assert state == drawn_state(clients[1], f"/petitions/{petition.code}/") and state.startswith("accepted@")
    url = f"/petitions/{petition.code}/act/"
    one, other = _other_types(petition)[:2]

    def correct(client, kind):
        return client.post(url, {"action": "correct_type", "type": kind, "note": "登记有误", "state": state})

    results = race(lambda: correct(clients[0], one), lambda: correct(clients[1], other))
    refused = one_taken_one_refused(results)
    assert PetitionEvent.objects.filter(petition=petition, action="correct_type").count() == 1
    assert "changed since your page was drawn" in refused.content.decode()


@pytest.mark.django_db
def test_a_type_correction_drawn_before_another_officer_s_is_refused(pet, client):
    petition = pet.accepted()
    one, other = _other_types(petition)[:2]
    second = make_user("officer_2", Role.PETITION_OFFICER, pet.cast.district_a, pet.cast.petition_office)
    page, url = f"/petitions/{petition.code}/", f"/petitions/{petition.code}/act/"
    client.force_login(second)
    drawn = {"action": "correct_type", "note": "登记有误", "state": drawn_state(client, page)}
    first = _page(pet.cast.petition_officer)
    sent = {**drawn, "type": one, "state": drawn_state(first, page)}
    assert first.post(url, sent).status_code == 302
    assert first.post(url, sent).status_code == 302  # sent twice: the first one, answered as done
    assert petition.events.filter(action="correct_type").count() == 1
    stale = client.post(url, {**drawn, "type": other})
    assert stale.status_code == 409
    assert "This record has changed since your page was drawn (latest step: " in stale.content.decode()
    petition.refresh_from_db()
    assert petition.handling_type == one and petition.events.filter(action="correct_type").count() == 1
    api_user = api_client(second)
    page_state = drawn_state(client, page)
    path = f"/api/v1/petitions/{petition.code}/"
    stale_state_over_the_api(
        api_user, api_client(pet.cast.outsider), path, {**drawn, "type": other}, page_state, "accepted@x1"
    )
    petition.refresh_from_db()
    assert petition.handling_type == other
