"""The database connection is lost and restored: the next request to a real server succeeds.

gunicorn runs in a subprocess against the test database; its persistent connection is killed
from here with pg_terminate_backend, as a database restart or a network blip would. Django's
connection health checks (CONN_HEALTH_CHECKS) notice the dead connection and open a new one."""

import os
import time
import urllib.request

import pytest
from django.db import connection

from tests.gunicorn_server import gunicorn_server


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True)
def test_the_next_request_succeeds_after_the_database_connection_was_killed(postgres, redis_url):
    settings_db = connection.settings_dict
    url = (
        f"postgres://{settings_db['USER']}:{settings_db['PASSWORD']}@{settings_db['HOST'] or '127.0.0.1'}:"
        f"{settings_db['PORT'] or 5432}/{settings_db['NAME']}"
    )
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "DEBUG": "1"}
    args = ["governance.wsgi:application", "--bind", "127.0.0.1:0", "--workers", "1", "--threads", "1"]
    with gunicorn_server(args, env) as port:
        for _ in range(100):
            try:
                if _get(f"http://127.0.0.1:{port}/healthz") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not start")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            killed = cursor.fetchall()
        assert len(killed) >= 1  # gunicorn's persistent connection was there, and is now gone
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200
