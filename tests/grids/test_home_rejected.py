"""What on the grid worker's home needs the worker (DESIGN.md section 8; docs/incidents.md "Pages"):
a centre that rejects a report ends its loop, and the worker heard of it only through one notice. The
home counts the worker's own reports of the last seven days that were rejected, the one outcome of
the workflow that comes back to the reporter (the reason is on the incident's page: report again
with what was missing, or take it up), and links to the list of exactly those. A fixed window, not
"since you last looked": nothing is tracked per user, nor about any resident."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.periods import start_of_local_day
from grids.models import Incident, IncidentEvent


def rejected_link(html: str) -> str:
    start = html.index('<a class="button" href="/grids/inbox/?mine=true&amp;status=rejected')
    return html[start : html.index("</a>", start) + 4]


def reported_days_ago(incident: Incident, days: int) -> None:
    Incident.objects.filter(pk=incident.pk).update(reported_at=timezone.now() - dt.timedelta(days=days))


def rejected_at(incident: Incident, moment: dt.datetime) -> None:
    IncidentEvent.objects.filter(incident=incident, action="reject").update(at=moment)


def days_back(days: int, hour: int = 12) -> dt.datetime:
    """``hour`` o'clock local time ``days`` days before today."""
    return start_of_local_day(timezone.localdate() - dt.timedelta(days=days)) + dt.timedelta(hours=hour)


@pytest.mark.django_db
def test_a_grid_workers_home_counts_their_reports_rejected_this_week_and_lists_exactly_those(
    cast, client, incident_in, django_assert_max_num_queries
):
    client.force_login(cast.worker_a)
    client.get("/")  # warm up (sessions, content types)
    with django_assert_max_num_queries(40) as few:
        html = client.get("/").content.decode()
    assert "/grids/inbox/?mine=true&amp;status=rejected" not in html  # nothing rejected: no link
    today = timezone.localdate()
    rejected = incident_in("rejected")
    six_days_ago = incident_in("rejected")
    reported_days_ago(six_days_ago, 6)
    rejected_at(six_days_ago, days_back(6))
    last_month = incident_in("rejected")  # rejected long ago: dealt with or not, no longer news
    reported_days_ago(last_month, 8)
    rejected_at(last_month, days_back(8))
    by_the_centre = incident_in("rejected", actor=cast.community_handler)  # in the grid, not the worker's
    still_open = incident_in("accepted")
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # the one count more
        html = client.get("/").content.decode()
    since = (today - dt.timedelta(days=6)).isoformat()
    assert rejected_link(html) == (
        f'<a class="button" href="/grids/inbox/?mine=true&amp;status=rejected&amp;rejected_from={since}">'
        'Rejected, last 7 days <span class="status">2</span></a>'
    )
    listed = client.get(f"/grids/inbox/?mine=true&status=rejected&rejected_from={since}").content.decode()
    for counted in (rejected, six_days_ago):
        assert f'id="row-{counted.code}"' in listed
    for other in (last_month, by_the_centre, still_open):
        assert f'id="row-{other.code}"' not in listed
    client.cookies["django_language"] = "zh-hans"
    assert '近 7 天被驳回 <span class="status">2</span></a>' in client.get("/").content.decode()


@pytest.mark.django_db
def test_another_grids_worker_neither_counts_nor_lists_them(cast, client, incident_in):
    rejected = incident_in("rejected")
    since = (timezone.localdate() - dt.timedelta(days=6)).isoformat()
    client.force_login(cast.worker_b)
    assert "status=rejected" not in client.get("/").content.decode()
    listed = client.get(f"/grids/inbox/?mine=true&status=rejected&rejected_from={since}")
    assert listed.status_code == 200 and rejected.code not in listed.content.decode()
    # Nor can they open it.
    assert client.get(f"/grids/incidents/{rejected.code}/").status_code == 404


@pytest.mark.django_db
def test_a_rejected_report_moved_out_of_the_workers_sight_is_not_counted(cast, client, incident_in):
    """A report in a grid the worker no longer works in (moved to grid B) is no longer theirs to see:
    the count starts from what the worker may see, as the list does."""
    rejected = incident_in("rejected")
    Incident.objects.filter(pk=rejected.pk).update(grid=cast.grid_b)
    client.force_login(cast.worker_a)
    assert "status=rejected" not in client.get("/").content.decode()


@pytest.mark.django_db
def test_the_count_goes_by_the_day_of_the_rejection_not_of_the_report(
    cast, client, incident_in, django_assert_max_num_queries
):
    """A report sent ten days ago that a centre rejected yesterday is news this week (an escalated
    item is rejected days after it was sent); one sent this week is not counted for its report date
    alone. The window starts at 00:00 local time six days back, as the link's filter does."""
    reported_long_ago_rejected_yesterday = incident_in("rejected")
    reported_days_ago(reported_long_ago_rejected_yesterday, 10)
    rejected_at(reported_long_ago_rejected_yesterday, days_back(1))
    rejected_first_thing_six_days_back = incident_in("rejected")
    reported_days_ago(rejected_first_thing_six_days_back, 9)
    rejected_at(rejected_first_thing_six_days_back, days_back(6, hour=0))
    rejected_last_thing_seven_days_back = incident_in("rejected")
    reported_days_ago(rejected_last_thing_seven_days_back, 9)
    rejected_at(rejected_last_thing_seven_days_back, days_back(6, hour=0) - dt.timedelta(seconds=1))
    client.force_login(cast.worker_a)
    client.get("/")  # warm up
    with django_assert_max_num_queries(40):
        html = client.get("/").content.decode()
    since = (timezone.localdate() - dt.timedelta(days=6)).isoformat()
    assert rejected_link(html) == (
        f'<a class="button" href="/grids/inbox/?mine=true&amp;status=rejected&amp;rejected_from={since}">'
        'Rejected, last 7 days <span class="status">2</span></a>'
    )
    listed = client.get(f"/grids/inbox/?mine=true&status=rejected&rejected_from={since}")
    assert listed.status_code == 200
    html = listed.content.decode()
    assert f'id="row-{reported_long_ago_rejected_yesterday.code}"' in html
    assert f'id="row-{rejected_first_thing_six_days_back.code}"' in html
    assert f'id="row-{rejected_last_thing_seven_days_back.code}"' not in html
    assert '<span class="status">2</span></h1>' in html
    # The list says what it is filtered by, and the form keeps the filter when sent again.
    assert f'name="rejected_from" value="{since}"' in html


@pytest.mark.django_db
def test_a_bad_rejected_from_date_is_a_400_naming_it_with_no_rows(cast, client, incident_in):
    rejected = incident_in("rejected")
    client.force_login(cast.worker_a)
    response = client.get("/grids/inbox/?mine=true&status=rejected&rejected_from=abc")
    assert response.status_code == 400
    html = response.content.decode()
    assert '<ul class="errorlist"><li>Rejected from: ' in html and rejected.code not in html


@pytest.mark.django_db
def test_the_api_filters_by_the_rejection_day_too(cast, client, incident_in):
    old = incident_in("rejected")
    rejected_at(old, days_back(8))
    recent = incident_in("rejected")
    incident_in("reported")  # open: not in the list
    client.force_login(cast.community_handler)
    since = (timezone.localdate() - dt.timedelta(days=6)).isoformat()
    body = client.get(f"/api/v1/incidents/?rejected_from={since}").json()
    assert [row["code"] for row in body["results"]] == [recent.code]
    assert client.get("/api/v1/incidents/?rejected_from=abc").status_code == 400
    client.force_login(cast.outsider)
    assert client.get(f"/api/v1/incidents/?rejected_from={since}").json()["count"] == 0
