"""Broker down: creating a record still succeeds quickly, and the work it queues is kept in the
database and delivered once Redis is back (a real redis-server, stopped and restarted)."""

import time

import pytest

from governance import outbox
from governance.models import OutboxMessage
from tests.base import api_client


@pytest.fixture
def seeded_categories(transactional_db):
    import importlib

    from django.apps import apps

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)


@pytest.mark.django_db(transaction=True)
def test_an_incident_is_reported_while_redis_is_down_and_its_notice_is_delivered_later(
    cast, private_redis, seeded_categories
):
    client = api_client(cast.worker_a)
    # With the broker up, the notice goes straight to Redis.
    first = client.post(
        "/api/v1/incidents/",
        {"category": "sanitation", "description": "垃圾堆放", "lat": 31.805, "lng": 117.005},
        format="json",
    )
    assert first.status_code == 201, first.content
    assert not OutboxMessage.objects.filter(sent_at=None).exists(), OutboxMessage.objects.values(
        "last_error"
    )[0]
    assert private_redis.queued_tasks() == ["grids.notify_new_incident"]

    private_redis.stop()
    started = time.monotonic()
    response = client.post(
        "/api/v1/incidents/",
        {"category": "sanitation", "description": "占道经营", "lat": 31.805, "lng": 117.006},
        format="json",
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.content
    assert elapsed < 2, f"reporting took {elapsed:.2f} s with the broker down"
    pending = OutboxMessage.objects.get(sent_at=None)
    assert pending.task == "grids.notify_new_incident" and pending.attempts == 1 and pending.last_error

    assert outbox.relay() == 0  # still down: nothing sent, nothing lost
    private_redis.start()
    assert private_redis.queue_length() == 0  # a fresh server: the earlier message is gone with it
    assert outbox.relay() == 1
    assert private_redis.queued_tasks() == ["grids.notify_new_incident"]
    assert not OutboxMessage.objects.filter(sent_at=None).exists()
