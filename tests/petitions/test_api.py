"""The petitions API: register, list with filters, detail, transition, reveal; errors and scope."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from governance.models import PersonalDataAccess, Role, SequenceCounter
from petitions.models import Petition, Petitioner, PetitionEvent, deadlines
from tests.base import (
    api_client,
    calendar_for_this_year_and_next,
    make_user,
    masked_log,
    out_of_service_today,
)
from tests.petitions.conftest import ID_1, petitioners, rest_days_at_reply_end

pytestmark = pytest.mark.django_db
LIST = "/api/v1/petitions/"


def payload(cast, **over):
    data = {
        "channel": "visit",
        "type": "claim",
        "category": "labour",
        "content": "工厂拖欠工资三个月，多次讨要无果。",
        "area": cast.community_a1a.code,
        "persons_count": 2,
        "petitioners": petitioners(2),
    }
    data.update(over)
    return data


def test_an_officer_registers_a_visit_and_gets_the_number_and_route_deadline(pet):
    resp = api_client(pet.cast.petition_officer).post(LIST, payload(pet.cast), format="json")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["code"].startswith("PET-") and body["status"] == "registered"
    assert body["route_due_at"] and body["due_at"] == body["route_due_at"]
    assert [p["name"] for p in body["petitioners"]] == ["王**", "刘**"]
    assert ID_1 not in resp.content.decode()


def test_due_dates_cannot_be_typed_in(pet):
    typed = (timezone.now() + dt.timedelta(days=300)).isoformat()
    resp = api_client(pet.cast.petition_officer).post(
        LIST, payload(pet.cast, due_at=typed, route_due_at=typed), format="json"
    )
    # Refused by name (docs/api.md "Errors": a field a write does not read), not dropped: a client
    # sending a deadline learns it is the platform's to compute. Nothing is saved.
    assert resp.status_code == 400
    assert set(resp.json()["errors"]) == {"due_at", "route_due_at"}
    assert not Petition.objects.exists()
    resp = api_client(pet.cast.petition_officer).post(LIST, payload(pet.cast), format="json")
    assert resp.status_code == 201
    petition = Petition.objects.get()
    assert petition.route_due_at == deadlines.route_due(petition.received_at)


@pytest.mark.parametrize(
    "over, field",
    [
        ({"channel": "pigeon"}, "channel"),
        ({"category": "nope"}, "category"),
        ({"area": "999999999999"}, "area"),
        ({"petitioners": []}, "petitioners"),
        ({"petitioners": [{"name": "张三", "id_number": "110105194912310021"}]}, "petitioners[0].id_number"),
        ({"persons_count": 1}, "persons_count"),
        ({"received_at": "2999-01-01T00:00:00+08:00"}, "received_at"),
        # A naive time in year 1 overflowed in DRF's time-zone check (a 500).
        ({"received_at": "0001-01-01T00:00"}, "received_at"),
        ({"received_at": "9999-12-31T23:59:59Z"}, "received_at"),
        # Refused by the input serializer rather than the service, keyed the same way.
        ({"petitioners": [{"name": "张三"}, {"name": "x" * 101}]}, "petitioners[1].name"),
        ({"petitioners": [None]}, "petitioners[0]"),
        ({"petitioners": {"name": "张三"}}, "petitioners"),
        # Another district's unit: its users would read the petition (the page never offers it).
        ({"complained_unit": "police_b"}, "complained_unit"),
        ({"complained_unit": 999999}, "complained_unit"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(pet, over, field):
    if over.get("complained_unit") == "police_b":
        over = {"complained_unit": pet.cast.police_b.pk}
    resp = api_client(pet.cast.petition_officer).post(LIST, payload(pet.cast, **over), format="json")
    assert resp.status_code == 400, resp.content
    body = resp.json()
    assert field in body["errors"], body
    assert field in body["detail"]
    assert not Petition.objects.exists() and not Petitioner.objects.exists()


@pytest.mark.parametrize("over", [{"category": ""}, {"type": ""}, {"type": "complaint"}, {"category": None}])
def test_a_blank_or_missing_category_or_handling_type_is_a_400_naming_it(pet, over):
    # As on the intake page, which no longer preselects either: nothing is registered under a
    # category or type nobody chose.
    data = payload(pet.cast, **over)
    field = next(iter(over))
    if over[field] is None:
        del data[field]
    resp = api_client(pet.cast.petition_officer).post(LIST, data, format="json")
    assert resp.status_code == 400, resp.content
    assert list(resp.json()["errors"]) == [field] and f"{field}: " in resp.json()["detail"]
    assert not Petition.objects.exists()


def test_a_post_without_a_type_registers_a_claim_as_the_contract_allows(pet):
    # DESIGN.md section 7 lists the POST fields without ``type`` (it was added later, with a
    # default): a client written to the contract sends none, and must not start getting 400s.
    data = payload(pet.cast)
    del data["type"]
    resp = api_client(pet.cast.petition_officer).post(LIST, data, format="json")
    assert resp.status_code == 201, resp.content
    assert resp.json()["type"] == "claim"


def test_one_post_names_every_bad_field_whichever_layer_refuses_it_and_takes_no_number(pet):
    """The input serializer's errors (channel, persons, a name too long, a null row) came first and
    alone; the service's (area, a future receipt time, ID number, phone) only in a second 400."""
    client = api_client(pet.cast.petition_officer)
    rows = [{"name": "x" * 101}, None, {"name": "赵敏", "id_number": "123", "phone": "abc"}]
    data = payload(
        pet.cast, channel="pigeon", persons_count=0, area="999999999999", received_at=f"{timezone.localdate().year + 5}-01-01T09:00",
        petitioners=rows,
    )  # fmt: skip
    resp = client.post(LIST, data, format="json")
    assert resp.status_code == 400, resp.content
    errors = resp.json()["errors"]
    # Row 3's errors are named at row 3: the service, given rows 1 and 2 as blank, numbered it 1.
    assert set(errors) == {
        "channel", "persons_count", "area", "received_at", "petitioners[0].name", "petitioners[1]",
        "petitioners[2].id_number", "petitioners[2].phone",
    }  # fmt: skip
    assert errors["area"] == ["Unknown area 999999999999, or it is outside your responsibility."]
    assert errors["received_at"] == ["The receipt time cannot be in the future."]
    assert "17 digits" in errors["petitioners[2].id_number"][0]
    # A field the serializer refused keeps its message alone: the service saw it as missing.
    assert errors["persons_count"] == ["Ensure this value is greater than or equal to 1."]
    assert errors["petitioners[0].name"] == ["Ensure this field has no more than 100 characters."]
    assert all(f"{key}: " in resp.json()["detail"] for key in errors)
    assert not (Petition.objects.exists() or Petitioner.objects.exists() or PetitionEvent.objects.exists())
    assert not SequenceCounter.objects.filter(key="PET").exists()
    resp = client.post(LIST, payload(pet.cast), format="json")
    assert resp.status_code == 201 and resp.json()["code"].endswith("-000001")


def test_only_unreadable_rows_or_a_refused_category_add_no_guessed_errors(pet):
    # The service saw no petitioner and no category: "record at least one petitioner" and "not a
    # likely repeat" would be guesses about what the serializer already refused.
    resp = api_client(pet.cast.petition_officer).post(
        LIST,
        payload(pet.cast, category="nope", repeat_of="PET-2026-000009", petitioners=[None]),
        format="json",
    )
    assert resp.status_code == 400
    assert resp.json()["errors"] == {
        "category": ['"nope" is not a valid choice.'],
        "petitioners[0]": ["This field may not be null."],
    }
    assert not Petition.objects.exists()


def test_a_role_that_cannot_register_gets_403_whatever_it_sent(pet):
    # Not a 400 listing the missing fields: the role is refused before the input is read.
    for user in (pet.cast.analyst, pet.cast.worker_a, pet.cast.mediator, pet.cast.department_user):
        for data in ({}, payload(pet.cast)):
            resp = api_client(user).post(LIST, data, format="json")
            assert resp.status_code == 403, (user, resp.content)
            assert resp.json() == {"detail": "Only petition officers register petitions."}
    assert not Petition.objects.exists() and not Petitioner.objects.exists()


def test_an_officer_of_another_district_cannot_register_here(pet):
    resp = api_client(pet.cast.outsider).post(LIST, payload(pet.cast), format="json")
    assert resp.status_code == 403
    assert not Petition.objects.exists()


@pytest.mark.parametrize("value", [str(10**20), "1e30", "0", "1.5"])
def test_a_department_filter_out_of_range_is_400_naming_it(client, pet, value):
    # SQLite (the `make run` default) could not bind 10**20: an OverflowError, a 500.
    resp = api_client(pet.cast.petition_officer).get(f"{LIST}?department={value}")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["department"]
    client.force_login(pet.cast.petition_officer)
    assert client.get(f"/petitions/?department={value}").status_code == 400


def test_list_filters(pet):
    late = pet.register(category="labour")
    Petition.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    group = pet.register(persons_count=8)
    repeat = pet.register(repeat_of=group.code)
    routed = pet.routed(channel="letter")
    client = api_client(pet.cast.petition_officer)

    def codes(query):
        resp = client.get(LIST + query)
        assert resp.status_code == 200, resp.content
        return {r["code"] for r in resp.json()["results"]}

    assert codes("?overdue=true") == {late.code}
    assert codes("?group=true") == {group.code}
    assert codes("?repeat=true") == {repeat.code}
    assert codes("?status=routed") == {routed.code}
    assert codes("?channel=letter") == {routed.code}
    assert codes("?category=labour") == {late.code}
    assert codes("?type=claim") == {late.code, group.code, repeat.code, routed.code}
    assert codes(f"?area={pet.cast.community_a1a.code}") == {late.code, group.code, repeat.code, routed.code}
    assert codes(f"?area={pet.cast.community_a1b.code}") == set()
    response = api_client(pet.cast.petition_officer).get(f"{LIST}?received_to=9999-12-31")  # was a 500
    assert response.status_code == 400
    assert response.json()["errors"] == {"received_to": ["Enter a date between 1900-01-01 and 2999-12-31."]}
    resp = client.get(LIST + "?channel=pigeon")
    assert resp.status_code == 400 and "channel" in resp.json()["errors"]


@pytest.mark.parametrize("name", ["open", "overdue", "due_soon", "repeat", "group"])
def test_a_yes_no_filter_given_neither_is_a_400_naming_it(pet, name):
    # django-filter read ?repeat=maybe as no filter at all: every petition, a 200 that answered a
    # question the client did not ask.
    pet.register()
    client = api_client(pet.cast.petition_officer)
    for bad in ("maybe", "yes", "2"):
        resp = client.get(LIST, {name: bad})
        assert resp.status_code == 400, bad
        assert resp.json()["errors"] == {name: ["Use true or false."]}
    for good in ("true", "false", "1", "0", "True", ""):
        assert client.get(LIST, {name: good}).status_code == 200, good


def test_the_list_runs_a_constant_number_of_queries(pet, django_assert_max_num_queries):
    client = api_client(pet.cast.petition_officer)
    for _i in range(3):
        pet.routed(petitioners=petitioners(2), persons_count=2)
    with django_assert_max_num_queries(8) as small:
        assert client.get(LIST).status_code == 200
    for _i in range(12):
        pet.routed(petitioners=petitioners(2), persons_count=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 15


def test_outsiders_and_analysts_get_404_for_a_petition(pet):
    petition = pet.register()
    for user in (pet.cast.outsider, pet.cast.analyst, pet.cast.district_officer):
        client = api_client(user)
        assert client.get(f"{LIST}{petition.code}/").status_code == 404
        resp = client.post(f"{LIST}{petition.code}/transition/", {"action": "close"}, format="json")
        assert resp.status_code == 404
        assert client.get(LIST).json()["count"] == 0
    assert api_client(pet.cast.petition_officer).get(f"{LIST}PET-2000-999999/").status_code == 404


def test_the_whole_chain_through_the_transition_endpoint(pet):
    c = pet.cast
    petition = pet.register()
    url = f"{LIST}{petition.code}/transition/"
    office, dept = api_client(c.petition_officer), api_client(c.department_user)
    assert office.post(url, {"action": "assign", "department": c.police.pk}, format="json").status_code == 200
    assert dept.get(f"{LIST}{petition.code}/").json()["actions"] == ["accept", "decline", "return"]
    assert dept.post(url, {"action": "accept"}, format="json").status_code == 200
    resp = dept.post(url, {"action": "reply", "opinion": "support", "text": "已督促整改"}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "replied"
    assert (
        office.post(url, {"action": "evaluate", "evaluation": "basically"}, format="json").status_code == 200
    )
    # One evaluation per answer: a second one is a 409 and changes nothing.
    again = office.post(url, {"action": "evaluate", "evaluation": "satisfied"}, format="json")
    assert again.status_code == 409 and "already recorded" in again.json()["detail"]
    assert Petition.objects.get(pk=petition.pk).evaluation == "basically"
    assert office.post(url, {"action": "request_review"}, format="json").json()["status"] == "under_review"
    resp = office.post(url, {"action": "decide_review", "decision": "upheld", "note": "维持"}, format="json")
    assert resp.json()["status"] == "reviewed"
    resp = office.post(url, {"action": "close"}, format="json")
    body = resp.json()
    assert body["status"] == "closed" and [e["action"] for e in body["events"]][-1] == "close"


def test_an_extension_without_notice_to_the_petitioner_is_400_naming_it_and_saves_nothing(pet):
    petition = pet.accepted()
    before = petition.reply_due_at
    url = f"{LIST}{petition.code}/transition/"
    dept = api_client(pet.cast.department_user)
    extension = {"action": "extend", "days": 20, "approver": "approver", "note": "需多部门核查"}
    for notified in ({}, {"notified": False}):
        resp = dept.post(url, {**extension, **notified}, format="json")
        assert resp.status_code == 400 and list(resp.json()["errors"]) == ["notified"]
    petition.refresh_from_db()
    assert (petition.reply_due_at, petition.extended_days) == (before, 0)
    assert not petition.events.filter(action="extend").exists()
    # Every wrong field in the one 400.
    resp = dept.post(
        url, {"action": "extend", "days": 0, "approver": pet.cast.department_user.username}, format="json"
    )
    assert resp.status_code == 400
    assert set(resp.json()["errors"]) == {"days", "note", "approver", "notified"}
    resp = dept.post(url, {**extension, "notified": True}, format="json")
    assert resp.status_code == 200 and resp.json()["extended_days"] == 20


def test_an_extension_that_would_not_move_the_reply_limit_is_400_naming_the_least_days_that_would(pet):
    # 60 days end on a holiday, so the limit already runs to the first working day after the
    # holidays; 65 days end inside them and were moved to that same day: the once-only extension
    # was used up and the petitioner given no more time.
    petition = pet.accepted()
    sixtieth = rest_days_at_reply_end(petition)
    before = petition.reply_due_at
    assert deadlines.extended(petition.accepted_at, 5) == before
    least = (timezone.localdate(before) - sixtieth).days + 1
    url = f"{LIST}{petition.code}/transition/"
    dept = api_client(pet.cast.department_user)
    extension = {"action": "extend", "approver": "approver", "note": "需多部门核查", "notified": True}
    for days in (5, least - 1):
        resp = dept.post(url, {**extension, "days": days}, format="json")
        assert resp.status_code == 400 and list(resp.json()["errors"]) == ["days"]
        message = resp.json()["errors"]["days"][0]
        assert timezone.localdate(before).isoformat() in message and f"at least {least} days" in message
    petition.refresh_from_db()
    assert (petition.reply_due_at, petition.extended_days) == (before, 0)
    assert not petition.events.filter(action="extend").exists()
    # The extension is still there to be used: by the days named, the limit moves.
    resp = dept.post(url, {**extension, "days": least}, format="json")
    assert resp.status_code == 200 and resp.json()["extended_days"] == least
    petition.refresh_from_db()
    assert petition.reply_due_at > before


def test_a_review_request_names_when_it_was_received_and_a_bad_time_is_400(pet):
    petition = pet.replied()
    Petition.objects.filter(pk=petition.pk).update(replied_at=timezone.now() - dt.timedelta(hours=3))
    petition.refresh_from_db()
    url = f"{LIST}{petition.code}/transition/"
    office = api_client(pet.cast.petition_officer)
    resp = office.post(url, {"action": "request_review", "requested_at": "yesterday"}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["requested_at"]
    early = timezone.localtime(petition.replied_at - dt.timedelta(days=2)).isoformat()
    resp = office.post(url, {"action": "request_review", "requested_at": early}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["requested_at"]
    assert Petition.objects.get(pk=petition.pk).status == "replied"
    received = timezone.localtime(timezone.now() - dt.timedelta(minutes=30)).replace(microsecond=0)
    resp = office.post(url, {"action": "request_review", "requested_at": received.isoformat()}, format="json")
    assert resp.status_code == 200 and resp.json()["review_requested_at"] == received.isoformat()


def test_a_review_request_received_after_the_window_is_400_naming_the_date(pet):
    petition = pet.replied()
    until = timezone.now() - dt.timedelta(days=2)
    Petition.objects.filter(pk=petition.pk).update(
        replied_at=until - dt.timedelta(days=30), review_request_until=until
    )
    url = f"{LIST}{petition.code}/transition/"
    office = api_client(pet.cast.petition_officer)
    late = timezone.localtime(until + dt.timedelta(hours=1)).isoformat()
    resp = office.post(url, {"action": "request_review", "requested_at": late}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["requested_at"]
    assert "not accepted" in resp.json()["errors"]["requested_at"][0]
    # Without a date the request would be taken as received now: the step is over (409).
    assert office.post(url, {"action": "request_review"}, format="json").status_code == 409
    assert Petition.objects.get(pk=petition.pk).status == "replied"
    in_time = timezone.localtime(until - dt.timedelta(hours=1)).replace(microsecond=0).isoformat()
    resp = office.post(url, {"action": "request_review", "requested_at": in_time}, format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "under_review"


def test_event_times_are_written_like_every_other_time_of_the_answer(pet):
    # The timeline's "at" came out in UTC ("...Z") beside local times ("+08:00") for the same moment.
    petition = pet.register()
    body = api_client(pet.cast.petition_officer).get(f"{LIST}{petition.code}/").json()
    assert body["events"][0]["at"] == body["registered_at"]
    assert body["registered_at"].endswith("+08:00")


def test_an_illegal_step_is_409_naming_the_state_a_wrong_side_403_a_missing_field_400(pet):
    c = pet.cast
    petition = pet.register()
    url = f"{LIST}{petition.code}/transition/"
    resp = api_client(c.petition_officer).post(url, {"action": "reply", "opinion": "support"}, format="json")
    assert resp.status_code == 409 and "registered" in resp.json()["detail"]
    resp = api_client(c.petition_officer).post(url, {"action": "assign"}, format="json")
    assert resp.status_code == 400 and "department" in resp.json()["errors"]
    resp = api_client(c.petition_officer).post(url, {"action": "fly"}, format="json")
    assert resp.status_code == 400 and "action" in resp.json()["errors"]
    petition.transition(action="assign", actor=c.petition_officer, department=c.police.pk)
    resp = api_client(c.petition_officer).post(url, {"action": "accept"}, format="json")
    assert resp.status_code == 403
    assert Petition.objects.get(pk=petition.pk).status == "routed"


def test_the_409_names_the_action_in_the_readers_language(pet):
    petition = pet.replied()
    resp = api_client(pet.cast.petition_officer).post(
        f"{LIST}{petition.code}/transition/",
        {"action": "assign", "department": pet.cast.police.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert resp.status_code == 409
    assert resp.json()["detail"] == "无法执行“转送交办”：记录当前状态为“已答复”。"
    assert Petition.objects.get(pk=petition.pk).status == "replied"


def test_a_department_returning_an_item_gets_200_with_its_new_state_though_it_loses_access(pet):
    petition = pet.routed()
    client = api_client(pet.cast.department_user)
    resp = client.post(
        f"{LIST}{petition.code}/transition/", {"action": "return", "note": "不属本单位职责"}, format="json"
    )
    assert resp.status_code == 200
    body = resp.json()
    assert (body["code"], body["status"], body["department"], body["actions"]) == (
        petition.code,
        "registered",
        None,
        [],
    )
    assert [e["action"] for e in body["events"]] == ["register", "assign", "return"]
    petition.refresh_from_db()
    assert petition.status == "registered" and petition.department_id is None
    assert PetitionEvent.objects.filter(petition=petition, action="return").count() == 1
    # From now on the department reads it no more.
    assert client.get(f"{LIST}{petition.code}/").status_code == 404


def _closed_for_good_through_the_api(pet, officer) -> Petition:
    """A replied petition taken by the office through review and re-review: closed for good."""
    original = pet.replied()
    for body in (
        {"action": "request_review"},
        {"action": "decide_review", "decision": "upheld", "note": "维持"},
        {"action": "request_review"},
        {"action": "decide_re_review", "decision": "upheld", "note": "维持"},
    ):
        assert officer.post(f"{LIST}{original.code}/transition/", body, format="json").status_code == 200
    return original


def test_accepting_a_repeat_of_a_petition_closed_for_good_is_409_and_changes_nothing(pet):
    officer, department = api_client(pet.cast.petition_officer), api_client(pet.cast.department_user)
    original = _closed_for_good_through_the_api(pet, officer)
    resp = officer.post(LIST, payload(pet.cast, category="urban", area=pet.cast.grid_a.code,
                                      petitioners=petitioners(1), persons_count=1,
                                      repeat_of=original.code), format="json")  # fmt: skip
    assert resp.status_code == 201 and resp.json()["repeat_of"] == original.code
    # The 201 told that the typed ID number matched the earlier petitioner: logged as the page's
    # repeat check logs it (it was not logged at all through the API).
    from governance.models import PersonalDataAccess

    logged = PersonalDataAccess.objects.get(record=original.code, user=pet.cast.petition_officer)
    assert logged.fields == "id_number,phone" and "repeat check" in logged.reason
    code = resp.json()["code"]
    body = {"action": "assign", "department": pet.cast.police.pk}
    assert officer.post(f"{LIST}{code}/transition/", body, format="json").status_code == 200
    assert "accept" not in department.get(f"{LIST}{code}/").json()["actions"]
    resp = department.post(f"{LIST}{code}/transition/", {"action": "accept", "note": "受理"}, format="json")
    assert resp.status_code == 409
    assert original.code in resp.json()["detail"] and "not accepted again" in resp.json()["detail"]
    petition = Petition.objects.get(code=code)
    assert petition.status == "routed" and petition.reply_due_at is None
    assert not PetitionEvent.objects.filter(petition=petition, action="accept").exists()
    resp = department.post(
        f"{LIST}{code}/transition/", {"action": "decline", "note": "复核后不再受理"}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["status"] == "declined"


def test_the_unit_complained_about_sees_content_but_no_petitioner_details(pet):
    petition = pet.register(complained=True)
    resp = api_client(pet.urban_user).get(f"{LIST}{petition.code}/")
    assert resp.status_code == 200
    text = resp.content.decode()
    assert "工地" in text and resp.json()["petitioners"] == []
    # Not even masked: no name, phone (whole or masked "138****5678"), id number or address. (Short
    # digit runs such as "138" can occur in a timestamp's microseconds.)
    for secret in ("王", "1381234", "138*", "11010519", "春晖路"):
        assert secret not in text, secret
    person = petition.petitioners.get()
    for reason in ("核实", ""):  # refused before the input is read: no 400 for a missing reason
        resp = api_client(pet.urban_user).post(
            f"{LIST}{petition.code}/petitioners/{person.pk}/reveal/", {"reason": reason}, format="json"
        )
        assert resp.status_code == 403
    # Nor does a 404 for another number tell which petitioner rows belong to the complaint.
    for other in (person.pk + 1, person.pk + 1000):
        resp = api_client(pet.urban_user).post(
            f"{LIST}{petition.code}/petitioners/{other}/reveal/", {"reason": "核实"}, format="json"
        )
        assert resp.status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_the_unit_complained_about_cannot_follow_a_repeat_to_the_petition_it_handles(pet):
    # A repeat is the same person. The unit handles (and may reveal) the first petition; given the
    # link, the repeat complaining about it named the complainant.
    c = pet.cast
    first = pet.register()
    first.transition(action="assign", actor=c.petition_officer, department=c.urban.pk)
    complaint = pet.register(complained=True, repeat_of=first.code)
    unit = api_client(pet.urban_user)
    body = unit.get(f"{LIST}{complaint.code}/").json()
    assert (body["is_repeat"], body["repeat_of"]) == (True, None)
    listed = next(r for r in unit.get(LIST).json()["results"] if r["code"] == complaint.code)
    assert listed["repeat_of"] is None
    assert first.code not in unit.get(f"{LIST}{complaint.code}/").content.decode()
    # The office (and any other reader) still sees the link.
    assert api_client(c.petition_officer).get(f"{LIST}{complaint.code}/").json()["repeat_of"] == first.code


def test_an_officer_of_the_unit_complained_about_is_offered_no_likely_repeat(pet):
    # The petition office itself may be the unit complained about (信访局). Its officers see no
    # petitioner and no repeat_of on the complaint, but the likely repeats (and the link_repeat step
    # listing them) named the same person's earlier petitions, which they handle and may reveal.
    c = pet.cast
    first = pet.register()
    first.transition(action="assign", actor=c.petition_officer, department=c.police.pk)
    complaint = pet.register(complained_unit=c.petition_office)
    own = api_client(c.petition_officer)
    body = own.get(f"{LIST}{complaint.code}/").json()
    assert body["petitioners"] == [] and body["likely_repeats"] == []
    assert "link_repeat" not in body["actions"]
    resp = own.post(
        f"{LIST}{complaint.code}/transition/",
        {"action": "link_repeat", "repeat_of": first.code},
        format="json",
    )
    assert resp.status_code == 403, resp.content
    complaint.refresh_from_db()
    assert complaint.repeat_of_id is None and not complaint.is_repeat
    # An officer outside that unit still finds and links it.
    other = make_user("other_officer", Role.PETITION_OFFICER, c.district_a)
    body = api_client(other).get(f"{LIST}{complaint.code}/").json()
    assert body["likely_repeats"] == [first.code] and "link_repeat" in body["actions"]
    resp = api_client(other).post(
        f"{LIST}{complaint.code}/transition/",
        {"action": "link_repeat", "repeat_of": first.code},
        format="json",
    )
    assert resp.status_code == 200 and resp.json()["repeat_of"] == first.code


@pytest.mark.parametrize(
    "address, masked",
    [("春晖路12号", "春晖路***"), ("春晖路297号", "春晖路***"), ("甲区春晖路12号3栋", "甲区春晖路***")],
)
def test_a_short_address_is_masked_too(pet, address, masked):
    # Six characters were kept whatever the length, so a street-and-number address showed whole
    # (or with its house number) in every list: at most half of it is shown.
    rows = petitioners(1)
    rows[0]["address"] = address
    petition = pet.register(petitioners=rows)
    resp = api_client(pet.cast.petition_officer).get(f"{LIST}{petition.code}/")
    assert resp.json()["petitioners"][0]["address"] == masked
    assert address not in resp.content.decode()
    resp = api_client(pet.cast.petition_officer).get(LIST)
    assert resp.json()["results"][0]["petitioners"][0]["address"] == masked


def test_the_officer_reveals_with_a_reason_logged_and_without_one_gets_400(pet):
    petition = pet.register()
    person = petition.petitioners.get()
    url = f"{LIST}{petition.code}/petitioners/{person.pk}/reveal/"
    client = api_client(pet.cast.petition_officer)
    resp = client.post(url, {"reason": ""}, format="json")
    assert resp.status_code == 400 and "reason" in resp.json()["errors"]
    resp = client.post(url, {"reason": "回访核实"}, format="json")
    assert resp.status_code == 200 and resp.json()["id_number"] == ID_1
    assert "no-store" in resp["Cache-Control"]  # no browser or proxy keeps a revealed petitioner
    assert PersonalDataAccess.objects.get().reason == "回访核实"


def test_a_repeat_is_still_found_after_the_encryption_key_is_rotated(pet, settings):
    settings.FIELD_ENCRYPTION_KEY = "the-original-key"
    first = pet.register(received_at=timezone.now() - dt.timedelta(days=5))
    settings.FIELD_ENCRYPTION_KEY = "a-new-key,the-original-key"  # rotation: prepend the new key
    second = pet.register()
    client = api_client(pet.cast.petition_officer)
    assert client.get(f"{LIST}{second.code}/").json()["likely_repeats"] == [first.code]


def test_the_detail_lists_likely_repeats_for_the_office_and_links_one(pet):
    first = pet.register(received_at=timezone.now() - dt.timedelta(days=5))
    second = pet.register()
    client = api_client(pet.cast.petition_officer)
    assert client.get(f"{LIST}{second.code}/").json()["likely_repeats"] == [first.code]
    resp = client.post(
        f"{LIST}{second.code}/transition/", {"action": "link_repeat", "repeat_of": first.code}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["repeat_of"] == first.code
    assert client.get(f"{LIST}{second.code}/").json()["likely_repeats"] == []


def test_a_failure_while_revealing_through_the_api_logs_no_decrypted_name_or_address(pet, monkeypatch):
    from petitions import api

    real = api.services.petitioner_reveal

    def broken_reveal(**kwargs):
        raise RuntimeError(f"cannot answer {real(**kwargs)}")

    petition = pet.register()
    person = petition.petitioners.get()
    monkeypatch.setattr(api.services, "petitioner_reveal", broken_reveal)
    client = api_client(pet.cast.petition_officer)
    client.raise_request_exception = False
    with masked_log() as log:
        response = client.post(f"{LIST}{petition.code}/petitioners/{person.pk}/reveal/", {"reason": "回访"})
    logged = log.getvalue()
    assert response.status_code == 500 and "cannot answer" in logged
    for raw in ["王建国", ID_1, "13812345678", "甲区春晖路12号3栋"]:
        assert raw not in logged, logged
    assert "王**" in logged and "甲区春晖路***" in logged


def test_the_office_corrects_the_handling_type_through_the_transition_endpoint(pet):
    c = pet.cast
    petition = pet.register(handling_type="suggestion")
    url = f"{LIST}{petition.code}/transition/"
    office = api_client(c.petition_officer)
    assert "correct_type" in office.get(f"{LIST}{petition.code}/").json()["actions"]
    for body, field in [
        ({"action": "correct_type", "type": "suggestion", "note": "更正"}, "type"),
        ({"action": "correct_type", "type": "complaint", "note": "更正"}, "type"),
        ({"action": "correct_type", "note": "更正"}, "type"),
        ({"action": "correct_type", "type": "claim"}, "note"),
    ]:
        resp = office.post(url, body, format="json")
        assert resp.status_code == 400 and list(resp.json()["errors"]) == [field], body
    assert Petition.objects.get(pk=petition.pk).handling_type == "suggestion"
    assert not PetitionEvent.objects.filter(action="correct_type").exists()
    resp = office.post(
        url, {"action": "correct_type", "type": "claim", "note": "诉求为追讨欠薪"}, format="json"
    )
    assert resp.status_code == 200
    body = resp.json()
    assert (body["type"], body["status"]) == ("claim", "registered")
    assert "redirect" in body["actions"]
    assert body["events"][-1] | {"at": None, "actor": None} == {
        "at": None,
        "actor": None,
        "action": "correct_type",
        "from_status": "registered",
        "to_status": "registered",
        "note": "诉求为追讨欠薪",
        "from_type": "suggestion",
        "to_type": "claim",
        "department": None,
        "from_department": None,
        "result": None,
        "extended_days": None,
    }
    assert body["events"][0]["from_type"] is None and body["events"][0]["to_type"] is None
    assert [r["code"] for r in office.get(f"{LIST}?type=claim").json()["results"]] == [petition.code]


def test_a_type_correction_is_for_the_office_of_the_area_while_the_matter_is_unanswered(pet):
    c = pet.cast
    petition = pet.routed()
    url = f"{LIST}{petition.code}/transition/"
    body = {"action": "correct_type", "type": "report", "note": "实为检举控告"}
    assert api_client(c.department_user).post(url, body, format="json").status_code == 403
    for user in (c.outsider, c.analyst, c.district_officer):
        assert api_client(user).post(url, body, format="json").status_code == 404
    assert Petition.objects.get(pk=petition.pk).handling_type == "claim"
    replied = pet.replied()
    resp = api_client(c.petition_officer).post(f"{LIST}{replied.code}/transition/", body, format="json")
    assert resp.status_code == 409 and "replied" in resp.json()["detail"]
    assert Petition.objects.get(pk=replied.pk).handling_type == "claim"
    assert not PetitionEvent.objects.filter(action="correct_type").exists()


def test_an_accepted_petition_linked_to_a_matter_closed_for_good_is_declined_through_the_api(pet):
    officer, department = api_client(pet.cast.petition_officer), api_client(pet.cast.department_user)
    original = _closed_for_good_through_the_api(pet, officer)
    repeat = pet.accepted()
    url = f"{LIST}{repeat.code}/transition/"
    assert officer.get(f"{LIST}{repeat.code}/").json()["likely_repeats"] == [original.code]
    resp = officer.post(url, {"action": "link_repeat", "repeat_of": original.code}, format="json")
    assert resp.status_code == 200 and resp.json()["repeat_of"] == original.code
    assert department.get(f"{LIST}{repeat.code}/").json()["actions"] == ["decline"]
    resp = department.post(url, {"action": "reply", "opinion": "support", "text": "已处理"}, format="json")
    assert resp.status_code == 409 and original.code in resp.json()["detail"]
    resp = department.post(url, {"action": "decline"}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["note"]
    stored = Petition.objects.get(pk=repeat.pk)
    assert (stored.status, stored.replied_at, stored.closed_at) == ("accepted", None, None)
    resp = department.post(url, {"action": "decline", "note": "复核后不再受理"}, format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["due_at"], body["actions"]) == ("declined", None, [])
    assert [(e["action"], e["from_status"], e["to_status"]) for e in body["events"][-2:]] == [
        ("link_repeat", "accepted", "accepted"),
        ("decline", "accepted", "declined"),
    ]


def test_a_report_is_replied_without_an_opinion_and_a_suggestion_with_its_adoption(pet):
    dept = api_client(pet.cast.department_user)
    report = pet.accepted(handling_type="report")
    url = f"{LIST}{report.code}/transition/"
    resp = dept.post(url, {"action": "reply", "opinion": "support", "text": "已查处"}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["opinion"]
    assert Petition.objects.get(pk=report.pk).status == "accepted"
    resp = dept.post(url, {"action": "reply", "text": "已查处，结果已书面反馈"}, format="json")
    assert resp.status_code == 200, resp.json()
    assert dept.get(f"{LIST}{report.code}/").json()["reply_opinion"] == ""
    suggestion = pet.accepted(handling_type="suggestion")
    url = f"{LIST}{suggestion.code}/transition/"
    resp = dept.post(url, {"action": "reply", "opinion": "adopted", "text": "建议已采纳"}, format="json")
    assert resp.status_code == 200, resp.json()
    assert dept.get(f"{LIST}{suggestion.code}/").json()["reply_opinion"] == "adopted"
    resp = dept.post(url, {"action": "reply", "opinion": "maybe"}, format="json")
    assert resp.status_code == 400 and "opinion" in resp.json()["errors"]


def test_an_officer_cannot_route_to_a_department_outside_their_area(pet):
    """The page offers the departments of the office's own area; the API (or a hand-made post) was
    held only to the petition's city, so another district's department got the item and its users
    could reveal the petitioner. Now a 400 naming ``department``, and nothing changes."""
    petition = pet.register()
    client = api_client(pet.cast.petition_officer)
    resp = client.post(
        f"{LIST}{petition.code}/transition/",
        {"action": "assign", "department": pet.cast.police_b.pk},
        format="json",
    )
    assert resp.status_code == 400, resp.content
    assert "department" in resp.json()["errors"]
    petition.refresh_from_db()
    assert petition.status == "registered" and petition.department_id is None
    assert list(petition.events.values_list("action", flat=True)) == ["register"]
    police_b_user = make_user("police_b_user", Role.HANDLER, pet.cast.district_b, pet.cast.police_b)
    assert api_client(police_b_user).get(f"{LIST}{petition.code}/").status_code == 404
    ok = client.post(
        f"{LIST}{petition.code}/transition/",
        {"action": "assign", "department": pet.cast.police.pk},
        format="json",
    )
    assert ok.status_code == 200, ok.content


def test_routing_to_a_department_outside_the_area_answers_as_for_one_that_does_not_exist(pet):
    # Each check answered in its own words (no longer active, not in the petition's city, not one you
    # may route to), so an officer could learn which ids outside their area are departments and which
    # of those are closed. Outside the area is now the answer for a department that does not exist.
    from governance.models import Area, Department

    other_city = Area.objects.create(code="340200000000", name="另一市", level="city")
    closed_b = Department.objects.create(name="已撤销", area=pet.cast.district_b, is_active=False)
    elsewhere = Department.objects.create(name="外市公安局", area=other_city)
    petition = pet.register()
    client = api_client(pet.cast.petition_officer)
    url = f"{LIST}{petition.code}/transition/"

    def answer(department):
        response = client.post(url, {"action": "assign", "department": department}, format="json")
        return response.status_code, response.json()

    missing = answer(999999)
    assert missing[0] == 400 and list(missing[1]["errors"]) == ["department"]
    for department in (pet.cast.police_b, closed_b, elsewhere):
        assert answer(department.pk) == missing, department.name
    petition.refresh_from_db()
    assert petition.status == "registered" and petition.department_id is None
    closed_a = Department.objects.create(name="已撤销", area=pet.cast.district_a, is_active=False)
    status, body = answer(closed_a.pk)  # in the area: the officer is told why
    assert status == 400 and body["errors"] == {"department": ["That department is no longer active."]}


def test_an_area_outside_the_officers_responsibility_answers_as_one_that_does_not_exist(pet):
    """ "Unknown area" for a missing code and "outside your responsibility" for another district's
    told an officer which codes exist there (DESIGN.md section 4: no existence leak)."""
    client = api_client(pet.cast.petition_officer)  # district A

    def area_error(code):
        response = client.post(LIST, payload(pet.cast, area=code), format="json")
        assert response.status_code == 400
        return [m.replace(code, "?") for m in response.json()["errors"]["area"]]

    assert area_error(pet.cast.grid_d.code) == area_error("340103001001999")  # grid D: district B
    assert Petition.objects.count() == 0


def test_a_registration_sent_again_with_its_key_is_saved_once(pet):
    """A client that lost the answer sends the registration again: a second PET number for one letter,
    flagged as a repeat of itself."""
    key = str(uuid.uuid4())
    client = api_client(pet.cast.petition_officer)
    first = client.post(LIST, payload(pet.cast, submission=key), format="json")
    again = client.post(LIST, payload(pet.cast, submission=key), format="json")
    assert first.status_code == again.status_code == 201 and first.json()["code"] == again.json()["code"]
    assert (
        Petition.objects.count() == 1
        and Petitioner.objects.count() == 2
        and PetitionEvent.objects.count() == 1
    )
    assert SequenceCounter.objects.get(key="PET").value == 1
    # Without a key every send is a registration, as before; a key that is not a UUID is named.
    assert client.post(LIST, payload(pet.cast), format="json").status_code == 201
    bad = client.post(LIST, payload(pet.cast, submission="not-a-key"), format="json")
    assert bad.status_code == 400 and "submission" in bad.json()["errors"]
    assert Petition.objects.count() == 2


def test_a_registration_sent_again_after_the_officer_moved_names_the_petition_only(pet):
    # Sent again once the officer's area had changed, the registration answered 404, as if the
    # first send had saved nothing.
    from governance.models import Membership, User

    key = str(uuid.uuid4())
    officer = pet.cast.petition_officer
    code = api_client(officer).post(LIST, payload(pet.cast, submission=key), format="json").json()["code"]
    Membership.objects.filter(user=officer).update(area=pet.cast.district_b, department=None)
    again = api_client(User.objects.get(pk=officer.pk)).post(
        LIST, payload(pet.cast, submission=key), format="json"
    )
    assert again.status_code == 409 and again.json() == {
        "detail": f"This registration was saved already, as petition {code}, which is no longer in your area."
    }
    assert Petition.objects.count() == 1


def test_a_content_note_or_reply_past_its_limit_is_400_naming_it_and_saves_nothing(pet):
    """A 100,000-character content (a pasted document) was registered as a petition."""
    client = api_client(pet.cast.petition_officer)
    response = client.post(LIST, payload(pet.cast, content="访" * 20001), format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["content"]
    assert not Petition.objects.exists()
    petition = pet.register()
    response = client.post(
        f"{LIST}{petition.code}/transition/",
        {"action": "assign", "department": pet.cast.police.pk, "note": "注" * 4001},
        format="json",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["note"]
    assert Petition.objects.get(pk=petition.pk).status == "registered"


def test_a_reply_or_a_type_correction_missing_two_fields_names_both_in_one_400(pet):
    """A reply without its opinion hid the missing written reply until the next try; a correction
    without a type hid the missing reason."""
    petition = pet.accepted()
    client = api_client(pet.cast.department_user)
    url = f"{LIST}{petition.code}/transition/"
    response = client.post(url, {"action": "reply"}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"opinion", "text"}
    office = api_client(pet.cast.petition_officer)
    response = office.post(url, {"action": "correct_type"}, format="json")
    assert response.status_code == 400 and set(response.json()["errors"]) == {"type", "note"}
    assert Petition.objects.get(pk=petition.pk).status == "accepted" and petition.events.count() == 3


def test_an_evaluation_sent_twice_with_its_state_is_answered_as_done(pet):
    # The evaluation leaves the status as it is: the second send was a 409 "already recorded".
    petition = pet.replied()
    url = f"{LIST}{petition.code}/transition/"
    body = {"action": "evaluate", "evaluation": "basically", "state": "replied"}
    office = api_client(pet.cast.petition_officer)
    assert office.post(url, body, format="json").status_code == 200
    again = office.post(url, body, format="json")
    assert again.status_code == 200 and again.json()["evaluation"] == "basically"
    assert petition.events.filter(action="evaluate").count() == 1
    # A different evaluation is no repeat: it is refused, the first one stands.
    other = office.post(url, {**body, "evaluation": "satisfied"}, format="json")
    assert other.status_code == 409 and "already recorded" in other.json()["detail"]
    assert petition.events.filter(action="evaluate").count() == 1


def test_the_unit_complained_about_is_refused_a_step_before_its_input_is_read(pet):
    # It reads the complaint (content only) and may take no step: it got a 400 listing the missing
    # fields (docs/api.md: a 403 comes before the input is looked at).
    petition = pet.register(complained=True)
    url = f"{LIST}{petition.code}/transition/"
    for body in ({}, {"action": "accept", "note": "长" * 5000}, {"action": "accept"}):
        resp = api_client(pet.urban_user).post(url, body, format="json")
        assert resp.status_code == 403 and "errors" not in resp.json(), (body, resp.json())
    assert petition.events.count() == 1  # the registration only


def test_a_type_correction_or_a_repeat_link_sent_twice_is_taken_once(pet):
    # Each leaves the status as it is; the second send was a 400 ("already a claim", "already
    # linked") though it was the first sent again.
    office = api_client(pet.cast.petition_officer)
    petition = pet.register(handling_type="suggestion")
    url = f"{LIST}{petition.code}/transition/"
    body = {"action": "correct_type", "type": "claim", "note": "诉求为追讨欠薪", "state": "registered"}
    assert [office.post(url, body, format="json").status_code for _ in range(2)] == [200, 200]
    assert petition.events.filter(action="correct_type").count() == 1
    # Asked anew, with another reason, it is what it says: already a claim.
    again = office.post(url, {**body, "note": "再次更正"}, format="json")
    assert again.status_code == 400 and "type" in again.json()["errors"]
    earlier, later = pet.register(), pet.register()
    url = f"{LIST}{later.code}/transition/"
    body = {"action": "link_repeat", "repeat_of": earlier.code, "state": "registered"}
    assert [office.post(url, body, format="json").status_code for _ in range(2)] == [200, 200]
    assert later.events.filter(action="link_repeat").count() == 1


def test_a_wrong_side_gets_403_for_a_step_whatever_it_sent(pet):
    """The office on a step of the department (and back) with a faulty body was answered 400 with what
    to fix, as if the fixed step would be taken; it is the 403 a well-formed one gets."""
    c = pet.cast
    petition = pet.register()
    petition.transition(action="assign", actor=c.petition_officer, department=c.police.pk)
    url = f"{LIST}{petition.code}/transition/"
    faulty = {"action": "accept", "note": 5000 * "x"}
    assert api_client(c.petition_officer).post(url, faulty, format="json").status_code == 403
    faulty = {"action": "reroute", "department": "x"}
    assert api_client(c.department_user).post(url, faulty, format="json").status_code == 403
    assert (
        api_client(c.department_user).post(url, {"action": "accept", "note": 5000 * "x"}).status_code == 400
    )


def test_the_403_of_a_step_names_it_in_a_sentence_that_reads(pet):
    """The 403 "Your role may not %(action)s this petition." read "may not return as wrongly routed this
    petition"."""
    c = pet.cast
    petition = pet.register()
    petition.transition(action="assign", actor=c.petition_officer, department=c.police.pk)
    response = api_client(c.petition_officer).post(
        f"{LIST}{petition.code}/transition/", {"action": "return", "note": "x"}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Your role may not take this step on the petition: return as wrongly routed."
    }


def test_an_area_out_of_service_today_is_refused_as_an_unknown_one_and_not_offered(pet, client):
    """A petition was registered for any area named, a community merged away or drawn for later too;
    the intake page offered them."""
    import re

    from governance.models import Area

    today = timezone.localdate()
    community = pet.cast.community_a1a
    message = f"Unknown area {community.code}, or it is outside your responsibility."
    client.force_login(pet.cast.petition_officer)
    for _ in out_of_service_today(community):
        response = api_client(pet.cast.petition_officer).post(LIST, payload(pet.cast), format="json")
        assert response.status_code == 400 and response.json()["errors"] == {"area": [message]}
        html = client.get("/petitions/new/").content.decode()
        select = re.search(r'<select name="area".*?</select>', html, re.S).group(0)
        assert community.code not in select and pet.cast.street_a1.code in select
    assert Petition.objects.count() == 0
    Area.objects.filter(pk=community.pk).update(in_service_from=today, in_service_until=today)
    assert (
        api_client(pet.cast.petition_officer).post(LIST, payload(pet.cast), format="json").status_code == 201
    )


def test_an_area_is_judged_in_service_on_the_day_the_petition_was_received(pet):
    """A petition received while its community was in service, registered after the community was
    merged away, was refused (the check was against today); one
    received before the community came into service was taken if it serves today."""
    from governance.models import Area

    today = timezone.localdate()
    community = pet.cast.community_a1a
    received = timezone.localtime() - dt.timedelta(days=5)
    message = f"Unknown area {community.code}, or it is outside your responsibility."
    officer = api_client(pet.cast.petition_officer)
    Area.objects.filter(pk=community.pk).update(in_service_from=today - dt.timedelta(days=2))
    response = officer.post(LIST, payload(pet.cast, received_at=received.isoformat()), format="json")
    assert response.status_code == 400 and response.json()["errors"] == {"area": [message]}
    assert Petition.objects.count() == 0
    Area.objects.filter(pk=community.pk).update(
        in_service_from=today - dt.timedelta(days=30), in_service_until=today - dt.timedelta(days=1)
    )
    response = officer.post(LIST, payload(pet.cast, received_at=received.isoformat()), format="json")
    assert response.status_code == 201, response.json()
    assert Petition.objects.get().area == community


def test_a_reply_and_a_review_decision_with_a_bad_choice_name_every_field_in_one_400(pet):
    """A choice the input refused (an opinion or decision not on the list) answered alone: the
    missing reply text or reasons came in a second 400, once the choice was put right."""
    c = pet.cast
    petition = pet.accepted()
    url = f"{LIST}{petition.code}/transition/"
    dept = api_client(c.department_user)
    resp = dept.post(url, {"action": "reply", "opinion": "maybe", "text": ""}, format="json")
    errors = resp.json()["errors"]
    assert resp.status_code == 400 and set(errors) == {"opinion", "text"}
    assert errors["text"] == ["Write the reply."]
    assert Petition.objects.get(pk=petition.pk).status == "accepted"
    assert not petition.events.filter(action="reply").exists()
    # Outside the user's reach: the 404, not what to fix.
    outsider = api_client(pet.urban_user)
    assert outsider.post(url, {"action": "reply", "opinion": "maybe"}, format="json").status_code == 404
    replied = pet.replied()
    office = api_client(c.petition_officer)
    url = f"{LIST}{replied.code}/transition/"
    assert office.post(url, {"action": "request_review"}, format="json").status_code == 200
    resp = office.post(url, {"action": "decide_review", "decision": "maybe"}, format="json")
    errors = resp.json()["errors"]
    assert resp.status_code == 400 and set(errors) == {"decision", "note"}
    assert errors["note"] == ["Write the decision's reasons."]
    assert Petition.objects.get(pk=replied.pk).status == "under_review"
    assert not replied.events.filter(action="decide_review").exists()


def test_a_step_the_input_refuses_is_only_dry_run_even_when_the_rest_would_pass(pet):
    """The step is asked about its other fields in a transaction rolled back: an acceptance whose
    only fault is a ``state`` too long is a 400 naming it, and the petition is not accepted."""
    petition = pet.routed()
    url = f"{LIST}{petition.code}/transition/"
    resp = api_client(pet.cast.department_user).post(
        url, {"action": "accept", "state": "r" * 61}, format="json"
    )
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["state"]
    petition.refresh_from_db()
    assert petition.status == "routed" and petition.accepted_at is None
    assert not petition.events.filter(action="accept").exists()
    # A role that may not take the step gets the 403 whatever the body holds, and no dry run.
    resp = api_client(pet.cast.petition_officer).post(
        url, {"action": "accept", "state": "r" * 61}, format="json"
    )
    assert resp.status_code == 403


def test_a_department_declining_a_claim_names_the_legal_route_it_belongs_to(pet):
    """DOMAIN.md "Handling types": a claim that belongs to litigation, arbitration or administrative
    review is redirected there. The office records the route when it redirects before routing; the
    department that finds it out once the claim is routed to it declined with the route in the note
    only, so the petition kept no route and the timeline named none."""
    department = api_client(pet.cast.department_user)
    claim = pet.routed(handling_type="claim")
    url = f"{LIST}{claim.code}/transition/"
    resp = department.post(url, {"action": "decline", "note": "属劳动争议", "route": "court"}, format="json")
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["route"]
    assert Petition.objects.get(pk=claim.pk).status == "routed"
    resp = department.post(
        url, {"action": "decline", "note": "属劳动争议", "route": "arbitration"}, format="json"
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert (body["status"], body["redirect_route"]) == ("declined", "arbitration")
    assert [e["result"] for e in body["events"] if e["action"] == "decline"] == ["arbitration"]
    stored = Petition.objects.get(pk=claim.pk)
    assert stored.redirected_at is None  # the office did not redirect it: routed in time, then declined
    # Without a route a decline is what it was.
    plain = pet.routed(handling_type="claim")
    resp = department.post(
        f"{LIST}{plain.code}/transition/", {"action": "decline", "note": "不属本单位"}, format="json"
    )
    assert resp.status_code == 200 and resp.json()["redirect_route"] == ""
    # A suggestion or an accusation has no legal route to go to: the route is refused, nothing saved.
    report = pet.routed(handling_type="report")
    resp = department.post(
        f"{LIST}{report.code}/transition/",
        {"action": "decline", "note": "x", "route": "litigation"},
        format="json",
    )
    assert resp.status_code == 400 and list(resp.json()["errors"]) == ["route"]
    assert Petition.objects.get(pk=report.pk).status == "routed"


def test_a_running_due_date_in_a_year_without_a_calendar_is_named_in_the_list_and_the_detail(pet):
    # The pages say such a deadline may move (it counts plain weekdays until the year's holidays are
    # entered); the API gave the date with nothing said.
    from governance.models import Holiday

    calendar_for_this_year_and_next()
    accepted, replied, waiting = pet.accepted(), pet.replied(), pet.register()
    # Five years on, a year calendar_for_this_year_and_next does not enter, whenever the test runs.
    far_year = timezone.localdate().year + 5
    far = timezone.make_aware(dt.datetime(far_year, 3, 3, 23, 59, 59))
    done = timezone.make_aware(dt.datetime(far_year + 1, 3, 3, 23, 59, 59))
    # The running reply limit far off; the routing step, done, keeps a date a year later: not named.
    Petition.objects.filter(pk=accepted.pk).update(reply_due_at=far, due_at=far, route_due_at=done)
    # A review window not yet used is a running date too.
    Petition.objects.filter(pk=replied.pk).update(review_request_until=far)
    client = api_client(pet.cast.petition_officer)
    listed = {r["code"]: r["provisional_due_years"] for r in client.get(LIST).json()["results"]}
    assert listed == {accepted.code: [far_year], replied.code: [far_year], waiting.code: []}
    assert client.get(f"{LIST}{accepted.code}/").json()["provisional_due_years"] == [far_year]
    assert client.get(f"{LIST}{waiting.code}/").json()["provisional_due_years"] == []
    # Outside the caller's area: the same 404 as before.
    assert api_client(pet.cast.outsider).get(f"{LIST}{accepted.code}/").status_code == 404
    Holiday.objects.create(date=dt.date(far_year, 1, 1), name="元旦")  # the year entered: nothing said
    assert client.get(f"{LIST}{accepted.code}/").json()["provisional_due_years"] == []
    assert all(r["provisional_due_years"] == [] for r in client.get(LIST).json()["results"])


def test_the_chinese_schema_names_the_handling_types_and_the_redirect_by_the_regulations_terms(db):
    # The regulation's three types are 建议意见类, 检举控告类 and 申诉求决类, and a claim that belongs
    # to litigation, arbitration or administrative review is 导入法定途径 (as the pages say it); the
    # API's help said 建议类 / 反映类 / 诉求类, and called a redirected claim 转送的诉求, the word
    # for routing it to a department.
    import json

    from django.test import Client
    from django.utils import translation

    schema = Client().get("/api/schema/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert schema.status_code == 200
    text = json.dumps(schema.json(), ensure_ascii=False)
    for stray in ("诉求类", "反映类", "建议类", "转送的诉求"):
        assert stray not in text, stray
    for term in ("申诉求决类", "检举控告类", "建议意见类"):
        assert term in text, term
    with translation.override("zh-hans"):
        assert str(Petition._meta.get_field("redirected_at").verbose_name) == "导入法定途径时间"
