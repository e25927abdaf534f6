"""A petition officer may reveal at most PERSONAL_DATA_REVEAL_LIMIT petitioners within
PERSONAL_DATA_REVEAL_MINUTES: the officers of an area may reveal every petitioner of it, and could
otherwise copy out the whole registry one logged reveal after another. Past the limit a reveal is a
429 with Retry-After (API) or a message at the reason field (page); nothing shown, nothing logged."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.models import PersonalDataAccess
from tests.base import api_client
from tests.petitions.conftest import ID_1

pytestmark = pytest.mark.django_db


def test_past_the_limit_the_api_answers_429_and_the_page_says_so(client, pet, settings):
    settings.PERSONAL_DATA_REVEAL_LIMIT, settings.PERSONAL_DATA_REVEAL_WINDOW = 1, dt.timedelta(minutes=30)
    petition = pet.routed()
    person = petition.petitioners.get()
    api = api_client(pet.cast.petition_officer)
    url = f"/api/v1/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    assert api.post(url, {"reason": "回访核实"}, format="json").json()["id_number"] == ID_1
    refused = api.post(url, {"reason": "回访核实"}, format="json")
    assert refused.status_code == 429 and ID_1 not in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 1800
    assert "30 minutes" in refused.json()["detail"]
    page = f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    client.force_login(pet.cast.petition_officer)
    response = client.post(page, {"reason": "再看一次"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and ID_1 not in response.content.decode()
    assert "limit: 1 per 30 minutes" in response.content.decode()
    response = client.post(page, {"reason": "再看一次"})
    assert response.status_code == 429 and ID_1 not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 1
    # The department handling it is not held by the office's count.
    other = api_client(pet.cast.department_user)
    assert other.post(url, {"reason": "办理核实"}, format="json").status_code == 200


def test_an_officer_under_the_limit_reveals_as_before(pet, settings):
    settings.PERSONAL_DATA_REVEAL_LIMIT = 30
    petition = pet.register()
    person = petition.petitioners.get()
    api = api_client(pet.cast.petition_officer)
    url = f"/api/v1/petitions/{petition.code}/petitioners/{person.pk}/reveal/"
    for _ in range(3):
        assert api.post(url, {"reason": "回访核实"}, format="json").status_code == 200
    assert PersonalDataAccess.objects.count() == 3
