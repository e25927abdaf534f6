"""The suite runs in several pytest-xdist workers (``make test``): each must have a Redis database of
its own, or one worker's cache entries and queued tasks reach another's tests."""

from __future__ import annotations

import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache

from governance.celery import app
from tests.conftest import SHARED_REDIS_URL, worker_redis_url


def test_the_cache_and_the_broker_use_this_worker_s_redis_database(redis_url):
    assert settings.CELERY_BROKER_URL == app.conf.broker_url == redis_url
    cache.set("parallel-workers-probe", "here", 30)
    try:
        assert redis.Redis.from_url(redis_url).exists(cache.make_key("parallel-workers-probe"))
    finally:
        cache.delete("parallel-workers-probe")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    assert redis_url == (worker_redis_url(SHARED_REDIS_URL, worker) if worker else SHARED_REDIS_URL)


@pytest.mark.parametrize(
    "shared, worker, own",
    [
        ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "gw2", "redis://127.0.0.1:6379/3"),
        (
            "rediss://:pw@cache.internal:6380/4?ssl_cert_reqs=none",
            "gw1",
            "rediss://:pw@cache.internal:6380/6?ssl_cert_reqs=none",
        ),
        # A socket's path is no database number: the number is the ``db`` parameter (redis-py), and
        # reading the path as one stopped every worker with a ValueError before its first test.
        ("unix:///run/redis/redis.sock?db=2", "gw1", "unix:///run/redis/redis.sock?db=4"),
        ("unix:///run/redis/redis.sock", "gw0", "unix:///run/redis/redis.sock?db=1"),
        (
            "unix:///run/redis/redis.sock?password=pw&db=2",
            "gw0",
            "unix:///run/redis/redis.sock?password=pw&db=3",
        ),
    ],
)
def test_each_worker_s_redis_url_names_the_database_after_the_shared_one(shared, worker, own):
    assert worker_redis_url(shared, worker) == own


def test_a_worker_past_redis_s_sixteen_databases_is_refused_naming_it():
    with pytest.raises(pytest.UsageError, match="gw3 would need Redis database 16"):
        worker_redis_url("redis://127.0.0.1:6379/12", "gw3")
