"""A mediator's walkthrough: the referring record only for referrals, no reveal of a placeholder
party, the oral agreement's record signed by the mediator alone, no conversion of a finished incident."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from governance.models import PersonalDataAccess
from grids import services as grid_services
from grids.models import Incident
from mediation import services
from mediation.models import DisputeCase
from tests.base import api_client

from .conftest import parties


def _register_form(cast, **over):
    data = {
        "category": "neighbours", "origin": "application", "area": cast.grid_a.code, "description": "噪音",
        "party0_role": "applicant", "party0_name": "王五", "party1_role": "respondent", "party1_name": "赵六",
        "party2_role": "other",
    }  # fmt: skip
    data.update(over)
    return data


# 1. The referring record belongs to a referral.


def test_the_register_page_shows_the_referring_record_only_for_referrals(client, med):
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/cases/new/").content.decode()
    block = html.split('id="referral-reference"')[1].split("</div>")[0]
    assert 'data-shown-for="police court petition_office"' in html
    assert 'name="referral_reference"' in block


def test_a_referring_record_with_a_non_referral_source_is_refused_naming_the_field(client, med):
    client.force_login(med.cast.mediator)
    response = client.post(
        "/mediation/cases/new/", _register_form(med.cast, origin="own_initiative", referral_reference="X-1")
    )
    assert (
        response.status_code == 400
        and "Only a referred case has a referring record." in response.content.decode()
    )
    assert DisputeCase.objects.count() == 0
    response = client.post(
        "/mediation/cases/new/", _register_form(med.cast, origin="police", referral_reference="公安 2026-7")
    )
    assert response.status_code == 302 and DisputeCase.objects.get().referral_reference == "公安 2026-7"


def test_the_api_refuses_a_referring_record_for_an_application(med):
    data = {
        "category": "neighbours", "area": med.cast.grid_a.code, "source": "application",
        "description": "噪音扰民纠纷", "received_at": timezone.now().isoformat(), "parties": parties(),
        "referral_reference": "X-1",
    }  # fmt: skip
    response = api_client(med.cast.mediator).post("/api/v1/disputes/", data, format="json")
    assert response.status_code == 400 and "referral_reference" in response.json()["errors"]
    assert DisputeCase.objects.count() == 0
    data["referral_reference"] = "  "  # blank is no record
    assert api_client(med.cast.mediator).post("/api/v1/disputes/", data, format="json").status_code == 201


# 2. A placeholder party has nothing to reveal.


@pytest.fixture
def dispute_incident(med):
    return grid_services.incident_report(
        actor=med.cast.worker_a, category="dispute", description="两户因停车位争吵", grid=med.cast.grid_a.code
    )


def _converted(med, incident):
    case = services.dispute_from_incident(
        actor=med.cast.community_handler, incident=incident, organisation=med.org_x.pk
    )
    case.transition(action="accept", actor=med.cast.mediator, mediator=med.cast.mediator.pk)
    return case


def test_a_placeholder_party_offers_no_reveal_and_refuses_one_without_logging(client, med, dispute_incident):
    case = _converted(med, dispute_incident)
    applicant, respondent = case.parties.get(role="applicant"), case.parties.get(role="respondent")
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert f"/parties/{applicant.pk}/reveal/" not in html
    assert f"/parties/{applicant.pk}/edit/" in html  # completing it stays offered
    page = client.post(f"/mediation/cases/{case.code}/parties/{applicant.pk}/reveal/", {"reason": "核对"})
    assert page.status_code == 400 and "Nothing to show" in page.content.decode()
    api = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/parties/{applicant.pk}/reveal/", {"reason": "核对"}, format="json"
    )
    assert api.status_code == 400 and "party" in api.json()["errors"]
    with pytest.raises(ValidationError):
        services.party_reveal(case=case, party=respondent, actor=med.cast.mediator, reason="核对")
    assert PersonalDataAccess.objects.count() == 0
    # Once a detail is typed in, there is something to reveal (and it is logged).
    services.dispute_party_update(case=case, party=applicant, actor=med.cast.mediator, phone="13800001111")
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert f"/parties/{applicant.pk}/reveal/" in html
    page = client.post(f"/mediation/cases/{case.code}/parties/{applicant.pk}/reveal/", {"reason": "核对"})
    assert page.status_code == 200 and "13800001111" in page.content.decode()
    assert PersonalDataAccess.objects.count() == 1


# 3. An oral agreement is recorded by the mediator.


def test_the_oral_agreement_record_has_no_party_signature_lines(client, med):
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    assert "申请人（签名）" not in html and "被申请人（签名）" not in html and "（印章）" not in html
    assert "记录人（人民调解员）签名" in html and "登记日期" in html


# 4. A finished incident is not converted.


@pytest.mark.parametrize("status", Incident.DONE_STATUSES)
def test_a_closed_incident_is_not_turned_into_a_case(client, med, dispute_incident, status):
    Incident.objects.filter(pk=dispute_incident.pk).update(status=status)
    dispute_incident.refresh_from_db()
    client.force_login(med.cast.community_handler)
    page = client.get(f"/grids/incidents/{dispute_incident.code}/").content.decode()
    assert 'id="to-mediation"' not in page
    response = client.post(
        f"/mediation/from-incident/{dispute_incident.code}/",
        {"category": "neighbours", "organisation": med.org_x.pk},
    )
    assert response.status_code == 400 and "is closed" in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.dispute_from_incident(actor=med.cast.community_handler, incident=dispute_incident)
    assert "incident" in refused.value.message_dict
    assert DisputeCase.objects.count() == 0


def test_a_closed_incident_already_converted_still_links_to_its_case(client, med, dispute_incident):
    case = services.dispute_from_incident(
        actor=med.cast.community_handler, incident=dispute_incident, organisation=med.org_x.pk
    )
    Incident.objects.filter(pk=dispute_incident.pk).update(status="evaluated")
    client.force_login(med.cast.community_handler)
    page = client.get(f"/grids/incidents/{dispute_incident.code}/").content.decode()
    assert f"Now mediation case {case.code}" in page
    again = client.get(f"/mediation/from-incident/{dispute_incident.code}/")
    assert again.status_code == 302 and again["Location"].endswith(f"/mediation/cases/{case.code}/")


# A phone walkthrough: an empty registration named only the category; the code, the account of the
# dispute and the two parties' names each said "This field is required.", which names nothing.


def test_an_empty_registration_names_each_missing_field(client, med):
    client.force_login(med.cast.mediator)
    roles = {"party0_role": "applicant", "party1_role": "respondent", "party2_role": "other"}  # as selected
    response = client.post("/mediation/cases/new/", {"origin": "application", **roles})
    html = response.content.decode()
    assert response.status_code == 400 and DisputeCase.objects.count() == 0
    assert "This field is required." not in html
    assert "Choose a category." in html
    assert "Give the grid or community where the dispute arose." in html
    assert "Describe the dispute." in html
    assert html.count("Give the party&#x27;s name.") == 2  # the applicant and the respondent
