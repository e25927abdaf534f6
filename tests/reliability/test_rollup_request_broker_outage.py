"""Broker down: an administrator's request for a rollup run is kept and sent once Redis is back,
instead of failing with a 500 (a real redis-server, stopped and restarted)."""

import time

import pytest

from dashboards.models import RollupRun
from governance import outbox
from governance.models import OutboxMessage
from tests.base import api_client


@pytest.mark.django_db(transaction=True)
def test_a_rollup_requested_while_redis_is_down_is_queued_once_it_is_back(cast, private_redis):
    client = api_client(cast.admin)
    # With the broker up, the request goes straight to Redis.
    assert client.post("/api/v1/stats/rollups/", {}, format="json").status_code == 202
    assert private_redis.queued_tasks() == ["dashboards.rollup"]
    assert not OutboxMessage.objects.filter(sent_at=None).exists()

    private_redis.stop()
    started = time.monotonic()
    response = client.post("/api/v1/stats/rollups/", {"full": True}, format="json")
    elapsed = time.monotonic() - started
    # rollup.delay() raised kombu's OperationalError after its retries: a 500 for a good request.
    assert response.status_code == 202, response.content
    assert elapsed < 2, f"the request took {elapsed:.2f} s with the broker down"
    pending = OutboxMessage.objects.get(sent_at=None)
    assert pending.task == "dashboards.rollup" and pending.last_error
    assert pending.kwargs == {"full": True, "since": None, "trigger": "api", "user_id": cast.admin.pk}
    assert not RollupRun.objects.exists()

    assert outbox.relay() == 0  # still down: nothing sent, nothing lost
    private_redis.start()
    assert private_redis.queue_length() == 0  # a fresh server: the earlier request is gone with it
    assert outbox.relay() == 1
    assert private_redis.queued_tasks() == ["dashboards.rollup"]
    assert not OutboxMessage.objects.filter(sent_at=None).exists()
