"""A mediation page that refuses what was sent says so in its <title> ("错误：" / "Error: ") from the
server, not only from static/js/app.js: without the script (screen readers on a page whose script
failed or has not run yet) the title is the first thing read. Once, never twice: the script adds the
prefix only to a title without it (tests/browser/test_accessibility.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.governance.test_refused_titles import PREFIX, in_language, title_of


def assert_said_once(refused, language: str, shown=None) -> None:
    """``refused``'s title starts with the prefix once; then, if given, ``shown``'s own title, whose
    page (the same one, before anything was refused) has no prefix."""
    title = title_of(refused)
    assert title.startswith(PREFIX[language]) and title.count(PREFIX[language]) == 1, title
    if shown is not None:
        assert shown.status_code == 200 and PREFIX[language] not in title_of(shown)
        assert title[len(PREFIX[language]) :] == title_of(shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"action": "conclude", "outcome": "withdrawn", "state": "received"}, 409),  # not from this state
        ({"action": "no-such-step"}, 400),  # the step form itself refused
    ],
)
def test_a_refused_step_shows_the_case_page_with_the_error_prefix_once(client, med, language, data, status):
    case = med.register()
    client.force_login(med.cast.mediator)
    in_language(client, language)
    shown = client.get(f"/mediation/cases/{case.code}/")
    refused = client.post(f"/mediation/cases/{case.code}/act/", data)
    assert refused.status_code == status
    assert 'id="action-error"' in refused.content.decode()  # the banner the prefix announces
    assert_said_once(refused, language, shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_session_refused_by_the_workflow_has_the_error_prefix_once(client, med, language):
    """A complete session form on a case not yet accepted: the form itself is valid, the step is
    refused (409), and the page said so only in its banner."""
    case = med.register(received_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(med.cast.mediator)
    in_language(client, language)
    held = timezone.localtime() - dt.timedelta(days=1)
    refused = client.post(
        f"/mediation/cases/{case.code}/sessions/",
        {
            "held_at": held.strftime("%Y-%m-%dT%H:%M"),
            "place": "调解室",
            "attendees": "双方",
            "summary": "双方陈述",
        },
    )
    assert refused.status_code in (403, 409)
    assert 'id="action-error"' in refused.content.decode()
    assert_said_once(refused, language)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refused_list_filter_has_the_error_prefix_once(client, med, language):
    client.force_login(med.head_x)
    in_language(client, language)
    for good, bad in [
        ("/mediation/cases/", "/mediation/cases/?received_from=abc"),
        (f"/mediation/organisations/{med.org_x.pk}/", f"/mediation/organisations/{med.org_x.pk}/?open=maybe"),
    ]:
        shown = client.get(good)
        refused = client.get(bad)
        assert refused.status_code == 400 and 'id="filter-error"' in refused.content.decode()
        assert_said_once(refused, language, shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refused_reveal_or_party_edit_has_the_error_prefix_once(client, med, language):
    """Without htmx (the script failed or is off) a reveal without a reason is a page of its own, and a
    party edit with a bad phone re-renders the case page: each said the refusal in its body only."""
    case = med.accepted()
    party = case.parties.order_by("pk").first()
    client.force_login(med.cast.mediator)
    in_language(client, language)
    refused = client.post(f"/mediation/cases/{case.code}/parties/{party.pk}/reveal/", {"reason": ""})
    assert refused.status_code == 400 and 'id="reason-' in refused.content.decode()
    assert_said_once(refused, language)
    shown = client.get(f"/mediation/cases/{case.code}/")
    refused = client.post(
        f"/mediation/cases/{case.code}/parties/{party.pk}/edit/", {"role": "applicant", "phone": "12"}
    )
    assert refused.status_code == 400 and f'id="party-{party.pk}-edit-error"' in refused.content.decode()
    assert_said_once(refused, language, shown)
    assert 'id="action-error"' not in refused.content.decode()  # beside the form, not again in a banner
