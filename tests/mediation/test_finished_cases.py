"""A finished case (concluded, closed or declined) shows how and when it ended, not its time limit:
"Conclude by 2026-11-03" on a case concluded in October read as a deadline still running."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mediation.models import DisputeCase


def _concluded(med, **kw):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=10), **kw)
    case.transition(action="conclude", actor=case.mediator, outcome="failure", other_routes=["litigation"])
    case.refresh_from_db()
    return case


def _closed(med):
    case = _concluded(med)
    case.transition(action="close", actor=case.mediator)
    # Closed a few days after the conclusion: the two dates differ on the page.
    DisputeCase.objects.filter(pk=case.pk).update(closed_at=case.concluded_at + dt.timedelta(days=3))
    case.refresh_from_db()
    return case


def _day(value) -> str:
    return f"{timezone.localdate(value):%Y-%m-%d}"


def _facts(html: str) -> dict[str, str]:
    block = html.split('class="med-facts"', 1)[1].split("</dl>", 1)[0]
    return {
        re.sub("<[^>]+>", "", dt_).strip(): re.sub(r"\s+", " ", re.sub("<[^>]+>", "", dd)).strip()
        for dt_, dd in re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", block, re.S)
    }


def _cell(html: str, code: str) -> tuple[str, str]:
    """The data-label and the text of the last cell of ``code``'s row."""
    row = html.split(f'data-case="{code}"', 1)[1].split("</tr>", 1)[0]
    label, text = re.findall(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', row, re.S)[-1]
    return label, re.sub(r"\s+", " ", re.sub("<[^>]+>", "", text)).strip()


def test_a_concluded_case_page_shows_its_outcome_and_conclusion_date_not_a_time_limit(client, med):
    case = _concluded(med)
    assert case.due_at is not None  # the time limit it had is still stored
    client.force_login(med.cast.mediator)
    facts = _facts(client.get(f"/mediation/cases/{case.code}/").content.decode())
    assert "Conclude by" not in facts
    assert facts["Outcome"].startswith(f"Failure · concluded on {_day(case.concluded_at)}")
    assert "Closed on" not in facts
    client.cookies["django_language"] = "zh-hans"
    zh = _facts(client.get(f"/mediation/cases/{case.code}/").content.decode())
    assert "调解期限" not in zh and zh["调解结果"].startswith(
        f"调解不成功 · {_day(case.concluded_at)} 调解终结"
    )


def test_a_closed_case_page_also_shows_the_day_it_was_closed(client, med):
    case = _closed(med)
    client.force_login(med.cast.mediator)
    facts = _facts(client.get(f"/mediation/cases/{case.code}/").content.decode())
    assert "Conclude by" not in facts
    assert facts["Outcome"].startswith(f"Failure · concluded on {_day(case.concluded_at)}")
    assert facts["Closed on"] == _day(case.closed_at)
    # The outsider still finds no such case.
    client.force_login(med.cast.outsider)
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404


def test_a_running_case_page_keeps_its_time_limit(client, med):
    case = med.in_mediation()
    client.force_login(med.cast.mediator)
    facts = _facts(client.get(f"/mediation/cases/{case.code}/").content.decode())
    assert facts["Conclude by"].startswith(_day(case.due_at))


def test_the_list_shows_when_a_finished_case_ended_in_place_of_its_time_limit(client, med):
    running = med.in_mediation()
    concluded, closed = _concluded(med), _closed(med)
    late = _concluded(med)
    DisputeCase.objects.filter(pk=late.pk).update(concluded_on_time=False)
    declined = med.register()
    declined.transition(
        action="decline", actor=med.cast.mediator, note="不属于民间纠纷", suggested_route="法院"
    )
    declined.refresh_from_db()
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/cases/").content.decode()
    assert _cell(html, running.code) == ("Conclude by", _day(running.due_at))
    assert _cell(html, concluded.code) == ("Concluded", _day(concluded.concluded_at))
    # A closed case is listed with the day it was concluded (its outcome's day), as the report counts it.
    assert _cell(html, closed.code) == ("Concluded", _day(closed.concluded_at))
    assert _cell(html, late.code) == ("Concluded", f"{_day(late.concluded_at)} late")
    assert _cell(html, declined.code) == ("Declined", _day(declined.closed_at))
    # The outcome stays beside the status, in the same row.
    assert "Failure" in html.split(f'data-case="{concluded.code}"', 1)[1].split("</tr>", 1)[0]
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "Conclude by / concluded" in header
    # The mediator's desk lists open cases only: there the column is the time limit alone.
    home = client.get("/mediation/").content.decode()
    assert "Conclude by / concluded" not in home and "<th>Conclude by</th>" in home
    client.cookies["django_language"] = "zh-hans"
    zh = client.get("/mediation/cases/").content.decode()
    assert _cell(zh, concluded.code) == ("终结日期", _day(concluded.concluded_at))
    assert _cell(zh, late.code) == ("终结日期", f"{_day(late.concluded_at)} 逾期")


def test_the_list_costs_no_query_per_finished_case(client, med):
    _concluded(med)
    client.force_login(med.cast.mediator)
    client.get("/mediation/cases/")  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert client.get("/mediation/cases/").content.decode().count("data-case=") == 1
    _closed(med), _closed(med), med.in_mediation()
    with CaptureQueriesContext(connection) as more:
        assert client.get("/mediation/cases/").content.decode().count("data-case=") == 4
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_organisation_page_shows_when_a_finished_case_ended(client, med):
    running, closed = med.in_mediation(), _closed(med)
    client.force_login(med.head_x)
    url = f"/mediation/organisations/{med.org_x.pk}/"
    rows = {
        code: client.get(url + query).content.decode().split(f'href="/mediation/cases/{code}/"', 1)[1]
        for code, query in ((running.code, ""), (closed.code, "?status=closed"))
    }
    rows = {code: row.split("</tr>", 1)[0] for code, row in rows.items()}
    assert (
        f'data-label="Conclude by"><span class="nowrap">{_day(running.due_at)}</span>' in rows[running.code]
    )
    assert (
        f'data-label="Concluded"><span class="nowrap">{_day(closed.concluded_at)}</span>' in rows[closed.code]
    )
    assert _day(closed.due_at) not in rows[closed.code] or _day(closed.due_at) == _day(closed.concluded_at)
    # A bad filter is still a 400 naming the field, and a mediator who is not the head gets a 404.
    response = client.get(url + "?status=nonsense")
    assert response.status_code == 400 and "Status" in response.content.decode()
    client.force_login(med.mediator_b)
    assert client.get(url).status_code == 404
