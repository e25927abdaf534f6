"""A petitions page that refuses what was sent says so in its <title> ("错误：" / "Error: ") from the
server, not only from static/js/app.js (which a page without its script never runs). Once."""

from __future__ import annotations

import pytest

from tests.governance.test_refused_titles import in_language
from tests.mediation.test_refused_titles import assert_said_once


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"action": "assign", "department": "", "state": "closed"}, 409),  # stale: not from this state
        ({"action": "no-such-step"}, 400),
    ],
)
def test_a_refused_step_shows_the_petition_with_the_error_prefix_once(client, pet, language, data, status):
    petition = pet.register()
    client.force_login(pet.cast.petition_officer)
    in_language(client, language)
    shown = client.get(f"/petitions/{petition.code}/")
    refused = client.post(f"/petitions/{petition.code}/act/", data)
    assert refused.status_code == status
    assert 'id="action-error"' in refused.content.decode()
    assert_said_once(refused, language, shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("who", "good", "bad"),
    [
        ("petition_officer", "/petitions/", "/petitions/?received_from=abc"),
        ("department_user", "/petitions/inbox/", "/petitions/inbox/?overdue=yes"),
    ],
)
def test_a_refused_list_filter_has_the_error_prefix_once(client, pet, language, who, good, bad):
    client.force_login(getattr(pet.cast, who))
    in_language(client, language)
    shown = client.get(good)
    refused = client.get(bad)
    assert refused.status_code == 400 and 'id="filter-error"' in refused.content.decode()
    assert_said_once(refused, language, shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refused_reveal_page_has_the_error_prefix_once(client, pet, language):
    """Without htmx a reveal without a reason is a page of its own, which said so in its body only."""
    petition = pet.register()
    person = petition.petitioners.first()
    client.force_login(pet.cast.petition_officer)
    in_language(client, language)
    refused = client.post(f"/petitions/{petition.code}/petitioners/{person.pk}/reveal/", {"reason": ""})
    assert refused.status_code == 400 and 'role="alert"' in refused.content.decode()
    assert_said_once(refused, language)
