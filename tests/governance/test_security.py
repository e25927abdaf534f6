"""Security headers and policies (issue: reliability, security and load)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.base import api_client

ROOT = Path(__file__).resolve().parents[2]


def _production_settings(**extra) -> dict:
    code = (
        "import django, json, os; django.setup(); from django.conf import settings as s; "
        "keys = ['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', "
        "'SESSION_COOKIE_AGE', 'SESSION_EXPIRE_AT_BROWSER_CLOSE', 'DEBUG', 'SESSION_COOKIE_HTTPONLY', "
        "'CSRF_COOKIE_HTTPONLY'] + [k for k in os.environ.get('KEYS', '').split(',') if k]; "
        "print(json.dumps({k: getattr(s, k) for k in keys}))"
    )
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "s" * 50,
        "FIELD_ENCRYPTION_KEY": "f",
        "ALLOWED_HOSTS": "x",
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        **extra,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout)


def test_production_cookies_are_secure_and_http_only_and_sessions_expire():
    s = _production_settings()
    assert s["DEBUG"] is False and s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SESSION_COOKIE_HTTPONLY"] and s["SESSION_EXPIRE_AT_BROWSER_CLOSE"]
    assert s["CSRF_COOKIE_HTTPONLY"]  # no script reads it: the pages carry the token (data-csrf)
    assert 0 < s["SESSION_COOKIE_AGE"] <= 12 * 3600


def test_hsts_is_behind_a_setting():
    assert _production_settings()["SECURE_HSTS_SECONDS"] == 0
    assert _production_settings(SECURE_HSTS_SECONDS="31536000")["SECURE_HSTS_SECONDS"] == 31536000


def test_api_answers_with_personal_scope_are_not_stored(cast):
    response = api_client(cast.worker_a).get("/api/v1/areas/")
    assert response["Cache-Control"] == "no-store"


def test_token_authenticated_api_answers_are_not_stored(cast):
    from governance.services import user_token_issue

    token = user_token_issue(user=cast.worker_a)
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/areas/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"


def test_every_page_has_the_strict_content_security_policy(client, cast):
    client.force_login(cast.worker_a)
    csp = client.get(reverse("governance-home"))["Content-Security-Policy"]
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
    ]:
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_clickjacking_and_sniffing_protections(client, cast):
    response = client.get(reverse("governance-login"))
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_errors_show_no_stack_trace(client, cast, settings):
    settings.DEBUG = False
    response = client.get("/api/v1/areas/340102001001001/", HTTP_AUTHORIZATION="Token bad")
    assert response.status_code == 401
    assert "Traceback" not in response.content.decode()


def test_a_nul_character_anywhere_the_database_would_see_it_is_a_400(cast):
    api = api_client()
    api.credentials(HTTP_AUTHORIZATION="Token abc\x00def")  # was a 500 from the token lookup
    response = api.get("/api/v1/areas/")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    assert api_client().get("/api/v1/areas/?level=grid%00").status_code == 400


def test_every_answer_limits_the_browser_features_to_what_the_pages_use(client, cast):
    # No Permissions-Policy was sent: a script smuggled into a page, or any frame, could ask for the
    # microphone or a USB device. The report page needs the location (GPS pin) and the photo picker
    # may open the camera, from this origin only; nothing else is used.
    client.force_login(cast.worker_a)
    for response in (client.get(reverse("grids-report")), client.get("/api/v1/areas/")):
        policy = {
            item.split("=")[0].strip(): item.split("=")[1].strip()
            for item in response["Permissions-Policy"].split(",")
        }
        assert policy["camera"] == "(self)" and policy["geolocation"] == "(self)"
        assert policy["microphone"] == "()" and policy["usb"] == "()" and policy["payment"] == "()"


def test_the_language_switch_sets_a_same_site_http_only_cookie(client, cast, settings):
    # The cookie went out with no SameSite attribute: another site's page could switch the language a
    # visitor's next page comes in. No script reads it (the switch is a form that posts), so it is
    # HttpOnly too, like the session and CSRF cookies.
    settings.LANGUAGE_COOKIE_SECURE = True
    client.force_login(cast.worker_a)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "en"
    assert cookie["samesite"] == "Lax" and cookie["httponly"] and cookie["secure"]
    header = cookie.OutputString()
    assert "SameSite=Lax" in header and "HttpOnly" in header and "Secure" in header


def test_production_language_cookie_is_same_site_http_only_and_secure():
    s = _production_settings(
        KEYS="LANGUAGE_COOKIE_SAMESITE,LANGUAGE_COOKIE_HTTPONLY,LANGUAGE_COOKIE_SECURE",
    )
    assert (
        s["LANGUAGE_COOKIE_SAMESITE"] == "Lax"
        and s["LANGUAGE_COOKIE_HTTPONLY"]
        and s["LANGUAGE_COOKIE_SECURE"]
    )


@pytest.fixture
def behind_the_proxy(settings):
    """The compose stack's switches: the proxy at its network's gateway, HTTPS redirect and HSTS on."""
    settings.BEHIND_TLS_PROXY = True
    settings.FORWARDED_ALLOW_IPS = ["172.31.250.1"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    return settings


def test_the_proxy_s_word_that_the_request_came_over_https_is_believed(client, cast, behind_the_proxy):
    login = reverse("governance-login")
    over_https = client.get(login, REMOTE_ADDR="172.31.250.1", HTTP_X_FORWARDED_PROTO="https")
    assert over_https.status_code == 200
    assert over_https["Strict-Transport-Security"].startswith("max-age=31536000")
    # The proxy's plain-HTTP listener: redirected to HTTPS.
    plain = client.get(login, REMOTE_ADDR="172.31.250.1", HTTP_X_FORWARDED_PROTO="http")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    # A list is not https, as gunicorn reads it: a proxy appending to the client's own header.
    appended = client.get(login, REMOTE_ADDR="172.31.250.1", HTTP_X_FORWARDED_PROTO="https, http")
    assert appended.status_code == 301


def test_a_peer_that_is_not_the_proxy_cannot_claim_https(client, cast, behind_the_proxy):
    # SECURE_PROXY_SSL_HEADER believed X-Forwarded-Proto from anyone: a client that reached gunicorn
    # around the proxy was taken to be on HTTPS (no redirect, HSTS sent, is_secure() true), while
    # gunicorn itself, which believes the header only from FORWARDED_ALLOW_IPS, said http.
    login = reverse("governance-login")
    for peer in ("192.0.2.44", "172.31.250.2"):
        forged = client.get(login, REMOTE_ADDR=peer, HTTP_X_FORWARDED_PROTO="https")
        assert forged.status_code == 301 and forged["Location"].startswith("https://"), peer
        assert "Strict-Transport-Security" not in forged


def test_without_the_proxy_switch_the_header_is_not_read(client, cast, behind_the_proxy):
    behind_the_proxy.BEHIND_TLS_PROXY = False
    forged = client.get(
        reverse("governance-login"), REMOTE_ADDR="172.31.250.1", HTTP_X_FORWARDED_PROTO="https"
    )
    assert forged.status_code == 301


def test_production_settings_leave_the_scheme_to_the_trusted_proxy_check():
    # Django's SECURE_PROXY_SSL_HEADER trusts any peer; governance.middleware.TrustedProxySchemeMiddleware
    # reads the header from FORWARDED_ALLOW_IPS only, the rule gunicorn applies.
    s = _production_settings(BEHIND_TLS_PROXY="1", KEYS="SECURE_PROXY_SSL_HEADER,MIDDLEWARE")
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    middleware = s["MIDDLEWARE"]
    assert middleware.index("governance.middleware.TrustedProxySchemeMiddleware") < middleware.index(
        "django.middleware.security.SecurityMiddleware"
    )


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "http:evil.example",
    " //evil.example",
    "https:/\\evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_no_next_or_referer_sends_a_user_off_site(client, cast, target):
    # The login page's own next is tested with the login (test_auth.py); these are the other places
    # that follow an address the request brings: the login's ?next=, the language switch (its next,
    # or the Referer without one), signing out, and a signed-in visit to the login page.
    answers = {
        "login ?next": client.post(
            f"{reverse('governance-login')}?next={target}", {"username": "worker_a", "password": "x" * 12}
        ),
    }
    client.force_login(cast.worker_a)
    answers["signed-in login"] = client.get(reverse("governance-login"), {"next": target})
    answers["language next"] = client.post(reverse("set_language"), {"language": "en", "next": target})
    answers["language referer"] = client.post(
        reverse("set_language"), {"language": "en"}, HTTP_REFERER=target
    )
    answers["logout next"] = client.post(f"{reverse('governance-logout')}?next={target}")
    locations = {what: r.get("Location") for what, r in answers.items()}
    assert answers["login ?next"].status_code == 400  # the wrong password: nothing followed
    assert all(r.status_code in (302, 400) for r in answers.values()), locations
    assert [what for what, to in locations.items() if to and "evil" in to] == [], locations
    assert locations["logout next"] == reverse("governance-login")
    assert locations["signed-in login"] == reverse("governance-home")
