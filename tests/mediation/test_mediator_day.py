"""What a mediator's day through the pages showed wrong or missing (docs/mediation.md, "A mediator's day")."""

from __future__ import annotations

import re

from mediation.models import DisputeCase


def _details_of(html: str, action: str) -> str:
    """The opening tag of the folded step whose form takes ``action``."""
    before = html.split(f'data-action-form="{action}"', 1)[0]
    return before[before.rindex("<details") :].split(">", 1)[0]


# 1. A dispute that may turn violent and was not reported to the police says so, and opens the step.


def test_a_case_at_risk_of_violence_not_yet_reported_asks_for_the_police_report(client, med):
    case = med.in_mediation(risk_violence=True)
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    alert = re.search(r'<p class="med-alert overdue" id="risk-unreported"[^>]*>(.*?)</p>', html, re.S)
    assert alert and "not been reported to the police" in alert[1]
    assert " open" in _details_of(html, "report_risk")
    risk = html.split("<dt>Risk</dt>", 1)[1].split("</dd>", 1)[0]
    assert "not reported to the police yet" in risk
    client.cookies["django_language"] = "zh-hans"
    zh = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "尚未向公安机关报告" in zh.split('id="risk-unreported"', 1)[1].split("</p>", 1)[0]


def test_a_refused_police_report_names_the_note_and_saves_nothing(client, med):
    case = med.in_mediation(risk_violence=True)
    client.force_login(med.cast.mediator)
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "report_risk", "note": ""})
    html = response.content.decode()
    assert response.status_code == 400 and 'id="note-report_risk"' in html
    assert "to which police station" in html.split('id="action-error"', 1)[1].split("</p>", 1)[0]
    case.refresh_from_db()
    assert case.police_reported_at is None and not case.events.filter(action="report_risk").exists()
    assert 'id="risk-unreported"' in html


def test_once_reported_the_page_says_when_and_folds_the_step(client, med):
    case = med.in_mediation(risk_violence=True)
    client.force_login(med.cast.mediator)
    url = f"/mediation/cases/{case.code}/"
    response = client.post(url + "act/", {"action": "report_risk", "note": "甲方扬言报复，已报春晖派出所"})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert 'id="risk-unreported"' not in html and "reported to the police on" in html
    assert " open" not in _details_of(html, "report_risk")


def test_a_case_without_the_risk_or_ended_asks_for_no_report(client, med):
    calm = med.in_mediation()
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{calm.code}/").content.decode()
    assert 'id="risk-unreported"' not in html and " open" not in _details_of(html, "report_risk")
    ended = med.in_mediation(risk_violence=True)
    ended.transition(action="conclude", actor=ended.mediator, outcome="failure", other_routes=["litigation"])
    html = client.get(f"/mediation/cases/{ended.code}/").content.decode()
    assert 'id="risk-unreported"' not in html and "not reported to the police yet" not in html


def test_someone_who_may_not_report_sees_the_fact_but_no_call_to_act(client, med):
    case = med.in_mediation(risk_violence=True)
    client.force_login(med.cast.community_handler)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "not reported to the police yet" in html and 'id="risk-unreported"' not in html
    client.force_login(med.cast.outsider)
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "report_risk", "note": "x"})
    assert response.status_code == 404
    assert DisputeCase.objects.get(pk=case.pk).police_reported_at is None


# 2. A revealed phone number is a link that calls it: the mediator reveals it to ring the party.


def test_a_revealed_phone_number_can_be_called_from_the_phone(client, med):
    from governance.models import PersonalDataAccess

    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    client.force_login(med.cast.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "tel:" not in page  # masked numbers are not dialled
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "tel:" not in refused and PersonalDataAccess.objects.count() == 0
    row = client.post(url, {"reason": "电话通知当事人调解时间"}, HTTP_HX_REQUEST="true").content.decode()
    cell = row.split('data-field="phone"', 1)[1].split("</td>", 1)[0]
    assert '<a href="tel:13812345678">13812345678</a>' in cell
    assert PersonalDataAccess.objects.filter(user=med.cast.mediator, record=case.code).count() == 1
    # A party without a number has no link to nowhere.
    other = case.parties.get(role="respondent")
    other.phone = ""
    other.save(update_fields=["phone"])
    row = client.post(
        f"/mediation/cases/{case.code}/parties/{other.pk}/reveal/",
        {"reason": "核对住址"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "tel:" not in row and 'data-field="phone"' in row
    client.force_login(med.cast.outsider)
    assert client.post(url, {"reason": "看看"}).status_code == 404
