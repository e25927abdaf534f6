"""Pages: mediator home, list, register, case page, actions, sessions, reveal, print view,
organisation head page and the conversion of a grid incident."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy

from governance.models import PersonalDataAccess, Role
from grids import services as grid_services
from mediation.models import DisputeCase, DisputeSession, MediationOrganisation
from mediation.selectors import dispute_for_incident
from tests.base import (
    api_client,
    assert_marked_invalid,
    attrs_of,
    calendar_for_this_year_and_next,
    filter_form_as_shown,
    make_user,
    masked_log,
)

from .conftest import ID_1, make_org


def _login(client, user):
    client.force_login(user)
    return client


def _concluded(med):
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=40))
    case.transition(
        action="conclude",
        actor=med.cast.mediator,
        outcome="success_written",
        agreement_facts="楼上漏水，责任在李四。",
        agreement_terms="李四赔偿申请人维修费2000元。",
        agreement_amount="2000.00",
        performance_method="银行转账",
        performance_due=timezone.localdate(),
        agreement_effective_on=timezone.localdate() - dt.timedelta(days=25),
    )
    return case


def test_the_mediator_home_lists_my_cases_by_deadline_and_closing_windows(client, med):
    late = med.in_mediation()
    DisputeCase.objects.filter(pk=late.pk).update(due_at=timezone.now() - dt.timedelta(days=2))
    soon = med.in_mediation()
    closing = _concluded(med)
    other = med.accepted(org=med.org_y, area=med.cast.grid_c)
    html = _login(client, med.cast.mediator).get("/mediation/").content.decode()
    assert html.index(late.code) < html.index(soon.code)
    assert 'id="closing"' in html and closing.code in html.split('id="closing"')[1]
    assert other.code not in html
    assert "overdue" in html


def test_the_timeline_says_what_each_step_recorded(client, med):
    # Two follow-up visits found the agreement partly and then fully carried out; the case shows
    # the last one only, and the timeline read "record a follow-up visit" twice, with nothing else.
    extended = med.in_mediation()
    extended.transition(action="extend", actor=extended.mediator, consent=True)
    extended.refresh_from_db()
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{extended.code}/").content.decode()
    timeline = html.split("<h2>Timeline</h2>", 1)[1]
    assert "Extend the time limit</strong> · " in timeline
    assert f"Conclude by {timezone.localdate(extended.due_at):%Y-%m-%d}" in timeline

    case = _concluded(med)
    case.transition(action="apply_confirmation", actor=case.mediator, joint=True)
    case.transition(action="record_confirmation", actor=case.mediator, result="rejected")
    case.transition(action="follow_up", actor=case.mediator, performance="partly")
    case.transition(action="follow_up", actor=case.mediator, performance="performed")
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    timeline = html.split("<h2>Timeline</h2>", 1)[1]
    details = [item.split("</li>", 1)[0] for item in timeline.split("<li>")[1:]]
    step = {d.split("</strong>", 1)[0].split("<strong>", 1)[1]: d for d in details if "follow-up" not in d}
    visits = [d for d in details if "Record a follow-up visit" in d]
    assert "Success: written agreement" in step["Conclude"]
    assert "Rejected" in step["Record the court&#x27;s decision"]
    assert "Applied to court on" in step["Apply for judicial confirmation"]
    assert ["Partly performed" in visits[0], "Performed" in visits[1]] == [True, True]
    assert "Partly" not in visits[1]


def test_the_mediator_home_lists_the_agreements_due_a_follow_up_visit(client, med, django_assert_num_queries):
    # A concluded case left the desk: nothing said that an agreement was to have been carried out
    # by now and nobody had visited the parties to check it (DOMAIN.md: follow-up visits).
    due = _concluded(med)  # to be carried out by today
    later = med.in_mediation()
    later.transition(
        action="conclude", actor=later.mediator, outcome="success_written", agreement_facts="漏水",
        agreement_terms="李四赔偿", performance_method="银行转账",
        performance_due=timezone.localdate() + dt.timedelta(days=5),
    )  # fmt: skip
    partly = _concluded(med)
    partly.transition(action="follow_up", actor=partly.mediator, performance="partly")
    done = _concluded(med)
    done.transition(action="follow_up", actor=done.mediator, performance="performed")
    failed = med.in_mediation()
    failed.transition(
        action="conclude", actor=failed.mediator, outcome="failure", other_routes=["litigation"]
    )
    _login(client, med.cast.mediator).get("/mediation/")  # warm-up
    with django_assert_num_queries(len(_queries_of(client, "/mediation/"))):
        html = client.get("/mediation/").content.decode()
    section = html.split('id="follow-up"', 1)[1].split("</section>", 1)[0]
    assert due.code in section and partly.code in section
    assert later.code not in section and done.code not in section and failed.code not in section
    partly.refresh_from_db()
    visited = f"{timezone.localdate(partly.follow_up_at):%Y-%m-%d}"
    assert f"Partly performed ({visited})</li>" in section.split(partly.code, 1)[1]
    assert f"carried out by {timezone.localdate():%Y-%m-%d}" in section
    # The date of the visit is an aside in the reader's brackets: "部分履行（…）", not "部分履行 (…)".
    client.cookies["django_language"] = "zh-hans"
    zh = client.get("/mediation/").content.decode().split('id="follow-up"', 1)[1]
    assert f"部分履行（{visited}）</li>" in zh.split(partly.code, 1)[1]
    client.cookies["django_language"] = "en"
    # One more case to visit costs no query more.
    _concluded(med)
    with django_assert_num_queries(len(_queries_of(client, "/mediation/"))):
        html = client.get("/mediation/").content.decode()
    assert html.split('id="follow-up"', 1)[1].split("</section>", 1)[0].count("<li") == 3
    # Another organisation's mediator is not sent to these parties.
    assert due.code not in _login(client, med.mediator_y).get("/mediation/").content.decode()


def _queries_of(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return queries.captured_queries


def test_a_rejected_confirmation_says_what_the_parties_may_do_next(client, med):
    # "Rejected" alone left the mediator to explain the law: 人民调解法 art. 33, the parties may change
    # the agreement or reach a new one through mediation, or go to court.
    rejected, confirmed = _concluded(med), _concluded(med)
    for case, result in ((rejected, "rejected"), (confirmed, "confirmed")):
        case.transition(action="apply_confirmation", actor=case.mediator, joint=True)
        case.transition(action="record_confirmation", actor=case.mediator, result=result)
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{rejected.code}/").content.decode()
    note = html.split('id="confirmation-rejected"', 1)[1].split("</dd>", 1)[0]
    assert "change the agreement or reach a new one through mediation, or bring a lawsuit" in note
    assert (
        'id="confirmation-rejected"' not in client.get(f"/mediation/cases/{confirmed.code}/").content.decode()
    )


def test_the_home_page_section_shows_my_counts(client, med):
    med.in_mediation()
    html = _login(client, med.cast.mediator).get("/").content.decode()
    assert "Dispute mediation" in html and "My open cases" in html


def test_the_case_page_masks_parties_and_offers_reveal_only_to_the_assigned_mediator(client, med):
    case = med.accepted()
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    assert "张**" in html and "张三丰" not in html and "Reveal" in html
    html = _login(client, med.cast.district_officer).get(f"/mediation/cases/{case.code}/").content.decode()
    assert "张**" in html and "Reveal" not in html and "张三丰" not in html
    assert _login(client, med.mediator_y).get(f"/mediation/cases/{case.code}/").status_code == 404
    assert _login(client, med.cast.outsider).get(f"/mediation/cases/{case.code}/").status_code == 404


def test_reveal_from_the_page_needs_a_reason_and_is_logged(client, med):
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    _login(client, med.cast.mediator)
    response = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "张三丰" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0
    response = client.post(url, {"reason": "通知当事人"}, HTTP_HX_REQUEST="true")
    assert "张三丰" in response.content.decode() and ID_1 in response.content.decode()
    assert PersonalDataAccess.objects.filter(user=med.cast.mediator, record=case.code).count() == 1
    _login(client, med.cast.street_handler)
    assert client.post(url, {"reason": "看看"}).status_code == 403


def test_a_too_long_reveal_reason_says_so(client, med):
    """A reason over 500 characters was answered "Say why you need to see this person's details",
    as if none had been given."""
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    assert f'id="reason-{party.pk}" required minlength="2" maxlength="500"' in html
    response = client.post(url, {"reason": "核" * 501}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "at most 500 characters" in html and "Say why you need" not in html and "张三丰" not in html
    assert PersonalDataAccess.objects.count() == 0


def test_a_refused_reveal_is_announced_at_the_field_and_keeps_the_reason(client, med):
    """A refused reveal (no reason, or one the log refuses) said so in a plain span after the button:
    not announced, not tied to the field, and the reason typed was gone."""
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    _login(client, med.cast.mediator)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):  # the page without JavaScript, the swapped row
        for reason in ("   ", " 查"):  # blank; one character once trimmed (refused by the log)
            html = client.post(url, {"reason": reason}, **headers).content.decode()
            error = re.search(
                r'<span class="error" role="alert" id="reason-(\d+)-error">([^<]+)</span>', html
            )
            assert error and error[1] == str(party.pk) and "Say why" in error[2], html
            field = re.search(r'<input type="text" name="reason"[^>]*>', html)[0]
            assert f'value="{reason}"' in field and 'aria-invalid="true"' in field
            assert f'aria-describedby="reason-{party.pk}-error"' in field
    assert not PersonalDataAccess.objects.exists()
    # A reveal not refused marks nothing invalid.
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'aria-invalid="true"' not in html and 'role="alert"' not in html


def test_reveal_is_refused_before_the_reason_is_read(client, med):
    # District staff and mediators not assigned get 403 whatever they send: no row, no Reveal form.
    case = med.accepted()
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    for user in (med.cast.street_handler, med.mediator_x2):
        _login(client, user)
        for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.post(url, {"reason": ""}, **headers)
            assert response.status_code == 403
            body = response.content.decode()
            assert party.masked_name not in body and 'name="reason"' not in body
    assert not PersonalDataAccess.objects.exists()


def test_only_the_head_is_offered_a_colleague_when_accepting(client, med):
    """A plain member was offered the organisation's mediators in the accept form, and choosing a
    colleague was then refused (403: only the head assigns to someone else)."""
    case = med.register()
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'data-action-form="accept"' in html and 'id="mediator-accept"' not in html
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "accept"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "accepted" and case.mediator == med.cast.mediator
    other = med.register()
    html = _login(client, med.head_x).get(f"/mediation/cases/{other.code}/").content.decode()
    assert 'id="mediator-accept"' in html and f'value="{med.mediator_x2.pk}"' in html


def test_an_application_for_judicial_confirmation_is_recorded_as_made_by_both_parties(client, med):
    # 人民调解法 art. 33: the parties apply to the court together; the page recorded an application
    # without saying by whom, so one party's visit to the court counted as a confirmation pending.
    case = med.agreed(effective_days_ago=3)
    effective = case.agreement_effective_on
    url = f"/mediation/cases/{case.code}/"
    html = _login(client, med.cast.mediator).get(url).content.decode()
    assert re.search(r'<input type="checkbox" name="joint" value="on" id="joint" required', html)
    response = client.post(
        f"{url}act/", {"action": "apply_confirmation", "applied_on": effective.isoformat()}
    )
    assert response.status_code == 400
    assert "applied for by both parties together" in response.content.decode()
    assert 'aria-invalid="true"' in re.search(
        r'<input type="checkbox" name="joint"[^>]*>', response.content.decode()
    ).group(0)
    case.refresh_from_db()
    assert case.judicial_status == "" and not case.events.filter(action="apply_confirmation").exists()
    response = client.post(
        f"{url}act/", {"action": "apply_confirmation", "applied_on": effective.isoformat(), "joint": "on"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.judicial_status, case.judicial_applied_on) == ("applied", effective)
    assert case.events.get(action="apply_confirmation").data == {
        "joint": True,
        "applied_on": effective.isoformat(),
    }


def test_the_case_page_shows_the_last_day_of_the_month_limit_and_of_its_extension(client, med, monkeypatch):
    when = dt.datetime(2026, 3, 15, 16, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: when.astimezone(dt.UTC))
    case = med.register()
    url = f"/mediation/cases/{case.code}/"
    _login(client, med.cast.mediator)
    assert client.post(f"{url}act/", {"action": "accept"}).status_code == 302
    html = client.get(url).content.decode()
    # The extension form says what the parties consent to.
    assert "2026-04-15" in html and re.search(r'id="extend-to">[^<]*2026-05-15', html)
    response = client.post(f"{url}act/", {"action": "extend"})  # no consent
    assert response.status_code == 400 and "consent" in response.content.decode()
    assert client.post(f"{url}act/", {"action": "extend", "consent": "on"}).status_code == 302
    html = client.get(url).content.decode()
    assert f"Extend the time limit: done ({case.code})." in html
    assert "2026-05-15" in html and "2026-04-15" not in html and 'id="extend-to"' not in html
    case.refresh_from_db()
    assert case.extended and timezone.localtime(case.due_at).date() == dt.date(2026, 5, 15)


def test_every_case_page_url_is_404_outside_the_readers_reach(client, med):
    """Not only the case page: its action, session, reveal, party edit and print URLs answer an
    outsider like a missing case, and change or log nothing."""
    case = _concluded(med)
    party = case.parties.first()
    base = f"/mediation/cases/{case.code}"
    for user in (med.mediator_y, med.mediator_b, med.cast.outsider, med.cast.worker_a):
        _login(client, user)
        assert client.get(f"{base}/agreement/").status_code == 404
        assert client.post(f"{base}/act/", {"action": "close"}).status_code == 404
        assert client.post(f"{base}/sessions/", {"place": "x"}).status_code == 404
        assert client.post(f"{base}/parties/{party.pk}/reveal/", {"reason": "核对"}).status_code == 404
        assert client.post(f"{base}/parties/{party.pk}/edit/", {"name": "王五"}).status_code == 404
    case.refresh_from_db()
    assert case.status == "concluded" and PersonalDataAccess.objects.count() == 0
    assert list(case.events.values_list("action", flat=True)) == ["register", "accept", "start", "conclude"]


def test_recording_a_session_from_the_page(client, med):
    case = med.accepted()
    _login(client, med.cast.mediator)
    form = client.get(f"/mediation/cases/{case.code}/").content.decode()
    # Attendees are free text every reader sees: the form asks for roles, not names.
    assert re.search(r'<input[^>]*name="attendees"[^>]*placeholder="by role', form)
    response = client.post(
        f"/mediation/cases/{case.code}/sessions/",
        {
            "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "place": "调解室",
            "attendees": "双方",
            "summary": "达成初步意见",
        },
    )
    assert response.status_code == 302
    assert DisputeSession.objects.get().summary == "达成初步意见"
    bad = client.post(f"/mediation/cases/{case.code}/sessions/", {"place": "调解室"})
    assert bad.status_code == 400 and DisputeSession.objects.count() == 1
    # The form leaves the check to the server (novalidate), which names every missing field at once,
    # each marked invalid for assistive technology; the place typed in is kept.
    page = bad.content.decode()
    assert re.search(r'<form[^>]*id="session-form"[^>]*novalidate', page)
    assert "Give the date and time of the session." in page
    for name in ("held_at", "attendees", "summary"):
        assert re.search(rf'<(input|textarea)[^>]*name="{name}"[^>]*aria-invalid="true"', page), name
    assert re.search(r'<input[^>]*name="place"[^>]*value="调解室"', page)
    assert not re.search(r'<input[^>]*name="place"[^>]*aria-invalid', page)


def test_a_session_with_a_bad_time_and_a_missing_field_names_both_in_one_submit(client, med):
    """The session time's checks (not to come, not before the case came in) ran only once the form's
    own errors were fixed: a second refusal for a time typed in the first submit. Nothing is saved."""
    case = med.accepted()
    _login(client, med.cast.mediator)
    url = f"/mediation/cases/{case.code}/sessions/"
    future = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    early = (timezone.localtime(case.received_at) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    for held_at, message in (
        (future, "A session cannot be recorded before it took place."),
        (early, "A session cannot take place before the case was received"),
    ):
        bad = client.post(url, {"held_at": held_at, "place": "调解室", "attendees": "双方"})
        assert bad.status_code == 400
        page = bad.content.decode()
        assert message in page and "Summarise the session." in page
        for name in ("held_at", "summary"):
            assert re.search(rf'<(input|textarea)[^>]*name="{name}"[^>]*aria-invalid="true"', page), name
    assert not DisputeSession.objects.exists()
    case.refresh_from_db()
    assert case.status == "accepted"


def test_a_refused_session_answers_like_a_refused_step(client, med):
    """docs/mediation.md: the case page answers a refused step as the API does. A session from a
    mediator who is not on the case was 400 (it is 403), one on a concluded case 400 (409)."""
    data = {
        "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "place": "调解室",
        "attendees": "双方",
        "summary": "达成初步意见",
    }
    case = med.accepted()
    response = _login(client, med.mediator_x2).post(f"/mediation/cases/{case.code}/sessions/", data)
    assert response.status_code == 403 and 'id="action-error"' in response.content.decode()
    concluded = med.in_mediation()
    concluded.transition(
        action="conclude", actor=med.cast.mediator, outcome="failure", other_routes=["litigation"]
    )
    # Held the minute the case came in, not the minute the test began: a case received in the next
    # minute refused the session as held before it (a 400 that hid the 409 on a minute boundary).
    data["held_at"] = timezone.localtime(concluded.received_at).strftime("%Y-%m-%dT%H:%M")
    response = _login(client, med.cast.mediator).post(f"/mediation/cases/{concluded.code}/sessions/", data)
    assert response.status_code == 409 and "Cannot record a session" in response.content.decode()
    assert not DisputeSession.objects.exists()
    case.refresh_from_db()
    assert case.status == "accepted"


def test_the_action_form_does_not_record_a_session_without_one(client, med):
    """The API sends sessions to their own endpoint; the page's action URL let action=record_session
    through, so the case moved into mediation with a session on its timeline and none recorded."""
    case = med.accepted()
    response = _login(client, med.cast.mediator).post(
        f"/mediation/cases/{case.code}/act/", {"action": "record_session"}
    )
    assert response.status_code == 400 and 'id="action-error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == "accepted" and not case.sessions.exists()
    assert list(case.events.values_list("action", flat=True)) == ["register", "accept"]


def test_the_conclude_form_reports_every_missing_part_of_the_agreement_at_once(client, med):
    # The terms, the facts and the way and date of performance were refused one at a time: fix one,
    # send, learn the next.
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {
            "action": "conclude",
            "outcome": "success_written",
            "agreement_amount": "500",
            "performance_method": "",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    for message in (
        "Write down the terms the parties agreed.",
        "State the main facts of the dispute",
        "Say how and when the agreement is carried out.",
        "Give the date by which the agreement is carried out.",
    ):
        assert message in html, message
    assert 'value="500"' in html
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("in_mediation", "")


def test_concluding_from_the_page_with_a_written_agreement(client, med):
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {
            "action": "conclude",
            "outcome": "success_written",
            "agreement_terms": "",
            "performance_method": "现金",
        },
    )
    assert response.status_code == 400 and "Write down the terms" in response.content.decode()
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {
            "action": "conclude",
            "outcome": "success_written",
            "agreement_facts": "噪音扰邻",
            "agreement_terms": "赔偿500元",
            "performance_method": "现金",
            "performance_due": timezone.localdate().isoformat(),
        },
        follow=True,
    )
    assert DisputeCase.objects.get(pk=case.pk).outcome == "success_written"
    assert "Judicial confirmation" in response.content.decode()


def test_a_transfer_from_the_page_goes_to_the_case_list_with_a_message_not_to_a_404(client, med):
    case = med.accepted()
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert med.org_y.name in html and med.org_b.name not in html  # the choices offered
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "transfer", "organisation": med.org_y.pk, "note": "属园丁社区管辖"},
    )
    assert response.status_code == 302 and response.url == "/mediation/cases/"
    page = client.get(response.url)
    assert page.status_code == 200 and f"You no longer have access to {case.code}." in page.content.decode()
    case.refresh_from_db()
    assert case.organisation == med.org_y


def test_the_transfer_form_preselects_no_organisation_and_names_both_missing_fields(client, med):
    """The select opened on the first organisation of the list, so a reason typed and sent moved the
    case there unchosen; and a transfer sent empty named the reason, then (once given) the place."""
    case = med.accepted()
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    select = re.search(r'<select name="organisation" id="org-transfer".*?</select>', html, re.S).group(0)
    first = re.search(r"<option[^>]*>[^<]*", select).group(0)
    assert 'value=""' in first and "Choose the organisation" in first and "selected" not in select
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "transfer", "organisation": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Give the reason for the transfer." in page and "Choose the organisation to transfer to." in page
    case.refresh_from_db()
    assert case.organisation == med.org_x and not case.events.filter(action="transfer").exists()


def test_the_case_page_refuses_with_the_status_the_api_gives_and_changes_nothing(client, med):
    case = med.accepted()
    url = f"/mediation/cases/{case.code}/act/"
    _login(client, med.cast.mediator)
    response = client.post(url, {"action": "close"})  # not from "accepted"
    assert response.status_code == 409
    assert 'id="action-error"' in response.content.decode() and "Cannot close" in response.content.decode()
    response = client.post(url, {"action": "extend"})  # no consent
    assert response.status_code == 400 and "consent" in response.content.decode()
    response = client.post(url, {"action": ""})
    assert response.status_code == 400
    response = _login(client, med.mediator_x2).post(url, {"action": "start"})  # not the assigned mediator
    assert response.status_code == 403 and 'id="action-error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == "accepted" and not case.extended
    assert list(case.events.values_list("action", flat=True)) == ["register", "accept"]


def test_read_only_staff_get_403_on_actions(client, med):
    case = med.in_mediation()
    response = _login(client, med.cast.district_officer).post(
        f"/mediation/cases/{case.code}/act/", {"action": "close"}
    )
    assert response.status_code == 403


def test_the_agreement_prints_in_chinese_with_full_details_for_the_mediator_only(client, med):
    case = _concluded(med)
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    assert "人民调解协议书" in html and "李四赔偿申请人维修费2000元" in html and "张三丰" in html
    assert "agreement.css" in html and "三十日内共同向人民法院申请司法确认" in html
    # Chinese punctuation follows the name directly (a line break in the template printed a space).
    assert "</strong>张三丰，身份证号码：11010519491231002X，联系电话：13812345678，住址：" in html
    assert PersonalDataAccess.objects.filter(user=med.cast.mediator).count() == 2  # both parties, logged
    html = (
        _login(client, med.cast.district_officer)
        .get(f"/mediation/cases/{case.code}/agreement/")
        .content.decode()
    )
    assert "张三丰" not in html and "张**" in html
    open_case = med.in_mediation()
    assert (
        _login(client, med.cast.mediator).get(f"/mediation/cases/{open_case.code}/agreement/").status_code
        == 404
    )


def test_an_oral_agreement_prints_as_a_record_effective_the_day_it_was_reached(client, med):
    """An oral agreement printed as 人民调解协议书 "effective when all parties have signed and the
    committee has sealed it", which is the rule for written ones (人民调解法 art. 29); an oral one is
    effective the day it is reached and recorded by the mediator (art. 30, DOMAIN.md)."""
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    assert "人民调解口头协议登记" in html and "自各方当事人达成协议之日起生效" in html
    assert "人民调解委员会印章之日起生效" not in html and "人民调解协议书" not in html.split("<body")[1]
    written = _concluded(med)
    html = client.get(f"/mediation/cases/{written.code}/agreement/").content.decode()
    assert "人民调解协议书" in html and "人民调解委员会印章之日起生效" in html and "口头协议" not in html


def test_register_page_creates_a_case_and_shows_field_errors(client, med):
    _login(client, med.cast.mediator)
    data = {
        "category": "neighbours", "origin": "application", "area": med.cast.grid_a.code, "description": "噪音",
        "party0_role": "applicant", "party0_name": "王五", "party0_id_number": "11010519491231002X",
        "party1_role": "respondent", "party1_name": "赵六", "party1_id_number": "110105194912310021",
        "party2_role": "other",
    }  # fmt: skip
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 400 and "check digit" in response.content.decode()
    assert DisputeCase.objects.count() == 0
    data["party1_id_number"] = ""
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 302
    case = DisputeCase.objects.get()
    assert case.organisation == med.org_x and case.parties.count() == 2


def test_the_register_page_takes_a_grid_merged_away_after_the_dispute_was_received(client, med):
    """docs/mediation.md: the place is judged in service on the receipt day. Its code is typed (the
    datalist is today's); a form sent back for another field lists the places of that day."""
    from governance.models import Area

    grid = med.cast.grid_a
    Area.objects.filter(pk=grid.pk).update(in_service_until=timezone.localdate() - dt.timedelta(days=1))
    received = (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "category": "neighbours", "origin": "application", "area": grid.code, "description": "",
        "received_at": received, "party0_role": "applicant", "party0_name": "王五",
        "party1_role": "respondent", "party1_name": "赵六", "party2_role": "other",
    }  # fmt: skip

    def listed(html: str) -> str:
        return html.split('<datalist id="area-choices">')[1].split("</datalist>")[0]

    _login(client, med.cast.mediator)
    assert f'value="{grid.code}"' not in listed(client.get("/mediation/cases/new/").content.decode())
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 400 and f'value="{grid.code}"' in listed(response.content.decode())
    assert "Unknown grid or community" not in response.content.decode()
    # A time to come is refused; the list is then today's, as the place is judged.
    future = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/mediation/cases/new/", {**data, "received_at": future})
    assert f'value="{grid.code}"' not in listed(response.content.decode())
    assert DisputeCase.objects.count() == 0
    assert client.post("/mediation/cases/new/", {**data, "description": "噪音"}).status_code == 302
    assert DisputeCase.objects.get().area == grid


def test_a_handler_refers_from_the_page_to_the_centre_above_their_area(client, med):
    """docs/mediation.md: a handler refers to an organisation in their area or one whose area
    contains the place. The page offered only organisations inside the handler's area (a community
    handler could not send a case to the street centre, which the API accepts) and its empty choice
    read "my organisation", which a handler does not have."""
    committee = make_org(
        "春晖社区人民调解委员会", MediationOrganisation.Kind.COMMITTEE, med.cast.community_a1a, []
    )
    _login(client, med.cast.community_handler)
    html = client.get("/mediation/cases/new/").content.decode()
    offered = html.split('name="organisation"')[1].split("</select>")[0]
    assert f'value="{committee.pk}"' in offered and f'value="{med.org_x.pk}"' in offered
    assert f'value="{med.org_y.pk}"' not in offered and f'value="{med.org_b.pk}"' not in offered
    assert "my organisation" not in offered and "Choose the organisation" in offered
    data = {
        "category": "neighbours", "origin": "police", "area": med.cast.grid_a.code, "description": "噪音",
        "organisation": str(med.org_x.pk),
        "party0_role": "applicant", "party0_name": "王五", "party1_role": "respondent", "party1_name": "赵六",
        "party2_role": "other",
    }  # fmt: skip
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 302
    assert DisputeCase.objects.get().organisation == med.org_x
    # A mediator is never asked to "choose" an organisation: their only one is offered, by name
    # (tests/mediation/test_register_organisations.py has one with several).
    mine = _login(client, med.cast.mediator).get("/mediation/cases/new/").content.decode()
    offered = mine.split('name="organisation"')[1].split("</select>")[0]
    assert "Choose the organisation" not in offered and f'value="{med.org_x.pk}"' in offered


def test_a_third_party_without_a_name_is_an_error_not_dropped(client, med):
    """The third party row was left out whenever its name was blank, so a phone and ID number typed
    there vanished and the case was saved with two parties."""
    _login(client, med.cast.mediator)
    data = {
        "category": "neighbours", "origin": "application", "area": med.cast.grid_a.code, "description": "噪音",
        "party0_role": "applicant", "party0_name": "王五", "party1_role": "respondent", "party1_name": "赵六",
        "party2_role": "other", "party2_phone": "13812345678",
    }  # fmt: skip
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 400 and DisputeCase.objects.count() == 0
    html = response.content.decode()
    assert "the party&#x27;s name" in html or "the party's name" in html
    assert 'value="13812345678"' in html  # kept for correcting
    data["party2_name"] = "孙七"
    one_sided = {**data, "party1_role": "applicant", "party2_role": "applicant"}
    response = client.post("/mediation/cases/new/", one_sided)
    assert response.status_code == 400 and DisputeCase.objects.count() == 0
    assert "name the respondent" in response.content.decode()
    assert client.post("/mediation/cases/new/", data).status_code == 302
    assert DisputeCase.objects.get().parties.count() == 3


def test_the_register_page_puts_each_risk_checkbox_beside_its_label(client, med):
    """The checkboxes took the full width of a text input: on a desk screen each box sat alone in the
    middle of the form, half a screen from its label."""
    html = _login(client, med.cast.mediator).get("/mediation/cases/new/").content.decode()
    for name in ("risk_violence", "risk_group"):
        label = html.split(f'<label class="med-check" for="id_{name}">')[1].split("</label>")[0]
        assert f'name="{name}"' in label and 'type="checkbox"' in label


def test_a_refused_registration_says_so_at_the_top_of_the_form(client, med):
    """The first field in error may be screens below the top of the re-rendered form on a phone."""
    _login(client, med.cast.mediator)
    assert "form-error-summary" not in client.get("/mediation/cases/new/").content.decode()
    html = client.post("/mediation/cases/new/", {"description": "噪音"}).content.decode()
    assert html.index('class="error form-error-summary" role="alert"') < html.index('name="category"')
    assert 'aria-invalid="true"' in html  # what static/js/app.js moves the focus to


def test_a_handler_finds_the_register_page_from_the_case_list(client, med):
    """A handler's mediation menu lands on the case list (no mediator desk), which had no way to the
    register page: referring a case meant typing its URL."""
    html = _login(client, med.cast.community_handler).get("/mediation/", follow=True).content.decode()
    assert 'id="register-case"' in html and 'href="/mediation/cases/new/"' in html
    html = _login(client, med.cast.analyst).get("/mediation/cases/").content.decode()
    assert 'id="register-case"' not in html  # analysts only read


def test_a_bad_list_filter_is_400_named_by_its_label(client, med):
    """An unknown area code showed a Python repr ({'area': [ErrorDetail(...)]}) and a bad date the
    parameter name (received_from), both with 200."""
    med.accepted()
    _login(client, med.cast.mediator)
    response = client.get("/mediation/cases/?area=999")
    html = response.content.decode()
    assert response.status_code == 400 and "ErrorDetail" not in html
    assert 'id="filter-error">Area: Unknown area code 999.' in html
    assert "data-case=" not in html
    response = client.get("/mediation/cases/?received_from=abc")
    html = response.content.decode()
    assert response.status_code == 400 and "Received from: Enter a valid date." in html
    assert "received_from:" not in html
    assert client.get("/mediation/cases/?received_from=2026-01-01").status_code == 200


def test_a_refused_list_filter_is_named_as_the_form_beside_it_names_it(client, med):
    """The message named the API's filter ("区划代码（含全部下级）", "area code: its whole subtree",
    "received on or after", "open cases only") beside a form whose fields read 区域, Received from,
    办结情况: a name typed into the area box, as its placeholder invites, was refused under a label
    the page shows nowhere."""
    med.accepted()
    _login(client, med.head_x)
    html = client.get("/mediation/cases/?area=桂花社区", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">区域：' in html and "区划代码（含全部下级）" not in html
    html = client.get("/mediation/cases/?category=zz", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">类别：' in html
    page = f"/mediation/organisations/{med.org_x.pk}/?open=maybe"
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">办结情况：' in html
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="filter-error">Completion: ' in html
    # A filter the link set, kept under "From the link" by the name the summary gives it.
    html = client.get("/mediation/cases/?mediator=zz", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="filter-error">Mediator: Unknown mediator zz.' in html
    html = client.get("/mediation/cases/?concluded_from=x", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="filter-error">终结日期起：' in html


def test_the_list_page_filters_and_masks(client, med, django_assert_max_num_queries):
    for _ in range(3):
        med.accepted()
    _login(client, med.cast.district_officer)
    with django_assert_max_num_queries(15):
        html = client.get("/mediation/cases/?status=accepted").content.decode()
    assert html.count("data-case=") == 3 and "张三丰" not in html
    assert (
        _login(client, med.cast.outsider).get("/mediation/cases/").content.decode().count("data-case=") == 0
    )


def _counts_with_more(client, url: str, add) -> tuple[list[int], str]:
    """The queries of ``url`` after a warm-up, then again with ``add()`` called three more times,
    and the page as last served."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    counts = []
    for more in (1, 3):
        for _ in range(more):
            add()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(queries))
    return counts, response.content.decode()


def test_the_desk_costs_the_same_queries_for_more_cases(client, med):
    """Each list of the mediator's desk (open cases, agreements whose confirmation window closes,
    cases waiting for acceptance) reads its rows' category, area, organisation, mediator and
    parties with the rows, not per row."""

    def add():
        med.in_mediation()
        med.agreed(effective_days_ago=25)
        med.register()

    counts, html = _counts_with_more(_login(client, med.cast.mediator), "/mediation/", add)
    assert html.split('id="overdue"')[1].split("</section>")[0].count("data-case=") == 4
    assert html.split('id="closing"')[1].split("</section>")[0].count('class="med-closing"') == 4
    assert html.split("Waiting for acceptance")[1].count("data-case=") == 4
    assert counts[0] == counts[1], counts


def test_the_list_page_costs_the_same_queries_for_more_cases(client, med):
    def add():
        med.in_mediation()
        med.register(org=med.org_y, area=med.cast.grid_c)

    counts, html = _counts_with_more(_login(client, med.cast.district_officer), "/mediation/cases/", add)
    assert html.count("data-case=") == 8 and "张三丰" not in html
    assert counts[0] == counts[1], counts


def test_the_case_page_costs_the_same_queries_for_more_sessions_and_events(client, med):
    """The case page lists the case's sessions and its timeline (who did what, for which
    organisation): the actors come with the events (without, 3 more queries for 3 more sessions)."""
    from tests.base import api_client

    case = med.in_mediation()
    DisputeCase.objects.filter(pk=case.pk).update(received_at=timezone.now() - dt.timedelta(days=1))
    api = api_client(med.cast.mediator)
    minutes = iter(range(50, 0, -1))

    def add():
        held_at = (timezone.now() - dt.timedelta(minutes=next(minutes))).isoformat()
        session = {"held_at": held_at, "place": "调解室", "attendees": "双方当事人", "summary": "协商"}
        assert api.post(f"/api/v1/disputes/{case.code}/sessions/", session, format="json").status_code == 201

    counts, html = _counts_with_more(_login(client, med.cast.mediator), f"/mediation/cases/{case.code}/", add)
    assert html.count("调解室") >= 4
    assert counts[0] == counts[1], counts


def test_the_head_sees_all_cases_reassigns_and_sees_workload(client, med):
    case = med.in_mediation()
    med.accepted(mediator=med.mediator_x2)
    _login(client, med.head_x)
    html = client.get(f"/mediation/organisations/{med.org_x.pk}/").content.decode()
    assert case.code in html and 'data-member="mediator"' in html and "Workload" in html
    response = client.post(
        f"/mediation/cases/{case.code}/act/", {"action": "reassign", "mediator": med.mediator_x2.pk}
    )
    assert response.status_code == 302 and DisputeCase.objects.get(pk=case.pk).mediator == med.mediator_x2
    assert (
        _login(client, med.cast.mediator).get(f"/mediation/organisations/{med.org_x.pk}/").status_code == 404
    )


def test_the_head_pages_through_a_filtered_case_list_keeping_the_filter(client, med):
    """The organisation page's Next/Previous links were "?page=2": the status filter was lost and
    page 2 showed the default (open cases) instead of the rest of the filtered list."""
    for _ in range(51):
        med.register()
    _login(client, med.head_x)
    html = client.get(f"/mediation/organisations/{med.org_x.pk}/?status=registered").content.decode()
    assert 'href="?status=registered&page=2"' in html
    html = client.get(f"/mediation/organisations/{med.org_x.pk}/?status=registered&page=2").content.decode()
    assert html.count('class="med-inline-form"') == 0 and "1 / 2" not in html and "2 / 2" in html
    assert 'href="?status=registered&page=1"' in html


@pytest.fixture
def dispute_incident(med):
    return grid_services.incident_report(
        actor=med.cast.worker_a, category="dispute", description="两户因停车位争吵", grid=med.cast.grid_a.code
    )


def test_a_dispute_incident_becomes_a_case_in_one_step_linked_both_ways(client, med, dispute_incident):
    _login(client, med.cast.community_handler)
    assert client.get(f"/mediation/from-incident/{dispute_incident.code}/").status_code == 200
    response = client.post(
        f"/mediation/from-incident/{dispute_incident.code}/",
        {"category": "neighbours", "organisation": med.org_x.pk},
    )
    assert response.status_code == 302
    case = DisputeCase.objects.get()
    assert (case.origin, case.incident, case.area, case.referral_reference) == (
        "grid_incident",
        dispute_incident,
        med.cast.grid_a,
        dispute_incident.code,
    )
    assert dispute_for_incident(dispute_incident) == case
    # The incident page shows where its dispute went.
    incident_page = client.get(f"/grids/incidents/{dispute_incident.code}/").content.decode()
    assert f"Now mediation case {case.code}" in incident_page
    # A second conversion goes to the existing case instead of creating another.
    again = client.post(f"/mediation/from-incident/{dispute_incident.code}/", {"category": "neighbours"})
    assert again.status_code == 302 and again["Location"].endswith(f"/mediation/cases/{case.code}/")
    assert DisputeCase.objects.count() == 1


def test_the_grid_worker_reads_where_their_dispute_went_without_a_broken_link(client, med, dispute_incident):
    # The reporter may not open the case (404 outside mediation), so the incident page says where
    # the dispute went in words; it linked to "None", a 404 under the incident's own address.
    from mediation import services

    case = services.dispute_from_incident(
        actor=med.cast.community_handler, incident=dispute_incident, organisation=med.org_x.pk
    )
    page = (
        _login(client, med.cast.worker_a).get(f"/grids/incidents/{dispute_incident.code}/").content.decode()
    )
    assert f"Now mediation case {case.code}" in page
    assert (
        'href="None"' not in page and f'href="/mediation/from-incident/{dispute_incident.code}/"' not in page
    )
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404
    # The handler who converted it still follows the link to the case.
    page = _login(client, med.cast.community_handler).get(f"/grids/incidents/{dispute_incident.code}/")
    assert (
        f'href="/mediation/from-incident/{dispute_incident.code}/" id="to-mediation"' in page.content.decode()
    )


def test_the_conversion_page_chooses_the_one_organisation_offered(client, med, dispute_incident):
    # A mediator of one committee was asked to choose it from a list of one, and the form was
    # refused when they did not (a phone's select is a second screen).
    html = _login(client, med.cast.mediator).get(f"/mediation/from-incident/{dispute_incident.code}/")
    assert f'<option value="{med.org_x.pk}" selected>' in html.content.decode()
    # With two to choose from, nothing is chosen for the user.
    med.org_y.area = med.cast.street_a1
    med.org_y.save(update_fields=["area"])
    html = _login(client, med.cast.community_handler).get(
        f"/mediation/from-incident/{dispute_incident.code}/"
    )
    organisations = html.content.decode().split('name="organisation"', 1)[1].split("</select>", 1)[0]
    assert organisations.count("<option value=") == 3 and organisations.count(" selected>") == 1
    assert '<option value="" selected>' in organisations


def test_a_converted_case_names_its_incident_once(client, med, dispute_incident):
    # The incident's number is the referring record: the source read "grid incident · INC-… · INC-…".
    from mediation import services

    case = services.dispute_from_incident(
        actor=med.cast.community_handler, incident=dispute_incident, organisation=med.org_x.pk
    )
    html = _login(client, med.cast.community_handler).get(f"/mediation/cases/{case.code}/").content.decode()
    source = html.split("<dt>Source</dt>", 1)[1].split("</dd>", 1)[0]
    assert source.count(dispute_incident.code) == 2  # the link's address and its text, once
    assert f'<a href="/grids/incidents/{dispute_incident.code}/">{dispute_incident.code}</a>' in source


def test_an_incident_whose_grid_was_merged_away_since_still_becomes_a_case_there(
    client, med, dispute_incident
):
    # A place named for a new case must be in service today; a case from an incident keeps the
    # incident's grid, where the dispute arose while it was in service.
    import datetime as dt

    from governance.models import Area

    yesterday = timezone.localdate() - dt.timedelta(days=1)
    Area.objects.filter(pk=med.cast.grid_a.pk).update(in_service_until=yesterday)
    _login(client, med.cast.community_handler)
    response = client.post(
        f"/mediation/from-incident/{dispute_incident.code}/",
        {"category": "neighbours", "organisation": med.org_x.pk},
    )
    assert response.status_code == 302
    assert DisputeCase.objects.get().area == med.cast.grid_a


def test_a_city_wide_organisation_is_offered_for_an_incident_to_its_members_and_referrers(
    client, med, dispute_incident
):
    # Only organisations within the incident's district were offered: a city committee's members
    # could not convert an incident at all, and a referrer was never offered it.
    member = make_user("city_med", Role.MEDIATOR, med.cast.city)
    city_org = make_org(
        "市物业纠纷人民调解委员会", MediationOrganisation.Kind.INDUSTRY, med.cast.city, [(member, True)]
    )
    url = f"/mediation/from-incident/{dispute_incident.code}/"
    offered = re.compile(r'<option value="(\d+)"')
    referrer = set(offered.findall(_login(client, med.cast.community_handler).get(url).content.decode()))
    assert {str(city_org.pk), str(med.org_x.pk)} <= referrer
    assert str(med.org_y.pk) not in referrer  # community A1b's committee does not serve grid A
    page = _login(client, member).get(url).content.decode()
    assert set(offered.findall(page)) == {str(city_org.pk)}  # a mediator: their own, where it serves
    response = client.post(url, {"category": "neighbours", "organisation": city_org.pk})
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == city_org


def test_only_dispute_incidents_convert_and_outsiders_get_404(client, med):
    incident = grid_services.incident_report(
        actor=med.cast.worker_a, category="sanitation", description="垃圾堆放", grid=med.cast.grid_a.code
    )
    _login(client, med.cast.community_handler)
    response = client.post(f"/mediation/from-incident/{incident.code}/", {"category": "neighbours"})
    assert response.status_code == 400 and DisputeCase.objects.count() == 0
    assert dispute_for_incident(incident) is None
    assert (
        _login(client, med.cast.outsider).get(f"/mediation/from-incident/{incident.code}/").status_code == 404
    )


def test_the_mediator_completes_the_placeholder_parties_of_a_converted_incident(
    client, med, dispute_incident
):
    from mediation import services

    case = services.dispute_from_incident(
        actor=med.cast.community_handler, incident=dispute_incident, organisation=med.org_x.pk
    )
    case.transition(action="accept", actor=med.cast.mediator)
    party = case.parties.get(role="applicant")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/edit/"
    _login(client, med.cast.mediator)
    client.post(url, {"name": "王小二", "id_number": "110105194912310021"})
    party.refresh_from_db()
    assert party.name != "王小二"  # a wrong check digit: nothing saved
    client.post(url, {"name": "王小二", "id_number": "11010519491231002X", "phone": "13800001111"})
    party.refresh_from_db()
    assert (party.name, party.id_number, party.phone) == ("王小二", "11010519491231002X", "13800001111")
    assert party.id_hash and case.events.filter(action="update_party").exists()
    assert _login(client, med.cast.street_handler).post(url, {"name": "x"}).status_code == 403
    assert _login(client, med.mediator_y).post(url, {"name": "x"}).status_code == 404


def test_a_party_edit_keeps_two_sides_and_two_people(client, med):
    from .conftest import ID_2

    case = med.in_mediation()
    applicant, respondent = case.parties.get(role="applicant"), case.parties.get(role="respondent")
    url = f"/mediation/cases/{case.code}/parties/{respondent.pk}/edit/"
    _login(client, med.cast.mediator)
    response = client.post(url, {"role": "applicant"})
    assert response.status_code == 400 and "name the respondent" in response.content.decode()
    response = client.post(url, {"id_number": applicant.id_number})
    assert response.status_code == 400 and "given for party 1" in response.content.decode()
    # That refusal says whose the number is, as a reveal would: it is in the access log like one,
    # for the applicant, although nothing was saved.
    logged = PersonalDataAccess.objects.get(object_type="mediation.disputeparty", object_id=str(applicant.pk))
    assert (logged.user, logged.record, logged.fields) == (med.cast.mediator, case.code, "id_number")
    respondent.refresh_from_db()
    assert (respondent.role, respondent.id_number) == ("respondent", ID_2)
    assert not case.events.filter(action="update_party").exists()
    assert client.post(url, {"role": "other"}).status_code == 302
    assert case.parties.get(pk=respondent.pk).role == "other"


def test_a_phone_or_id_number_entered_by_mistake_can_be_removed(client, med):
    # Blank fields keep the stored value, so a wrong ID number or phone could only be overwritten,
    # never removed: personal data the case had no business keeping.
    case = med.in_mediation()
    party = case.parties.get(role="applicant")
    assert party.id_number and party.phone and party.id_hash
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/edit/"
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'name="clear" value="phone"' in html
    refused = client.post(url, {"phone": "13800001111", "clear": ["phone"]})
    assert refused.status_code == 400 and "not both" in refused.content.decode()
    assert client.post(url, {"clear": ["name"]}).status_code == 400  # the name stays
    party.refresh_from_db()
    assert party.phone and party.name
    assert client.post(url, {"clear": ["id_number", "phone"]}).status_code == 302
    party.refresh_from_db()
    assert (party.id_number, party.phone, party.id_hash) == ("", "", "") and party.name and party.address
    event = case.events.filter(action="update_party").latest("at")
    assert event.data["removed"] == ["id_number", "phone"] and event.data["fields"] == []
    assert _login(client, med.mediator_y).post(url, {"clear": ["address"]}).status_code == 404
    assert case.parties.get(pk=party.pk).address


def test_a_refused_party_edit_keeps_the_input_and_names_fields_by_label(client, med):
    """It redirected with "id_number: ..." in a flash message: internal English field names in the
    Chinese page, and what the mediator typed was gone."""
    case = med.in_mediation()
    party = case.parties.first()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/parties/{party.pk}/edit/",
        {"id_number": "123456", "address": "长江路1号"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    html = response.content.decode()
    row = html[html.index(f'id="party-{party.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'value="长江路1号"' in row and 'value="123456"' in row and 'role="alert"' in row
    assert "id_number" not in row.split('role="alert"')[1] and "身份证号" in row
    assert case.parties.get(pk=party.pk).address != "长江路1号"


def test_a_refused_step_does_not_show_the_internal_field_name(client, med):
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    html = client.post(f"/mediation/cases/{case.code}/act/", {"action": "conclude"}).content.decode()
    assert "Choose the outcome of the mediation." in html and "outcome: Choose" not in html


def test_every_answer_with_revealed_details_tells_the_browser_not_to_store_it(client, med):
    # The reveal's row (HTMX), its page (no HTMX) and the printed agreement carry decrypted data: no
    # browser cache, proxy or back-button copy may keep them.
    case = _concluded(med)
    party = case.parties.get(role="applicant")
    _login(client, med.cast.mediator)
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    for response in [
        client.post(url, {"reason": "通知当事人"}, HTTP_HX_REQUEST="true"),
        client.post(url, {"reason": "通知当事人"}),
        client.get(f"/mediation/cases/{case.code}/agreement/"),
    ]:
        assert response.status_code == 200 and "张三丰" in response.content.decode()
        assert "no-store" in response["Cache-Control"]
    assert PersonalDataAccess.objects.count() == 4  # two reveals, the print logs both parties


def test_a_failure_while_revealing_logs_no_decrypted_name_or_address(client, med, monkeypatch):
    # A failure whose text carries the revealed values (as a template error carries its context) is
    # logged as "Internal Server Error" with the traceback: the ID number and phone have patterns the
    # log filter knows, the name and the address have none. The filter masks what the request
    # decrypted, wherever it turns up in that request's log lines.
    from mediation import views

    def broken_render(request, template, context, **kwargs):
        raise RuntimeError(f"cannot render {context.get('revealed')}")

    case = med.accepted()
    party = case.parties.get(role="applicant")
    monkeypatch.setattr(views, "render", broken_render)
    client.raise_request_exception = False
    with masked_log() as log:
        response = _login(client, med.cast.mediator).post(
            f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/", {"reason": "通知当事人"}
        )
    logged = log.getvalue()
    assert response.status_code == 500 and "Internal Server Error" in logged and "cannot render" in logged
    for raw in ["张三丰", ID_1, "13812345678", "甲区春晖路12号3栋"]:
        assert raw not in logged, logged
    assert "张**" in logged and "138****5678" in logged


def test_the_browser_is_asked_not_to_remember_typed_personal_data(client, med):
    # Form history at a shared desk would offer one party's details to the next person typing there.
    import re

    case = med.accepted()
    _login(client, med.cast.mediator)
    for url, names in [
        ("/mediation/cases/new/", r"party\d_(?:name|id_number|phone|address)"),
        (f"/mediation/cases/{case.code}/", r"(?:name|id_number|phone|address)"),  # the parties' edit forms
    ]:
        tags = re.findall(rf'<input[^>]*name="(?:{names})"[^>]*>', client.get(url).content.decode())
        assert len(tags) >= 8 and all('autocomplete="off"' in tag for tag in tags), tags


def test_an_accepted_case_can_end_on_a_refusal_from_the_page_and_offers_no_other_outcome(client, med):
    case = med.accepted()
    url = f"/mediation/cases/{case.code}/"
    html = _login(client, med.cast.mediator).get(url).content.decode()
    conclude = html[html.index('data-action-form="conclude"') :]
    outcomes = re.findall(r'<option value="(\w+)">', conclude[: conclude.index("</select>")])
    assert outcomes == ["withdrawn", "refused"]
    # Folded: the usual next step of an accepted case is its first session, not its end.
    assert re.search(r'<details class="med-action">\s*<summary>Conclude', html)
    response = client.post(
        f"{url}act/", {"action": "conclude", "outcome": "success_oral", "agreement_terms": "x"}
    )
    assert response.status_code == 409 and "no mediation has taken place yet" in response.content.decode()
    response = client.post(
        f"{url}act/", {"action": "conclude", "outcome": "refused", "note": "被申请人拒绝调解"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("concluded", "refused")


def test_an_overdue_case_offers_no_extension_and_refuses_one_with_409(client, med):
    case = med.in_mediation()
    DisputeCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    url = f"/mediation/cases/{case.code}/"
    html = _login(client, med.cast.mediator).get(url).content.decode()
    assert 'data-action-form="extend"' not in html and 'data-action-form="conclude"' in html
    response = client.post(f"{url}act/", {"action": "extend", "consent": "on"})
    assert (
        response.status_code == 409 and "Cannot extend: the time limit ended on" in response.content.decode()
    )
    case.refresh_from_db()
    assert not case.extended and case.due_at < timezone.now()


def test_the_case_page_shows_the_facts_and_responsibilities_of_the_agreement(client, med):
    case = _concluded(med)
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    assert re.search(r"<dt>Facts and responsibilities</dt><dd>楼上漏水，责任在李四。</dd>", html)


def _step_form(html, action):
    """The <details> of one step on the case page, from its summary to its closing tag."""
    form = html[html.index(f'data-action-form="{action}"') :]
    details = html[: html.index(f'data-action-form="{action}"')].rsplit("<details", 1)[1]
    return "<details" + details + form[: form.index("</details>")]


def _tag(html, element_id):
    """The opening tag of the element with this id."""
    at = html.index(f'id="{element_id}"')
    return html[html.rindex("<", 0, at) : html.index(">", at) + 1]


def test_a_conclusion_the_form_cannot_read_still_reports_every_other_field_at_once(client, med):
    """An amount of -5 stopped the step at the form, so the missing terms came one submit later; and
    the browser's own check (no novalidate) named one empty field at a time."""
    from governance.models import OutboxMessage

    case = med.in_mediation()
    _login(client, med.cast.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'data-action-form="conclude" novalidate>' in _step_form(page, "conclude")
    outbox = OutboxMessage.objects.count()
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "conclude", "outcome": "success_oral", "agreement_amount": "-5", "note": "当场调解"},
    )
    assert response.status_code == 400
    step = _step_form(response.content.decode(), "conclude")
    for element_id, message in (
        ("amount", "Ensure this value is greater than or equal to 0."),
        ("terms", "Write down the terms the parties agreed."),
    ):
        assert 'aria-invalid="true"' in _tag(step, element_id), element_id
        assert f'<span class="error field-error" id="{element_id}-error">{message}</span>' in step
    assert '<option value="success_oral" selected>' in step
    assert 'value="-5"' in _tag(step, "amount") and 'value="当场调解"' in step
    # The banner names the field of each message, as the page labels it (it printed the bare message).
    banner = re.search(
        r'<p class="med-alert" role="alert" id="action-error">([^<]*)</p>', response.content.decode()
    )
    assert "Amount agreed (yuan): Ensure this value is greater than or equal to 0." in banner.group(
        1
    ).replace("&#x27;", "'")
    case.refresh_from_db()
    assert (case.status, case.outcome) == ("in_mediation", "")
    assert list(case.events.values_list("action", flat=True)) == ["register", "accept", "start"]
    assert OutboxMessage.objects.count() == outbox  # the step was only asked: nothing written


def test_a_refused_conclusion_keeps_everything_typed_and_names_the_field(client, med):
    """Concluding with the performance deadline before the agreement date came back with a banner
    only: every field blank again and the outcome reset, so the mediator typed the agreement twice."""
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=20))
    today = timezone.localdate()
    _login(client, med.cast.mediator)
    data = {
        "action": "conclude",
        "outcome": "success_written",
        "agreement_facts": "楼上漏水 <责任> 在李四",
        "agreement_terms": "李四赔偿维修费2000元",
        "agreement_amount": "2000.50",
        "performance_method": "银行转账",
        "agreement_effective_on": (today - dt.timedelta(days=3)).isoformat(),
        "performance_due": (today - dt.timedelta(days=5)).isoformat(),
        "note": "双方签字",
    }
    response = client.post(f"/mediation/cases/{case.code}/act/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="action-error"' in html  # the banner stays
    step = _step_form(html, "conclude")
    assert step.startswith('<details class="med-action" open>')
    assert '<option value="success_written" selected>' in step
    assert ">楼上漏水 &lt;责任&gt; 在李四</textarea>" in step  # kept, and escaped
    assert ">李四赔偿维修费2000元</textarea>" in step
    for value in ("2000.50", "银行转账", data["agreement_effective_on"], data["performance_due"], "双方签字"):
        assert f'value="{value}"' in step
    due = _tag(step, "perf-due")
    assert 'aria-invalid="true"' in due and 'aria-describedby="perf-due-error"' in due
    error = step[step.index('id="perf-due-error"') :].split("</span>")[0]
    assert "cannot be carried out before it takes effect" in error
    # The deadline's lower bound is the agreement date (today's until one is chosen).
    assert f'min="{data["agreement_effective_on"]}"' in due
    assert DisputeCase.objects.get(pk=case.pk).status == "in_mediation"
    fresh = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert f'min="{today.isoformat()}"' in _tag(_step_form(fresh, "conclude"), "perf-due")
    data["performance_due"] = today.isoformat()
    assert client.post(f"/mediation/cases/{case.code}/act/", data).status_code == 302
    case.refresh_from_db()
    assert case.outcome == "success_written" and case.agreement_facts == "楼上漏水 <责任> 在李四"


def test_a_refused_failure_keeps_the_routes_ticked_and_other_steps_blank(client, med):
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "conclude", "outcome": "failure", "other_routes": ["litigation", "bogus"], "note": "未果"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    step = _step_form(html, "conclude")
    assert '<option value="failure" selected>' in step and 'value="litigation" checked' in step
    assert 'id="routes-error"' in step and "bogus is not one of the available choices" in step
    response = client.post(
        f"/mediation/cases/{case.code}/act/", {"action": "conclude", "outcome": "failure", "note": "未果"}
    )
    step = _step_form(response.content.decode(), "conclude")
    assert 'aria-describedby="routes-error"' in step and "Say which other routes" in step
    # Only the refused step is refilled: the note typed there is not copied into the others.
    assert 'value="未果"' not in _step_form(html, "extend")


def test_the_accept_form_lists_the_accepting_head_once(client, med):
    """The head saw "— myself —" and their own name again in the mediator list."""
    case = med.register()
    html = _login(client, med.head_x).get(f"/mediation/cases/{case.code}/").content.decode()
    options = html.split('id="mediator-accept"')[1].split("</select>")[0]
    assert "— myself —" in options and str(med.head_x) not in options
    assert f'value="{med.head_x.pk}"' not in options and f'value="{med.mediator_x2.pk}"' in options
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "accept", "mediator": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.mediator == med.head_x


def test_a_refused_accept_keeps_the_chosen_mediator(client, med):
    case = med.register()
    _login(client, med.head_x)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "accept", "mediator": str(med.mediator_y.pk), "note": "转交"},
    )
    assert response.status_code == 400
    step = _step_form(response.content.decode(), "accept")
    assert 'id="mediator-accept-error"' in step and "must be a member" in step
    assert 'value="转交"' in step
    assert DisputeCase.objects.get(pk=case.pk).status == "registered"


def _errors_after(html, name):
    """The error list rendered right after the input ``name`` (before the next label)."""
    after = html[html.index(f'name="{name}"') :]
    after = after[after.index(">") + 1 :]
    return after[: after.index("<label")]


def test_one_register_submit_reports_every_error(client, med):
    """The first submit flagged only the amount and the missing name; the bad area, date, ID number
    and phone came only on the second (the service's checks ran once the form's own passed)."""
    _login(client, med.cast.mediator)
    data = {
        "category": "neighbours", "origin": "application", "area": "999", "description": "噪音",
        "received_at": "2031-01-01T09:00", "amount": "-5",
        "party0_role": "applicant", "party0_name": "王五", "party0_id_number": "123", "party0_phone": "abc",
        "party1_role": "respondent", "party1_name": "", "party2_role": "other",
    }  # fmt: skip
    response = client.post("/mediation/cases/new/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Unknown grid or community 999" in _errors_after(html, "area")
    assert "cannot be in the future" in _errors_after(html, "received_at")
    assert "greater than or equal to 0" in _errors_after(html, "amount")
    assert "17 digits" in _errors_after(html, "party0_id_number")
    assert "errorlist" in _errors_after(html, "party0_phone")
    assert "errorlist" in _errors_after(html, "party1_name")
    # One message per field: the service's "give the name" does not repeat the form's "required".
    assert _errors_after(html, "party1_name").count("<li>") == 1
    assert _errors_after(html, "amount").count("<li>") == 1
    assert "at least two parties" not in html
    assert DisputeCase.objects.count() == 0


def test_the_register_page_offers_the_places_in_the_users_reach(client, med, monkeypatch):
    """The area was a bare text box for a 12-15 digit code typed from memory; petition intake had a
    list. The page now lists the communities and grids the user may register for, each code with its
    name, and still takes a typed code."""
    from mediation import selectors

    _login(client, med.cast.mediator)
    html = client.get("/mediation/cases/new/").content.decode()
    assert 'list="area-choices"' in _tag(html, "id_area")
    listed = html.split('<datalist id="area-choices">')[1].split("</datalist>")[0]
    grid = med.cast.grid_a
    assert f'<option value="{grid.code}">{grid.parent.name} · {grid.name}</option>' in listed
    assert f'<option value="{med.cast.community_a1a.code}">{med.cast.community_a1a.name}</option>' in listed
    assert med.cast.community_b1a.code not in listed  # another district: not in reach
    assert med.cast.street_a1.code not in listed  # a street is not a place a case is registered for
    data = {
        "category": "neighbours", "origin": "application", "area": grid.code, "description": "噪音",
        "party0_role": "applicant", "party0_name": "王五", "party1_role": "respondent", "party1_name": "赵六",
        "party2_role": "other",
    }  # fmt: skip
    assert client.post("/mediation/cases/new/", data).status_code == 302
    assert DisputeCase.objects.get().area == grid
    # Too many places for one list (a district's thousands of grids): the communities only.
    monkeypatch.setattr(selectors, "AREA_CHOICES_MAX", 3)
    html = client.get("/mediation/cases/new/").content.decode()
    listed = html.split('<datalist id="area-choices">')[1].split("</datalist>")[0]
    assert med.cast.community_a1a.code in listed and grid.code not in listed
    assert "type a grid&#x27;s code" in html or "type a grid's code" in html


def test_dispute_categories_are_named_in_the_pages_language(client, med, settings):
    """As the incident categories: the shipped ones have English names for English pages."""
    case = med.register()  # neighbours
    _login(client, med.cast.mediator)
    english = client.get("/mediation/cases/").content.decode()
    assert re.search(r'<option value="neighbours"[^>]*>Neighbours</option>', english)
    assert ">Neighbours</td>" in english and "邻里纠纷" not in english
    assert "<dd>Neighbours</dd>" in client.get(f"/mediation/cases/{case.code}/").content.decode()
    settings.LANGUAGE_CODE = "zh-hans"
    chinese = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "<dd>邻里纠纷</dd>" in chinese


def test_an_agreement_for_no_money_keeps_its_amount_of_zero(client, med):
    """An amount agreed of 0 (an apology, no payment) was dropped by the page as if blank, because
    Decimal 0 equals False: the agreement then showed and printed no amount at all."""
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {
            "action": "conclude",
            "outcome": "success_written",
            "agreement_facts": "噪音扰邻，双方各有责任",
            "agreement_terms": "互相道歉，不赔偿",
            "agreement_amount": "0",
            "performance_method": "当场履行",
            "performance_due": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.outcome == "success_written" and case.agreement_amount == 0
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert "Amount agreed" in html


def test_persons_typed_for_a_fact_not_ticked_are_named_not_dropped(client, med):
    """Ticking "criminal escalation prevented" and typing the persons of a group dispute without
    ticking its box recorded the escalation and dropped the 30 persons without a word."""
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {
            "action": "record_prevention",
            "escalation_prevented": "on",
            "escalation_persons": "2",
            "group_persons": "30",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    field = re.search(r'<input type="checkbox" name="group_defused"[^>]*>', html)[0]
    assert 'aria-invalid="true"' in field and 'aria-describedby="group-defused-error"' in field
    assert re.search(r'id="group-defused-error">[^<]*tick it', html)
    case.refresh_from_db()
    assert not case.escalation_prevented and case.prevention_recorded_at is None
    assert not case.events.filter(action="record_prevention").exists()


def test_persons_past_what_a_case_can_involve_are_a_400_naming_the_field(client, med):
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "record_prevention", "group_defused": "on", "group_persons": "5000000"},
    )
    assert response.status_code == 400
    assert 'aria-describedby="group-persons-error"' in response.content.decode()
    case.refresh_from_db()
    assert (case.group_defused, case.group_persons, case.persons_involved) == (False, 0, 2)
    assert not case.events.filter(action="record_prevention").exists()


def _form_key(html: str, form_id: str | None = None) -> str:
    if form_id is not None:
        html = html[html.index(f'id="{form_id}"') :]
    return re.search(r'name="submission" value="([0-9a-f-]{36})"', html).group(1)


def test_the_register_and_session_forms_sent_twice_save_once(client, med):
    """A double click on Register (or Save the session), or a resend after a lost answer: the case was
    registered twice under two numbers, the session recorded twice."""
    _login(client, med.cast.mediator)
    key = _form_key(client.get("/mediation/cases/new/").content.decode())
    assert key != _form_key(client.get("/mediation/cases/new/").content.decode())  # a new key for each form
    data = {
        "category": "neighbours", "origin": "application", "area": med.cast.grid_a.code, "description": "噪音",
        "party0_role": "applicant", "party0_name": "王五", "party1_role": "respondent", "party1_name": "赵六",
        "party2_role": "other", "submission": key,
    }  # fmt: skip
    first = client.post("/mediation/cases/new/", data)
    again = client.post("/mediation/cases/new/", data)
    assert first.status_code == again.status_code == 302 and first.url == again.url
    assert DisputeCase.objects.count() == 1
    # The key is a hidden input without a label of its own; a broken one is replaced, not an error.
    refused = client.post("/mediation/cases/new/", {**data, "description": "", "submission": "x"})
    html = refused.content.decode()
    assert refused.status_code == 400 and 'value="x"' not in html and _form_key(html)
    assert 'for="id_submission"' not in html

    case = DisputeCase.objects.get()
    case.transition(action="accept", actor=med.cast.mediator, mediator=med.cast.mediator.pk)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'for="id_submission"' not in page
    session = {
        "held_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "place": "调解室", "attendees": "双方",
        "summary": "达成初步意见", "submission": _form_key(page, "session-form"),
    }  # fmt: skip
    assert client.post(f"/mediation/cases/{case.code}/sessions/", session).status_code == 302
    assert client.post(f"/mediation/cases/{case.code}/sessions/", session).status_code == 302
    assert DisputeSession.objects.count() == 1
    # Sent again once the case has gone to another committee: the case list says where, not a 404.
    case.transition(action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属地")
    late = client.post("/mediation/cases/new/", data, follow=True)
    assert late.status_code == 200 and late.redirect_chain[-1][0] == "/mediation/cases/"
    assert case.code in late.content.decode() and med.org_y.name in late.content.decode()
    assert DisputeCase.objects.count() == 1


def test_the_case_list_filter_form_sent_as_shown_lists_the_cases(client, med):
    """The status filter refused the empty "any" value the form sends: a 400 and no cases."""
    med.register()
    _login(client, med.cast.mediator)
    query = filter_form_as_shown(client.get("/mediation/cases/").content.decode())
    assert "status=" in query.split("&")
    response = client.get(f"/mediation/cases/?{query}")
    assert response.status_code == 200 and response.content.decode().count("data-case=") == 1


def test_the_head_filters_the_organisation_page_by_a_closed_status_as_the_form_is_shown(client, med):
    """The page opens with "open only" at "yes"; a head who then chose the status "declined" and
    pressed Filter sent open=true with it and was told the organisation had no such case."""
    declined = med.register()
    declined.transition(action="decline", actor=med.head_x, note="不属于调解范围", suggested_route="诉讼")
    _login(client, med.head_x)
    query = filter_form_as_shown(client.get(f"/mediation/organisations/{med.org_x.pk}/").content.decode())
    assert "open=true" in query
    query = query.replace("status=&", "status=declined&")
    response = client.get(f"/mediation/organisations/{med.org_x.pk}/?{query}")
    assert response.status_code == 200 and declined.code in response.content.decode()


def test_past_the_confirmation_window_the_application_step_no_longer_opens_with_today(client, med):
    """Weeks after the 30-day window closed, every successful case's page still opened "apply for
    judicial confirmation" filled in with today, a day the step refuses; its date picker offered
    days up to today. It stays, folded, for an application made in time and recorded late."""
    case = med.agreed(effective_days_ago=45)
    assert case.confirmation_due < timezone.localdate()
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    step = _step_form(html, "apply_confirmation")
    assert step.startswith('<details class="med-action">')
    applied = _tag(step, "applied-on")
    assert f'max="{case.confirmation_due.isoformat()}"' in applied and 'value=""' in applied
    running = med.agreed(effective_days_ago=3)
    html = client.get(f"/mediation/cases/{running.code}/").content.decode()
    step = _step_form(html, "apply_confirmation")
    assert step.startswith('<details class="med-action" open>')
    today = timezone.localdate().isoformat()
    assert f'max="{today}"' in _tag(step, "applied-on") and f'value="{today}"' in _tag(step, "applied-on")


def test_the_court_decision_and_the_follow_up_are_chosen_not_preset(client, med):
    """The court-decision step opens by itself once an application is recorded, and its select stood
    at "confirmed" (the follow-up's at "performed"): one click on the step's button recorded a
    confirmation nobody chose. Sent as shown, each is a 400 naming its field; nothing is recorded."""
    case = med.agreed(effective_days_ago=3)
    case.transition(action="apply_confirmation", actor=case.mediator, joint=True)
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    for action, field in (("record_confirmation", "result"), ("follow_up", "performance")):
        step = _step_form(html, action)
        select = step[step.index(f'id="{field}"') :].split("</select>")[0]
        assert "selected" not in select and select.split("<option ", 2)[1].startswith('value=""')
        response = client.post(f"/mediation/cases/{case.code}/act/", {"action": action, field: ""})
        assert response.status_code == 400 and 'aria-invalid="true"' in _tag(response.content.decode(), field)
    case.refresh_from_db()
    assert case.judicial_status == "applied" and case.follow_up == ""


def test_a_revealed_party_can_still_be_corrected_from_its_row(client, med):
    """Seeing a party's details is often why a mediator corrects them, but the revealed row kept only
    "shown and logged": the Edit form was gone until the page was reloaded (and masked again). Once
    the case is concluded its parties no longer change, revealed or not."""
    case = med.accepted()
    party = case.parties.get(role="applicant")
    edit = f'action="/mediation/cases/{case.code}/parties/{party.pk}/edit/"'
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/"
    response = _login(client, med.cast.mediator).post(url, {"reason": "核对电话"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "张三丰" in html and html.count(edit) == 1 and 'name="csrfmiddlewaretoken"' in html
    case.transition(action="conclude", actor=med.cast.mediator, outcome="withdrawn")
    html = client.post(url, {"reason": "核对电话"}, HTTP_HX_REQUEST="true").content.decode()
    assert "张三丰" in html and edit not in html


def test_a_party_edit_on_a_concluded_case_is_refused_as_a_step_from_the_wrong_state(client, med):
    """The edit of a concluded case's party was refused with a 400, as if a field were wrong; the
    case page's steps refused from the wrong state answer 409, and so does the API."""
    case = med.accepted()
    party = case.parties.get(role="applicant")
    address = party.address
    case.transition(action="conclude", actor=med.cast.mediator, outcome="withdrawn")
    url = f"/mediation/cases/{case.code}/parties/{party.pk}/edit/"
    response = _login(client, med.cast.mediator).post(url, {"address": "新地址1号"})
    assert response.status_code == 409
    assert "The case is concluded: its parties can no longer change." in response.content.decode()
    party.refresh_from_db()
    assert party.address == address and not case.events.filter(action="update_party").exists()


def test_a_mediator_converting_an_incident_is_offered_only_their_own_organisations(
    client, med, dispute_incident
):
    """The page offered a mediator the committee of the incident's community and the centres above
    it, as it offers a handler who refers the case; registering for another organisation is refused
    to a mediator, so each of those choices came back as "registers for their own organisation"."""
    member = make_user("committee_head", Role.MEDIATOR, med.cast.community_a1a)
    committee = make_org(
        "春晖社区人民调解委员会",
        MediationOrganisation.Kind.COMMITTEE,
        med.cast.community_a1a,
        [(member, True)],
    )
    url = f"/mediation/from-incident/{dispute_incident.code}/"
    html = _login(client, med.cast.mediator).get(url).content.decode()
    # The only one offered, so chosen already.
    assert (
        f'<option value="{med.org_x.pk}" selected>' in html and f'<option value="{committee.pk}"' not in html
    )
    html = _login(client, med.cast.community_handler).get(url).content.decode()
    assert f'<option value="{med.org_x.pk}">' in html and f'<option value="{committee.pk}">' in html
    response = client.post(url, {"category": "neighbours", "organisation": committee.pk})
    assert response.status_code == 302 and DisputeCase.objects.get().organisation == committee


def test_the_case_page_keeps_each_date_of_the_outcome_on_one_line(client, med):
    """On a phone in English the outcome read "Success: written agreement · 2026-12-" with "07" on
    the next line: the dates after the outcome, the performance, the window and the follow-up could
    break at their hyphens, as those of the court's application no longer did."""
    case = med.agreed(effective_days_ago=6)
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    concluded = timezone.localdate(case.concluded_at).isoformat()
    outcome = html[html.index("<dt>Outcome</dt>") :].split("</dd>")[0]
    assert f'<span class="nowrap">{concluded}</span>' in outcome
    method = html[html.index("<dt>How it is carried out</dt>") :].split("</dd>")[0]
    assert f'by <span class="nowrap">{case.performance_due.isoformat()}</span>' in method
    confirmation = html[html.index("<dt>Judicial confirmation</dt>") :].split("</dd>")[0]
    assert f'apply by <span class="nowrap">{case.confirmation_due.isoformat()}</span>' in confirmation
    case.transition(action="follow_up", actor=case.mediator, performance="performed")
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    follow_up = html[html.index("<dt>Follow-up</dt>") :].split("</dd>")[0]
    assert f'<span class="nowrap">{timezone.localdate(case.follow_up_at).isoformat()}</span>' in follow_up


def test_the_case_list_keeps_the_confirmation_date_on_one_line(client, med):
    """On a phone the status cell read "confirm by 2026-" / "12-10": the date is written with
    non-breaking hyphens, as the petition registry's countdown does."""
    case = med.agreed(effective_days_ago=25)
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/cases/").content.decode()
    assert "confirm by " + case.confirmation_due.strftime("%Y\u2011%m\u2011%d") in html


def test_the_case_page_dates_the_application_to_the_court(client, med):
    """The facts read "applied" with no date, so nobody could tell from the page how long the court had
    had the application, nor which day the decision may not precede; the decision's date stood alone."""
    case = med.agreed(effective_days_ago=6)
    applied = timezone.localdate() - dt.timedelta(days=4)
    case.transition(action="apply_confirmation", actor=case.mediator, joint=True, applied_on=applied)
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    facts = html[html.index("<dt>Judicial confirmation</dt>") :].split("</dd>")[0]
    assert f'applied to court on <span class="nowrap">{applied.isoformat()}</span>' in facts
    decided = timezone.localdate() - dt.timedelta(days=1)
    case.transition(action="record_confirmation", actor=case.mediator, result="confirmed", decided_on=decided)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    facts = html[html.index("<dt>Judicial confirmation</dt>") :].split("</dd>")[0]
    assert f'court decided on <span class="nowrap">{decided.isoformat()}</span>' in facts
    assert applied.isoformat() in facts


def test_a_deactivated_mediator_is_not_offered_to_take_a_case(client, med):
    """Someone who left keeps their membership row (the workload page still shows their open cases,
    to be handed on), but the accept and reassign lists offered them, and choosing them was refused
    with "the mediator must be a member of the organisation"."""
    med.mediator_x2.is_active = False
    med.mediator_x2.save(update_fields=["is_active"])
    registered, accepted = med.register(), med.accepted()
    gone = f'<option value="{med.mediator_x2.pk}"'
    _login(client, med.head_x)
    for case, action in ((registered, "accept"), (accepted, "reassign")):
        step = _step_form(client.get(f"/mediation/cases/{case.code}/").content.decode(), action)
        assert f'<option value="{med.cast.mediator.pk}"' in step and gone not in step
    html = client.get(f"/mediation/organisations/{med.org_x.pk}/").content.decode()
    assert 'data-member="mediator_x2"' in html and gone not in html


def test_a_mediator_without_an_organisation_is_told_so_and_offered_none(client, med):
    """A mediator not yet in any organisation was offered the organisations of their area on the
    register page, as a handler referring a case is, and each choice was refused with "a mediator
    registers cases for their own organisation"."""
    newcomer = make_user("newcomer", Role.MEDIATOR, med.cast.street_a1)
    html = _login(client, newcomer).get("/mediation/cases/new/").content.decode()
    assert 'id="no-organisation"' in html and f'<option value="{med.org_x.pk}"' not in html
    html = _login(client, med.cast.community_handler).get("/mediation/cases/new/").content.decode()
    assert 'id="no-organisation"' not in html and f'<option value="{med.org_x.pk}"' in html
    html = _login(client, med.cast.mediator).get("/mediation/cases/new/").content.decode()
    assert 'id="no-organisation"' not in html and f'<option value="{med.org_x.pk}"' in html


def test_a_party_still_to_be_completed_reads_so_not_as_a_masked_name(client, med, dispute_incident):
    """A case converted from a grid incident names its parties by a placeholder, which lists, the case
    page and the API masked like a name ("(****************"): nobody could tell that the parties were
    still to be completed without a reveal, logged as seeing someone's personal data."""
    _login(client, med.cast.community_handler).post(
        f"/mediation/from-incident/{dispute_incident.code}/",
        {"category": "neighbours", "organisation": med.org_x.pk},
    )
    case = DisputeCase.objects.get()
    html = _login(client, med.cast.mediator).get(f"/mediation/cases/{case.code}/").content.decode()
    parties = html[html.index('<h2 id="parties-title">Parties</h2>') :].split("</table>")[0]
    assert parties.count("(to be completed)") == 2 and "(**" not in parties
    listed = client.get("/mediation/cases/").content.decode()
    assert "(to be completed), (to be completed)" in listed and "、" not in listed.split("<tbody>")[1]
    body = api_client(med.cast.mediator).get(f"/api/v1/disputes/{case.code}/").json()
    assert [p["name"] for p in body["parties"]] == ["(to be completed)"] * 2
    assert PersonalDataAccess.objects.count() == 0


def test_an_amount_with_a_third_decimal_is_named_with_the_other_errors(client, med):
    """The register form took any number of decimals; the case stores yuan and fen, so 1.234 was
    refused by the model only after every other field was right: a second round for one error."""
    data = {
        "category": "neighbours", "origin": "application", "area": med.cast.grid_a.code, "description": "",
        "amount": "1.234", "party0_role": "applicant", "party0_name": "王五",
        "party1_role": "respondent", "party1_name": "赵六", "party2_role": "other",
    }  # fmt: skip
    response = _login(client, med.cast.mediator).post("/mediation/cases/new/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "errorlist" in _errors_after(html, "description")
    assert "2 decimal places" in _errors_after(html, "amount")
    assert DisputeCase.objects.count() == 0


def test_a_huge_number_of_people_is_named_with_the_other_errors(client, med):
    """The register form had no upper bound for the people involved (the API has 100,000): 99999999999
    passed it and was refused by the model's integer range only once every other field was right."""
    data = {
        "category": "neighbours", "origin": "application", "area": med.cast.grid_a.code, "description": "",
        "persons_involved": "99999999999", "party0_role": "applicant", "party0_name": "王五",
        "party1_role": "respondent", "party1_name": "赵六", "party2_role": "other",
    }  # fmt: skip
    response = _login(client, med.cast.mediator).post("/mediation/cases/new/", data)
    html = response.content.decode()
    assert response.status_code == 400 and "errorlist" in _errors_after(html, "description")
    assert "less than or equal to 100000" in _errors_after(html, "persons_involved")
    assert DisputeCase.objects.count() == 0


def test_an_empty_register_post_names_the_missing_fields_with_a_400(client, med):
    # An empty body was read as "no form sent": the service check then read an unbound form (500).
    _login(client, med.cast.mediator)
    response = client.post("/mediation/cases/new/", {})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    assert not DisputeCase.objects.exists()


def test_an_empty_conversion_post_is_a_400_naming_the_category(client, med, dispute_incident):
    # An empty body was read as "no form sent" and the blank form came back with a 200, as if asked for.
    _login(client, med.cast.community_handler)
    # Each missing field says which: both said "This field is required.", naming neither.
    response = client.post(f"/mediation/from-incident/{dispute_incident.code}/", {})
    html = response.content.decode()
    assert response.status_code == 400 and "This field is required." not in html
    assert "Choose a category." in html and "Choose the organisation that takes the case." in html
    assert not DisputeCase.objects.exists()


def test_the_paged_case_lists_have_a_total_order(client, med):
    # Cases that tie on deadline and receipt had no fixed order across pages (one shown twice, one never).
    med.in_mediation()
    _login(client, med.head_x)
    page = client.get(f"/mediation/organisations/{med.org_x.pk}/").context["page"]
    assert page.object_list.query.order_by[-1] == "-pk"
    assert client.get("/mediation/cases/").context["page"].object_list.query.order_by[-1] == "-id"


def test_the_desk_counts_every_case_waiting_and_links_to_the_rest(client, med, monkeypatch):
    # It listed the first 50 waiting for acceptance and left the rest unmentioned.
    from mediation import views

    monkeypatch.setattr(views, "INTAKE_SHOWN", 2)
    waiting = [med.register() for _i in range(3)]
    _login(client, med.cast.mediator)
    html = client.get("/mediation/").content.decode()
    assert 'Waiting for acceptance in my organisations <span class="status">3</span>' in html
    assert 'id="intake-more"' in html and 'href="/mediation/cases/?status=registered"' in html
    listed = client.get("/mediation/cases/?status=registered").content.decode()
    assert all(case.code in listed for case in waiting)
    monkeypatch.setattr(views, "INTAKE_SHOWN", 50)
    assert 'id="intake-more"' not in client.get("/mediation/").content.decode()


def test_a_step_sent_twice_is_taken_once_and_answered_as_done(client, med):
    # The second send of a form (a retry, a second tap before the first answer) was refused with a
    # 409 over a step the first had just taken; the API's retry after a lost answer too.
    case = med.accepted()
    _login(client, med.cast.mediator)
    start = {"action": "start", "state": "accepted"}
    first = client.post(f"/mediation/cases/{case.code}/act/", start)
    again = client.post(f"/mediation/cases/{case.code}/act/", start)
    assert first.status_code == again.status_code == 302
    assert case.events.filter(action="start").count() == 1
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    latest = case.events.latest("id").pk  # forms drawn now, with the latest event (docs/mediation.md)
    assert f'<input type="hidden" name="state" value="in_mediation@{latest}">' in html
    other = med.accepted()
    url = f"/api/v1/disputes/{other.code}/transition/"
    api = api_client(med.cast.mediator)
    assert api.post(url, start, format="json").status_code == 200
    retried = api.post(url, start, format="json")
    assert retried.status_code == 200 and retried.json()["status"] == "in_mediation"
    assert other.events.filter(action="start").count() == 1
    # Without the state, or after another user's step, it is refused as before.
    assert api.post(url, {"action": "start"}, format="json").status_code == 409
    DisputeCase.objects.filter(pk=other.pk).update(mediator=med.mediator_x2)
    assert api_client(med.mediator_x2).post(url, start, format="json").status_code == 409


# --- a step that leaves the status as it is, sent twice ---------------------------------------


def test_a_step_that_keeps_the_status_sent_twice_is_taken_once(client, med):
    # The state a form remembers does not move with such a step, so a second tap was taken again
    # (two follow-up visits) or refused as a conflict (a second application for confirmation).
    case = med.agreed(effective_days_ago=3)
    _login(client, case.mediator)
    url = f"/mediation/cases/{case.code}/act/"
    apply = {"action": "apply_confirmation", "state": "concluded", "joint": "on"}
    apply["applied_on"] = timezone.localdate().isoformat()
    follow = {"action": "follow_up", "state": "concluded", "performance": "performed"}
    for form in (apply, apply, follow, follow):
        assert client.post(url, form).status_code == 302
    assert case.events.filter(action="apply_confirmation").count() == 1
    assert case.events.filter(action="follow_up").count() == 1
    # Another visit, with what it found, is its own event.
    assert client.post(url, {**follow, "performance": "partly"}).status_code == 302
    assert case.events.filter(action="follow_up").count() == 2


def test_an_extension_sent_twice_is_the_first_and_a_later_one_is_still_refused(client, med):
    case = med.in_mediation()
    _login(client, case.mediator)
    url = f"/mediation/cases/{case.code}/act/"
    form = {"action": "extend", "state": "in_mediation", "consent": "on"}
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302  # the second tap: answered as done
    assert case.events.filter(action="extend").count() == 1
    # Past the moment of sending twice, it is what it is: a second extension, refused.
    case.events.filter(action="extend").update(at=timezone.now() - dt.timedelta(hours=1))
    refused = client.post(url, form)
    assert refused.status_code == 409 and "already extended once" in refused.content.decode()
    assert case.events.filter(action="extend").count() == 1


def test_a_heads_home_counts_the_closing_windows_its_desk_lists(client, med):
    # The home page counted the head's own cases only: 0, while the desk it links to listed the
    # organisation's case whose confirmation window was closing.
    from tests.base import every_day_working

    every_day_working(-10, 39)
    closing = med.agreed(effective_days_ago=26)  # cast.mediator's case; head_x heads its organisation
    client.force_login(med.head_x)
    desk = client.get("/mediation/").content.decode()
    assert closing.code in desk.split('id="closing"')[1]
    home = client.get("/").content.decode()
    link = re.search(r'href="/mediation/#closing"[^>]*>(.*?)</a>', home, re.S).group(1)
    assert re.search(r"\b1\b", re.sub(r"<[^>]+>", " ", link)), link


@pytest.mark.parametrize(
    "data, fields, message",
    [
        ({"id_number": "123456"}, ["id_number"], "ID number"),
        ({"phone": "13800001111", "clear": ["phone"]}, ["phone"], "not both"),
        ({}, ["name"], "Enter what should change."),
    ],
    ids=["bad-id-number", "phone-and-clear", "nothing"],
)
def test_a_refused_party_edit_marks_the_field_in_error_and_labels_every_field(
    client, med, data, fields, message
):
    """The row's error was announced after the Save button, but no field was marked, and the inputs
    had only a placeholder (gone once typed in) and an aria-label. Each has a label now, and the
    field in error is aria-invalid, described by the row's message (an id of its own per party)."""
    case = med.in_mediation()
    party = case.parties.first()
    _login(client, med.cast.mediator)
    page = client.get(f"/mediation/cases/{case.code}/").content.decode()
    response = client.post(f"/mediation/cases/{case.code}/parties/{party.pk}/edit/", data)
    assert response.status_code == 400
    html = response.content.decode()
    error = f"party-{party.pk}-edit-error"
    assert attrs_of(html, error)["role"] == "alert"
    for name in ("role", "name", "id_number", "phone", "address"):
        field = f"party-{party.pk}-edit-{name}"
        for shown in (page, html):
            assert f'<label for="{field}"' in shown and "aria-label" not in attrs_of(shown, field), field
        if name in fields:
            assert_marked_invalid(html, field, message)
            assert attrs_of(html, field)["aria-describedby"] == error
        else:
            assert attrs_of(html, field).get("aria-invalid") is None, field


def test_texts_the_system_writes_and_joins_follow_the_language_of_the_site_and_of_the_reader(
    med, client, settings
):
    """A party edit's timeline note was stored in the editor's language (an English editor left
    "applicant" on every Chinese reader's page); other routes were joined with "、" on English pages;
    and errors of several fields were joined with ASCII ": " and "; " on Chinese pages."""
    from django.utils import translation

    from governance.forms import errors_text
    from mediation import services
    from mediation.models import DisputeCase

    settings.LANGUAGE_CODE = "zh-hans"
    case = med.in_mediation()
    with translation.override("en"):
        services.dispute_party_update(
            case=case, party=case.parties.get(position=0), actor=case.mediator, address="新地址1号"
        )
    assert case.events.get(action="update_party").note == "申请人"
    case.transition(
        action="conclude", actor=case.mediator, outcome="failure", other_routes=["arbitration", "litigation"]
    )
    client.force_login(case.mediator)
    page = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "arbitration, litigation" in page and "arbitration、" not in page
    with translation.override("zh-hans"):
        text = errors_text({"outcome": ["请选择。"], "note": ["请填写。"]}, _OutcomeForm())
        assert text == "调解结果：请选择。；备注：请填写。"
        assert str(DisputeCase._meta.get_field("origin").verbose_name) == "案件来源"


class _OutcomeForm(forms.Form):
    outcome = forms.CharField(label=gettext_lazy("Outcome"))
    note = forms.CharField(label=gettext_lazy("Note"))


def test_the_case_list_keeps_each_masked_name_on_one_line(client, med):
    """Chinese breaks after any character: in a narrow Parties column 张**、李* broke as 张**、李 /
    *, as if 李 were a name of its own. Each masked name now wraps whole, after the 、 between names
    (a placeholder still to be completed may wrap between its words)."""
    med.accepted()
    client.force_login(med.cast.mediator)
    html = client.get("/mediation/cases/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<span class="nowrap">张**</span>、<span class="nowrap">李*</span>' in html


def test_the_case_list_and_home_separate_names_as_the_pages_language_does(client, med):
    """The list's parties and the home page's organisations were joined by a Chinese 、 on pages in
    English ("(to be completed)、(to be completed)"), which the case page had stopped doing for its
    list of routes: the separator is the interface language's, as there."""
    med.accepted()
    _login(client, med.cast.mediator)
    html = client.get("/mediation/cases/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span class="nowrap">张**</span>, <span class="nowrap">李*</span>' in html
    make_org(
        "园丁社区第二调解委员会",
        MediationOrganisation.Kind.COMMITTEE,
        med.cast.community_a1b,
        [(med.cast.mediator, False)],
    )
    home = client.get("/mediation/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    organisations = home.split("Organisations: ")[1].split("</p>")[0]
    assert organisations.count(", ") == 1 and "、" not in organisations


def test_a_session_with_faulty_fields_from_a_mediator_not_on_the_case_is_403(client, med):
    """The form was checked first: a member not assigned was shown what to fix (400), as if the fixed
    session would be recorded; it is the 403 a complete one gets."""
    case = med.accepted()
    response = _login(client, med.mediator_x2).post(f"/mediation/cases/{case.code}/sessions/", {"place": "x"})
    assert response.status_code == 403 and 'id="action-error"' in response.content.decode()
    assert not DisputeSession.objects.exists()


def test_a_step_with_faulty_fields_from_a_mediator_not_on_the_case_is_403(client, med):
    """The case page checked the form first: a member not assigned was shown what to fix (400), as if
    the fixed step would be taken; it is the 403 a complete one gets. The assigned mediator is still
    told which field (400)."""
    case = med.in_mediation()
    url = f"/mediation/cases/{case.code}/act/"
    data = {"action": "conclude", "outcome": "bogus", "agreement_amount": "abc"}
    response = _login(client, med.mediator_x2).post(url, data)
    assert response.status_code == 403 and 'id="action-error"' in response.content.decode()
    assert _login(client, med.cast.mediator).post(url, data).status_code == 400
    case.refresh_from_db()
    assert case.status == "in_mediation"


def test_the_organisation_page_costs_the_same_queries_for_more_cases(client, med):
    """The head's list of the organisation's cases (with the workload per mediator) had no query
    count asserted: a row's party, mediator or incident read per row would grow with the cases."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    med.accepted()
    _login(client, med.head_x)
    url = f"/mediation/organisations/{med.org_x.pk}/"
    client.get(url)  # warm-up
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).content.decode().count('href="/mediation/cases/DSP-') == 1
    med.in_mediation()
    for _ in range(3):
        med.accepted(mediator=med.mediator_x2)
    with CaptureQueriesContext(connection) as more:
        assert client.get(url).content.decode().count('href="/mediation/cases/DSP-') == 5
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_page_says_why_an_oral_agreement_has_no_judicial_confirmation(client, med):
    case = med.in_mediation()
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    url = f"/mediation/cases/{case.code}/"
    html = _login(client, med.cast.mediator).get(url).content.decode()
    assert 'data-action-form="apply_confirmation"' not in html
    assert "an oral agreement is not confirmed by a court" in html
    response = client.post(f"{url}act/", {"action": "apply_confirmation", "joint": "on"})
    assert response.status_code == 400
    assert "written agreement" in response.content.decode()
    case.refresh_from_db()
    assert case.judicial_status == "" and not case.events.filter(action="apply_confirmation").exists()


def test_the_status_and_outcome_badges_of_the_case_list_read_as_labels_in_english(client, med):
    """'registered', 'concluded', 'success: written agreement' in English beside capitalised cells:
    each label starts with a capital, the CSS class keeps the raw value."""
    med.register()
    med.agreed(effective_days_ago=1)
    client.force_login(med.cast.mediator)
    badges = re.findall(
        r'<span class="status ([\w-]+)">([^<]+)</span>', client.get("/mediation/cases/").content.decode()
    )
    assert {
        ("status-registered", "Registered"),
        ("status-concluded", "Concluded"),
        ("med-outcome-success_written", "Success: written agreement"),
    } <= set(badges)


def test_after_a_transfer_the_case_page_does_not_call_the_new_limit_extended(client, med):
    # Extended at one organisation and transferred, the case gets the receiving organisation's own
    # month (its one extension stays used): the page showed that month's end as "(extended)", as if
    # the parties had agreed to it, and the receiving mediator could not tell why no extension was
    # offered.
    case = med.in_mediation()
    url = f"/mediation/cases/{case.code}/"
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    html = _login(client, med.cast.mediator).get(url).content.decode()
    assert re.search(r"Conclude by</dt><dd[^>]*>[\d-]+ <span class=\"muted\">\(extended\)</span>", html)
    case.transition(
        action="transfer", actor=med.cast.mediator, organisation=med.org_y.pk, note="属社区调委会管辖"
    )
    case.transition(action="accept", actor=med.mediator_y)
    case.refresh_from_db()
    html = _login(client, med.mediator_y).get(url).content.decode()
    shown = re.search(r"Conclude by</dt><dd[^>]*>(.*?)</dd>", html)[1]
    assert timezone.localtime(case.due_at).strftime("%Y-%m-%d") in shown
    assert "(extended)" not in shown
    assert "extended before the transfer: no second extension" in shown
    assert 'id="extend-to"' not in html


def test_a_decline_sent_empty_names_the_reason_and_the_route_at_their_fields(client, med):
    """The reason was named, then (once given) the route suggested: two submits for one form."""
    case = med.register()
    _login(client, med.head_x)
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "decline", "note": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="note-decline"[^>]*aria-invalid="true"', page)
    assert re.search(r'id="route-decline"[^>]*aria-invalid="true"', page)
    assert "Give the reason for declining the case." in page
    assert "Suggest where the parties can turn instead." in page
    case.refresh_from_db()
    assert case.status == "registered" and not case.events.filter(action="decline").exists()


def test_a_label_and_its_value_take_the_readers_colon_in_chinese(client, med):
    """The session line read "参加人员: 双方当事人" and "下一步安排: …", the failed case "已告知其他解决
    途径: 诉讼", the desk "调解组织: …": an English colon in Chinese text."""
    from mediation import services

    case = med.in_mediation()
    services.dispute_record_session(
        case=case,
        actor=med.cast.mediator,
        held_at=timezone.now(),
        place="街道调解室",
        attendees="双方当事人、调解员",
        summary="双方陈述。",
        next_step="下周签协议",
    )
    case.transition(
        action="conclude", actor=med.cast.mediator, outcome="failure", other_routes=["litigation"]
    )
    declined = med.register()
    declined.transition(action="decline", actor=med.head_x, note="不属于调解范围", suggested_route="诉讼")
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "参加人员：" in html and "下一步安排：" in html and "已告知其他解决途径：" in html
    _login(client, med.head_x)
    html = client.get(f"/mediation/cases/{declined.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "建议解决途径：" in html
    html = client.get("/mediation/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "调解组织：" in html
    english = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "attendees: " in english


def test_an_oral_agreements_print_link_names_the_record_it_prints(client, med):
    """The print link of an oral agreement read "调解协议书（打印）" and opened "人民调解口头协议登记":
    there is no agreement document to sign, only the mediator's record."""
    oral = med.in_mediation()
    oral.transition(
        action="conclude", actor=med.cast.mediator, outcome="success_oral", agreement_terms="互相道歉"
    )
    written = med.agreed(effective_days_ago=1)
    _login(client, med.cast.mediator)
    link = re.compile(r'id="print-agreement">([^<]*)<')
    html = client.get(f"/mediation/cases/{oral.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert link.search(html)[1] == "口头协议登记（打印）"
    html = client.get(f"/mediation/cases/{written.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert link.search(html)[1] == "调解协议书（打印）"


def test_the_printed_agreement_names_the_amount_agreed_not_the_amount_in_dispute(client, med):
    """The agreement printed the amount agreed as 涉及金额, the case page's name for the amount in
    dispute: a dispute over 3,000 yuan settled for 2,000 read "涉及金额：人民币 2000.00 元"."""
    case = _concluded(med)  # 2,000 yuan agreed
    DisputeCase.objects.filter(pk=case.pk).update(amount=3000)  # in dispute
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    assert "协议金额：人民币 2000.00 元。" in html and "涉及金额" not in html


def test_an_incident_turned_into_a_case_names_an_unknown_category_or_organisation_as_register_does(
    client, med, dispute_incident
):
    """The register page says "Unknown category; choose one from the list." and names an unknown
    organisation; the incident's conversion answered Django's bare "Select a valid choice"."""
    _login(client, med.cast.community_handler)
    response = client.post(
        f"/mediation/from-incident/{dispute_incident.code}/", {"category": "zz", "organisation": "99999"}
    )
    html = response.content.decode()
    assert response.status_code == 400 and "valid choice" not in html
    assert "Unknown category; choose one from the list." in html
    assert "Unknown organisation 99999, or it is outside your area." in html
    assert not DisputeCase.objects.exists()


def test_the_effective_date_input_starts_at_the_first_session(client, med):
    case = med.accepted(received_at=timezone.now() - dt.timedelta(days=10))
    first = timezone.now() - dt.timedelta(days=4)
    from mediation import services

    services.dispute_record_session(
        case=case, actor=med.cast.mediator, held_at=first, place="调解室", attendees="双方", summary="协商"
    )
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert attrs_of(html, "effective")["min"] == timezone.localdate(first).isoformat()


def test_the_party_edit_names_what_its_boxes_remove(client, med):
    """The boxes that clear a party's ID number, phone or address were headed "Remove the stored", a
    sentence left unfinished in English (the Chinese reads on into each box: 删除已存的 身份证号)."""
    case = med.in_mediation()
    _login(client, med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "<legend>Remove stored details</legend>" in html and "Remove the stored" not in html
    html = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<legend>删除已存的</legend>" in html


def test_the_case_page_says_when_the_time_limit_or_the_confirmation_window_lies_in_a_year_without_a_calendar(
    client, med
):
    # As the petition page says beside each running deadline: such a date counts plain weekdays
    # (New Year's Day a working day) and moves once the year's holidays are entered.
    calendar_for_this_year_and_next()
    far_year = timezone.localdate().year + 5  # a year the calendar lacks, whenever the test runs
    running, agreed = med.accepted(), med.agreed(effective_days_ago=2)
    far = timezone.make_aware(dt.datetime(far_year, 1, 2, 23, 59, 59, 999999))
    DisputeCase.objects.filter(pk=running.pk).update(due_at=far)
    DisputeCase.objects.filter(pk=agreed.pk).update(confirmation_due=far.date())
    _login(client, med.cast.mediator)
    client.cookies["django_language"] = "zh-hans"
    note = f"日历中还没有 {far_year} 年的日期"
    for case, where in (
        (running, 'id="due-calendar-missing"'),
        (agreed, 'id="confirmation-calendar-missing"'),
    ):
        html = client.get(f"/mediation/cases/{case.code}/").content.decode()
        assert where in html and note in html, case.code
    assert note not in client.get(f"/mediation/cases/{med.accepted().code}/").content.decode()
    assert client.get(f"/mediation/cases/{running.code}/").status_code == 200
    _login(client, med.cast.outsider)
    assert client.get(f"/mediation/cases/{running.code}/").status_code == 404


def test_the_mediator_home_says_when_a_time_limit_listed_lies_in_a_year_without_a_calendar(client, med):
    # As the petition lists say above their rows: the mediator's open cases by deadline.
    calendar_for_this_year_and_next()
    far_year = timezone.localdate().year + 5  # a year the calendar lacks, whenever the test runs
    running = med.accepted()
    _login(client, med.cast.mediator)
    client.cookies["django_language"] = "zh-hans"
    note = f"日历中还没有 {far_year} 年的日期"
    assert note not in client.get("/mediation/").content.decode()
    far = timezone.make_aware(dt.datetime(far_year, 1, 2, 23, 59, 59, 999999))
    DisputeCase.objects.filter(pk=running.pk).update(due_at=far)
    html = client.get("/mediation/").content.decode()
    assert 'id="mine-calendar-missing"' in html and note in html


def test_a_mediators_home_says_what_is_new_the_cases_waiting_for_acceptance(client, med):
    """Every home says what is new (DESIGN.md section 8): the mediator's counted their open cases,
    the overdue and the closing windows, not the cases newly registered in their organisation and
    waiting for one of them to accept, which only the mediation desk listed."""
    new = med.register()  # in org_x: cast.mediator's organisation
    client.force_login(med.cast.mediator)
    home = client.get("/").content.decode()
    link = re.search(r'href="/mediation/#intake"[^>]*>(.*?)</a>', home, re.S).group(1)
    assert "Waiting for acceptance in my organisations" in link and '<span class="status">1</span>' in link
    desk = client.get("/mediation/").content.decode()
    assert new.code in desk.split('id="intake"')[1]
    client.force_login(med.mediator_b)  # another street's centre: not theirs to accept
    home = client.get("/").content.decode()
    link = re.search(r'href="/mediation/#intake"[^>]*>(.*?)</a>', home, re.S).group(1)
    assert '<span class="status">0</span>' in link
