"""The message after an on-site check says how it went and what comes next (docs/incidents.md
"Pages"): a failed check read "核查：已完成（INC-…）。" ("Verify: done"), as if it had passed, when the
item had gone back to the department for handling again."""

from __future__ import annotations

import pytest

from grids.models import Incident


def check(client, incident: Incident, data: dict, **headers):
    return client.post(f"/grids/incidents/{incident.code}/act/", {"action": "verify", **data}, **headers)


@pytest.mark.django_db
def test_a_failed_check_says_it_failed_and_where_the_item_went(cast, client, settings, incident_in):
    incident = incident_in("fed_back")
    department = incident.department.name
    client.force_login(cast.worker_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = check(client, incident, {"result": "fail", "note": "still there"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert f"现场核查未通过（{incident.code}）：事件已退回{department}重新处置。" in html
    assert f"核查：已完成（{incident.code}）" not in html
    incident.refresh_from_db()
    assert incident.status == Incident.Status.HANDLING


@pytest.mark.django_db
def test_a_passed_check_says_the_centre_closes_it(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    html = check(client, incident, {"result": "pass"}, follow=True).content.decode()
    assert f"On-site check passed ({incident.code}): the centre closes it next." in html
    assert "Verify: done" not in html


@pytest.mark.django_db
def test_the_inbox_row_of_a_failed_check_says_so(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    response = check(
        client, incident, {"result": "fail", "note": "still there", "from": "inbox"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f"On-site check failed ({incident.code}): the item is back with {incident.department.name} "
        "for handling again." in html
    )


@pytest.mark.django_db
def test_a_failed_check_without_what_is_wrong_is_refused_and_says_nothing_of_a_result(
    cast, client, incident_in
):
    incident = incident_in("fed_back")
    client.force_login(cast.worker_a)
    response = check(client, incident, {"result": "fail", "note": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Say what is still wrong on site." in html and "On-site check failed (" not in html
    incident.refresh_from_db()
    assert (
        incident.status == Incident.Status.FED_BACK and not incident.events.filter(action="verify").exists()
    )


@pytest.mark.django_db
def test_an_outsider_cannot_check_and_hears_nothing(cast, client, incident_in):
    incident = incident_in("fed_back")
    client.force_login(cast.outsider)
    assert check(client, incident, {"result": "fail", "note": "x"}).status_code == 404
    incident.refresh_from_db()
    assert incident.status == Incident.Status.FED_BACK
