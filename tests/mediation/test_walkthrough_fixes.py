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
