"""A department whose people all left after a petition was routed to it: only its people accept,
return or decline, so the petition sat there for good and its deadline notices went to nobody."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from governance.models import Membership, Notification, Role
from petitions import services
from petitions.models import Petition, allowed_actions
from tests.base import api_client, make_user

pytestmark = pytest.mark.django_db


def _empty(department) -> None:
    Membership.objects.filter(department=department).delete()


def test_the_office_takes_back_a_petition_whose_department_has_nobody_left(pet):
    cast = pet.cast
    petition = pet.routed()
    assert "return" not in allowed_actions(cast.petition_officer, petition)  # the department's step
    _empty(cast.police)
    # Past the department's 5 working days to return, which do not bind the office.
    Petition.objects.filter(pk=petition.pk).update(return_due_at=timezone.now() - dt.timedelta(days=1))
    petition.refresh_from_db()
    assert "return" in allowed_actions(cast.petition_officer, petition)
    petition.transition(action="return", actor=cast.petition_officer, note="公安分局已无人办理，收回重新交办")
    petition.refresh_from_db()
    assert petition.status == Petition.Status.REGISTERED and petition.department_id is None
    assert "assign" in allowed_actions(cast.petition_officer, petition)


def test_the_deadline_notice_of_an_unstaffed_department_goes_to_the_office(pet):
    cast = pet.cast
    routed, accepted = pet.routed(), pet.accepted()
    _empty(cast.police)
    Petition.objects.filter(pk__in=[routed.pk, accepted.pk]).update(
        due_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert services.petition_notify_deadlines() >= 2
    told = set(Notification.objects.values_list("user__username", "key"))
    for petition in (routed, accepted):
        assert any(user == cast.petition_officer.username and petition.code in key for user, key in told), (
            told
        )


def _accepted_then_emptied(pet) -> Petition:
    """An accepted petition, its reply limit extended, whose department has nobody left since."""
    cast = pet.cast
    petition = pet.accepted()
    petition.transition(
        action="extend", actor=cast.department_user, days=20, approver=pet.approver.username,
        notified=True, note="需现场勘验",
    )  # fmt: skip
    _empty(cast.police)
    petition.refresh_from_db()
    return petition


def test_the_office_hands_an_accepted_petition_of_an_unstaffed_department_to_another(client, pet):
    cast = pet.cast
    petition = pet.accepted()
    # While the department has its people, the accepted petition is theirs to answer.
    assert "reroute" not in allowed_actions(cast.petition_officer, petition)
    petition = _accepted_then_emptied(pet)
    kept = {
        f: getattr(petition, f)
        for f in ("accepted_at", "reply_due_at", "due_at", "extended_days", "routed_at")
    }
    assert "reroute" in allowed_actions(cast.petition_officer, petition)
    client.force_login(cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'id="action-reroute"' in html and 'id="reroute-help"' in html
    assert f'<option value="{cast.urban.pk}">' in html  # a department with someone to answer
    resp = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "reroute", "state": "accepted", "department": cast.urban.pk, "note": "原承办部门已无人"},
    )
    assert resp.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.ACCEPTED and petition.department == cast.urban
    # Accepted as it was: the 60 days (and the extension) run from that acceptance, not from now.
    assert {f: getattr(petition, f) for f in kept} == kept
    event = petition.events.order_by("-at", "-id").first()
    assert (event.action, event.from_status, event.to_status, event.department) == (
        "reroute", "accepted", "accepted", cast.urban,
    )  # fmt: skip
    assert event.data["from_department"] == cast.police.pk and event.actor == cast.petition_officer
    due = timezone.localtime(petition.reply_due_at).strftime("%Y-%m-%d")
    notice = Notification.objects.get(user=pet.urban_user)
    assert petition.code in notice.message and due in notice.message, notice.message
    # The new department now answers it.
    assert allowed_actions(pet.urban_user, petition)[0] == "reply"
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert "公安分局 → 城市管理局" in html  # the timeline says where it went from


def test_the_office_may_not_take_an_accepted_petition_from_a_staffed_department(pet):
    cast = pet.cast
    petition = pet.accepted()
    office = api_client(cast.petition_officer)
    url = f"/api/v1/petitions/{petition.code}/transition/"
    resp = office.post(url, {"action": "reroute", "department": cast.urban.pk}, format="json")
    assert resp.status_code == 409
    assert "公安分局 still has people who can act on this petition" in resp.json()["detail"]
    petition.refresh_from_db()
    assert petition.department == cast.police and not petition.events.filter(action="reroute").exists()
    # Nor does the department itself hand its petition on.
    resp = api_client(cast.department_user).post(
        url, {"action": "reroute", "department": cast.urban.pk}, format="json"
    )
    assert resp.status_code == 403


def test_rerouting_through_the_api_names_a_wrong_department_and_hides_other_areas(pet):
    cast = pet.cast
    petition = _accepted_then_emptied(pet)
    url = f"/api/v1/petitions/{petition.code}/transition/"
    office = api_client(cast.petition_officer)
    for department in (cast.police_b.pk, cast.police.pk, 99999, None):  # another district, nobody, none
        body = {"action": "reroute"} | ({"department": department} if department else {})
        resp = office.post(url, body, format="json")
        assert resp.status_code == 400 and list(resp.json()["errors"]) == ["department"], resp.json()
    petition.refresh_from_db()
    assert petition.department == cast.police and not petition.events.filter(action="reroute").exists()
    other = make_user("officer_b", Role.PETITION_OFFICER, cast.district_b)
    for user in (other, cast.outsider):
        resp = api_client(user).post(url, {"action": "reroute", "department": cast.urban.pk}, format="json")
        assert resp.status_code == 404
    resp = office.post(url, {"action": "reroute", "department": cast.urban.pk}, format="json")
    assert resp.status_code == 200
    body = resp.json()
    assert body["department"] == cast.urban.pk and body["status"] == "accepted"
    assert body["reply_due_at"] == office.get(f"/api/v1/petitions/{petition.code}/").json()["reply_due_at"]
    last = body["events"][-1]
    assert (last["action"], last["from_department"], last["department"]) == (
        "reroute",
        "公安分局",
        "城市管理局",
    )
    assert body["events"][0]["from_department"] is None


def test_a_refused_reroute_on_the_page_names_the_department_and_saves_nothing(client, pet):
    cast = pet.cast
    petition = _accepted_then_emptied(pet)
    client.force_login(cast.petition_officer)
    resp = client.post(
        f"/petitions/{petition.code}/act/",
        {"action": "reroute", "state": "accepted", "department": cast.police_b.pk},
    )
    assert resp.status_code == 400
    html = resp.content.decode()
    assert 'id="action-reroute" open' in html and 'aria-invalid="true"' in html
    assert "Choose the department to route the petition to." in html
    petition.refresh_from_db()
    assert petition.department == cast.police and not petition.events.filter(action="reroute").exists()
    assert not Notification.objects.exists()


def test_the_office_is_told_as_soon_as_a_department_holding_petitions_is_left_empty(pet):
    """The office heard of a petition sitting with an emptied department only from its deadline
    notices, in the step's last 3 days; the hourly task now tells it once, at once."""
    from petitions import tasks

    cast = pet.cast
    routed, accepted = pet.routed(), pet.accepted()
    assert services.petition_notify_unstaffed() == 0  # staffed: nothing to say
    _empty(cast.police)
    Notification.objects.all().delete()
    tasks.notify_deadlines.delay().get()
    told = Notification.objects.filter(key__startswith="petition-unstaffed:")
    assert {(n.user, n.key.split(":")[1]) for n in told} == {
        (cast.petition_officer, routed.code),
        (cast.petition_officer, accepted.code),
    }
    notice = told.get(key__contains=accepted.code)
    assert "公安分局" in notice.message and notice.link.endswith(f"/{accepted.code}/")
    assert services.petition_notify_unstaffed() == 0  # once
    # Staffed again: nothing more to say.
    make_user("police_2", Role.HANDLER, cast.district_a, department=cast.police)
    assert services.petition_notify_unstaffed() == 0


def test_a_rerouted_petition_keeps_its_extension_and_says_so(client, pet):
    # "The '(extended)' label after a transfer": checked, and right for a petition. A petition is
    # handed to another department (reroute) as accepted: the reply limit runs from that acceptance
    # (art. 33) and was extended once, with approval and notice (art. 35), so the date shown is the
    # extended one, the note beside it stays true (who approved, when the first department handled
    # it), and the new department may not extend it a second time.
    cast = pet.cast
    petition = _accepted_then_emptied(pet)
    extended_to = petition.reply_due_at
    petition.transition(
        action="reroute", actor=cast.petition_officer, department=cast.urban.pk, note="原部门无人"
    )
    petition.refresh_from_db()
    assert petition.reply_due_at == extended_to == petition.due_at and petition.extended_days == 20
    client.force_login(pet.urban_user)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    row = re.search(r'<tr data-deadline="reply">.*?</tr>', html, re.S)[0]
    assert timezone.localtime(extended_to).strftime("%Y-%m-%d") in row
    assert "extended 20 days, approved by" in row
    assert 'id="action-extend"' not in html and "extend" not in allowed_actions(pet.urban_user, petition)
    resp = api_client(pet.urban_user).post(
        f"/api/v1/petitions/{petition.code}/transition/",
        {"action": "extend", "days": 10, "approver": "approver", "note": "再延", "notified": True},
        format="json",
    )
    assert resp.status_code == 409 and "only once" in resp.json()["detail"]
