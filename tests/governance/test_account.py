"""A user's own account page: their API token (issue a new one, shown once; revoke it) and their
password, every change audited."""

import re

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from governance.models import AuditEntry
from tests.base import PASSWORD, api_client


def _key_on(page: str) -> str:
    return re.search(r'id="new-token"[^>]*>([0-9a-f]{40})<', page).group(1)


def _audited(user, action: str) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(action=action, object_id=str(user.pk), object_type="governance.user")
    )


def test_the_account_page_needs_a_login(client, cast):
    response = client.get(reverse("governance-account"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_user_issues_their_own_token_shown_once_and_audited(client, cast):
    client.force_login(cast.analyst)
    page = client.get(reverse("governance-account")).content.decode()
    assert "You have no API token." in page
    response = client.post(reverse("governance-account-token"), {"password": PASSWORD})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    key = _key_on(response.content.decode())
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/areas/").status_code == 200
    # Never shown again: the page afterwards says when it was issued, not what it is.
    again = client.get(reverse("governance-account")).content.decode()
    assert key not in again and "Issued" in again
    [entry] = _audited(cast.analyst, "token.issue")
    assert entry.actor == cast.analyst and entry.after == {"via": "account page"}
    # A new one replaces it (one token per user): the old key stops working.
    newer = _key_on(client.post(reverse("governance-account-token"), {"password": PASSWORD}).content.decode())
    assert api.get("/api/v1/areas/").status_code == 401 and newer != key
    assert len(_audited(cast.analyst, "token.issue")) == 2


def test_a_user_revokes_their_own_token_and_it_is_audited(client, cast):
    client.force_login(cast.analyst)
    key = _key_on(client.post(reverse("governance-account-token"), {"password": PASSWORD}).content.decode())
    response = client.post(reverse("governance-account-token-revoke"), follow=True)
    # Said in a status a screen reader reads out (it takes the focus: static/js/app.js).
    assert re.search(
        r'<div class="messages-box" id="messages" role="status" tabindex="-1"><ul class="messages">'
        r"<li[^>]*>Your API token was revoked",
        response.content.decode(),
    )
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/areas/").status_code == 401
    [entry] = _audited(cast.analyst, "token.revoke")
    assert entry.actor == cast.analyst and entry.after == {"tokens": 1, "via": "account page"}
    # Nothing to revoke: said so, and nothing more is written.
    response = client.post(reverse("governance-account-token-revoke"), follow=True)
    assert "You have no API token." in response.content.decode()
    assert len(_audited(cast.analyst, "token.revoke")) == 1


def test_issuing_a_token_on_the_page_asks_for_the_password_and_counts_a_wrong_one(client, cast):
    # A token outlives the session: whoever borrowed a signed-in browser for a minute left with a key
    # that worked for months. The page asks for the password, as the token endpoint does, and a wrong
    # one counts towards the lockout like any failed login.
    from axes.models import AccessFailureLog

    client.force_login(cast.analyst)
    for data in ({}, {"password": "wrong"}):
        response = client.post(reverse("governance-account-token"), data)
        assert response.status_code == 400 and "Wrong password" in response.content.decode()
    assert not Token.objects.filter(user=cast.analyst).exists()
    assert AccessFailureLog.objects.filter(username="analyst").count() == 1
    assert _audited(cast.analyst, "token.issue") == []


def test_token_changes_are_posts_only(client, cast):
    client.force_login(cast.analyst)
    assert client.get(reverse("governance-account-token")).status_code == 405
    assert client.get(reverse("governance-account-token-revoke")).status_code == 405
    assert not Token.objects.filter(user=cast.analyst).exists()


def test_the_token_endpoint_and_the_command_are_audited_too(cast):
    from django.core.management import call_command

    response = api_client().post(
        "/api/v1/auth/token/", {"username": "analyst", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    call_command("drf_create_token", "analyst", stdout=__import__("io").StringIO())
    assert [e.after for e in reversed(_audited(cast.analyst, "token.issue"))] == [
        {"via": "api"},
        {"via": "command"},
    ]


def test_a_user_changes_their_password_audited_and_their_token_ends(client, cast):
    client.force_login(cast.analyst)
    key = _key_on(client.post(reverse("governance-account-token"), {"password": PASSWORD}).content.decode())
    url = reverse("governance-password-change")
    new = "another-long-password-57"
    wrong = client.post(url, {"old_password": "nope", "new_password1": new, "new_password2": new})
    assert wrong.status_code == 400 and "Your old password was entered incorrectly" in wrong.content.decode()
    weak = client.post(url, {"old_password": PASSWORD, "new_password1": "12345", "new_password2": "12345"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    assert _audited(cast.analyst, "password.change") == []
    done = client.post(
        url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
    )
    assert "Your password was changed" in done.content.decode()
    assert client.get(reverse("governance-home")).status_code == 200  # still signed in here
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/areas/").status_code == 401
    assert len(_audited(cast.analyst, "password.change")) == 1
    [revoked] = _audited(cast.analyst, "token.revoke")
    assert revoked.after == {"tokens": 1, "via": "password set"}
    client.logout()
    login = client.post(reverse("governance-login"), {"username": "analyst", "password": new})
    assert login.status_code == 302


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["My account", "Change password", "This password is too short"]),
        ("zh-hans", ["我的账号", "修改密码", "密码长度太短"]),
    ],
)
def test_the_account_and_password_pages_speak_the_reader_s_language(client, cast, language, texts):
    client.force_login(cast.analyst)
    client.cookies["django_language"] = language
    account = client.get(reverse("governance-account")).content.decode()
    weak = client.post(
        reverse("governance-password-change"),
        {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"},
    ).content.decode()
    assert texts[0] in account and texts[1] in account
    assert texts[2] in weak


def test_wrong_old_passwords_on_the_change_form_count_towards_the_lockout(client, cast, settings):
    # Whoever holds a stolen session could guess the old password here without limit: the form checked
    # it with check_password, beside django-axes. It now goes through authenticate like a login.
    from axes.models import AccessFailureLog

    client.force_login(cast.analyst)
    url = reverse("governance-password-change")
    new = "another-long-password-57"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post(url, {"old_password": "nope", "new_password1": new, "new_password2": new})
        assert (
            wrong.status_code == 400 and "Your old password was entered incorrectly" in wrong.content.decode()
        )
    assert AccessFailureLog.objects.filter(username="analyst").count() == settings.AXES_FAILURE_LIMIT - 1
    # The right one still changes it before the limit...
    done = client.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert done.status_code == 302
    # ...and after it, even the right one gets the lockout answer, the password unchanged.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"old_password": "nope", "new_password1": PASSWORD, "new_password2": PASSWORD})
    locked = client.post(url, {"old_password": new, "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert locked.status_code == 429 and "Account locked" in locked.content.decode()
    cast.analyst.refresh_from_db()
    assert cast.analyst.check_password(new)


@pytest.mark.parametrize("url_name", ["governance-account", "governance-password-change"])
def test_each_password_form_names_the_account_it_is_for(client, cast, url_name):
    """A form with only a password field (the token's confirmation, the password change) left the
    browser's password manager, and the assistive technology that fills in through it, to guess the
    account: Chromium logged "Password forms should have (optionally hidden) username fields for
    accessibility" on both pages, and a changed password could be saved against no username. Each
    form carries the signed-in user's name, hidden, as ``autocomplete="username"``, not posted."""
    client.force_login(cast.analyst)
    page = client.get(reverse(url_name)).content.decode()
    forms = [f for f in re.findall(r"<form[^>]*>.*?</form>", page, re.S) if 'type="password"' in f]
    assert forms
    for form in forms:
        username = re.search(r"<input[^>]*autocomplete=\"username\"[^>]*>", form)
        assert username, form
        tag = username.group(0)
        assert f'value="{cast.analyst.username}"' in tag and " hidden" in tag and "name=" not in tag


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "Log out ({})"), ("zh-hans", "退出（{}）")],
)
def test_the_log_out_button_names_the_reader_with_the_language_s_own_brackets(client, cast, language, label):
    """The brackets were outside the translation: a Chinese page read "退出 (调解员 孙丽)"."""
    client.force_login(cast.analyst)
    client.cookies["django_language"] = language
    html = client.get(reverse("governance-account")).content.decode()
    assert f'<button type="submit" class="link">{label.format(cast.analyst)}</button>' in html
