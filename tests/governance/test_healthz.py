import time

from django.db import connection


def test_healthz_is_ok_with_the_real_database_and_broker(client, db, real_celery):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["database"]["detail"] == "ok" and body["broker"]["detail"] == "ok"
    assert connection.vendor in body["status"] or body["status"] == "ok"


def test_healthz_answers_503_quickly_when_the_broker_is_down(client, db, real_celery, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False and response.json()["database"]["ok"] is True
    assert time.monotonic() - started < 5  # no hang: a load balancer's probe must get an answer


def test_healthz_answers_503_when_the_database_is_down(client, db, monkeypatch):
    class DeadConnection:
        def cursor(self):
            raise connection.Database.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("governance.views.connection", DeadConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == {"ok": False, "detail": "OperationalError"}
