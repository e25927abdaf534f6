"""The case page as it reads on a phone and a desk: the time limit with the days left, and a
timeline entry that breaks between its parts, never inside a name or a status."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from mediation.models import DisputeCase
from tests.base import queries_of


def test_a_running_case_says_how_many_days_are_left_to_its_time_limit(client, med):
    case = med.in_mediation()
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    left = (timezone.localdate(case.due_at) - timezone.localdate()).days
    assert left > 20
    assert f'<span class="nowrap" id="days-left">({left} days left)</span>' in html
    html = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'id="days-left">（剩余 {left} 天）</span>' in html


def test_the_asides_of_the_case_page_take_full_width_parentheses_in_chinese(client, med):
    # "2027-01-07 (剩余 31 天)": the Chinese page put ASCII parentheses around Chinese words, where
    # the petition pages (and Chinese print) write "（…）"; the English page keeps "(…)". Then
    # "2027-01-04 （剩余 28 天）": a space before the full-width bracket, which carries its own, left
    # a wide gap; the English keeps its space, "2027-01-04 (28 days left)", and may break there on a
    # phone (the aside itself stays on one line).
    case = med.in_mediation()
    case.transition(action="extend", actor=med.cast.mediator, consent=True)
    case.transition(action="report_risk", actor=med.cast.mediator, note="甲方扬言报复，已报春晖派出所")
    client.force_login(med.cast.mediator)
    url = f"/mediation/cases/{case.code}/"
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    reported = timezone.localdate().strftime("%Y-%m-%d")
    assert '<span class="muted">（已延期）</span>' in html
    assert f"（已于 {reported} 报告公安）" in html
    assert re.search(r'id="days-left">（剩余 \d+ 天）</span>', html)
    due = timezone.localdate(case.due_at).strftime("%Y-%m-%d")
    assert f'{due}<span class="muted">（已延期）</span><span class="nowrap" id="days-left">（剩余' in html
    assert f"有激化风险（已于 {reported} 报告公安）" in html
    english = client.get(url).content.decode()
    assert f'{due} <span class="muted">(extended)</span> <span class="nowrap" id="days-left">(' in english
    assert f"may turn violent (reported to the police on {reported})" in english


def test_the_last_day_is_due_today_and_an_overdue_or_concluded_case_counts_no_days(client, med):
    client.force_login(med.cast.mediator)
    case = med.in_mediation()
    end_of_today = timezone.localtime().replace(hour=23, minute=59, second=59)
    DisputeCase.objects.filter(pk=case.pk).update(due_at=end_of_today)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'id="days-left">(due today)</span>' in html
    DisputeCase.objects.filter(pk=case.pk).update(due_at=timezone.now() - dt.timedelta(days=2))
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    assert 'id="days-left"' not in html and "The time limit ended on" in html
    concluded = med.agreed(effective_days_ago=3)
    html = client.get(f"/mediation/cases/{concluded.code}/").content.decode()
    assert 'id="days-left"' not in html


def test_timeline_entries_keep_names_times_and_status_changes_whole(client, med):
    case = med.in_mediation()
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/").content.decode()
    timeline = html[html.index("<h2>Timeline</h2>") :]
    assert f'<span class="keep-words">{med.cast.mediator}</span>' in timeline
    assert re.search(r'<span class="nowrap">\d{4}-\d\d-\d\d \d\d:\d\d</span>', timeline)
    assert re.search(r'<span class="muted keep-words">Registered → Accepted</span>', timeline, re.I), timeline


def test_the_case_page_costs_no_query_per_timeline_entry(client, med):
    client.force_login(med.cast.mediator)
    short = med.in_mediation()
    long = med.in_mediation()
    for _i in range(4):
        long.transition(
            action="record_prevention", actor=med.cast.mediator, group_defused=True, group_persons=6
        )
    client.get(f"/mediation/cases/{short.code}/")  # warm up
    counts = [queries_of(client, f"/mediation/cases/{case.code}/") for case in (short, long)]
    assert counts[1] == counts[0], counts


def test_the_case_page_is_404_outside_the_users_reach(client, med):
    case = med.in_mediation()
    client.force_login(med.cast.outsider)
    assert client.get(f"/mediation/cases/{case.code}/").status_code == 404
    client.force_login(med.cast.mediator)
    assert client.get("/mediation/cases/DSP-2026-999999/").status_code == 404


def test_a_step_that_keeps_the_status_names_it_once_on_the_timeline(client, med):
    """An extension leaves the case in mediation: its line names the status once, no arrow, as the
    incident and petition timelines do; a step that moves the case keeps 'from → to'."""
    case = med.in_mediation()
    case.transition(action="extend", actor=case.mediator, consent=True)
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    timeline = html[html.index("<h2>办理过程</h2>") :]
    extend = timeline[timeline.index("<strong>延长调解期限</strong>") :].split("</li>")[0]
    assert '<span class="muted keep-words">调解中</span>' in extend and "→" not in extend, extend
    assert "调解中 → 调解中" not in timeline and "已受理 → 调解中" in timeline


def test_the_printed_agreement_writes_its_performance_date_without_a_space_before_qian(client, med):
    # "于 2026年12月20日 前履行完毕": a space between two Chinese characters (日 and 前), on the
    # document the parties sign and the court reads.
    case = med.agreed(effective_days_ago=3)
    client.force_login(med.cast.mediator)
    html = client.get(f"/mediation/cases/{case.code}/agreement/").content.decode()
    due = timezone.localdate()
    assert f"银行转账，于 {due.year}年{due.month}月{due.day}日前履行完毕。" in html
