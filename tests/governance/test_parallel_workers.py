"""The suite runs in several pytest-xdist workers (``make test``): each must have a Redis database of
its own, or one worker's cache entries and queued tasks reach another's tests."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.cache import cache

from governance.celery import app
from tests.conftest import SHARED_REDIS_URL


def test_the_cache_and_the_broker_use_this_worker_s_redis_database(redis_url):
    assert settings.CELERY_BROKER_URL == app.conf.broker_url == redis_url
    cache.set("parallel-workers-probe", "here", 30)
    try:
        assert redis.Redis.from_url(redis_url).exists(cache.make_key("parallel-workers-probe"))
    finally:
        cache.delete("parallel-workers-probe")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    shared = int(urlparse(SHARED_REDIS_URL).path.strip("/") or 0)
    own = int(urlparse(redis_url).path.strip("/"))
    assert own == (shared + 1 + int(worker.removeprefix("gw")) if worker else shared)
