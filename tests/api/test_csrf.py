"""A client signed in by session (the report page's script, the schema page's "Try it out") that
writes to the API without a valid CSRF token is refused with 403 and told, in its language, what
happened and what to do: DRF's own text ("CSRF Failed: CSRF cookie not set.") is English whatever
the language and names a mechanism the reader cannot act on. The reason is kept for the logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings
from django.test import Client

from grids.models import Incident
from tests.grids.conftest import IN_GRID_A

INCIDENTS = "/api/v1/incidents/"
BODY = {"category": "sanitation", "description": "垃圾堆放", "lat": IN_GRID_A[0], "lng": IN_GRID_A[1]}


def _signed_in(user, language: str) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.cookies["django_language"] = language
    return browser


def _post(browser: Client, **extra):
    return browser.post(INCIDENTS, json.dumps(BODY), content_type="application/json", **extra)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            "请求未被接受：页面停留过久或登录状态已变化，本次发送的内容没有保存。请刷新页面后重新发送。",
        ),
        (
            "en",
            "The request was not accepted: the page was open for a long time, or you signed in or out "
            "since it was opened, and nothing was saved. Reload the page and send it again.",
        ),
    ],
)
def test_a_session_write_without_a_csrf_token_says_what_to_do_in_its_language(
    cast, categories, caplog, language, expected
):
    browser = _signed_in(cast.worker_a, language)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = _post(browser)
    assert response.status_code == 403
    assert response.json() == {"detail": expected}
    assert "CSRF" not in response.content.decode()
    assert not Incident.objects.exists()
    # The reason stays for whoever reads the logs, with the address refused.
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "django.security.csrf"] == [
        ("WARNING", f"Forbidden (CSRF cookie not set.): {INCIDENTS}")
    ]


def test_a_session_write_with_a_wrong_csrf_token_is_refused_the_same_way(cast, categories):
    browser = _signed_in(cast.worker_a, "zh-hans")
    browser.get("/grids/report/")  # sets the CSRF cookie
    response = _post(browser, HTTP_X_CSRFTOKEN="x" * 32)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("请求未被接受：")
    assert not Incident.objects.exists()


def test_a_session_write_with_the_csrf_header_is_accepted(cast, categories):
    """What the report page's script and the schema page's "Try it out" send: the page's token in
    X-CSRFToken, the cookie alongside."""
    browser = _signed_in(cast.worker_a, "zh-hans")
    browser.get("/grids/report/")
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    response = _post(browser, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert Incident.objects.count() == 1


def test_the_schema_still_offers_the_session(cast):
    """drf-spectacular's session scheme matches DRF's class only: without governance.schema's own,
    the schema would drop ``cookieAuth`` and the schema page would not say the session works."""
    browser = Client()
    browser.force_login(cast.analyst)
    schema = browser.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert schema["components"]["securitySchemes"]["cookieAuth"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": settings.SESSION_COOKIE_NAME,
    }
    assert {"cookieAuth": []} in schema["paths"][INCIDENTS]["post"]["security"]
