"""The departments' record (docs/incidents.md "Departments' record"): selector, API and page."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.utils import timezone

from governance.indicators import local_bounds
from governance.models import Department
from governance.periods import add_months
from grids import indicators, selectors, services
from grids.models import Incident, IncidentEvent
from grids.selectors import DepartmentRecord
from tests.base import api_client, queries_of

URL = "/api/v1/incidents/departments/"


def _last_month() -> dt.date:
    return add_months(timezone.localdate().replace(day=1), -1)


def _in(month: dt.date) -> dt.datetime:
    """Noon local time on the 15th of ``month``."""
    return local_bounds(month, month)[0] + dt.timedelta(days=14, hours=12)


def _drive(cast, item: Incident, *actions: str) -> None:
    fields = {
        "dispatch": {"department": cast.urban.pk},
        "feedback": {"resolution": "swept"},
        "verify": {"result": "pass"},
        "escalate": {"note": "the bureau stalled"},
    }
    for action in actions:
        services.incident_transition(incident=item, actor=cast.admin, action=action, **fields.get(action, {}))


@pytest.fixture
def record(cast, incident_in):
    """Last month, hand-built: the police fed one item back on time; the urban bureau fed one back on
    time, sat on one past its deadline until the centre escalated it, and still has one past its
    deadline. Every timed step of these items falls due last month (including the centre's and the
    grid's steps, which a filter on the event's department alone would count for the department).
    The police also have one item handling now, due tomorrow (not last month's)."""
    month = _last_month()
    due = _in(month)
    closed_police = incident_in("closed")  # dispatched to the police (conftest)
    handling_now = incident_in("handling")
    closed_urban, escalated, late_open = (incident_in("accepted") for _ in range(3))
    _drive(cast, closed_urban, "dispatch", "handle", "feedback", "verify", "close")
    _drive(cast, escalated, "dispatch", "escalate")
    _drive(cast, late_open, "dispatch", "handle")
    mine = [closed_police, closed_urban, escalated, late_open]
    IncidentEvent.objects.filter(incident__in=mine, on_time__isnull=False).update(step_due_at=due)
    IncidentEvent.objects.filter(incident=escalated, action="escalate").update(on_time=False)
    Incident.objects.filter(pk=late_open.pk).update(due_at=due)
    Incident.objects.filter(pk=handling_now.pk).update(due_at=timezone.now() + dt.timedelta(days=1))
    return month


def _rows(user, month) -> dict[str, tuple]:
    return {
        f"{r.department.area.code} {r.department.name}": (
            r.steps_due,
            r.steps_late,
            r.on_time_rate,
            r.open_now,
            r.overdue_now,
        )
        for r in map(selectors.department_record, selectors.department_accountability(user, month))
    }


@pytest.mark.django_db
def test_each_department_answers_for_its_own_steps_in_one_query(cast, record, django_assert_num_queries):
    # The escalation event names the bureau it took the item from, whose step it ended: it counts for
    # that bureau. The dispatch, verify and close events name the department too, but ended the
    # centre's and the grid's steps: not counted.
    escalate = IncidentEvent.objects.get(action="escalate")
    assert escalate.department == cast.urban and escalate.from_status == "dispatched"
    assert Incident.objects.get(pk=escalate.incident_id).department is None  # the item forgot it
    cast.district_officer.memberships_cached()
    with django_assert_num_queries(1):
        rows = _rows(cast.district_officer, record)
    assert rows == {
        "340102000000 公安分局": (1, 0, 100.0, 1, 0),
        "340102000000 城市管理局": (3, 2, 33.33, 1, 1),
        "340102000000 信访局": (0, 0, None, 0, 0),
        "340102001000 城管中队": (0, 0, None, 0, 0),
    }
    # Several more departments: still one query.
    for n in range(6):
        Department.objects.create(name=f"部门{n}", area=cast.street_a1)
    with django_assert_num_queries(1):
        assert len(_rows(cast.district_officer, record)) == 10


@pytest.mark.django_db
def test_the_departments_add_up_to_the_on_time_indicator_of_their_area(cast, record):
    rows = _rows(cast.district_officer, record)
    due = sum(v[0] for k, v in rows.items() if k.startswith("340102000000"))
    late = sum(v[1] for k, v in rows.items() if k.startswith("340102000000"))
    indicator = [
        (r["numerator"], r["denominator"])
        for r in indicators.incidents_on_time_rate(record, add_months(record, 1))
        if r["area_id"] == cast.district_a.pk
    ]
    assert (due, late) == (4, 2)
    assert sum(n for n, _d in indicator) == due - late and sum(d for _n, d in indicator) == due


@pytest.mark.django_db
def test_another_month_has_no_steps_due_but_the_same_items_now(cast, record):
    rows = _rows(cast.district_officer, add_months(record, -1))
    assert rows["340102000000 公安分局"] == (0, 0, None, 1, 0)
    assert rows["340102000000 城市管理局"] == (0, 0, None, 1, 1)


@pytest.mark.django_db
def test_each_user_sees_the_departments_of_their_own_area(cast, record):
    assert set(_rows(cast.street_handler, record)) == {"340102001000 城管中队"}
    assert set(_rows(cast.outsider, record)) == {"340103000000 公安分局"}
    assert len(_rows(cast.analyst, record)) == 5 and len(_rows(cast.admin, record)) == 5


@pytest.mark.django_db
def test_the_api_lists_the_record_paginated(cast, record):
    response = api_client(cast.district_officer).get(URL, {"month": record.strftime("%Y-%m")})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["count"] == 4 and body["next"] is None
    urban = next(r for r in body["results"] if r["id"] == cast.urban.pk)
    assert urban == {
        "id": cast.urban.pk,
        "name": "城市管理局",
        "area": "340102000000",
        "area_name": "甲区",
        "steps_due": 3,
        "steps_late": 2,
        "on_time_rate": 33.33,
        "open_now": 1,
        "overdue_now": 1,
        "supporting_now": 0,
    }
    # Without a month: the current one, in which nothing of the record falls due.
    now = {r["id"]: r for r in api_client(cast.district_officer).get(URL).json()["results"]}
    assert (now[cast.police.pk]["steps_due"], now[cast.police.pk]["open_now"]) == (0, 1)


@pytest.mark.django_db
def test_the_api_costs_the_same_queries_for_more_departments(cast, record):
    client = api_client(cast.district_officer)
    client.get(URL)  # the user's memberships, loaded once per user object (force_authenticate keeps it)
    # The page's count and the page itself, whatever the number of departments.
    assert queries_of(client, URL, month=record.strftime("%Y-%m")) == 2
    for n in range(8):
        Department.objects.create(name=f"部门{n}", area=cast.district_a)
    assert queries_of(client, URL, month=record.strftime("%Y-%m")) == 2


@pytest.mark.django_db
def test_the_api_never_lists_a_department_of_another_district(cast, record):
    ids = {r["id"] for r in api_client(cast.outsider).get(URL).json()["results"]}
    assert ids == {cast.police_b.pk}
    ids = {r["id"] for r in api_client(cast.street_handler).get(URL).json()["results"]}
    assert ids == {cast.street_team.pk}


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2026-13", "2026-1", "abc", "0999-01", "3000-01", "2026-01-01"])
def test_the_api_refuses_a_bad_month_naming_it(cast, month):
    response = api_client(cast.district_officer).get(URL, {"month": month})
    assert response.status_code == 400
    assert response.json()["errors"] == {"month": ["Enter a month as YYYY-MM."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["worker_a", "mediator", "petition_officer", "community_handler", "department_user"]
)
def test_other_roles_get_403_before_the_month_is_read(cast, who):
    response = api_client(getattr(cast, who)).get(URL, {"month": "bad"})
    assert response.status_code == 403
    assert (
        response.json()["detail"]
        == "Only centre handlers of a street, district or city, analysts and administrators see this."
    )


@pytest.mark.django_db
def test_the_page_shows_the_record_and_the_inbox_links_to_it(cast, client, record):
    client.force_login(cast.district_officer)
    assert 'id="departments-link"' in client.get("/grids/inbox/").content.decode()
    response = client.get("/grids/departments/", {"month": record.strftime("%Y-%m")})
    assert response.status_code == 200
    html = response.content.decode()
    assert "城市管理局" in html and "33.33%" in html and "100.00%" in html and "城管中队" in html
    assert "公安分局" in html and html.count("<tr>") == 1 + 4  # the heading row + one per department
    assert f'value="{record.strftime("%Y-%m")}"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", [{"month": "2026-10"}, {"month": "2026-10", "page": "1"}, {}, {"month": ""}]
)
def test_the_month_picker_shows_the_month_the_page_is_for(cast, client, query):
    # Opened without a month (the inbox's link) the page showed the current month's record under
    # an empty picker.
    client.force_login(cast.district_officer)
    response = client.get("/grids/departments/", query)
    assert response.status_code == 200
    month = query.get("month") or timezone.localdate().strftime("%Y-%m")
    html = response.content.decode()
    assert f'<input type="month" name="month" value="{month}"' in html
    assert f'<span class="status">{month}</span>' in html
    assert response.context["month"].strftime("%Y-%m") == month


@pytest.mark.django_db
def test_a_missing_or_blank_month_is_the_current_one_in_the_api_too(cast):
    client = api_client(cast.district_officer)
    current = client.get(URL, {"month": timezone.localdate().strftime("%Y-%m")}).json()
    assert current["count"] > 0
    for query in ({}, {"month": ""}):
        response = client.get(URL, query)
        assert response.status_code == 200, (query, response.content)
        assert response.json() == current, query


@pytest.mark.django_db
def test_the_page_answers_a_bad_month_with_400_and_the_error(cast, client):
    client.force_login(cast.district_officer)
    response = client.get("/grids/departments/", {"month": "2026-13"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="month-errors"' in html and "Enter a month as YYYY-MM." in html
    assert "<table" not in html
    # In Chinese with the reader's colon, as the inbox names a refused filter: it read "月份: 请按…".
    html = client.get(
        "/grids/departments/", {"month": "2026-13"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "<li>月份：请按 YYYY-MM 格式输入月份。</li>" in html


@pytest.mark.django_db
def test_the_page_of_a_street_without_departments_is_an_empty_table_not_a_400(cast, client):
    """An empty page of the paginator is falsy: a street centre with no departments of its own (or a
    fresh installation with none at all) got a 400 and neither the table nor its month."""
    from governance.models import Role
    from tests.base import make_user

    client.force_login(make_user("street_b_handler", Role.HANDLER, cast.street_b1))
    response = client.get("/grids/departments/", {"month": "2026-10"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="grids-departments stack"' in html and "Nothing here." in html
    assert '<span class="status">2026-10</span>' in html and 'id="month-errors"' not in html


@pytest.mark.django_db
def test_the_page_is_refused_to_a_grid_worker_and_not_linked_for_a_community(cast, client):
    client.force_login(cast.worker_a)
    assert client.get("/grids/departments/").status_code == 403
    client.force_login(cast.community_handler)
    assert client.get("/grids/departments/").status_code == 403
    assert 'id="departments-link"' not in client.get("/grids/inbox/").content.decode()


@pytest.mark.django_db
def test_the_migration_names_the_department_of_escalations_recorded_without_one(cast, record):
    """Escalations written before the event named its department: grids migration 0010 gives each the
    department of the item's latest dispatch before it (not a re-dispatch after it), and the record
    reads as it did."""
    import importlib

    from django.apps import apps

    backfill = importlib.import_module("grids.migrations.0010_escalation_names_its_department").backfill
    before = _rows(cast.district_officer, record)
    escalate = IncidentEvent.objects.get(action="escalate")
    # The next level re-dispatched it to the police after the escalation.
    IncidentEvent.objects.create(
        incident_id=escalate.incident_id, actor=cast.admin, action="dispatch", from_status="accepted",
        to_status="dispatched", department=cast.police, at=escalate.at + dt.timedelta(hours=1),
    )  # fmt: skip
    IncidentEvent.objects.filter(pk=escalate.pk).update(department=None)
    # An escalation of an item not yet dispatched (after its re-acceptance) has no department to name.
    unnamed = IncidentEvent.objects.create(
        incident_id=escalate.incident_id, actor=cast.admin, action="escalate", from_status="accepted",
        to_status="reported", at=escalate.at + dt.timedelta(hours=2),
    )  # fmt: skip
    backfill(apps, None)
    assert IncidentEvent.objects.get(pk=escalate.pk).department == cast.urban
    assert IncidentEvent.objects.get(pk=unnamed.pk).department is None
    assert _rows(cast.district_officer, record) == before


@pytest.mark.django_db
def test_each_department_of_the_page_links_to_the_items_with_it_now(cast, client, incident_in):
    # "Overdue now 1" named no item: the supervising centre looked the department up in the inbox's
    # filter. The link lists what the department leads and supports now: its two counts of "now".
    import re

    incident_in("handling")  # the police lead it
    incident_in("dispatched", kind="coordination")  # the police lead, urban and the street team support
    incident_in("closed")  # the police's, finished
    client.force_login(cast.district_officer)
    html = client.get("/grids/departments/").content.decode()
    rows = selectors.DepartmentRecords(cast.district_officer, timezone.localdate().replace(day=1))
    checked = 0
    for row in rows[:100]:
        department, now = row.department, row.open_now + row.supporting_now
        url = f"/grids/inbox/?department={department.pk}&amp;status=dispatched&amp;status=handling"
        assert f'<a href="{url}">{department.name}</a>' in html
        listed = client.get(url.replace("&amp;", "&")).content.decode()
        assert len(re.findall(r'id="row-INC-', listed)) == now, department.name
        checked += now
    assert checked == 2 + 2  # the police's two, and the coordination item once for each supporter


def test_a_department_s_on_time_rate_rounds_a_half_away_from_zero_as_the_statistics_do():
    """The record writes its rate "as every rate of the statistics is written" (docs/statistics.md
    "Precision": 745 of 800 is 93.125%, shown 93.13%). It rounded the binary float with ``round``,
    which takes a half to the even digit: 55 late of 800 steps read 93.12% on the departments' page
    and API beside 93.13% for the same steps in the statistics."""
    record = DepartmentRecord(
        department=None, steps_due=800, steps_late=55, open_now=0, overdue_now=0, supporting_now=0
    )
    assert record.on_time_rate == 93.13
    # 7 of 8 on time is 87.5%, 1 of 3 is 33.33%; none due has no rate.
    assert replace(record, steps_due=8, steps_late=1).on_time_rate == 87.5
    assert replace(record, steps_due=3, steps_late=2).on_time_rate == 33.33
    assert replace(record, steps_due=1600, steps_late=13).on_time_rate == 99.19  # 99.1875
    assert replace(record, steps_due=0, steps_late=0).on_time_rate is None
