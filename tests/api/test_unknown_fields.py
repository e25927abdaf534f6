"""A field a write does not read is a 400 naming it, nothing saved, as on POST stats/rollups/ and the
imports (docs/api.md "Errors"): a petitioner's misspelt ``phnoe`` was dropped without a word and the
petition registered without the phone, a case's ``amout`` without its amount, an incident's
``adress`` without its address, a step's ``notes`` without its note."""

from __future__ import annotations

import pytest
from django.utils import timezone

from grids.models import Incident
from mediation.models import DisputeCase, DisputeSession
from petitions.models import Petition
from tests.base import api_client
from tests.grids.conftest import IN_GRID_A, report  # noqa: F401  (fixtures)
from tests.mediation.conftest import med, parties  # noqa: F401  (fixtures)
from tests.petitions.conftest import pet, petitioners  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def _refused(response, *keys: str) -> dict:
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    for key in keys:
        assert errors[key][0].startswith("Unknown field; the fields are: "), errors
    return errors


def test_an_incident_report_with_a_field_it_does_not_read_is_refused(cast, report):  # noqa: F811
    client = api_client(cast.worker_a)
    body = {"category": "sanitation", "description": "垃圾堆放", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}
    errors = _refused(
        client.post("/api/v1/incidents/", {**body, "adress": "春晖路12号"}, format="json"), "adress"
    )
    assert "address" in errors["adress"][0] and list(errors) == ["adress"]
    # Every error in the one 400: the unknown field beside a missing one.
    both = _refused(client.post("/api/v1/incidents/", {"adress": "x"}, format="json"), "adress")
    assert {"category", "description"} <= set(both)
    # A form or multipart report is read the same way.
    _refused(client.post("/api/v1/incidents/", {**body, "adress": "x"}, format="multipart"), "adress")
    assert not Incident.objects.exists()
    assert client.post("/api/v1/incidents/", body, format="json").status_code == 201


def test_a_dispute_registration_names_an_unknown_field_of_the_case_and_of_a_party(med):  # noqa: F811
    client = api_client(med.cast.mediator)
    body = {
        "category": "neighbours",
        "area": med.cast.grid_a.code,
        "source": "application",
        "description": "噪音扰民纠纷",
        "received_at": timezone.now().isoformat(),
        "parties": parties(),
    }
    rows = parties()
    rows[1]["phnoe"] = rows[1].pop("phone")
    errors = _refused(
        client.post("/api/v1/disputes/", {**body, "amout": "500", "parties": rows}, format="json"),
        "amout",
        "parties[1].phnoe",
    )
    assert set(errors) == {"amout", "parties[1].phnoe"}
    assert not DisputeCase.objects.exists()
    assert client.post("/api/v1/disputes/", body, format="json").status_code == 201


def test_a_petition_registration_names_an_unknown_field_of_a_petitioner(pet):  # noqa: F811
    client = api_client(pet.cast.petition_officer)
    rows = petitioners(1)
    rows[0]["phnoe"] = rows[0].pop("phone")
    body = {
        "channel": "visit",
        "category": "labour",
        "content": "工厂拖欠工资三个月，多次讨要无果。",
        "area": pet.cast.community_a1a.code,
        "persons_count": 1,
        "petitioners": rows,
    }
    _refused(client.post("/api/v1/petitions/", body, format="json"), "petitioners[0].phnoe")
    assert not Petition.objects.exists()
    body["petitioners"] = petitioners(1)
    assert client.post("/api/v1/petitions/", body, format="json").status_code == 201


def test_a_session_and_a_reveal_name_an_unknown_field(med):  # noqa: F811
    case = med.accepted()
    case.transition(action="start", actor=med.cast.mediator)
    client = api_client(med.cast.mediator)
    session = {"held_at": timezone.now().isoformat(), "place": "调解室", "attendees": "双方", "summary": "x"}
    url = f"/api/v1/disputes/{case.code}/sessions/"
    _refused(client.post(url, {**session, "next_stpe": "回访"}, format="json"), "next_stpe")
    assert not DisputeSession.objects.exists()
    party = case.parties.first()
    reveal = f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/"
    _refused(client.post(reveal, {"reason": "核对", "why": "x"}, format="json"), "why")
    assert client.post(url, session, format="json").status_code == 201


@pytest.mark.parametrize("kind", ["incident", "dispute", "petition"])
def test_a_step_with_a_field_it_does_not_read_is_refused_and_not_taken(cast, report, med, pet, kind):  # noqa: F811
    if kind == "incident":
        record, user, path = report(), cast.community_handler, "incidents"
        step = {"action": "accept", "notes": "已核实"}
    elif kind == "dispute":
        record, user, path = med.accepted(), cast.mediator, "disputes"
        step = {"action": "start", "notes": "开始调解"}
    else:
        record, user, path = pet.routed(), cast.department_user, "petitions"
        step = {"action": "accept", "note": "书面告知已受理", "notes": "x"}
    before = record.status
    response = api_client(user).post(f"/api/v1/{path}/{record.code}/transition/", step, format="json")
    _refused(response, "notes")
    record.refresh_from_db()
    assert record.status == before


def test_the_schema_says_the_inputs_take_no_other_field(cast):
    components = (
        api_client(cast.admin).get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    )
    for name in (
        "IncidentListApiInputRequest",
        "IncidentTransitionApiInputRequest",
        "DisputeListApiInputRequest",
        "PartyInputRequest",
        "DisputeSessionListApiInputRequest",
        "DisputePartyRevealApiInputRequest",
        "PetitionListApiInputRequest",
        "PetitionerInputRequest",
        "PetitionTransitionApiInputRequest",
        "RollupStartRequest",
    ):
        assert components[name]["additionalProperties"] is False, name
    # An answer (a record as read) is not closed: fields may be added to it (DESIGN.md section 7).
    assert "additionalProperties" not in components["Incident"]
