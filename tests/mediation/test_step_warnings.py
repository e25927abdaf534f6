"""Warnings on steps DOMAIN.md allows but a mediator may take too early.

Closing (结案) a case whose written agreement can still go to the court (the 30-day window of
司法确认 is open, no application yet) or that no follow-up visit has checked: DOMAIN.md forbids
neither, and a closed case still records the application, the court's decision and the visits, so
the close step warns and records the same as ever. A follow-up visit before the day by which the
agreement is carried out may find it performed early: the step says so and records the same."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from mediation.models import DisputeCase, DisputeEvent


def _step(html: str, action: str) -> str:
    """The form of ``action`` in the case page's steps."""
    return html.split(f'data-action-form="{action}"', 1)[1].split("</form>", 1)[0]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub("<[^>]+>", "", html)).strip()


def _page(client, case, lang="en") -> str:
    client.cookies["django_language"] = lang
    return client.get(f"/mediation/cases/{case.code}/").content.decode()


def test_closing_within_the_confirmation_window_and_before_a_visit_warns_and_closes_as_ever(client, med):
    case = med.agreed(effective_days_ago=2)
    case.refresh_from_db()
    due = case.confirmation_due.isoformat()
    client.force_login(med.cast.mediator)
    close = _step(_page(client, case), "close")
    assert 'id="close-warning-window"' in close and 'id="close-warning-visit"' in close
    text = _text(close)
    assert f"both parties may still apply jointly to the court until {due}" in text
    assert "No follow-up visit has checked the agreement yet" in text
    zh = _text(_step(_page(client, case, "zh-hans"), "close"))
    assert f"双方当事人仍可在 {due} 前共同向法院申请司法确认" in zh
    assert "尚未回访" in zh
    # Nothing is refused, and nothing recorded differently: the same event as any close.
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "close", "state": case.form_step_state()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == DisputeCase.Status.CLOSED
    event = DisputeEvent.objects.filter(case=case).latest("pk")
    assert (event.action, event.data, event.note) == ("close", {}, "")
    # The window and the visits are still recorded on the closed case.
    steps = re.findall(r'data-action-form="([a-z_]+)"', _page(client, case))
    assert "apply_confirmation" in steps and "follow_up" in steps


def test_no_close_warning_once_applied_and_visited_nor_on_a_failed_case(client, med):
    case = med.agreed(effective_days_ago=2)
    case.transition(action="apply_confirmation", actor=case.mediator, joint=True)
    case.transition(action="follow_up", actor=case.mediator, performance="performed")
    failed = med.in_mediation()
    failed.transition(
        action="conclude", actor=failed.mediator, outcome="failure", other_routes=["litigation"]
    )
    client.force_login(med.cast.mediator)
    for c in (case, failed):
        close = _step(_page(client, c), "close")
        assert "close-warning" not in close, c.code


def test_close_warns_of_the_visit_alone_once_the_window_has_ended(client, med):
    case = med.agreed(effective_days_ago=40)
    client.force_login(med.cast.mediator)
    close = _step(_page(client, case), "close")
    assert 'id="close-warning-window"' not in close and 'id="close-warning-visit"' in close


def test_closing_a_case_not_concluded_is_still_refused_and_an_outsider_finds_none(client, med):
    case = med.in_mediation()
    client.force_login(med.cast.mediator)
    response = client.post(f"/mediation/cases/{case.code}/act/", {"action": "close"})
    assert response.status_code == 409
    assert DisputeCase.objects.get(pk=case.pk).status == DisputeCase.Status.IN_MEDIATION
    agreed = med.agreed(effective_days_ago=2)
    client.force_login(med.cast.outsider)
    assert client.get(f"/mediation/cases/{agreed.code}/").status_code == 404
    assert client.post(f"/mediation/cases/{agreed.code}/act/", {"action": "close"}).status_code == 404
    assert DisputeCase.objects.get(pk=agreed.pk).status == DisputeCase.Status.CONCLUDED


def test_a_visit_before_the_performance_date_warns_and_records_performed_as_ever(client, med):
    case = med.agreed(effective_days_ago=2)
    later = timezone.localdate() + dt.timedelta(days=20)
    DisputeCase.objects.filter(pk=case.pk).update(performance_due=later)
    case.refresh_from_db()
    client.force_login(med.cast.mediator)
    visit = _step(_page(client, case), "follow_up")
    assert 'id="follow-up-early"' in visit
    assert f"The agreement is to be carried out by {later.isoformat()}" in _text(visit)
    zh = _text(_step(_page(client, case, "zh-hans"), "follow_up"))
    assert f"协议约定的履行期限为 {later.isoformat()}" in zh
    client.cookies["django_language"] = "en"
    # Bad input: no finding is a 400 naming the field, nothing saved.
    response = client.post(
        f"/mediation/cases/{case.code}/act/", {"action": "follow_up", "state": case.form_step_state()}
    )
    assert response.status_code == 400 and 'id="performance-error"' in response.content.decode()
    assert DisputeCase.objects.get(pk=case.pk).follow_up == ""
    response = client.post(
        f"/mediation/cases/{case.code}/act/",
        {"action": "follow_up", "performance": "performed", "state": case.form_step_state()},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.follow_up == "performed"
    event = DisputeEvent.objects.filter(case=case).latest("pk")
    assert (event.action, event.data) == ("follow_up", {"performance": "performed"})
    # An outsider finds no such case, and records nothing on it.
    client.force_login(med.cast.outsider)
    response = client.post(
        f"/mediation/cases/{case.code}/act/", {"action": "follow_up", "performance": "not_performed"}
    )
    assert response.status_code == 404
    assert DisputeCase.objects.get(pk=case.pk).follow_up == "performed"


def test_no_early_visit_warning_from_the_performance_date_on(client, med):
    case = med.agreed(effective_days_ago=2)  # carried out by today
    client.force_login(med.cast.mediator)
    assert "follow-up-early" not in _step(_page(client, case), "follow_up")
