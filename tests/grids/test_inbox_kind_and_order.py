"""The handlers' inbox offers what the API's incident list filters by: the kind (即办件, 承诺件, 协调件)
and the report dates, and shows each row's kind (docs/incidents.md "Pages")."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from grids.models import Incident
from tests.base import filter_form_as_shown


def rows(html: str) -> list[str]:
    return re.findall(r'id="row-(INC-[0-9-]+)"', html)


@pytest.mark.django_db
def test_the_inbox_filters_by_kind_and_report_date_and_shows_the_kind(cast, client, report):
    promised = report()
    coordination = report(kind="coordination")
    client.force_login(cast.street_handler)
    html = client.get("/grids/inbox/").content.decode()
    kinds = re.search(r'<select name="kind">(.*?)</select>', html, re.S)
    assert kinds, "the inbox has no kind filter"
    for value in ("on_the_spot", "promised", "coordination"):
        assert f'<option value="{value}"' in kinds.group(1)
    assert 'type="date" name="reported_from"' in html and 'type="date" name="reported_to"' in html
    # Each row says its kind: a coordination item is dispatched with supporting departments.
    row = html[html.index(f'id="row-{coordination.code}"') :]
    assert "Needs coordination" in row[: row.index("</tr>")]
    row = html[html.index(f'id="row-{promised.code}"') :]
    # Its kind named as DOMAIN.md names it (承诺件): "Promised time" alone did not say what was promised.
    assert "Handled within a promised time" in row[: row.index("</tr>")]

    html = client.get("/grids/inbox/?kind=coordination").content.decode()
    assert rows(html) == [coordination.code]
    assert '<option value="coordination" selected>' in html
    assert "kind=coordination" in filter_form_as_shown(html)  # the choice stays in the form

    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    response = client.get(f"/grids/inbox/?reported_from={tomorrow}")
    assert response.status_code == 200 and rows(response.content.decode()) == []
    assert f'name="reported_from" value="{tomorrow}"' in response.content.decode()
    today = timezone.localdate().isoformat()
    html = client.get(f"/grids/inbox/?reported_from={today}&reported_to={today}").content.decode()
    assert sorted(rows(html)) == sorted([promised.code, coordination.code])

    response = client.get("/grids/inbox/?kind=urgent")
    assert response.status_code == 400 and rows(response.content.decode()) == []
    assert "Kind: Select a valid choice." in response.content.decode()
    assert Incident.objects.count() == 2


@pytest.mark.django_db
def test_the_inbox_and_the_api_sort_by_deadline_or_by_report_time(cast, client, report):
    # The inbox listed by deadline only: a centre looking for what came in this morning, or for the
    # oldest item still waiting, read every page. The API listed newest first only.
    from tests.base import api_client

    now = timezone.now()
    old, middle, new = report(), report(), report()
    for incident, reported_hours_ago, due_in_hours in ((old, 30, 5), (middle, 20, -1), (new, 10, 2)):
        Incident.objects.filter(pk=incident.pk).update(
            reported_at=now - dt.timedelta(hours=reported_hours_ago),
            due_at=now + dt.timedelta(hours=due_in_hours),
        )
    client.force_login(cast.street_handler)
    by_deadline = [middle.code, new.code, old.code]
    html = client.get("/grids/inbox/").content.decode()
    assert rows(html) == by_deadline
    sorts = re.search(r'<select name="sort">(.*?)</select>', html, re.S)
    assert sorts, "the inbox has no order to choose"
    assert re.findall(r'<option value="(\w*)"', sorts.group(1)) == ["due", "newest", "oldest"]
    for sort, expected in (
        ("due", by_deadline),
        ("newest", [new.code, middle.code, old.code]),
        ("oldest", [old.code, middle.code, new.code]),
    ):
        response = client.get(f"/grids/inbox/?sort={sort}&open=true")
        html = response.content.decode()
        assert response.status_code == 200 and rows(html) == expected, sort
        assert f'<option value="{sort}" selected>' in html
        assert f"sort={sort}" in filter_form_as_shown(html)
        # a total order, so that no item is on two pages and another on none
        assert response.context["page"].object_list.query.order_by[-1] in ("id", "-id")
        listed = api_client(cast.street_handler).get("/api/v1/incidents/", {"sort": sort})
        assert [r["code"] for r in listed.json()["results"]] == expected, sort
    # The API's order without the parameter is unchanged: newest first.
    listed = api_client(cast.street_handler).get("/api/v1/incidents/")
    assert [r["code"] for r in listed.json()["results"]] == [new.code, middle.code, old.code]
    refused = api_client(cast.street_handler).get("/api/v1/incidents/", {"sort": "due_at"})
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["sort"]
    response = client.get("/grids/inbox/?sort=priority")
    assert response.status_code == 400 and rows(response.content.decode()) == []


@pytest.mark.django_db
def test_the_inbox_form_keeps_several_statuses_and_the_department_it_was_opened_with(
    cast, client, incident_in
):
    # A department's "In hand" (home) and the departments' record link to the inbox with two statuses:
    # the status select showed one of them, and "Filter" sent that one alone, dropping the dispatched
    # items. An analyst, who reads the record, had no department select: the filter was on, unseen.
    dispatched, handling = incident_in("dispatched"), incident_in("handling")
    incident_in("accepted")
    url = f"/grids/inbox/?department={cast.police.pk}&status=dispatched&status=handling"
    for user in (cast.department_user, cast.district_officer, cast.analyst):
        client.force_login(user)
        html = client.get(url).content.decode()
        assert sorted(rows(html)) == sorted([dispatched.code, handling.code]), user
        query = filter_form_as_shown(html)
        assert "status=dispatched%2Chandling" in query and f"department={cast.police.pk}" in query, user
        again = client.get(f"/grids/inbox/?{query}")
        assert again.status_code == 200 and sorted(rows(again.content.decode())) == sorted(
            [dispatched.code, handling.code]
        ), user
    one = client.get("/grids/inbox/?status=handling").content.decode()
    assert "dispatched%2Chandling" not in filter_form_as_shown(one) and rows(one) == [handling.code]
