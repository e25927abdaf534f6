"""What is new on the grid worker's home (DESIGN.md section 8: "its inbox, what is overdue, what is
new"): the worker's home said what was open and late, never what had come in. It counts the items
reported in the worker's grids since the start of the local day, by anyone (a centre, another
worker), and links to the inbox filtered to exactly those; nothing is tracked per user."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Incident


def new_today_link(html: str) -> str:
    start = html.index('<a class="button" href="/grids/inbox/?reported_from=')
    return html[start : html.index("</a>", start) + 4]


@pytest.mark.django_db
def test_a_grid_workers_home_counts_what_was_reported_in_their_grids_today(
    cast, client, report, incident_in, django_assert_max_num_queries
):
    today = timezone.localdate().isoformat()
    client.force_login(cast.worker_a)
    client.get("/")  # warm up (sessions, content types)
    with django_assert_max_num_queries(40) as few:
        html = client.get("/").content.decode()
    assert (
        new_today_link(html)
        == f'<a class="button" href="/grids/inbox/?reported_from={today}">New today <span class="status">0</span></a>'
    )
    mine = report()
    by_the_centre = incident_in("fed_back", actor=cast.community_handler)  # not the worker's report
    closed_at_once = incident_in("closed")  # finished today: still new today
    yesterday = report()
    Incident.objects.filter(pk=yesterday.pk).update(reported_at=timezone.now() - dt.timedelta(days=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/").content.decode()
    assert 'New today <span class="status">3</span></a>' in new_today_link(html)
    # The link lists exactly what was counted.
    listed = client.get(f"/grids/inbox/?reported_from={today}").content.decode()
    for counted in (mine, by_the_centre, closed_at_once):
        assert f'id="row-{counted.code}"' in listed
    assert f'id="row-{yesterday.code}"' not in listed
    # Another grid's worker: none of these is theirs, nor listed to them.
    client.force_login(cast.worker_b)
    html = client.get("/").content.decode()
    assert 'New today <span class="status">0</span></a>' in new_today_link(html)
    listed = client.get(f"/grids/inbox/?reported_from={today}").content.decode()
    assert mine.code not in listed and by_the_centre.code not in listed
    client.cookies["django_language"] = "zh-hans"
    assert '今日新增 <span class="status">0</span></a>' in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_new_today_list_refuses_a_bad_date_naming_the_filter(cast, client):
    client.force_login(cast.worker_a)
    response = client.get("/grids/inbox/?reported_from=yesterday")
    assert response.status_code == 400
    assert "Reported from" in response.content.decode()


@pytest.mark.django_db
def test_a_departments_home_says_whose_overdue_items_each_figure_counts(
    cast, client, incident_in, django_assert_max_num_queries
):
    """A police liaison's home read "Incidents: Overdue 0" and, below, "Overdue across the services:
    Incidents 4". Both were right: the first counts the department's own work (dispatched to it or
    supported, docs/incidents.md "Pages"), the second every overdue item in the liaison's area, the
    district. Each heading now says whose items it counts, and each link lists what it counted."""
    ours = incident_in("handling")  # dispatched to the police
    waiting = incident_in("reported")  # the community centre's to accept, not the police's
    Incident.objects.filter(pk=waiting.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    client.force_login(cast.department_user)
    client.get("/")
    with django_assert_max_num_queries(40):
        html = client.get("/").content.decode()
    assert "<h2>Incidents with my department</h2>" in html
    assert "<h2>Overdue across the services in my areas</h2>" in html
    assert 'Overdue <span class="status">0</span></a>' in html
    assert (
        '<a class="overdue-count" href="/grids/inbox/?overdue=true">Incidents: <span class="status">1</span>'
        in html
    )
    listed = client.get("/grids/inbox/?overdue=true").content.decode()
    assert f'id="row-{waiting.code}"' in listed and f'id="row-{ours.code}"' not in listed
    # A centre's handler: its incidents are the area's, its heading stays "Incidents".
    client.force_login(cast.district_officer)
    assert "<h2>Incidents</h2>" in client.get("/").content.decode()
    client.force_login(cast.department_user)
    client.cookies["django_language"] = "zh-hans"
    html = client.get("/").content.decode()
    assert "<h2>本部门的事件</h2>" in html and "<h2>辖区内各业务逾期情况</h2>" in html
