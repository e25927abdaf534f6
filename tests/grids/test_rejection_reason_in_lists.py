"""A rejected report's reason on its row (docs/incidents.md "Pages"): "My grid" listed the worker's
rejected reports under "已驳回" and the inbox listed them with the status alone, so a worker opened
each one to learn why the centre refused it (report it again with what was missing, or take it up).
The row shows the reason, shortened, read with the list in its one query (no query per row), and
masked as every free text of an incident is for those who only read the area's items."""

from __future__ import annotations

import pytest

from grids import services
from grids.models import Incident

LONG_REASON = (
    "Not a matter for the community: the pavement belongs to the highway bureau, report it to 12345 instead"
)


@pytest.fixture
def rejected(cast, report):
    def _rejected(reason: str) -> Incident:
        incident = report()
        services.incident_transition(
            incident=incident, actor=cast.community_handler, action="reject", note=reason
        )
        return incident

    return _rejected


@pytest.mark.django_db
def test_my_grid_shows_each_rejected_reports_reason_without_a_query_per_row(
    cast, client, rejected, incident_in, django_assert_max_num_queries
):
    first = rejected("Duplicate of INC-2026-000001")
    closed = incident_in("closed")
    client.force_login(cast.worker_a)
    client.get("/grids/my/")  # warm up
    with django_assert_max_num_queries(60) as few:
        client.get("/grids/my/")
    second = rejected(LONG_REASON)
    third = rejected("Photo unclear")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/grids/my/").content.decode()
    ended = html[html.index('id="my-ended"') :]
    assert "Reason for rejecting: Duplicate of INC-2026-000001" in ended
    assert "Reason for rejecting: Photo unclear" in ended
    # Shortened: the page has it all.
    assert f"Reason for rejecting: {LONG_REASON[:59]}…" in ended
    assert LONG_REASON not in ended
    assert ended.count("Reason for rejecting") == 3  # the closed report has none
    assert closed.code in ended and first.code in ended and second.code in ended and third.code in ended
    client.cookies["django_language"] = "zh-hans"
    assert "驳回理由：Photo unclear" in client.get("/grids/my/").content.decode()


@pytest.mark.django_db
def test_the_inbox_rows_of_rejected_reports_show_the_reason_without_a_query_per_row(
    cast, client, rejected, incident_in, django_assert_max_num_queries
):
    rejected("Photo unclear")
    incident_in("accepted")
    url = "/grids/inbox/?mine=true&open=false"
    client.force_login(cast.worker_a)
    client.get(url)  # warm up
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    long = rejected(LONG_REASON)
    rejected("Wrong grid")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("Reason for rejecting:") == 3
    assert "Reason for rejecting: Wrong grid" in html
    assert f"Reason for rejecting: {LONG_REASON[:39]}…" in html
    # The open (accepted) item is not in this list, and an open row has no reason line at all.
    open_list = client.get("/grids/inbox/?open=true").content.decode()
    assert long.code not in open_list and "Reason for rejecting" not in open_list


@pytest.mark.django_db
def test_a_reader_of_the_area_only_sees_the_reasons_numbers_masked(cast, client, rejected):
    incident = rejected("Call the resident back on 13812345678 first")
    client.force_login(cast.analyst)
    html = client.get("/grids/inbox/?status=rejected").content.decode()
    assert f'id="row-{incident.code}"' in html
    assert "13812345678" not in html and "Reason for rejecting: Call the resident back on 138" in html
    client.force_login(cast.community_handler)
    assert "13812345678" in client.get("/grids/inbox/?status=rejected").content.decode()


@pytest.mark.django_db
def test_an_outsider_sees_neither_the_row_nor_its_reason(cast, client, rejected):
    incident = rejected("Photo unclear")
    client.force_login(cast.outsider)
    response = client.get("/grids/inbox/?status=rejected")
    assert response.status_code == 200
    html = response.content.decode()
    assert incident.code not in html and "Photo unclear" not in html
    assert client.get(f"/grids/incidents/{incident.code}/").status_code == 404
    client.force_login(cast.worker_b)
    assert "Photo unclear" not in client.get("/grids/my/").content.decode()
