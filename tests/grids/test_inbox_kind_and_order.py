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
    assert "Promised time" in row[: row.index("</tr>")]

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
