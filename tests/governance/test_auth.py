import pytest
from django.urls import reverse

from tests.base import PASSWORD, api_client, race


def test_the_login_page_logs_a_user_in(client, cast):
    response = client.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("governance-home")).status_code == 200


def test_pages_need_a_login(client, cast):
    response = client.get(reverse("governance-home"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_repeated_failed_logins_lock_the_account(client, cast, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("governance-login"), {"username": "worker_a", "password": "wrong"})
    locked = client.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "locked" in locked.content.decode().lower() or "锁定" in locked.content.decode()
    assert client.get(reverse("governance-home")).status_code == 302  # not logged in


def test_the_lockout_page_says_how_long_to_wait(client, cast, settings):
    """The page said "locked for a while": a grid worker at the door did not know whether to wait a
    minute or call the centre. It names the cool-off (AXES_COOLOFF_MINUTES), in the reader's language."""
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(minutes=20)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("governance-login"), {"username": "worker_a", "password": "wrong"})
    locked = client.post(
        reverse("governance-login"),
        {"username": "worker_a", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert locked.status_code == 429
    assert "请 20 分钟后再试" in locked.content.decode()
    locked = client.post(
        reverse("governance-login"), {"username": "worker_a", "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Try again in 20 minutes" in locked.content.decode()


def test_behind_the_proxy_a_lockout_is_for_the_client_that_failed_not_everyone(client, cast, settings):
    # REMOTE_ADDR is the proxy's for every request: five wrong passwords from one place locked the
    # account for its user everywhere. The lockout now takes the address the proxy appended.
    settings.BEHIND_TLS_PROXY = True
    login = reverse("governance-login")
    via = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            login, {"username": "worker_a", "password": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.9", **via
        )
    locked = client.post(
        login, {"username": "worker_a", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="203.0.113.9", **via
    )
    assert locked.status_code == 429
    elsewhere = client.post(
        login, {"username": "worker_a", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7", **via
    )
    assert elsewhere.status_code == 302  # the user at their own desk signs in


def test_the_token_endpoint_returns_a_token_that_authenticates(cast):
    response = api_client().post(
        "/api/v1/auth/token/", {"username": "analyst", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/areas/").status_code == 200


def test_the_database_keeps_a_digest_not_the_key_and_a_new_token_revokes_the_old(cast):
    from rest_framework.authtoken.models import Token

    from governance.services import token_digest

    def sign_in() -> str:
        response = api_client().post(
            "/api/v1/auth/token/", {"username": "analyst", "password": PASSWORD}, format="json"
        )
        assert response.status_code == 200
        return response.json()["token"]

    first = sign_in()
    (stored,) = Token.objects.filter(user=cast.analyst).values_list("key", flat=True)
    assert stored == token_digest(first) != first and len(first) == 40
    # A copy of the table is no key: sent as one, the stored value is refused.
    assert api_client().get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Token {stored}").status_code == 401
    second = sign_in()
    assert second != first
    assert api_client().get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Token {first}").status_code == 401
    assert api_client().get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Token {second}").status_code == 200


def test_keys_issued_before_digests_keep_working_after_the_migration(cast):
    import importlib

    from django.apps import apps
    from rest_framework.authtoken.models import Token

    Token.objects.create(user=cast.analyst, key="0123456789abcdef0123456789abcdef01234567")
    importlib.import_module("governance.migrations.0007_api_token_digests").digest_keys(apps, None)
    assert not Token.objects.filter(key="0123456789abcdef0123456789abcdef01234567").exists()
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert client.get("/api/v1/areas/").status_code == 200


def test_drf_create_token_issues_a_token_the_api_accepts(cast):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("drf_create_token", "analyst", stdout=out)
    key = out.getvalue().split()[2]
    assert api_client().get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    call_command("drf_create_token", "analyst", stdout=io.StringIO())  # replaces it
    assert api_client().get("/api/v1/areas/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_the_token_endpoint_refuses_a_wrong_password(cast):
    response = api_client().post(
        "/api/v1/auth/token/", {"username": "analyst", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert "detail" in response.json()


def test_the_token_endpoint_names_a_missing_field(cast):
    response = api_client().post("/api/v1/auth/token/", {"username": "analyst"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_the_token_endpoint_locks_out_after_repeated_failures(cast, settings):
    client = api_client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "analyst", "password": "nope"}, format="json")
    response = client.post(
        "/api/v1/auth/token/", {"username": "analyst", "password": PASSWORD}, format="json"
    )
    # As the login page: 429, and when to try again (the cool-off), not a 403 that reads as "no token
    # for this account".
    assert response.status_code == 429 and "token" not in response.json()
    assert response["Retry-After"] == str(settings.AXES_COOLOFF_TIME.seconds)
    assert "locked" in response.json()["detail"]


def test_the_token_endpoint_refuses_an_overlong_username_naming_the_field(cast):
    from axes.models import AccessAttempt

    response = api_client().post(
        "/api/v1/auth/token/", {"username": "x" * 300, "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["Ensure this field has no more than 150 characters."]}
    assert AccessAttempt.objects.count() == 0


@pytest.mark.parametrize("bad", ["short", "password123", "12345678901"])
def test_password_validators_refuse_weak_passwords(cast, bad):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(bad, cast.worker_a)


def test_an_invalid_token_is_refused(cast):
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/v1/areas/").status_code == 401


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_login_pages_refuse_an_overlong_username_naming_the_field(client, cast, url):
    from axes.models import AccessAttempt, AccessFailureLog

    response = client.post(url, {"username": "x" * 300, "password": "nope"})
    assert response.status_code in (200, 400)  # the admin's page keeps Django's 200
    assert "Ensure this value has at most 150 characters" in response.content.decode()
    assert AccessAttempt.objects.count() == 0 and AccessFailureLog.objects.count() == 0


def test_a_refused_login_is_a_400_with_the_form_again(client, cast):
    response = client.post(reverse("governance-login"), {"username": "worker_a", "password": "wrong"})
    assert response.status_code == 400
    assert "Wrong username or password" in response.content.decode()
    assert client.get(reverse("governance-home")).status_code == 302


def test_a_login_field_error_is_written_in_the_pages_language(client, cast):
    """The field's name and its error are joined as elsewhere on the pages: a full-width colon in
    Chinese (用户名：…), where the page read 用户名: … with an ASCII one."""
    client.cookies["django_language"] = "zh-hans"
    html = client.post(reverse("governance-login"), {"username": "", "password": ""}).content.decode()
    assert '<p class="error" id="id_username_error">用户名：此项为必填项。</p>' in html
    assert '<p class="error" id="id_password_error">密码：此项为必填项。</p>' in html
    client.cookies["django_language"] = "en"
    html = client.post(reverse("governance-login"), {"username": "", "password": ""}).content.decode()
    assert '<p class="error" id="id_username_error">Username: This field is required.</p>' in html


def test_an_inactive_user_cannot_log_in_and_learns_nothing_more(client, cast):
    cast.worker_a.is_active = False
    cast.worker_a.save(update_fields=["is_active"])
    response = client.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD})
    assert response.status_code == 400
    assert "Wrong username or password" in response.content.decode()
    assert "inactive" not in response.content.decode()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_the_login_page_never_sends_a_user_off_site(client, cast, target):
    response = client.post(
        reverse("governance-login"), {"username": "worker_a", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302 and response["Location"] == reverse("governance-home")


def test_the_login_page_follows_a_next_on_the_site(client, cast):
    response = client.post(
        reverse("governance-login"), {"username": "worker_a", "password": PASSWORD, "next": "/grids/my/"}
    )
    assert response.status_code == 302 and response["Location"] == "/grids/my/"


def test_logging_out_by_address_asks_and_the_button_logs_out(client, cast):
    client.force_login(cast.worker_a)
    page = client.get(reverse("governance-logout"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'method="post"' in body and "Log out" in body
    assert client.get(reverse("governance-home")).status_code == 200  # the GET changed nothing
    response = client.post(reverse("governance-logout"))
    assert response.status_code == 302 and response["Location"] == reverse("governance-login")
    assert client.get(reverse("governance-home")).status_code == 302


def test_the_login_page_says_the_user_has_logged_out(client, cast, settings):
    """Logging out landed on the empty login page with no word: on a centre's shared computer the
    next person could not tell that the last one had really signed out."""
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(cast.worker_a)
    page = client.post(reverse("governance-logout"), follow=True)
    assert page.redirect_chain == [(reverse("governance-login"), 302)]
    assert "您已退出登录。" in page.content.decode()
    assert "您已退出登录。" not in client.get(reverse("governance-login")).content.decode()  # said once


def test_logging_out_when_signed_out_goes_to_the_login_page(client, cast):
    response = client.get(reverse("governance-logout"))
    assert response.status_code == 302 and response["Location"] == reverse("governance-login")


def _token_client(user):
    """A client signed in with a token issued to ``user``; the stored token row, its key (the one the
    client sends) kept as ``raw``."""
    from rest_framework.authtoken.models import Token

    from governance.services import user_token_issue

    raw = user_token_issue(user=user)
    token = Token.objects.get(user=user)
    token.raw = raw
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client, token


def _user_change_data(user, **changes) -> dict:
    """What the admin's user form posts for ``user`` unchanged (memberships inline included)."""
    from django.utils import timezone

    joined = timezone.localtime(user.date_joined)
    memberships = list(user.memberships.all())
    data = {
        "username": user.username,
        "display_name": user.display_name,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on" if user.is_active else "",
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, m in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(m.pk),
            f"memberships-{i}-user": str(user.pk),
            f"memberships-{i}-role": m.role,
            f"memberships-{i}-area": str(m.area_id),
            f"memberships-{i}-department": str(m.department_id or ""),
        }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_deactivating_a_user_in_the_admin_revokes_their_api_tokens(client, cast):
    from rest_framework.authtoken.models import Token

    api, token = _token_client(cast.analyst)
    assert api.get("/api/v1/areas/").status_code == 200
    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/user/{cast.analyst.pk}/change/", _user_change_data(cast.analyst, is_active="")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Token.objects.filter(user=cast.analyst).exists()
    cast.analyst.refresh_from_db()
    cast.analyst.is_active = True  # reactivated later: the old key stays dead
    cast.analyst.save(update_fields=["is_active"])
    assert api.get("/api/v1/areas/").status_code == 401


def test_a_worker_deactivated_in_the_admin_is_signed_out_at_their_next_request(client, cast):
    """A grid worker who left is switched off while still signed in on their phone: the session they
    hold opens neither a page nor the API any more (ModelBackend refuses an inactive user on every
    request), although nobody ended it by hand."""
    from django.test import Client

    phone = Client()
    assert (
        phone.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD}).status_code
        == 302
    )
    assert phone.get(reverse("governance-home")).status_code == 200
    assert phone.get("/api/v1/incidents/").status_code == 200
    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/user/{cast.worker_a.pk}/change/",
        _user_change_data(cast.worker_a, is_active=""),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    cast.worker_a.refresh_from_db()
    assert not cast.worker_a.is_active
    home = phone.get(reverse("governance-home"))
    assert home.status_code == 302 and "/accounts/login/" in home["Location"]
    assert phone.get("/api/v1/incidents/").status_code in (401, 403)


def test_saving_a_user_unchanged_in_the_admin_keeps_their_tokens(client, cast):
    from rest_framework.authtoken.models import Token

    _api, token = _token_client(cast.analyst)
    client.force_login(cast.admin)
    response = client.post(
        f"/admin/governance/user/{cast.analyst.pk}/change/", _user_change_data(cast.analyst)
    )
    assert response.status_code == 302
    assert Token.objects.filter(pk=token.pk).exists()


def test_setting_a_password_in_the_admin_revokes_the_users_api_tokens(client, cast):
    from rest_framework.authtoken.models import Token

    api, _token = _token_client(cast.analyst)
    client.force_login(cast.admin)
    url = f"/admin/governance/user/{cast.analyst.pk}/password/"
    refused = client.post(url, {"password1": "short", "password2": "short"})  # too short: nothing changes
    assert refused.status_code == 200 and Token.objects.filter(user=cast.analyst).exists()
    new = "another-long-password-57"
    response = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert response.status_code == 302
    assert api.get("/api/v1/areas/").status_code == 401
    assert not Token.objects.filter(user=cast.analyst).exists()


def test_disabling_password_sign_in_in_the_admin_revokes_the_users_api_tokens(client, cast):
    """Django 5.1's "Password-based authentication: Disabled" made the password unusable and ended
    the sessions, but the API token kept working: a stolen key outlived the lock-out."""
    from rest_framework.authtoken.models import Token

    api, _token = _token_client(cast.analyst)
    client.force_login(cast.admin)
    url = f"/admin/governance/user/{cast.analyst.pk}/password/"
    body = {"usable_password": "false", "password1": "", "password2": "", "unset-password": "1"}
    assert client.post(url, body).status_code == 302
    cast.analyst.refresh_from_db()
    assert not cast.analyst.has_usable_password()
    assert api.get("/api/v1/areas/").status_code == 401
    assert not Token.objects.filter(user=cast.analyst).exists()


def test_the_admin_shows_no_token_key_and_makes_no_token(client, cast):
    from django.contrib.admin.models import LogEntry
    from rest_framework.authtoken.models import Token

    _api, token = _token_client(cast.analyst)
    client.force_login(cast.admin)
    body = client.get("/admin/governance/apitoken/").content.decode()
    assert "analyst" in body and token.key[:4] in body and token.key not in body and token.raw not in body
    change = client.get(f"/admin/governance/apitoken/{cast.analyst.pk}/change/").content.decode()
    assert token.key not in change and token.raw not in change
    assert client.get("/admin/governance/apitoken/add/").status_code == 403
    delete = f"/admin/governance/apitoken/{cast.analyst.pk}/delete/"
    assert token.key not in client.get(delete).content.decode()
    assert client.post(delete, {"post": "yes"}).status_code == 302  # deleting is revoking
    assert not Token.objects.filter(pk=token.pk).exists()
    assert token.key not in "".join(LogEntry.objects.values_list("object_repr", flat=True))


def test_a_user_whose_membership_is_removed_loses_access_at_once(client, cast):
    from grids.models import Incident  # noqa: F401  (the app's list below)

    api, _token = _token_client(cast.community_handler)
    client.force_login(cast.community_handler)
    area = f"/api/v1/areas/{cast.community_a1a.code}/"
    assert api.get(area).status_code == 200
    cast.community_handler.memberships.all().delete()
    assert api.get(area).status_code == 404
    assert api.get("/api/v1/areas/").json()["count"] == 0
    assert api.get("/api/v1/incidents/").json()["count"] == 0
    assert "You have no role at any area yet" in client.get(reverse("governance-home")).content.decode()


def test_changing_ones_own_password_in_the_admin_revokes_ones_api_tokens(client, cast):
    from rest_framework.authtoken.models import Token

    cast.admin.set_password("the-old-long-password-1")
    cast.admin.save()
    api, _token = _token_client(cast.admin)
    client.force_login(cast.admin)
    new = "the-new-long-password-2"
    refused = client.post(
        "/admin/password_change/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert refused.status_code == 200 and Token.objects.filter(user=cast.admin).exists()
    response = client.post(
        "/admin/password_change/",
        {"old_password": "the-old-long-password-1", "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert api.get("/api/v1/areas/").status_code == 401
    assert not Token.objects.filter(user=cast.admin).exists()


def test_signing_in_keeps_ones_api_tokens_and_only_a_new_password_ends_them(client, cast):
    from rest_framework.authtoken.models import Token

    cast.analyst.set_password("a-long-enough-password-3")
    cast.analyst.save()
    api, token = _token_client(cast.analyst)
    signed_in = client.post(
        "/accounts/login/", {"username": cast.analyst.username, "password": "a-long-enough-password-3"}
    )
    assert signed_in.status_code == 302
    cast.analyst.refresh_from_db()
    cast.analyst.display_name = "改名"
    cast.analyst.save()
    assert Token.objects.filter(pk=token.pk).exists() and api.get("/api/v1/areas/").status_code == 200
    cast.analyst.set_password("yet-another-password-4")  # the shell, the changepassword command
    cast.analyst.save()
    assert not Token.objects.filter(user=cast.analyst).exists()


def test_a_body_that_is_not_json_is_a_400_in_the_language_of_the_api(cast):
    # DRF answered "JSON parse error - Expecting value: ..." in English whatever the language; the
    # message is the platform's (translated), with the parser's position after it.
    response = api_client().post("/api/v1/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    }


@pytest.mark.parametrize("url", ["/api/v1/auth/token/", "/api/v1/incidents/", "/api/v1/stats/rollups/"])
def test_a_body_nested_too_deeply_is_a_400_not_a_500(cast, url):
    # json.load raises RecursionError, which DRF's parser let through: a 500 with an HTML page, to
    # anyone (the token endpoint is open), and a traceback in the log each time.
    client = api_client() if url.endswith("token/") else api_client(cast.admin)
    client.raise_request_exception = False
    response = client.post(url, "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is not valid JSON: nested too deeply"}


def test_a_json_body_over_the_limit_is_a_413_naming_it_before_it_is_parsed(cast, monkeypatch):
    # The open token endpoint parsed any body up to the 80 MB request limit: 80 MB of [{},{},...]
    # is 27 million dicts, about 2 GB of memory, for anyone who can reach the server.
    from rest_framework.utils import json

    parsed = []
    load = json.load
    monkeypatch.setattr(json, "load", lambda *a, **k: parsed.append(1) or load(*a, **k))
    body = "[" + ",".join(["{}"] * 400_000) + "]"  # 1.2 MB
    assert len(body) > 1024 * 1024
    client = api_client()
    response = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The JSON request body is larger than 1 MB, the most this endpoint accepts."
    }
    assert not parsed
    # Under the limit it is read as before.
    wrong = client.post("/api/v1/auth/token/", {"username": "x", "password": "y"}, format="json")
    assert wrong.status_code == 401 and parsed


def test_the_json_limit_holds_for_the_bytes_read_whatever_the_length_claims(settings):
    # A chunked body has no Content-Length; the parser reads at most one byte past the limit.
    import io

    from rest_framework.exceptions import APIException

    from governance.rest import JSONParser

    settings.API_JSON_MAX_BYTES = 10
    request = type("R", (), {"META": {}})()
    with pytest.raises(APIException) as refused:
        JSONParser().parse(io.BytesIO(b'{"a": "0123456789"}'), "application/json", {"request": request})
    assert refused.value.status_code == 413
    request.META["CONTENT_LENGTH"] = "5"
    with pytest.raises(APIException):
        JSONParser().parse(io.BytesIO(b'{"a": "0123456789"}'), "application/json", {"request": request})
    assert JSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", {"request": request}) == {"a": 1}


def test_the_schema_documents_the_token_lockout_as_the_endpoint_answers_it(client, cast):
    operation = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"][
        "/api/v1/auth/token/"
    ]
    responses = operation["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(responses)
    # No role is refused it: its only 403 is that of a browser session signed in with a temporary
    # password (tests/api/test_read_status_codes.py draws it).
    assert "temporary password" in responses["403"]["description"]
    assert "Retry-After" in responses["429"]["description"]


@pytest.mark.django_db(transaction=True)
def test_two_token_requests_at_once_both_get_a_token_and_one_works(postgres, cast):
    # A client retrying after a timeout: both requests found no token to delete and the second
    # insert broke the one-token-per-user constraint (a 500). Now they take turns.
    from rest_framework.authtoken.models import Token

    from governance.services import token_digest, user_token_issue

    for _round in range(5):
        keys = race(*[lambda: user_token_issue(user=cast.analyst)] * 4)
        assert all(isinstance(k, str) for k in keys), keys
        assert Token.objects.filter(user=cast.analyst).count() == 1
    # The last one issued is the one that works.
    [stored] = Token.objects.filter(user=cast.analyst)
    assert [k for k in keys if token_digest(k) == stored.key]


def test_a_write_with_its_fields_in_the_address_is_a_400_naming_them(cast):
    # POST stats/rollups/?full=true queued an incremental run: the parameter was dropped unread.
    from dashboards.models import RollupRun

    response = api_client(cast.admin).post("/api/v1/stats/rollups/?full=true", {}, format="json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["full"]
    assert not RollupRun.objects.exists()


def test_the_token_endpoint_takes_json_only_and_its_answers_are_never_cached(cast, settings):
    # A form post needs no CORS preflight: any page on another site could make its visitors'
    # browsers send failed logins (locking the account out) or guess passwords on an intranet server.
    from django.test import Client

    from tests.base import PASSWORD

    cross_site = Client(enforce_csrf_checks=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        refused = cross_site.post(
            "/api/v1/auth/token/", "username=worker_a&password=wrong",
            content_type="application/x-www-form-urlencoded",
        )  # fmt: skip
        assert refused.status_code == 415
    assert (
        Client().post("/accounts/login/", {"username": "worker_a", "password": PASSWORD}).status_code == 302
    )
    answer = api_client().post(
        "/api/v1/auth/token/", {"username": "worker_a", "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    wrong = api_client().post("/api/v1/auth/token/", {"username": "worker_a", "password": "x"}, format="json")
    assert wrong.status_code == 401 and wrong["Cache-Control"] == "no-store"


def test_a_request_larger_than_the_limit_is_refused_before_it_is_read(cast, settings):
    # Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves out a multipart body's files: the whole body was
    # received (to the temporary disk) before the photo's 10 MB check refused it.
    import io

    from grids.models import Incident

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    big = io.BytesIO(b"\0" * (2 * 1024 * 1024))
    big.name = "x.jpg"
    response = api_client(cast.worker_a).post(
        "/api/v1/incidents/", {"description": "x", "photos": [big]}, format="multipart"
    )
    assert response.status_code == 413 and "1 MB" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_a_client_that_reaches_the_server_around_the_proxy_cannot_dodge_the_lockout(client, cast, settings):
    # Behind the proxy the lockout keys on the address the proxy appended to X-Forwarded-For. A peer
    # that is not the proxy (gunicorn reached directly) wrote that header itself: a new address with
    # every guess was a new lockout counter, so the guessing never stopped.
    settings.BEHIND_TLS_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["172.31.250.1"]

    def attempt(password: str, forwarded: str, peer: str) -> int:
        return client.post(
            reverse("governance-login"),
            {"username": "worker_a", "password": password},
            HTTP_X_FORWARDED_FOR=forwarded,
            REMOTE_ADDR=peer,
        ).status_code

    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", f"203.0.113.{n + 1}", "192.0.2.44")
    assert attempt(PASSWORD, "203.0.113.200", "192.0.2.44") == 429
    # Through the proxy the user at their own desk is not the one locked out.
    assert attempt(PASSWORD, "198.51.100.7", "172.31.250.1") == 302


def test_every_failed_login_is_recorded_and_kept_after_the_user_signs_in(client, cast, settings):
    # The lockout's counters (access attempts) are deleted when the user then signs in: five wrong
    # passwords followed by the right one left no trace of the guessing. Each failure is now kept, from
    # the page and the token endpoint alike, with the address it came from.
    from axes.models import AccessFailureLog

    settings.BEHIND_TLS_PROXY = True
    via = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    client.post(reverse("governance-login"), {"username": "worker_a", "password": "wrong"}, **via)
    api_client().post(
        "/api/v1/auth/token/", {"username": "worker_a", "password": "wrong"}, format="json", **via
    )
    assert (
        client.post(
            reverse("governance-login"), {"username": "worker_a", "password": PASSWORD}, **via
        ).status_code
        == 302
    )
    failures = AccessFailureLog.objects.filter(username="worker_a").order_by("attempt_time")
    assert [(f.ip_address, f.path_info) for f in failures] == [
        ("203.0.113.9", "/accounts/login/"),
        ("203.0.113.9", "/api/v1/auth/token/"),
    ]


def test_the_login_takes_the_username_in_any_case(client, cast):
    """import_users matches a username regardless of case, and so does the login: "Worker_A" is
    worker_a (the admin refuses a second account differing only in case)."""
    response = client.post(reverse("governance-login"), {"username": "Worker_A", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("governance-home")).context["user"] == cast.worker_a
    token = api_client().post(
        "/api/v1/auth/token/", {"username": "ANALYST", "password": PASSWORD}, format="json"
    )
    assert token.status_code == 200 and "token" in token.json()


def test_failed_logins_in_several_cases_count_against_one_username(client, cast, settings):
    """Otherwise each spelling ("worker_a", "WORKER_A", "Worker_a" …) had its own five guesses."""
    from axes.models import AccessAttempt

    for i in range(settings.AXES_FAILURE_LIMIT):
        name = "worker_a".upper() if i % 2 else "worker_a"
        client.post(reverse("governance-login"), {"username": name, "password": "wrong"})
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"worker_a"}
    for name in ("worker_a", "Worker_A"):
        locked = client.post(reverse("governance-login"), {"username": name, "password": PASSWORD})
        assert locked.status_code == 429


def test_a_temporary_password_ends_the_lockout_of_every_spelling(client, cast, settings):
    from governance.services import user_password_reset

    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("governance-login"), {"username": "WORKER_A", "password": "wrong"})
    temporary = user_password_reset(user=cast.worker_a, actor=cast.admin)
    response = client.post(reverse("governance-login"), {"username": "Worker_A", "password": temporary})
    assert response.status_code == 302


def test_of_two_accounts_differing_only_in_case_only_the_exact_spelling_signs_in(client, cast):
    from governance.models import User

    User.objects.create_user("Worker_A", password=PASSWORD + "x")
    exact = client.post(reverse("governance-login"), {"username": "worker_a", "password": PASSWORD})
    assert exact.status_code == 302
    client.logout()
    other = client.post(reverse("governance-login"), {"username": "WORKER_A", "password": PASSWORD})
    assert other.status_code == 400  # neither is guessed


def test_the_admin_refuses_renaming_an_account_to_another_ones_username_in_another_case(client, cast):
    """The add form refuses a username differing from another only in case (Django's own check), and
    the login takes a username regardless of case; the change form let an account be renamed so,
    and the two could then be told apart only by the exact spelling."""
    from governance.models import User

    client.force_login(cast.admin)
    data = _user_change_data(cast.analyst, username="Worker_A")
    response = client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.keys() == {"username"}
    cast.analyst.refresh_from_db()
    assert cast.analyst.username == "analyst" and not User.objects.filter(username="Worker_A").exists()
    # A change of its own name's case, and any other change, is saved.
    data = _user_change_data(cast.analyst, username="Analyst")
    assert client.post(f"/admin/governance/user/{cast.analyst.pk}/change/", data).status_code == 302
    cast.analyst.refresh_from_db()
    assert cast.analyst.username == "Analyst"
