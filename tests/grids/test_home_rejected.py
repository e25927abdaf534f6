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

from grids.models import Incident


def rejected_link(html: str) -> str:
    start = html.index('<a class="button" href="/grids/inbox/?mine=true&amp;status=rejected')
    return html[start : html.index("</a>", start) + 4]


def reported_days_ago(incident: Incident, days: int) -> None:
    Incident.objects.filter(pk=incident.pk).update(reported_at=timezone.now() - dt.timedelta(days=days))


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
    last_month = incident_in("rejected")  # rejected long ago: dealt with or not, no longer news
    reported_days_ago(last_month, 8)
    by_the_centre = incident_in("rejected", actor=cast.community_handler)  # in the grid, not the worker's
    still_open = incident_in("accepted")
    with django_assert_max_num_queries(len(few.captured_queries) + 1):  # the one count more
        html = client.get("/").content.decode()
    since = (today - dt.timedelta(days=6)).isoformat()
    assert rejected_link(html) == (
        f'<a class="button" href="/grids/inbox/?mine=true&amp;status=rejected&amp;reported_from={since}">'
        'Rejected, last 7 days <span class="status">2</span></a>'
    )
    listed = client.get(f"/grids/inbox/?mine=true&status=rejected&reported_from={since}").content.decode()
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
    listed = client.get(f"/grids/inbox/?mine=true&status=rejected&reported_from={since}")
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
