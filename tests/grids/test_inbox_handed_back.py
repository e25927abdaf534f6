"""An inbox row says why an item came back (docs/incidents.md "Pages"): a department's return (退回),
an escalation from below, an on-site check that failed. The incident's page said it; the inbox row read
"已受理" alone, so a community's handler dispatched a returned item to the same department again, and a
street's handler accepted an escalated one without its reason. Read for the page's rows in one query."""

from __future__ import annotations

import pytest
from django.utils.html import escape

from grids import services
from grids.models import Incident


def step(incident: Incident, actor, action: str, note: str = "", **fields) -> None:
    services.incident_transition(incident=incident, actor=actor, action=action, note=note, **fields)


def inbox_row(client, incident: Incident) -> str:
    html = client.get("/grids/inbox/").content.decode()
    row = html[html.index(f'id="row-{incident.code}"') :]
    return row[: row.index("</tr>")]


def return_it(client, incident: Incident, note: str, **headers):
    """The department's return, sent with the state its page gives (from the inbox's row: ``from``)."""
    page = client.get(f"/grids/incidents/{incident.code}/").content.decode()
    state = page.split('name="state" value="', 1)[1].split('"', 1)[0]
    data = {"action": "return", "note": note, "state": state}
    if headers:
        data["from"] = "inbox"
    return client.post(f"/grids/incidents/{incident.code}/act/", data, **headers)


@pytest.fixture
def returned(cast, report):
    """An item the community dispatched to the police, which returned it with ``reason``."""

    def _returned(reason: str) -> Incident:
        incident = report()
        step(incident, cast.community_handler, "accept")
        step(incident, cast.community_handler, "dispatch", department=cast.police.pk)
        step(incident, cast.department_user, "return", reason)
        return incident

    return _returned


@pytest.mark.django_db
def test_a_returned_items_row_names_who_returned_it_and_why_without_a_query_per_row(
    cast, client, returned, incident_in, django_assert_max_num_queries
):
    first = returned("Not the police's: a blocked fire lane is urban management's")
    incident_in("accepted")  # accepted, never returned: no such line
    client.force_login(cast.community_handler)
    client.get("/grids/inbox/")  # warm up
    with django_assert_max_num_queries(80) as few:
        client.get("/grids/inbox/")
    returned("Wrong district")
    returned("Duplicate")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get("/grids/inbox/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Returned by department_user: ") == 3
    row = html[html.index(f'id="row-{first.code}"') :]
    row = row[: row.index("</tr>")]
    # Shortened on the row (80 characters); the page has it in full.
    said = "Returned by department_user: Not the police's: a blocked fire lane is urban management's"
    assert escape(said[:79]) + "…" in row and escape(said) not in row
    client.cookies["django_language"] = "zh-hans"
    assert "department_user退回：Wrong district" in client.get("/grids/inbox/").content.decode()


@pytest.mark.django_db
def test_the_line_goes_once_the_item_moves_on(cast, client, returned):
    incident = returned("Wrong department")
    step(incident, cast.community_handler, "dispatch", department=cast.urban.pk)
    client.force_login(cast.community_handler)
    html = client.get("/grids/inbox/").content.decode()
    assert f'id="row-{incident.code}"' in html and "Returned by" not in html


@pytest.mark.django_db
def test_an_escalated_items_row_says_why_at_the_street(cast, client, incident_in):
    incident = incident_in("reported")
    step(incident, cast.community_handler, "escalate", "Needs the street's urban team")
    client.force_login(cast.street_handler)
    assert "Escalated by community_handler: Needs the street&#x27;s urban team" in inbox_row(client, incident)


@pytest.mark.django_db
def test_a_failed_checks_row_says_what_is_still_wrong_to_the_department(cast, client, incident_in):
    incident = incident_in("fed_back")
    step(incident, cast.worker_a, "verify", "Rubbish still at the corner", result="fail")
    client.force_login(cast.department_user)
    assert "The on-site check by worker_a failed: Rubbish still at the corner" in inbox_row(client, incident)


@pytest.mark.django_db
def test_a_row_swapped_in_after_a_return_shows_it(cast, client, incident_in):
    incident = incident_in("dispatched")
    client.force_login(cast.department_user)
    response = return_it(client, incident, "Not ours", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Returned by department_user: Not ours" in response.content.decode()


@pytest.mark.django_db
def test_a_return_without_a_reason_is_refused_and_the_row_says_nothing_was_returned(
    cast, client, incident_in
):
    incident = incident_in("dispatched")
    client.force_login(cast.department_user)
    response = return_it(client, incident, "")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-invalid="true"' in html and "Returned by" not in html
    incident.refresh_from_db()
    assert incident.status == Incident.Status.DISPATCHED


@pytest.mark.django_db
def test_an_outsider_sees_neither_the_row_nor_the_reason(cast, client, returned):
    incident = returned("Wrong department")
    client.force_login(cast.outsider)
    html = client.get("/grids/inbox/").content.decode()
    assert incident.code not in html and "Wrong department" not in html
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404
