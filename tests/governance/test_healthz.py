import time

from django.db import connection


def test_healthz_is_ok_with_the_real_database_and_broker(client, db, real_celery):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["database"]["detail"] == "ok" and body["broker"]["detail"] == "ok"
    assert connection.vendor in body["status"] or body["status"] == "ok"


def test_healthz_stays_200_degraded_and_answers_quickly_when_only_the_broker_is_down(
    client, db, real_celery, settings
):
    """A broker outage must not take the web servers out of a load balancer: records are still saved
    (the outbox keeps their notices, DESIGN.md section 3), so the status code stays 200 and the body
    says what is down, for alerting."""
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["database"] == {"ok": True, "detail": "ok"}
    assert body["broker"] == {"ok": False, "detail": "ConnectionError"}
    assert time.monotonic() - started < 5  # no hang: a load balancer's probe must get an answer
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""


def test_healthz_warns_once_a_minute_when_the_broker_is_down(
    client, db, real_celery, settings, monkeypatch, caplog
):
    """A degraded /healthz is a 200, so with Redis down the web logged nothing: the log now says so,
    naming the broker's error, but once a minute per process, not on every probe (a load balancer
    probes every few seconds)."""
    import logging

    from governance import views

    monkeypatch.setattr(views, "_broker_warned_at", None)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with caplog.at_level(logging.WARNING, logger="governance.views"):
        assert client.get("/healthz").json()["status"] == "degraded"
        assert client.get("/healthz").json()["status"] == "degraded"
    warnings = [r for r in caplog.records if r.name == "governance.views" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "ConnectionError" in warnings[0].getMessage() and "broker" in warnings[0].getMessage()
    # A minute later the next probe warns again.
    monkeypatch.setattr(views, "_broker_warned_at", views._broker_warned_at - 61)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="governance.views"):
        client.get("/healthz")
    assert [r.levelno for r in caplog.records if r.name == "governance.views"] == [logging.WARNING]


def test_healthz_logs_no_broker_warning_when_only_the_database_is_down(
    client, db, real_celery, monkeypatch, caplog
):
    import logging

    from governance import views

    monkeypatch.setattr(views, "_broker_warned_at", None)
    _database_down(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="governance.views"):
        assert client.get("/healthz").status_code == 503
    assert [r for r in caplog.records if r.name == "governance.views"] == []


def _database_down(monkeypatch):
    class DeadConnection:
        def cursor(self):
            raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("governance.views.connection", DeadConnection())


def test_healthz_answers_503_when_the_database_is_down(client, db, real_celery, monkeypatch):
    _database_down(monkeypatch)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "detail": "OperationalError"}
    assert body["broker"] == {"ok": True, "detail": "ok"}  # the broker up does not make it healthy
    assert client.head("/healthz").status_code == 503


def test_healthz_answers_503_when_the_database_and_the_broker_are_down(
    client, db, real_celery, settings, monkeypatch
):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    _database_down(monkeypatch)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": {"ok": False, "detail": "OperationalError"},
        "broker": {"ok": False, "detail": "ConnectionError"},
    }


def test_healthz_answers_a_probe_by_ip_when_allowed_hosts_names_only_the_public_host(client, db, settings):
    """docker-compose probes http://127.0.0.1:8000/healthz while ALLOWED_HOSTS holds the public name."""
    settings.ALLOWED_HOSTS = ["grid.example.gov.cn"]
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    # Every other URL still validates the Host header.
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_healthz_is_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_healthz_signs_in_to_a_broker_that_needs_a_user_and_password(client, db, real_celery, settings):
    """A Redis ACL user with a password that must be percent-encoded in the URL: the probe reads the
    URL as Celery does (a raw AUTH of the encoded password, and no user, reported the broker down)."""
    import uuid

    import redis

    # ACL users belong to the whole server, not to a database: a name of its own, so that a test run
    # beside this one (another checkout on the same Redis) neither deletes nor changes this user.
    user = f"healthz_probe_{uuid.uuid4().hex[:8]}"
    admin = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    admin.execute_command("ACL", "SETUSER", user, "on", ">p@ss/wörd", "+@connection", "+select", "~*")
    try:
        settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL.replace(
            "redis://", f"redis://{user}:p%40ss%2Fw%C3%B6rd@", 1
        )
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json()["broker"] == {"ok": True, "detail": "ok"}
        settings.CELERY_BROKER_URL = settings.CELERY_BROKER_URL.replace("p%40ss", "wrong", 1)
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json()["status"] == "degraded"
        assert response.json()["broker"]["ok"] is False
    finally:
        admin.execute_command("ACL", "DELUSER", user)
        admin.close()


def test_healthz_answers_a_head_probe_and_refuses_a_post(client, db):
    head = client.head("/healthz")
    assert head.status_code == 200 and head["Content-Type"] == "application/json"
    assert client.post("/healthz").status_code == 405


def test_healthz_answers_503_when_the_database_takes_the_connection_and_never_answers(tmp_path):
    # libpq waits for ever by default: a hung database host held the probe (and its worker) for
    # minutes instead of answering 503. A fresh process, as gunicorn's, with its own DATABASE_URL.
    import os
    import socket
    import subprocess
    import sys

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts, never speaks
    port = silent.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/nobody",
        VAR_DIR=str(tmp_path),
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="governance.settings",
    )
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.json()['database'])"
    )
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        silent.close()
    assert done.stdout.startswith("503 {'ok': False, 'detail': 'OperationalError'}"), done.stderr[-2000:]
    assert time.monotonic() - started < 30
