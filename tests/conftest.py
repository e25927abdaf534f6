"""Shared fixtures. Under CI=true the real services are mandatory: a test that needs PostgreSQL,
Redis or Chromium fails when the service is missing; it never skips."""

from __future__ import annotations

import os
import socket
from urllib.parse import parse_qsl, urlencode, urlparse

import pytest

from tests.base import build_cast

IN_CI = os.environ.get("CI") == "true"
# REDIS_URL as given, before an xdist worker moves to a database of its own (below).
SHARED_REDIS_URL = os.environ.get("REDIS_URL", "")


def pytest_configure(config):
    if IN_CI and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise pytest.UsageError("CI=true needs DATABASE_URL pointing at PostgreSQL")
    if IN_CI and not os.environ.get("REDIS_URL"):
        raise pytest.UsageError("CI=true needs REDIS_URL pointing at Redis")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker and os.environ.get("REDIS_URL"):
        _own_redis_database(worker)


def _own_redis_database(worker: str) -> None:
    """Under pytest-xdist (``make test`` runs ``-n auto``) each worker gets a Redis database of its
    own, as pytest-django gives it a PostgreSQL database (``test_governance_gw0``): the cache counts
    failed token authentications by client address, the same 127.0.0.1 for every worker's test
    client (area trees are cached in each process, not there), and a task one worker queues on the shared broker could be taken by a Celery
    worker another one started. REDIS_URL's database (0 under make test) + 1 + the worker's number.

    Django's settings are loaded before any conftest (pytest-django sets Django up first), so the
    settings that hold the URL are changed here, before the first cache read or broker connection,
    and REDIS_URL too, for the ``redis_url`` fixture and the worker and web processes tests start."""
    from django.conf import settings
    from django.core.cache import caches

    from governance.celery import app

    url = worker_redis_url(os.environ["REDIS_URL"], worker)
    os.environ["REDIS_URL"] = url
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.CACHES["default"]["LOCATION"] = url
    caches.__dict__.pop("settings", None)  # in case something read the cache settings already
    app.conf.broker_url = url


def worker_redis_url(shared: str, worker: str) -> str:
    """``shared`` (REDIS_URL) naming the database of xdist ``worker``: the shared one + 1 + the
    worker's number. The number is the path of a redis:// or rediss:// URL, and the ``db`` parameter
    of a unix:// socket's, whose path is the socket's."""
    parsed = urlparse(shared)
    socket_file = parsed.scheme == "unix"
    query = parse_qsl(parsed.query, keep_blank_values=True)
    base = int(dict(query).get("db") or 0) if socket_file else int(parsed.path.strip("/") or 0)
    number = base + 1 + int(worker.removeprefix("gw"))
    if number > 15:
        raise pytest.UsageError(
            f"xdist worker {worker} would need Redis database {number}: use fewer workers"
        )
    if socket_file:  # (geturl() would drop the empty host's "//")
        query = [(k, v) for k, v in query if k != "db"] + [("db", str(number))]
        return f"unix://{parsed.netloc}{parsed.path}?{urlencode(query)}"
    return parsed._replace(path=f"/{number}").geturl()


@pytest.fixture(autouse=True)
def _eager_celery_and_clean_state(settings, tmp_path):
    """Unit tests run tasks eagerly, in English, and keep uploads in a temporary MEDIA_ROOT; the
    integration tests that need the real broker and worker say so with the ``real_celery`` fixture."""
    from django.utils import translation

    from governance.celery import app
    from governance.geo import locator
    from governance.periods import _calendar_cache

    # Tests assert on the English source strings; tests of the Chinese UI ask for zh-hans explicitly
    # (settings.LANGUAGE_CODE = "zh-hans" or an Accept-Language header).
    settings.LANGUAGE_CODE = "en"
    translation.activate("en")
    # The production hasher costs ~0.3 s per password; the cast creates a dozen users per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    locator.reset()
    # The working-day calendar is cached by the version counter, which each test's rollback winds
    # back: another test's holidays would be read under the same version number.
    _calendar_cache.cache_clear()
    # Failed token authentications are counted per address in the cache (Redis under CI), which
    # outlives a test: the test client's wrong keys from 127.0.0.1 would add up to a 429 in a later
    # test. Only these counters: the Redis database is also Celery's broker.
    _forget_token_failures()
    yield
    app.conf.task_always_eager = previous
    locator.reset()


def _forget_token_failures() -> None:
    from governance.rest import token_failures_reset

    for address in ("127.0.0.1", "unknown"):
        token_failures_reset(address)


@pytest.fixture
def cast(db):
    return build_cast()


@pytest.fixture
def postgres(db):
    """Tests of behaviour that only PostgreSQL can show (row locks under concurrency)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL: set DATABASE_URL=postgres://... (make test does)")
    return connection


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url or not _reachable(url):
        pytest.fail(f"this test needs Redis: REDIS_URL={url!r} is not reachable (make test starts nothing)")
    return url


@pytest.fixture
def real_celery(redis_url):
    """Let tasks go through the real Redis broker instead of running eagerly."""
    from governance.celery import app

    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True
