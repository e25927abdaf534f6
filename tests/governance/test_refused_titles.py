"""A page that re-shows a refused form says so in its <title> ("错误：" / "Error: "), the first thing a
screen reader reads of a page: the server writes it, not only the script (static/js/app.js), which a
page without JavaScript, or one read before the script has run, never heard. Once, never twice."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client

from tests.mediation.conftest import med  # noqa: F401  (a fixture)
from tests.petitions.conftest import pet  # noqa: F401  (a fixture)

PREFIX = {"en": "Error: ", "zh-hans": "错误："}


def title_of(response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)
    assert found, "the page has no <title>"
    return html_lib.unescape(" ".join(found.group(1).split()))


def in_language(client: Client, language: str) -> Client:
    client.cookies["django_language"] = language
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("worker_a", "/grids/report/"),
        ("mediator", "/mediation/cases/new/"),
        ("petition_officer", "/petitions/new/"),
    ],
)
def test_a_refused_form_page_has_the_error_prefix_in_its_title_once(client, med, pet, who, url, language):  # noqa: F811
    client.force_login(getattr(med.cast, who))
    in_language(client, language)
    shown = client.get(url)
    assert shown.status_code == 200
    assert PREFIX["en"] not in title_of(shown) and PREFIX["zh-hans"] not in title_of(shown)
    refused = client.post(url, {})
    assert refused.status_code == 400
    title = title_of(refused)
    assert title.startswith(PREFIX[language]) and title.count(PREFIX[language]) == 1, title
    assert title[len(PREFIX[language]) :] == title_of(shown)  # the page's own title after it
    # The script adds the prefix only to a title that lacks it (so never twice), from the same words.
    assert f'data-error-title="{PREFIX[language]}"' in refused.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_refused_login_has_the_error_prefix_in_its_title_once(cast, language):
    client = in_language(Client(), language)
    shown = client.get("/accounts/login/")
    assert shown.status_code == 200 and not title_of(shown).startswith(PREFIX[language])
    refused = client.post("/accounts/login/", {"username": "worker_a", "password": "not-the-password-1"})
    assert refused.status_code == 400
    title = title_of(refused)
    assert title.startswith(PREFIX[language]) and title.count(PREFIX[language]) == 1, title
    assert title[len(PREFIX[language]) :] == title_of(shown)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize(
    ("shown_url", "post_url", "data"),
    [
        ("/accounts/", "/accounts/token/", {"password": "not-the-password-1"}),
        ("/notifications/", "/notifications/", {"up_to": "x"}),
    ],
)
def test_a_refused_post_without_a_form_has_the_error_prefix_in_its_title_once(
    cast, client, shown_url, post_url, data, language
):
    """The account's token (a wrong password) and "Mark all as read" (a damaged form) refuse with a
    message, not a form, so the server left out the prefix; only the script added it."""
    client.force_login(cast.worker_a)
    in_language(client, language)
    shown = client.get(shown_url)
    assert shown.status_code == 200 and not title_of(shown).startswith(PREFIX[language])
    refused = client.post(post_url, data)
    assert refused.status_code == 400
    title = title_of(refused)
    assert title.startswith(PREFIX[language]) and title.count(PREFIX[language]) == 1, title
    assert title[len(PREFIX[language]) :] == title_of(shown)
