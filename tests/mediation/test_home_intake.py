"""The mediator home's cases waiting for acceptance (已登记) give the day each was received in their
last column: they have no time limit yet, and the column read "Conclude by —" on every row. A case
that may turn violent and was never reported to the police is flagged on its row, and counted above
the lists, from the rows' own columns (人民调解法 art. 25): no query per row."""

from __future__ import annotations

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone


def _row(html: str, code: str) -> str:
    return html.split(f'data-case="{code}"', 1)[1].split("</tr>", 1)[0]


def _last_cell(row: str) -> tuple[str, str]:
    label, text = re.findall(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', row, re.S)[-1]
    return label, re.sub(r"\s+", " ", re.sub("<[^>]+>", "", text)).strip()


def _intake(html: str) -> str:
    return html.split('id="intake"', 1)[1].split("</section>", 1)[0]


def test_waiting_cases_give_their_received_day_and_flag_an_unreported_risk(client, med):
    received = timezone.now() - dt.timedelta(days=3)
    calm = med.register(received_at=received)
    risky = med.register(received_at=received, risk_violence=True)
    reported = med.register(received_at=received, risk_violence=True)
    reported.transition(action="report_risk", actor=med.cast.mediator, note="已报春晖派出所")
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/").content.decode()
    intake = _intake(html)
    assert "<th>Received</th>" in intake and "Conclude by" not in intake
    for case in (calm, risky, reported):
        assert _last_cell(_row(intake, case.code)) == ("Received", f"{timezone.localdate(received):%Y-%m-%d}")
    assert 'class="med-unreported' in _row(intake, risky.code)
    assert "not reported to the police yet" in _row(intake, risky.code)
    assert "med-unreported" not in _row(intake, calm.code) + _row(intake, reported.code)
    alert = re.search(r'<p class="med-alert overdue" id="home-risk-unreported"[^>]*>(.*?)</p>', html, re.S)
    assert alert and "1 case listed here may turn violent" in alert[1]
    client.cookies["django_language"] = "zh-hans"
    zh = client.get("/mediation/").content.decode()
    assert "<th>接收时间</th>" in _intake(zh)
    assert "尚未向公安机关报告" in _row(_intake(zh), risky.code)
    assert "1 件可能激化" in zh.split('id="home-risk-unreported"', 1)[1].split("</p>", 1)[0]


def test_an_accepted_case_keeps_its_time_limit_and_a_reported_home_has_no_alert(client, med):
    case = med.accepted(risk_violence=True)
    case.transition(action="report_risk", actor=case.mediator, note="已报春晖派出所")
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/").content.decode()
    mine = html.split('id="overdue"', 1)[1].split("</section>", 1)[0]
    assert _last_cell(_row(mine, case.code))[0] == "Conclude by"
    assert 'id="home-risk-unreported"' not in html and "med-unreported" not in html


def test_the_home_reads_no_more_for_more_waiting_or_unreported_cases(client, med):
    med.register(risk_violence=True)
    med.accepted(risk_violence=True)  # both lists hold a row: each list's own reads are counted once
    client.force_login(med.cast.mediator)
    client.get("/mediation/")  # warm up
    with CaptureQueriesContext(connection) as one:
        client.get("/mediation/")
    for _ in range(4):
        med.register(risk_violence=True)
        med.accepted(risk_violence=True)
    with CaptureQueriesContext(connection) as many:
        html = client.get("/mediation/").content.decode()
    assert html.count('class="med-unreported') == 10
    assert len(many) == len(one)


def test_someone_outside_the_organisation_sees_none_of_its_waiting_cases(client, med):
    case = med.register(risk_violence=True)
    client.force_login(med.mediator_b)
    html = client.get("/mediation/").content.decode()
    assert case.code not in html and 'id="home-risk-unreported"' not in html
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404
