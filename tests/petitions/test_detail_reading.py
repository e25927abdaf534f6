"""The petition page as it reads on a phone and a desk: the countdown names the deadline it counts
down to, and a timeline entry breaks between its parts, never inside a name or a status."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

from tests.base import queries_of


def _countdown(html: str) -> str:
    return re.search(r'<span id="countdown">(.*?)</span>\s*</div>', html, re.S)[1]


def test_the_countdown_names_the_deadline_it_counts_down_to(client, pet):
    # "1 day left" beside the number did not say whether the routing, the notice or the reply was due.
    client.force_login(pet.cast.petition_officer)
    registered, accepted = pet.register(), pet.accepted()
    countdown = _countdown(client.get(f"/petitions/{registered.code}/").content.decode())
    assert "Route or redirect (15 days):" in countdown and "days left" in countdown
    countdown = _countdown(client.get(f"/petitions/{accepted.code}/").content.decode())
    assert "Written reply (60 days):" in countdown and "Route or redirect" not in countdown
    # In Chinese, with the Chinese colon.
    html = client.get(f"/petitions/{accepted.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "书面答复（60 日）：</span>" in _countdown(html)


def test_a_petition_with_no_running_deadline_shows_no_countdown(client, pet):
    petition = pet.replied()
    client.force_login(pet.cast.petition_officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    assert 'id="countdown"' not in html


def test_timeline_entries_keep_names_times_and_status_changes_whole(client, pet):
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="satisfied")
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    assert f'<span class="keep-words">{officer}</span>' in timeline
    assert f'<span class="keep-words">{pet.cast.police.name}</span>' in timeline
    assert re.search(r'<span class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d</span>', timeline)
    css = (Path(settings.BASE_DIR) / "static/petitions/petitions.css").read_text()
    assert ".pet-deadlines thead th { white-space:nowrap; }" in css
    assert "#timeline .muted, #timeline .pet-result { word-break:keep-all; overflow-wrap:anywhere; }" in css


def test_the_page_costs_no_query_per_timeline_entry(client, pet):
    officer = pet.cast.petition_officer
    client.force_login(officer)
    short = pet.accepted()
    long = pet.replied()
    long.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    long.transition(action="request_review", actor=officer)
    long.transition(action="decide_review", actor=officer, decision="upheld", note="维持原意见")
    client.get(f"/petitions/{short.code}/")  # warm up (session, site caches)
    counts = [queries_of(client, f"/petitions/{p.code}/") for p in (short, long)]
    assert long.events.count() >= short.events.count() + 4
    assert counts[1] <= counts[0] + 2, counts  # the steps offered differ, never per entry


def test_the_page_is_404_outside_the_users_reach_and_for_a_number_that_does_not_exist(client, pet):
    petition = pet.accepted()
    client.force_login(pet.cast.outsider)
    assert client.get(f"/petitions/{petition.code}/").status_code == 404
    client.force_login(pet.cast.petition_officer)
    assert client.get("/petitions/PET-2026-999999/").status_code == 404


def _deadline_labels(html: str) -> dict[str, str]:
    # The bracket in its .nowrap span (``aside_whole``): the label as read.
    rows = re.findall(r'<tr data-deadline="([a-z_]+)"><th scope="row">(.*?)</th>', html)
    return {key: re.sub(r"<[^>]+>", "", label) for key, label in rows}


def test_every_deadline_row_says_its_length_the_petitioners_windows_too(client, pet):
    # "申请复查截止" alone, among rows saying "（15 日）" and "（30 日）", left the officer to count
    # the petitioner's 30 days (from the reply, from the review decision) by hand.
    petition = pet.reviewed()
    client.force_login(pet.cast.petition_officer)
    rows = _deadline_labels(client.get(f"/petitions/{petition.code}/").content.decode())
    assert rows["review_window"] == "Review may be requested until (30 days)"
    assert rows["re_review_window"] == "Re-review may be requested until (30 days)"
    assert all(re.search(r"\((\d+|\d+ working) days\)$", label) for label in rows.values()), rows
    html = client.get(f"/petitions/{petition.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    rows = _deadline_labels(html)
    assert rows["review_window"] == "申请复查截止（30 日）"
    assert rows["re_review_window"] == "申请复核截止（30 日）"
    assert all(re.search(r"（\d+ (个工作)?日）$", label) for label in rows.values()), rows


def test_the_timeline_names_the_department_for_its_own_steps_and_its_routing_only(client, pet):
    """ "Record the evaluation · 信访专员 吴敏 · 公安分局" read as if the police, whose reply was being
    evaluated, had recorded the petitioner's evaluation of it: the event keeps the department in
    charge, which the timeline named beside whoever took the step."""
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="evaluate", actor=officer, evaluation="dissatisfied")
    petition.transition(action="request_review", actor=officer)
    client.force_login(officer)
    html = client.get(f"/petitions/{petition.code}/").content.decode()
    timeline = html[html.index('id="timeline"') :]
    entries = dict(re.findall(r'<li data-action="(\w+)">(.*?)</li>', timeline, re.S))
    police = f'<span class="keep-words">{pet.cast.police.name}</span>'
    assert police in entries["assign"]  # routed to it, by the office
    assert police in entries["accept"] and police in entries["reply"]  # its own people's steps
    assert police not in entries["evaluate"] and police not in entries["request_review"]  # the office's
    assert str(officer) in entries["evaluate"]


def test_an_extended_reply_limit_names_its_extension_where_it_counts_down(client, pet):
    # Extended by 20 days, the countdown read "书面答复（60 日）：剩余 79 天" and the deadline row
    # "书面答复（60 日）" beside a date 80 days after the acceptance: more days left than the limit has.
    petition = pet.accepted()
    url = f"/petitions/{petition.code}/"
    client.force_login(pet.cast.department_user)
    extension = {"action": "extend", "approver": "approver", "note": "需多部门核查", "notified": "on"}
    # Refused (no days): nothing saved, the limit still named as the 60 days it is.
    assert client.post(f"{url}act/", {**extension, "days": ""}).status_code == 400
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Written reply (60 days):" in _countdown(html)
    assert client.post(f"{url}act/", {**extension, "days": "20"}).status_code == 302
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Written reply (60 + 20 days):" in _countdown(html) and "(60 days)" not in html
    row = re.search(r'data-deadline="reply"><th scope="row">(.*?)</th>', html)[1]
    assert row == 'Written reply <span class="nowrap">(60 + 20 days)</span>'
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "书面答复（60 + 20 日）：</span>" in _countdown(html)
    # Outside the area: the same 404 as for a petition that does not exist.
    client.force_login(pet.cast.outsider)
    assert client.get(url).status_code == 404


def _opened(html: str) -> list[str]:
    return re.findall(r'<details class="pet-action" id="action-(\w+)" open>', html)


def test_the_review_decision_the_office_owes_opens_before_an_evaluation(client, pet):
    # Under review with the reply's evaluation not yet recorded, "Record the evaluation" was the
    # step shown open, and the decision due within 30 days (the countdown's) sat folded below it.
    officer = pet.cast.petition_officer
    petition = pet.replied()
    petition.transition(action="request_review", actor=officer)
    url = f"/petitions/{petition.code}/"
    client.force_login(officer)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Review decided by (30 days):" in _countdown(html)
    assert _opened(html) == ["decide_review"]
    assert 'id="action-evaluate"' in html  # still offered, folded, after the decision
    assert html.index('id="action-decide_review"') < html.index('id="action-evaluate"')
    # A decision sent without its choice: a 400 naming it, that form open, nothing saved.
    resp = client.post(f"{url}act/", {"action": "decide_review", "state": petition.form_step_state()})
    assert resp.status_code == 400 and _opened(resp.content.decode()) == ["decide_review"]
    petition.refresh_from_db()
    assert petition.status == "under_review"
    # With nothing running (replied, the petitioner's window open), the evaluation still comes first.
    replied = pet.replied()
    assert _opened(client.get(f"/petitions/{replied.code}/").content.decode()) == ["evaluate"]
    client.force_login(pet.cast.outsider)
    assert client.get(url).status_code == 404
