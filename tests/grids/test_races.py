"""Two people, or one impatient phone, at the same moment, over HTTP against real PostgreSQL: the
requests go through the pages and the API in threads released together (``tests.base.race``)."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from governance.models import SequenceCounter
from grids.models import Incident, IncidentEvent
from tests.base import api_client, drawn_state, one_taken_one_refused, race, stale_state_over_the_api
from tests.grids.conftest import IN_GRID_A


def _page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api_dispatch(user, code, body):
    return api_client(user).post(f"/api/v1/incidents/{code}/transition/", body, format="json")


def _page_dispatch(user, code, body):
    return _page_client(user).post(f"/grids/incidents/{code}/act/", body)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "send, done, error_of",
    [
        (_api_dispatch, 200, lambda r: r.json()["detail"]),
        (_page_dispatch, 302, lambda r: r.context["act_error"]),
    ],
    ids=["api", "page"],
)
def test_two_handlers_dispatching_one_item_at_once_one_wins_the_other_gets_409(
    postgres, cast, incident_in, send, done, error_of
):
    """Before: the one that waited read the item as the other left it but its department as it was
    before (none): a 500. Now it is told the item changed since its page was drawn."""
    incident = incident_in("accepted")

    def dispatch(user, department):
        body = {"action": "dispatch", "department": department.pk, "state": "accepted/community"}
        return send(user, incident.code, body)

    results = race(
        lambda: dispatch(cast.community_handler, cast.police),
        lambda: dispatch(cast.admin, cast.urban),
    )
    statuses = sorted(getattr(r, "status_code", 500) for r in results)
    assert statuses == sorted([done, 409]), [getattr(r, "content", r) for r in results]
    assert IncidentEvent.objects.filter(incident=incident, action="dispatch").count() == 1
    refused = next(r for r in results if r.status_code == 409)
    assert "changed since your page was drawn" in error_of(refused)


@pytest.mark.django_db(transaction=True)
def test_reports_sent_at_the_same_instant_in_one_grid_get_distinct_numbers(postgres, cast, categories):
    def report(user):
        return api_client(user).post(
            "/api/v1/incidents/",
            {
                "category": "sanitation",
                "description": "垃圾堆放",
                "lat": IN_GRID_A[0],
                "lng": IN_GRID_A[1],
                "submission": str(uuid.uuid4()),
            },  # fmt: skip
            format="json",
        )

    results = race(*(lambda: report(cast.worker_a) for _ in range(4)))
    assert [r.status_code for r in results] == [201] * 4, [getattr(r, "content", r) for r in results]
    assert len({r.json()["code"] for r in results}) == 4
    assert Incident.objects.count() == 4 and SequenceCounter.objects.get(key="INC").value == 4


@pytest.mark.django_db(transaction=True)
def test_a_report_page_sent_twice_at_once_saves_one_incident(postgres, cast, categories):
    key = str(uuid.uuid4())
    data = {
        "category": "sanitation", "description": "垃圾堆放", "kind": "promised", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1],
        "submission": key,
    }  # fmt: skip

    results = race(*(lambda: _page_client(cast.worker_a).post("/grids/report/", data) for _ in range(2)))
    assert [r.status_code for r in results] == [302, 302], [getattr(r, "content", r)[:300] for r in results]
    assert results[0]["Location"] == results[1]["Location"]
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_a_dispatch_form_drawn_before_another_handler_s_dispatch_is_refused_not_taken_as_a_redispatch(
    cast, client, incident_in
):
    # The second handler's form was drawn while the item was still accepted; with a note typed in
    # it went through as a re-dispatch, silently undoing the first handler's choice.
    incident = incident_in("accepted")
    url = f"/grids/incidents/{incident.code}/act/"
    drawn = {"action": "dispatch", "state": "accepted/community"}
    client.force_login(cast.community_handler)
    assert client.post(url, {**drawn, "department": cast.police.pk}).status_code == 302
    client.force_login(cast.street_handler)
    stale = client.post(url, {**drawn, "department": cast.urban.pk, "note": "属城管"})
    assert stale.status_code == 409
    assert "changed since your page was drawn" in stale.context["act_error"]
    assert "(latest step: dispatch); it is now dispatched" in stale.context["act_error"]
    incident.refresh_from_db()
    assert incident.department == cast.police and incident.events.filter(action="dispatch").count() == 1
    client.cookies["django_language"] = "zh-hans"
    zh = client.post(url, {**drawn, "department": cast.urban.pk, "note": "属城管"})
    assert zh.status_code == 409
    assert "您打开此页面后，该记录已有变化（最近一步：" in zh.context["act_error"]
    del client.cookies["django_language"]
    # The API says the same to a client that sends the state it last saw.
    api = api_client(cast.street_handler).post(
        f"/api/v1/incidents/{incident.code}/transition/",
        {**drawn, "department": cast.urban.pk, "note": "属城管"},
        format="json",
    )
    assert api.status_code == 409 and "changed since your page was drawn" in api.json()["detail"]
    # A form drawn now, in the state the item is in, re-dispatches as asked.
    fresh = client.post(
        url, {**drawn, "state": "dispatched/community", "department": cast.urban.pk, "note": "属城管"}
    )
    assert fresh.status_code == 302
    incident.refresh_from_db()
    assert incident.department == cast.urban


@pytest.mark.django_db(transaction=True)
def test_two_handlers_redispatching_a_dispatched_item_at_once_one_wins_the_other_gets_409(
    postgres, cast, incident_in
):
    """The status stays "dispatched" either way: before, both went through and the last one won."""
    incident = incident_in("dispatched")
    page = f"/grids/incidents/{incident.code}/"
    handler, admin = _page_client(cast.community_handler), _page_client(cast.admin)
    state = drawn_state(handler, page)
    assert state == drawn_state(admin, page) and state.startswith("dispatched/community@")
    url = f"/grids/incidents/{incident.code}/act/"

    def redispatch(client, department):
        return client.post(
            url, {"action": "dispatch", "department": department.pk, "note": "派错", "state": state}
        )

    results = race(lambda: redispatch(handler, cast.urban), lambda: redispatch(admin, cast.street_team))
    refused = one_taken_one_refused(results)
    assert IncidentEvent.objects.filter(incident=incident, action="dispatch").count() == 2
    assert "(latest step: dispatch again); it is now dispatched" in refused.context["act_error"]


@pytest.mark.django_db
def test_a_redispatch_form_drawn_before_another_handler_s_redispatch_is_refused(cast, client, incident_in):
    incident = incident_in("dispatched")
    page, url = f"/grids/incidents/{incident.code}/", f"/grids/incidents/{incident.code}/act/"
    client.force_login(cast.street_handler)
    drawn = {"action": "dispatch", "state": drawn_state(client, page), "note": "派错"}
    first = _page_client(cast.community_handler)
    sent = {**drawn, "state": drawn_state(first, page), "department": cast.urban.pk}
    assert first.post(url, sent).status_code == 302
    # The same form sent twice (a second tap) is the first one, answered as done.
    again = first.post(url, sent)
    assert again.status_code == 302
    assert incident.events.filter(action="dispatch").count() == 2
    stale = client.post(url, {**drawn, "department": cast.street_team.pk})
    assert stale.status_code == 409
    assert (
        "changed since your page was drawn (latest step: dispatch again); it is now dispatched"
        in (stale.context["act_error"])
    )
    incident.refresh_from_db()
    assert incident.department == cast.urban and incident.events.filter(action="dispatch").count() == 2
    # The API gives the value to send back; a stale one is the same 409, a bare status today's step.
    api_user = api_client(cast.street_handler)
    page_state = drawn_state(client, page)
    path = f"/api/v1/incidents/{incident.code}/"
    stale_state_over_the_api(
        api_user,
        api_client(cast.outsider),
        path,
        {**drawn, "department": cast.street_team.pk},
        page_state,
        "dispatched/community@latest",
    )
    incident.refresh_from_db()
    assert incident.department == cast.street_team


@pytest.mark.django_db
def test_the_inbox_rows_forms_carry_each_item_s_latest_event_without_a_query_per_row(
    cast, client, incident_in
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = incident_in("dispatched")
    client.force_login(cast.community_handler)
    client.get("/grids/inbox/")  # warm-up
    with CaptureQueriesContext(connection) as few:
        html = client.get("/grids/inbox/").content.decode()
    assert f'value="dispatched/community@{first.events.latest("id").pk}"' in html
    more = [incident_in("dispatched"), incident_in("accepted")]
    with CaptureQueriesContext(connection) as many:
        html = client.get("/grids/inbox/").content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    for incident in more:
        assert f'value="{incident.status}/community@{incident.events.latest("id").pk}"' in html
