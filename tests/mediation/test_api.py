"""REST API of dispute cases: happy paths, bad input (clear 4xx naming the field, nothing saved),
scope (404 outside), masking, reveal, filters and constant query counts."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from governance.models import PersonalDataAccess, Role, SequenceCounter
from mediation.models import (
    DisputeCase,
    DisputeEvent,
    DisputeParty,
    DisputeSession,
    MediationOrganisation,
    OrganisationMember,
)
from tests.base import api_client, calendar_for_this_year_and_next, make_user, out_of_service_today

from .conftest import ID_1, make_org, parties


def _payload(cast, **over):
    data = {
        "category": "neighbours",
        "area": cast.grid_a.code,
        "source": "application",
        "description": "噪音扰民纠纷",
        "received_at": timezone.now().isoformat(),
        "parties": parties(),
    }
    data.update(over)
    return data


def test_a_mediator_registers_a_case_for_their_organisation(med):
    response = api_client(med.cast.mediator).post("/api/v1/disputes/", _payload(med.cast), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["code"].startswith("DSP-") and body["status"] == "registered"
    assert body["organisation"] == med.org_x.pk and body["source"] == "application"
    assert body["parties"][0]["name"] == "张**" and body["parties"][0]["id_number"] == "1101**********002X"
    assert "13812345678" not in response.content.decode()


def test_an_invalid_id_check_digit_is_refused_naming_the_field_and_nothing_is_saved(med):
    bad = parties(p1__id_number="340104199003071234")
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, parties=bad), format="json"
    )
    assert response.status_code == 400
    assert "parties[1].id_number" in response.json()["errors"]
    assert "check digit" in response.json()["detail"]
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_an_unknown_category_is_refused(med):
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, category="quarrel"), format="json"
    )
    assert response.status_code == 400 and "category" in response.json()["errors"]
    assert DisputeCase.objects.count() == 0


def test_a_missing_field_and_an_unknown_source_are_named(med):
    data = _payload(med.cast, source="gossip")
    del data["description"]
    response = api_client(med.cast.mediator).post("/api/v1/disputes/", data, format="json")
    assert response.status_code == 400 and "description" in response.json()["errors"]
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, source="gossip"), format="json"
    )
    assert response.status_code == 400 and "source" in response.json()["errors"]
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_a_bad_party_is_keyed_like_the_services_key_it_whichever_layer_refuses_it(med):
    # The role is refused by the input serializer, the phone by the service: both "parties[1].<field>".
    client = api_client(med.cast.mediator)
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, parties=parties(p1__role="boss")), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"parties[1].role": ['"boss" is not a valid choice.']}
    assert response.json()["detail"] == 'Invalid input: parties[1].role: "boss" is not a valid choice.'
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, parties=parties(p1__phone="abc")), format="json"
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["parties[1].phone"]
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, parties=[parties()[0], None]), format="json"
    )
    assert response.json()["errors"] == {"parties[1]": ["This field may not be null."]}
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, parties={"role": "applicant"}), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"parties": ['Expected a list of items but got type "dict".']}
    assert response.json()["detail"].startswith("Invalid input: parties: ")
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


@pytest.mark.parametrize("amount", ["-5", "abc"])
def test_one_post_names_every_bad_field_whichever_layer_refuses_it_and_takes_no_number(med, amount):
    """The input serializer's errors (a non-number amount, no persons, a blank name) came first and
    alone; the service's (the area, a future receipt time, a negative amount, the ID number and
    phone) only in a second 400, once those were fixed."""
    client = api_client(med.cast.mediator)
    bad = parties(p0__phone="abc", p1__name="", p1__id_number="123")
    data = _payload(
        med.cast, amount=amount, persons_involved=0, area="999", received_at="2031-01-01T09:00", parties=bad
    )
    response = client.post("/api/v1/disputes/", data, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {
        "amount", "persons_involved", "area", "received_at", "parties[0].phone", "parties[1].name",
        "parties[1].id_number",
    }  # fmt: skip
    assert errors["area"] == ["Unknown grid or community 999, or it is outside your area."]
    assert errors["received_at"] == ["The time received cannot be in the future."]
    assert "17 digits" in errors["parties[1].id_number"][0]
    # A field the serializer refused keeps its message alone: the service saw it as missing.
    assert errors["parties[1].name"] == ["This field may not be blank."]
    assert errors["persons_involved"] == ["Ensure this value is greater than or equal to 1."]
    assert len(errors["amount"]) == 1
    detail = response.json()["detail"]
    assert detail.startswith("Invalid input: ") and all(f"{key}: " in detail for key in errors)
    assert _nothing_registered() and not SequenceCounter.objects.filter(key="DSP").exists()
    response = client.post("/api/v1/disputes/", _payload(med.cast), format="json")
    assert response.status_code == 201 and response.json()["code"].endswith("-000001")


def test_a_row_the_serializer_cannot_read_keeps_the_numbers_of_the_rows_after_it(med):
    # A null row is still a row: the third one's phone is named at parties[2], and three rows are
    # not "fewer than two parties".
    rows = [parties()[0], None, {"role": "respondent", "name": "王五", "phone": "abc"}]
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, amount="abc", parties=rows), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "parties[1]": ["This field may not be null."],
        "amount": ["A valid number is required."],
        "parties[2].phone": ["Enter a mobile number (11 digits) or a landline with area code."],
    }
    assert _nothing_registered()


@pytest.mark.parametrize(
    ("over", "field", "says"),
    [
        ({"p1__role": "applicant"}, "parties", "name the respondent"),
        ({"p0__role": "respondent"}, "parties", "name the applicant"),
        ({"p1__id_number": ID_1.lower()}, "parties[1].id_number", "given for party 1"),
        # Typed with full-width digits (a Chinese input method): the same number, the same person.
        (
            {"p1__id_number": ID_1.translate(str.maketrans("0123456789", "０１２３４５６７８９"))},
            "parties[1].id_number",
            "given for party 1",
        ),
    ],
)
def test_parties_on_one_side_or_one_person_twice_are_not_a_dispute(med, over, field, says):
    # Mediation needs both parties (DOMAIN.md): two applicants have nobody to settle with, and one
    # person named twice (the same ID number, whatever the case of its X) is one party.
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, parties=parties(**over)), format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field] and says in response.json()["detail"]
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_other_parties_count_on_either_side(med):
    # A case the committee takes up itself may name both neighbours as "other party".
    both_other = parties(p0__role="other", p1__role="other")
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, parties=both_other, source="own_initiative"), format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00"])
def test_a_receipt_time_years_in_the_past_is_400_and_saves_nothing(med, received_at):
    # The naive one is read as local time: DRF's check converted it to UTC and overflowed (a 500).
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, received_at=received_at), format="json"
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["received_at"]
    assert DisputeCase.objects.count() == 0


def test_a_role_that_cannot_register_gets_403_whatever_it_sent(med):
    # Not a 400 listing the missing fields: the role is refused before the input is read.
    for user in (med.cast.analyst, med.cast.worker_a, med.cast.petition_officer):
        for data in ({}, _payload(med.cast)):
            response = api_client(user).post("/api/v1/disputes/", data, format="json")
            assert response.status_code == 403, (user, response.json())
            assert response.json() == {"detail": "Your role may not register dispute cases."}
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_an_area_outside_the_scope_is_refused(med):
    response = api_client(med.cast.mediator).post(
        "/api/v1/disputes/", _payload(med.cast, area=med.cast.grid_d.code), format="json"
    )
    assert response.status_code == 400 and "area" in response.json()["errors"]
    assert DisputeCase.objects.count() == 0 and DisputeParty.objects.count() == 0


def test_a_handler_referring_a_case_must_name_the_organisation(med):
    client = api_client(med.cast.street_handler)
    response = client.post("/api/v1/disputes/", _payload(med.cast, source="police"), format="json")
    assert response.status_code == 400 and "organisation" in response.json()["errors"]
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, source="police", organisation=med.org_x.pk), format="json"
    )
    assert response.status_code == 201 and response.json()["organisation"] == med.org_x.pk


def _nothing_registered() -> bool:
    return not (
        DisputeCase.objects.exists() or DisputeParty.objects.exists() or DisputeEvent.objects.exists()
    )


def test_naming_another_districts_organisation_does_not_widen_the_registrants_area(med):
    # Saved, then 404 to its own author, before: the organisation's area counted as anyone's scope.
    client = api_client(med.cast.street_handler)
    response = client.post(
        "/api/v1/disputes/",
        _payload(med.cast, source="police", organisation=med.org_b.pk, area=med.cast.grid_d.code),
        format="json",
    )
    assert response.status_code == 400 and "area" in response.json()["errors"]
    # A place in the handler's own area referred to another district's centre: the organisation.
    response = client.post(
        "/api/v1/disputes/",
        _payload(med.cast, source="police", organisation=med.org_b.pk, area=med.cast.grid_a.code),
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["organisation"]
    assert _nothing_registered()


def test_a_mediator_without_an_organisation_registers_nothing(med):
    lone = make_user("lone", Role.MEDIATOR, med.cast.street_a1)
    client = api_client(lone)
    for org, area in ((med.org_b, med.cast.grid_d), (med.org_x, med.cast.grid_a)):
        response = client.post(
            "/api/v1/disputes/", _payload(med.cast, organisation=org.pk, area=area.code), format="json"
        )
        assert response.status_code == 400 and "organisation" in response.json()["errors"]
    assert _nothing_registered()


def test_a_referral_may_go_to_the_centre_serving_the_place_and_its_members_register_across_it(med):
    head = make_user("district_head", Role.MEDIATOR, med.cast.community_a1a)
    centre = make_org(
        "甲区矛盾纠纷调解中心",
        MediationOrganisation.Kind.DISTRICT_CENTRE,
        med.cast.district_a,
        [(head, True)],
    )
    # The district centre's area is above the street handler's, but it serves the place.
    response = api_client(med.cast.street_handler).post(
        "/api/v1/disputes/", _payload(med.cast, source="police", organisation=centre.pk), format="json"
    )
    assert response.status_code == 201 and response.json()["organisation"] == centre.pk
    # Its member reaches the whole district (beyond their own community), not district B.
    gardener = med.cast.grid_c.code  # community A1b: outside the head's own membership
    response = api_client(head).post("/api/v1/disputes/", _payload(med.cast, area=gardener), format="json")
    assert response.status_code == 201
    response = api_client(head).post(
        "/api/v1/disputes/", _payload(med.cast, area=med.cast.grid_d.code), format="json"
    )
    assert response.status_code == 400 and "area" in response.json()["errors"]
    assert DisputeCase.objects.count() == 2


def test_a_mediator_registers_only_within_their_organisations_area(med, client):
    # A street mediator who also sits on community A1b's committee filed a dispute from community
    # A1a with that committee: their own role's wider reach counted as the committee's.
    OrganisationMember.objects.create(organisation=med.org_y, user=med.mediator_x2)
    client_api = api_client(med.mediator_x2)
    elsewhere = _payload(med.cast, organisation=med.org_y.pk, area=med.cast.grid_a.code)
    response = client_api.post("/api/v1/disputes/", elsewhere, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["area"]
    assert med.org_y.name in response.json()["errors"]["area"][0]
    assert _nothing_registered()
    # With the street centre, whose area it lies in, it is registered.
    here = _payload(med.cast, organisation=med.org_x.pk, area=med.cast.grid_a.code)
    assert client_api.post("/api/v1/disputes/", here, format="json").status_code == 201
    # A member without any role is refused alike by the page and the API (the page said 403 where
    # the API registered): organisation rows count only for mediators (a leaver's rows stay behind).
    member = make_user("plain_member", None, None)
    OrganisationMember.objects.create(organisation=med.org_y, user=member)
    client.force_login(member)
    assert client.get("/mediation/cases/new/").status_code == 403
    response = api_client(member).post(
        "/api/v1/disputes/", _payload(med.cast, area=med.cast.grid_c.code), format="json"
    )
    assert response.status_code == 403 and DisputeCase.objects.count() == 1  # the street centre's


def test_an_analyst_may_not_register(med):
    response = api_client(med.cast.analyst).post("/api/v1/disputes/", _payload(med.cast), format="json")
    assert response.status_code == 403


def test_a_mediator_of_another_organisation_gets_404(med):
    case = med.accepted()
    party = case.parties.first()
    session = {"held_at": timezone.now().isoformat(), "place": "调解室", "attendees": "双方", "summary": "x"}
    for user in (med.mediator_y, med.mediator_b, med.cast.outsider, med.cast.worker_a):
        client = api_client(user)
        assert client.get(f"/api/v1/disputes/{case.code}/").status_code == 404
        assert (
            client.post(f"/api/v1/disputes/{case.code}/transition/", {"action": "start"}).status_code == 404
        )
        assert client.get(f"/api/v1/disputes/{case.code}/sessions/").status_code == 404
        # Every endpoint of the case, not only the first three (DESIGN.md section 9).
        assert (
            client.post(f"/api/v1/disputes/{case.code}/sessions/", session, format="json").status_code == 404
        )
        assert client.get(f"/api/v1/disputes/{case.code}/events/").status_code == 404
        reveal = client.post(f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/", {"reason": "核对"})
        assert reveal.status_code == 404
    assert api_client(med.mediator_y).get("/api/v1/disputes/").json()["count"] == 0
    assert not DisputeSession.objects.exists() and PersonalDataAccess.objects.count() == 0
    case.refresh_from_db()
    assert case.status == "accepted"


def test_an_analyst_sees_no_dispute_case(med):
    # Statistics reach analysts through the indicators; a case's description and parties (even
    # masked) are not theirs to read, as petitions are not.
    case = med.accepted()
    party = case.parties.first()
    client = api_client(med.cast.analyst)
    assert client.get("/api/v1/disputes/").json()["count"] == 0
    for response in (
        client.get(f"/api/v1/disputes/{case.code}/"),
        client.get(f"/api/v1/disputes/{case.code}/events/"),
        client.post(f"/api/v1/disputes/{case.code}/transition/", {"action": "start"}),
        client.post(f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/", {"reason": "统计核对"}),
    ):
        assert response.status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_district_staff_read_the_case_masked_but_cannot_act_or_reveal(med):
    case = med.accepted()
    party = case.parties.first()
    for user in (med.cast.district_officer, med.cast.street_handler):
        client = api_client(user)
        response = client.get(f"/api/v1/disputes/{case.code}/")
        assert response.status_code == 200
        assert "张三丰" not in response.content.decode() and ID_1 not in response.content.decode()
        assert response.json()["actions"] == []
        assert (
            client.post(f"/api/v1/disputes/{case.code}/transition/", {"action": "start"}).status_code == 403
        )
        for reason in ("统计核对", ""):  # refused before the input is read
            reveal = client.post(
                f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/", {"reason": reason}
            )
            assert reveal.status_code == 403
    assert PersonalDataAccess.objects.count() == 0
    # A handler of another district does not even see it.
    assert api_client(med.cast.outsider).get(f"/api/v1/disputes/{case.code}/").status_code == 404


def test_the_assigned_mediator_reveals_a_party_and_the_reveal_is_logged(med):
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/api/v1/disputes/{case.code}/parties/{party.pk}/reveal/"
    refused = api_client(med.cast.mediator).post(url, {"reason": ""})
    assert refused.status_code == 400 and "reason" in refused.json()["errors"]
    assert "张三丰" not in refused.content.decode() and not PersonalDataAccess.objects.exists()
    response = api_client(med.cast.mediator).post(url, {"reason": "电话通知调解时间"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # no browser or proxy keeps a revealed party
    assert response.json()["name"] == "张三丰" and response.json()["id_number"] == ID_1
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.record, log.reason) == (med.cast.mediator, case.code, "电话通知调解时间")
    assert "id_number" in log.fields
    # The head may too; another member of the organisation may not; everyone still sees it masked.
    assert api_client(med.head_x).post(url, {"reason": "复核"}).status_code == 200
    assert api_client(med.mediator_x2).post(url, {"reason": "好奇"}).status_code == 403
    assert (
        api_client(med.mediator_x2).get(f"/api/v1/disputes/{case.code}/").json()["parties"][0]["name"]
        == "张**"
    )
    assert PersonalDataAccess.objects.count() == 2


def test_transition_and_session_flow_through_the_api(med):
    case = med.accepted()
    client = api_client(med.cast.mediator)
    # A session is recorded at sessions/: asked of transition/, a 400 keyed by the field (it came
    # with a detail alone, unlike every other validation error).
    wrong_door = client.post(
        f"/api/v1/disputes/{case.code}/transition/", {"action": "record_session"}, format="json"
    )
    assert wrong_door.status_code == 400 and "sessions/" in wrong_door.json()["errors"]["action"][0]
    assert DisputeCase.objects.get(pk=case.pk).status == "accepted"
    response = client.post(
        f"/api/v1/disputes/{case.code}/sessions/",
        {
            "held_at": timezone.now().isoformat(),  # not before the case was received, just now
            "place": "街道调解室",
            "attendees": "张三丰、李四、调解员",
            "summary": "双方陈述，初步同意赔偿。",
            "next_step": "下周签协议",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    sessions = client.get(f"/api/v1/disputes/{case.code}/sessions/").json()
    assert set(sessions) == {"count", "next", "previous", "results"}  # a list like every other
    assert sessions["count"] == 1 and sessions["results"][0]["place"] == "街道调解室"
    response = client.post(
        f"/api/v1/disputes/{case.code}/transition/",
        {
            "action": "conclude",
            "outcome": "success_written",
            "agreement_facts": "楼上漏水，责任在李四",
            "agreement_terms": "李四赔偿2000元",
            "agreement_amount": "2000.00",
            "performance_method": "银行转账",
            "performance_due": timezone.localdate().isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "concluded" and response.json()["confirmation_due"]
    assert "apply_confirmation" in response.json()["actions"]
    events = client.get(f"/api/v1/disputes/{case.code}/events/").json()["results"]
    assert [e["action"] for e in events] == ["register", "accept", "record_session", "conclude"]


def test_a_prevention_record_past_what_a_case_can_involve_is_a_400_naming_the_field(med):
    case = med.in_mediation()
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/transition/",
        {"action": "record_prevention", "escalation_prevented": True, "escalation_persons": 5000000},
        format="json",
    )
    assert response.status_code == 400 and "escalation_persons" in response.json()["errors"]
    case.refresh_from_db()
    assert (case.escalation_prevented, case.escalation_persons, case.persons_involved) == (False, 0, 2)


def test_a_transfer_answers_200_with_the_new_state_though_the_mediator_loses_access(med):
    case = med.accepted()
    client = api_client(med.cast.mediator)
    response = client.post(
        f"/api/v1/disputes/{case.code}/transition/",
        {"action": "transfer", "organisation": med.org_y.pk, "note": "属园丁社区管辖"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["code"], body["status"], body["organisation"], body["mediator"], body["actions"]) == (
        case.code,
        "registered",
        med.org_y.pk,
        None,
        [],
    )
    assert body["organisation_name"] == "园丁社区人民调解委员会"
    case.refresh_from_db()
    assert case.organisation == med.org_y and case.status == "registered"
    assert client.get(f"/api/v1/disputes/{case.code}/").status_code == 404


def test_a_transfer_goes_only_to_the_organisations_the_case_page_offers(med):
    case = med.accepted()
    client = api_client(med.cast.mediator)
    response = client.post(
        f"/api/v1/disputes/{case.code}/transition/",
        {"action": "transfer", "organisation": med.org_b.pk, "note": "乙区"},
        format="json",
    )
    assert response.status_code == 400 and "organisation" in response.json()["errors"]
    case.refresh_from_db()
    assert case.organisation == med.org_x and case.status == "accepted"
    assert not DisputeEvent.objects.filter(case=case, action="transfer").exists()


def test_session_without_summary_is_refused_and_nothing_changes(med):
    case = med.accepted()
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/sessions/",
        {"held_at": timezone.now().isoformat(), "place": "调解室", "attendees": "双方"},
        format="json",
    )
    assert response.status_code == 400 and "summary" in response.json()["errors"]
    assert DisputeSession.objects.count() == 0 and DisputeCase.objects.get(pk=case.pk).status == "accepted"


@pytest.mark.parametrize("held_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00"])
def test_a_session_before_the_case_was_received_is_refused_and_nothing_changes(med, held_at):
    case = med.accepted()
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/sessions/",
        {"held_at": held_at, "place": "调解室", "attendees": "双方", "summary": "陈述"},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["held_at"]
    assert DisputeSession.objects.count() == 0 and DisputeCase.objects.get(pk=case.pk).status == "accepted"


def test_a_session_with_a_time_to_come_and_a_missing_field_names_both_in_one_400(med):
    """The time's checks ran only once the input serializer's errors were fixed: a second 400."""
    case = med.accepted()
    client = api_client(med.cast.mediator)
    url = f"/api/v1/disputes/{case.code}/sessions/"
    future = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = client.post(url, {"held_at": future, "place": "", "attendees": "双方"}, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400 and set(errors) == {"held_at", "place", "summary"}
    assert errors["held_at"] == ["A session cannot be recorded before it took place."]
    # Another organisation's mediator still gets no check: the case is not theirs to see.
    assert api_client(med.mediator_y).post(url, {"held_at": future}, format="json").status_code == 404
    # One who may read the case but not record its sessions gets the 403 it would get anyway.
    assert api_client(med.mediator_x2).post(url, {"held_at": future}, format="json").status_code == 403
    assert DisputeSession.objects.count() == 0 and DisputeCase.objects.get(pk=case.pk).status == "accepted"


def test_conclude_without_outcome_and_agreement_without_terms_are_400(med):
    case = med.in_mediation()
    client = api_client(med.cast.mediator)
    url = f"/api/v1/disputes/{case.code}/transition/"
    response = client.post(url, {"action": "conclude"}, format="json")
    assert response.status_code == 400 and "outcome" in response.json()["errors"]
    response = client.post(
        url, {"action": "conclude", "outcome": "success_written", "performance_method": "现金"}, format="json"
    )
    assert response.status_code == 400 and "agreement_terms" in response.json()["errors"]
    written = {"action": "conclude", "outcome": "success_written", "agreement_terms": "赔偿500元"}
    for given, missing in (
        ({"performance_method": "现金", "performance_due": "2099-01-01"}, "agreement_facts"),
        ({"agreement_facts": "噪音扰邻", "performance_method": "现金"}, "performance_due"),
    ):
        response = client.post(url, {**written, **given}, format="json")
        assert response.status_code == 400 and list(response.json()["errors"]) == [missing]
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"


def test_an_accepted_case_ends_on_a_refusal_and_an_overdue_one_is_not_extended_through_the_api(med):
    overdue = med.accepted()
    DisputeCase.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    client = api_client(med.cast.mediator)
    response = client.post(
        f"/api/v1/disputes/{overdue.code}/transition/", {"action": "extend", "consent": True}, format="json"
    )
    assert response.status_code == 409 and "time limit ended" in response.json()["detail"]
    assert DisputeCase.objects.get(pk=overdue.pk).extended is False
    response = client.post(
        f"/api/v1/disputes/{overdue.code}/transition/",
        {"action": "conclude", "outcome": "refused"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["outcome"] == "refused"
    assert response.json()["status"] == "concluded" and response.json()["concluded_on_time"] is False


def test_an_action_from_the_wrong_state_is_409_naming_the_state(med):
    case = med.register()
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/transition/", {"action": "close"}, format="json"
    )
    assert response.status_code == 409 and "registered" in response.json()["detail"]
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/transition/", {"action": "fly"}, format="json"
    )
    assert response.status_code == 400  # naming the field, as every validation error does
    assert response.json()["errors"]["action"][0].startswith("Unknown action fly; expected one of: accept")


def test_agreement_and_application_dates_outside_their_bounds_are_400_naming_the_field(med):
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    client = api_client(med.cast.mediator)
    conclude = {
        "action": "conclude",
        "outcome": "success_written",
        "agreement_facts": "噪音扰邻",
        "agreement_terms": "赔偿500元",
        "performance_method": "当场支付",
        "performance_due": timezone.localdate().isoformat(),
    }
    response = client.post(url, {**conclude, "agreement_effective_on": "2001-01-01"}, format="json")
    assert response.status_code == 400 and "agreement_effective_on" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "in_mediation" and case.confirmation_due is None
    assert client.post(url, conclude, format="json").status_code == 200
    response = client.post(url, {"action": "apply_confirmation", "applied_on": "2001-01-01"}, format="json")
    assert response.status_code == 400 and "applied_on" in response.json()["errors"]
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.post(url, {"action": "apply_confirmation", "applied_on": tomorrow}, format="json")
    assert response.status_code == 400 and "applied_on" in response.json()["errors"]
    case.refresh_from_db()
    assert case.judicial_status == "" and case.judicial_applied_on is None
    assert not case.events.filter(action="apply_confirmation").exists()


def test_an_agreement_carried_out_before_it_takes_effect_is_400_naming_the_field(med):
    """The "carried out by" date printed on the agreement was taken as typed, 2001 included."""
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    client = api_client(med.cast.mediator)
    today = timezone.localdate()
    conclude = {
        "action": "conclude",
        "outcome": "success_written",
        "agreement_facts": "噪音扰邻",
        "agreement_terms": "赔偿500元",
        "performance_method": "银行转账",
        "agreement_effective_on": today.isoformat(),
    }
    for day in ("2001-01-01", (today - dt.timedelta(days=1)).isoformat()):
        response = client.post(url, {**conclude, "performance_due": day}, format="json")
        assert response.status_code == 400 and "performance_due" in response.json()["errors"]
    case.refresh_from_db()
    assert case.status == "in_mediation" and case.performance_due is None
    response = client.post(url, {**conclude, "performance_due": today.isoformat()}, format="json")
    assert response.status_code == 200 and response.json()["performance_due"] == today.isoformat()


def test_the_courts_decision_keeps_the_day_it_was_made(med):
    """The decision was always dated the day it was typed in; courts decide days or weeks after the
    application and the mediator records it later. The day is given (default today), between the
    application and today, else 400 naming decided_on."""
    today = timezone.localdate()
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=40))
    url = f"/api/v1/disputes/{case.code}/transition/"
    client = api_client(med.cast.mediator)
    conclude = {
        "action": "conclude",
        "outcome": "success_written",
        "agreement_facts": "噪音扰邻",
        "agreement_terms": "赔偿500元",
        "performance_method": "银行转账",
        "performance_due": today.isoformat(),
        "agreement_effective_on": (today - dt.timedelta(days=20)).isoformat(),
    }
    assert client.post(url, conclude, format="json").status_code == 200
    applied = today - dt.timedelta(days=15)
    one_party = {"action": "apply_confirmation", "applied_on": applied.isoformat()}
    for body in (one_party, {**one_party, "joint": False}):
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and list(response.json()["errors"]) == ["joint"]
    assert DisputeCase.objects.get(pk=case.pk).judicial_status == ""
    apply = {**one_party, "joint": True}
    assert client.post(url, apply, format="json").status_code == 200
    for day in (applied - dt.timedelta(days=1), today + dt.timedelta(days=1)):
        body = {"action": "record_confirmation", "result": "confirmed", "decided_on": day.isoformat()}
        response = client.post(url, body, format="json")
        assert response.status_code == 400 and "decided_on" in response.json()["errors"]
    case.refresh_from_db()
    assert case.judicial_status == "applied" and case.judicial_decided_on is None
    decided = today - dt.timedelta(days=5)
    body = {"action": "record_confirmation", "result": "confirmed", "decided_on": decided.isoformat()}
    response = client.post(url, body, format="json")
    assert response.status_code == 200 and response.json()["judicial_decided_on"] == decided.isoformat()


def test_the_409_names_the_action_in_the_readers_language(med):
    case = med.accepted()
    response = api_client(med.cast.mediator).post(
        f"/api/v1/disputes/{case.code}/transition/",
        {"action": "close"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "无法执行“结案”：记录当前状态为“已受理”。"
    assert DisputeCase.objects.get(pk=case.pk).status == "accepted"


@pytest.mark.parametrize("value", [str(10**20), "1e30", "-1", "1.5"])
def test_an_organisation_filter_out_of_range_is_400_naming_it(med, value):
    # SQLite (the `make run` default) could not bind 10**20: an OverflowError, a 500.
    response = api_client(med.cast.mediator).get(f"/api/v1/disputes/?organisation={value}")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["organisation"]


def test_filters_narrow_the_list(med):
    med.register()
    late = med.in_mediation(category="labour", origin="police", referral_reference="JQ-2026-1")
    DisputeCase.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    client = api_client(med.head_x)
    assert client.get("/api/v1/disputes/").json()["count"] == 2
    assert [r["code"] for r in client.get("/api/v1/disputes/?overdue=true").json()["results"]] == [late.code]
    assert client.get("/api/v1/disputes/?status=registered").json()["count"] == 1
    assert client.get("/api/v1/disputes/?category=labour").json()["count"] == 1
    assert client.get("/api/v1/disputes/?source=police").json()["count"] == 1
    assert client.get(f"/api/v1/disputes/?area={med.cast.community_a1a.code}").json()["count"] == 2
    assert client.get(f"/api/v1/disputes/?area={med.cast.grid_b.code}").json()["count"] == 0
    today = timezone.localdate().isoformat()
    assert client.get(f"/api/v1/disputes/?received_from={today}").json()["count"] == 2
    for field in ("received_to", "concluded_to"):  # a date beyond the calendar: a 400, not a 500
        response = client.get(f"/api/v1/disputes/?{field}=9999-12-31")
        assert response.status_code == 400
        assert response.json()["errors"] == {field: ["Enter a date between 1900-01-01 and 2999-12-31."]}
    response = client.get("/api/v1/disputes/?area=999")
    assert response.status_code == 400 and "area" in response.json()["errors"]


@pytest.mark.parametrize("name", ["open", "overdue"])
def test_a_yes_no_filter_given_neither_is_a_400_naming_it(med, name):
    # django-filter read ?overdue=maybe as no filter at all: every case, a 200 that answered a
    # question the client did not ask.
    med.register()
    client = api_client(med.head_x)
    for bad in ("maybe", "yes", "2"):
        response = client.get("/api/v1/disputes/", {name: bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"] == {name: ["Use true or false."]}
    for good in ("true", "false", "1", "0", "True", ""):
        assert client.get("/api/v1/disputes/", {name: good}).status_code == 200, good


def test_an_unknown_category_filter_is_a_400_naming_it(med):
    # A misspelt code answered 200 with no rows, which reads as "no cases of this kind".
    med.register()
    client = api_client(med.head_x)
    response = client.get("/api/v1/disputes/", {"category": "neighbour"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"category": ["Unknown category neighbour."]}
    assert client.get("/api/v1/disputes/", {"category": "neighbours"}).json()["count"] == 1
    assert client.get("/api/v1/disputes/", {"category": "labour"}).json()["count"] == 0


def test_an_area_filter_knows_the_areas_of_the_cases_a_mediator_reads_and_no_others(med):
    case = med.register()  # grid A, organisation X
    DisputeCase.objects.filter(pk=case.pk).update(mediator=med.mediator_y)  # mediator_y: community A1b
    client = api_client(med.mediator_y)
    assert client.get(f"/api/v1/disputes/?area={med.cast.grid_a.code}").json()["count"] == 1
    out_of_scope = client.get(f"/api/v1/disputes/?area={med.cast.grid_d.code}")
    assert out_of_scope.status_code == 400
    assert out_of_scope.json()["errors"] == {"area": [f"Unknown area code {med.cast.grid_d.code}."]}


def test_the_list_takes_a_constant_number_of_queries(med, django_assert_max_num_queries):
    client = api_client(med.head_x)
    med.accepted()
    with django_assert_max_num_queries(20) as few:
        assert client.get("/api/v1/disputes/").status_code == 200
    for _ in range(5):
        med.accepted()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/api/v1/disputes/").json()["count"] == 6


def test_the_schema_documents_the_dispute_endpoints(med):
    response = api_client(med.cast.admin).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/disputes/",
        "/api/v1/disputes/{code}/transition/",
        "/api/v1/disputes/{code}/sessions/",
    ):
        assert path in paths


def test_accept_and_extend_through_the_api_count_calendar_months(med, monkeypatch):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")

    def clock(*args):
        when = dt.datetime(*args, tzinfo=tz)
        monkeypatch.setattr("django.utils.timezone.now", lambda: when.astimezone(dt.UTC))

    # 2025, not 2026: 28 February and 28 March 2026 are Saturdays, and a time limit whose last day is
    # a rest day runs to the next working day (Civil Code art. 203).
    clock(2025, 1, 31, 23, 30)
    case = med.register()
    client = api_client(med.cast.mediator)
    url = f"/api/v1/disputes/{case.code}/transition/"
    response = client.post(url, {"action": "accept"}, format="json")
    assert response.status_code == 200, response.json()
    end_of_february = dt.datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=tz)
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == end_of_february
    clock(2025, 2, 20, 9)
    response = client.post(url, {"action": "extend"}, format="json")  # no consent: 400, nothing saved
    assert response.status_code == 400 and list(response.json()["errors"]) == ["consent"]
    case.refresh_from_db()
    assert case.due_at == end_of_february and not case.extended
    outsider = api_client(med.mediator_b).post(url, {"action": "extend", "consent": True}, format="json")
    assert outsider.status_code == 404
    response = client.post(url, {"action": "extend", "consent": True}, format="json")
    assert response.status_code == 200 and response.json()["extended"] is True
    end_of_march_28 = dt.datetime(2025, 3, 28, 23, 59, 59, 999999, tzinfo=tz)
    assert dt.datetime.fromisoformat(response.json()["due_at"]) == end_of_march_28
    case.refresh_from_db()
    assert case.due_at == end_of_march_28
    assert list(case.events.values_list("action", flat=True)) == ["register", "accept", "extend"]


def test_a_text_longer_than_the_case_page_takes_is_400_naming_the_field_and_nothing_is_cut(med):
    # The API took any length where the page's form stops (note 4000, agreement texts 8000, route 200
    # characters): a route suggested at 201 characters was saved cut to 200 with a 200 answer.
    client = api_client(med.cast.mediator)
    registered = med.register()
    url = f"/api/v1/disputes/{registered.code}/transition/"
    decline = {"action": "decline", "note": "不属于调解范围", "suggested_route": "劳动仲裁"}
    for field, limit in (("suggested_route", 200), ("note", 4000)):
        response = client.post(url, {**decline, field: "调" * (limit + 1)}, format="json")
        assert response.status_code == 400, field
        assert list(response.json()["errors"]) == [field]
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    written = {"action": "conclude", "outcome": "success_written", "agreement_facts": "噪音扰邻",
               "agreement_terms": "赔偿500元", "performance_method": "现金", "performance_due": "2099-01-01"}  # fmt: skip
    for field in ("agreement_facts", "agreement_terms"):
        response = client.post(url, {**written, field: "款" * 8001}, format="json")
        assert response.status_code == 400 and list(response.json()["errors"]) == [field]
    assert DisputeCase.objects.get(pk=registered.pk).status == "registered"
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    assert not DisputeEvent.objects.filter(action__in=["decline", "conclude"]).exists()
    response = client.post(url, {**written, "agreement_terms": "款" * 8000}, format="json")
    assert response.status_code == 200 and len(response.json()["agreement_terms"]) == 8000


def test_the_sessions_and_the_timeline_take_a_constant_number_of_queries(med, django_assert_max_num_queries):
    case = med.in_mediation()
    DisputeCase.objects.filter(pk=case.pk).update(received_at=timezone.now() - dt.timedelta(days=1))
    client = api_client(med.cast.mediator)

    def record_sessions(n):
        for i in range(n):
            held_at = timezone.now() - dt.timedelta(minutes=10 - i)
            response = client.post(f"/api/v1/disputes/{case.code}/sessions/",
                        {"held_at": held_at.isoformat(), "place": "调解室", "attendees": "双方当事人", "summary": "协商"},
                        format="json")  # fmt: skip
            assert response.status_code == 201, response.json()

    record_sessions(1)
    counts = {}
    for path in ("sessions", "events"):
        with django_assert_max_num_queries(10) as few:
            assert client.get(f"/api/v1/disputes/{case.code}/{path}/").status_code == 200
        counts[path] = len(few.captured_queries)
    record_sessions(5)
    extend = {"action": "extend", "consent": True, "note": "双方同意"}
    assert client.post(f"/api/v1/disputes/{case.code}/transition/", extend, format="json").status_code == 200
    for path, rows in (("sessions", 6), ("events", 10)):
        with django_assert_max_num_queries(counts[path]):
            assert client.get(f"/api/v1/disputes/{case.code}/{path}/").json()["count"] == rows


def test_a_place_or_organisation_outside_the_area_answers_as_one_that_does_not_exist(med):
    """Registering named a place outside the mediator's area "outside your area" and a missing one
    "Unknown", and likewise an organisation: the answers told which exist (DESIGN.md section 4)."""

    def error(user, field, value):
        over = {field: value, "area": med.cast.grid_d.code} if field == "organisation" else {field: value}
        response = api_client(user).post("/api/v1/disputes/", _payload(med.cast, **over), format="json")
        assert response.status_code == 400
        return [m.replace(str(value), "?") for m in response.json()["errors"][field]]

    assert error(med.mediator_b, "area", med.cast.grid_a.code) == error(
        med.mediator_b, "area", "340102001001999"
    )
    assert error(med.cast.outsider, "organisation", med.org_x.pk) == error(
        med.cast.outsider, "organisation", 999999
    )
    assert DisputeCase.objects.count() == 0


def test_a_registration_sent_again_after_its_case_was_transferred_says_where_it_went(med):
    # The answer was lost, and by the retry the case had gone to another committee: the retry got
    # a 404, as if nothing had been saved, and the page's retry a 404 page.
    key = str(uuid.uuid4())
    api = api_client(med.cast.mediator)
    code = api.post("/api/v1/disputes/", _payload(med.cast, submission=key), format="json").json()["code"]
    state = api.get(f"/api/v1/disputes/{code}/").json()["status"]
    if state == "registered":
        api.post(f"/api/v1/disputes/{code}/transition/", {"action": "accept"}, format="json")
    moved = api.post(
        f"/api/v1/disputes/{code}/transition/",
        {"action": "transfer", "organisation": med.org_y.pk, "note": "属园丁社区管辖"},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    again = api.post("/api/v1/disputes/", _payload(med.cast, submission=key), format="json")
    assert again.status_code == 409
    assert code in again.json()["detail"] and "园丁社区人民调解委员会" in again.json()["detail"]
    assert DisputeCase.objects.count() == 1 and DisputeParty.objects.count() == 2


def test_a_registration_or_session_sent_again_with_its_key_is_saved_once(med):
    """A client that lost the answer sends the registration (or the session) again: it was saved twice,
    with a second DSP number for one dispute."""
    key = str(uuid.uuid4())
    client = api_client(med.cast.mediator)
    first = client.post("/api/v1/disputes/", _payload(med.cast, submission=key), format="json")
    again = client.post("/api/v1/disputes/", _payload(med.cast, submission=key), format="json")
    assert first.status_code == again.status_code == 201
    assert first.json()["code"] == again.json()["code"] and DisputeCase.objects.count() == 1
    assert DisputeParty.objects.count() == 2 and DisputeEvent.objects.count() == 1
    # Keys are the registrar's own; without one every send is a registration, as before.
    other = api_client(med.mediator_x2).post(
        "/api/v1/disputes/", _payload(med.cast, submission=key), format="json"
    )
    assert other.status_code == 201 and other.json()["code"] != first.json()["code"]
    assert client.post("/api/v1/disputes/", _payload(med.cast), format="json").status_code == 201
    assert DisputeCase.objects.count() == 3
    bad = client.post("/api/v1/disputes/", _payload(med.cast, submission="not-a-key"), format="json")
    assert bad.status_code == 400 and "submission" in bad.json()["errors"]
    assert DisputeCase.objects.count() == 3

    case = med.accepted()
    url = f"/api/v1/disputes/{case.code}/sessions/"
    session = {
        "held_at": timezone.now().isoformat(),
        "place": "调解室",
        "attendees": "双方",
        "summary": "陈述",
    }
    key = str(uuid.uuid4())
    first = client.post(url, {**session, "submission": key}, format="json")
    again = client.post(url, {**session, "submission": key}, format="json")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert case.sessions.count() == 1
    assert case.events.filter(action="record_session").count() == 1
    # The same key with another case's session is refused, naming it; nothing is recorded there.
    other_case = med.accepted()
    refused = client.post(
        f"/api/v1/disputes/{other_case.code}/sessions/", {**session, "submission": key}, format="json"
    )
    assert refused.status_code == 400 and "submission" in refused.json()["errors"]
    assert not other_case.sessions.exists() and DisputeCase.objects.get(pk=other_case.pk).status == "accepted"


def test_a_description_or_summary_past_its_limit_is_400_naming_it_and_saves_nothing(med):
    """A 100,000-character description (a pasted document) was saved as a case."""
    client = api_client(med.cast.mediator)
    response = client.post("/api/v1/disputes/", _payload(med.cast, description="纠" * 8001), format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["description"]
    assert not DisputeCase.objects.exists()
    case = med.accepted()
    session = {
        "held_at": timezone.now().isoformat(),
        "place": "调解室",
        "attendees": "双方",
        "summary": "述" * 4001,
    }
    response = client.post(f"/api/v1/disputes/{case.code}/sessions/", session, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["summary"]
    assert not case.sessions.exists()


@pytest.mark.django_db
def test_a_member_not_assigned_gets_403_for_a_step_or_session_whatever_it_sent(med):
    """A member of the organisation reads the case but is not its mediator: a session or a step with
    a faulty body was answered 400 with what to fix, as if the fixed one would be taken; it is a 403,
    as a well-formed one is. An outsider still gets 404."""
    case = med.accepted()
    other = api_client(med.mediator_x2)
    base = f"/api/v1/disputes/{case.code}"
    assert other.post(f"{base}/sessions/", {}, format="json").status_code == 403
    assert other.post(f"{base}/sessions/", {"held_at": "x"}, format="json").status_code == 403
    faulty = {"action": "conclude", "outcome": "bogus", "agreement_amount": "x"}
    assert other.post(f"{base}/transition/", faulty, format="json").status_code == 403
    assert (
        other.post(f"{base}/transition/", {"action": "start", "note": 5000 * "x"}, format="json").status_code
        == 403
    )
    outsider = api_client(med.mediator_b)
    assert outsider.post(f"{base}/sessions/", {}, format="json").status_code == 404
    assert outsider.post(f"{base}/transition/", faulty, format="json").status_code == 404
    # The assigned mediator is told what to fix.
    mine = api_client(case.mediator)
    assert mine.post(f"{base}/sessions/", {}, format="json").status_code == 400
    assert mine.post(f"{base}/transition/", faulty, format="json").status_code == 400


@pytest.mark.django_db
def test_the_403_of_a_step_names_it_in_a_sentence_that_reads(med):
    """The 403 "Your role may not %(action)s this case." read "may not start mediation this case"."""
    case = med.accepted()
    response = api_client(med.mediator_x2).post(
        f"/api/v1/disputes/{case.code}/transition/", {"action": "start"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not take this step on the case: start mediation."}


def test_an_oral_agreement_applied_for_judicial_confirmation_is_400_naming_the_outcome(med):
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    client = api_client(med.cast.mediator)
    body = {"action": "conclude", "outcome": "success_oral", "agreement_terms": "互相道歉"}
    response = client.post(url, body, format="json")
    assert response.status_code == 200 and response.json()["confirmation_due"] is None
    assert "apply_confirmation" not in response.json()["actions"]
    response = client.post(url, {"action": "apply_confirmation", "joint": True}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["outcome"]
    assert "written agreement" in response.json()["detail"]
    case.refresh_from_db()
    assert case.judicial_status == "" and not case.events.filter(action="apply_confirmation").exists()


def test_a_place_out_of_service_today_is_refused_as_an_unknown_one_and_not_offered(med, client):
    """A case was registered for any grid or community named, a grid merged away or drawn for later
    too; the register page listed them."""

    from governance.models import Area

    today = timezone.localdate()
    grid = med.cast.grid_a
    message = f"Unknown grid or community {grid.code}, or it is outside your area."
    client.force_login(med.cast.mediator)
    for _ in out_of_service_today(grid):
        response = api_client(med.cast.mediator).post("/api/v1/disputes/", _payload(med.cast), format="json")
        assert response.status_code == 400 and response.json()["errors"] == {"area": [message]}
        listed = client.get("/mediation/cases/new/").content.decode().split('<datalist id="area-choices">')[1]
        assert grid.code not in listed.split("</datalist>")[0]
        assert med.cast.community_a1a.code in listed.split("</datalist>")[0]
    assert _nothing_registered()
    Area.objects.filter(pk=grid.pk).update(in_service_from=today, in_service_until=today)
    response = api_client(med.cast.mediator).post("/api/v1/disputes/", _payload(med.cast), format="json")
    assert response.status_code == 201, response.json()


def test_a_place_is_judged_in_service_on_the_day_the_dispute_was_received(med):
    """A dispute received while its grid was in service, registered after the grid was merged away,
    was refused (the check was against today); one received before the grid came into service was
    taken if the grid serves today."""
    from governance.models import Area

    today = timezone.localdate()
    grid = med.cast.grid_a
    received = timezone.now() - dt.timedelta(days=5)
    message = f"Unknown grid or community {grid.code}, or it is outside your area."
    Area.objects.filter(pk=grid.pk).update(in_service_from=today - dt.timedelta(days=2))
    client = api_client(med.cast.mediator)
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, received_at=received.isoformat()), format="json"
    )
    assert response.status_code == 400 and response.json()["errors"] == {"area": [message]}
    assert _nothing_registered()
    Area.objects.filter(pk=grid.pk).update(
        in_service_from=today - dt.timedelta(days=30), in_service_until=today - dt.timedelta(days=1)
    )
    response = client.post(
        "/api/v1/disputes/", _payload(med.cast, received_at=received.isoformat()), format="json"
    )
    assert response.status_code == 201, response.json()
    assert DisputeCase.objects.get().area == grid


def test_a_decline_and_a_conclusion_name_every_field_in_error_in_one_400(med):
    """The decline named the reason, then (once given) the route suggested; a conclusion whose amount
    the input refused named the amount alone, then the missing terms."""
    registered = med.register()
    url = f"/api/v1/disputes/{registered.code}/transition/"
    response = api_client(med.head_x).post(url, {"action": "decline"}, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400 and set(errors) == {"note", "suggested_route"}
    assert errors["suggested_route"] == ["Suggest where the parties can turn instead."]
    assert api_client(med.mediator_y).post(url, {"action": "decline"}, format="json").status_code == 404
    case = med.in_mediation()
    url = f"/api/v1/disputes/{case.code}/transition/"
    body = {"action": "conclude", "outcome": "success_written", "agreement_amount": "-5"}
    response = api_client(med.cast.mediator).post(url, body, format="json")
    errors = response.json()["errors"]
    assert response.status_code == 400
    assert {"agreement_amount", "agreement_terms", "agreement_facts", "performance_method"} <= set(errors)
    assert errors["agreement_terms"] == ["Write down the terms the parties agreed."]
    assert DisputeCase.objects.get(pk=registered.pk).status == "registered"
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    assert not DisputeEvent.objects.filter(action__in=["decline", "conclude"]).exists()


def test_a_time_limit_or_an_unused_confirmation_window_in_a_year_without_a_calendar_is_named(med):
    # The petition and incident answers say a running due date counts plain weekdays until its year's
    # holidays are entered; a case accepted in December, due in January, said nothing.
    from governance.models import Holiday

    calendar_for_this_year_and_next()
    far_year = timezone.localdate().year + 5  # a year the calendar lacks, whenever the test runs
    running, agreed, applied, waiting = (
        med.accepted(),
        med.agreed(effective_days_ago=2),
        med.agreed(effective_days_ago=2),
        med.register(),
    )
    far = timezone.make_aware(dt.datetime(far_year, 1, 2, 23, 59, 59, 999999))
    DisputeCase.objects.filter(pk=running.pk).update(due_at=far)
    DisputeCase.objects.filter(pk__in=[agreed.pk, applied.pk]).update(confirmation_due=far.date())
    applied.refresh_from_db()
    applied.transition(action="apply_confirmation", actor=applied.mediator, joint=True)  # window used
    client = api_client(med.cast.mediator)
    listed = {
        r["code"]: r["provisional_due_years"] for r in client.get("/api/v1/disputes/").json()["results"]
    }
    assert listed == {running.code: [far_year], agreed.code: [far_year], applied.code: [], waiting.code: []}
    assert client.get(f"/api/v1/disputes/{running.code}/").json()["provisional_due_years"] == [far_year]
    assert client.get(f"/api/v1/disputes/{waiting.code}/").json()["provisional_due_years"] == []
    assert api_client(med.cast.outsider).get(f"/api/v1/disputes/{running.code}/").status_code == 404
    Holiday.objects.create(date=dt.date(far_year, 1, 1), name="元旦")  # the year entered: nothing said
    assert all(r["provisional_due_years"] == [] for r in client.get("/api/v1/disputes/").json()["results"])
