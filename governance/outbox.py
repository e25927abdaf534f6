"""The transactional outbox: work that must survive a broker outage.

``enqueue`` writes an ``OutboxMessage`` in the caller's transaction and, once it commits, tries to
hand it to Celery without waiting on a dead broker (one quick attempt, no retries). Anything not
sent is picked up by ``relay`` (a beat task every minute, and the ``outbox_relay`` command), so the
work is delivered once Redis is back. Tasks fed from here must be safe to run twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.logging import mask_text
from governance.models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(task: str, **kwargs: Any) -> OutboxMessage:
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    transaction.on_commit(lambda: _send(message.pk))
    return message


def _send(message_id: int) -> bool:
    from governance.celery import app

    message = OutboxMessage.objects.filter(pk=message_id, sent_at=None).first()
    if message is None:
        return True
    try:
        if app.conf.task_always_eager:
            # Celery imports the apps' tasks modules lazily (when a worker starts); in-process
            # execution needs them now. The loader remembers what it already imported.
            app.loader.import_default_modules()
            app.tasks[message.task].apply(kwargs=message.kwargs, throw=True)
        else:
            app.send_task(message.task, kwargs=message.kwargs, retry=False)
    except Exception as exc:  # broker down, or (eager) the task failed: keep the row for the relay
        OutboxMessage.objects.filter(pk=message_id).update(
            attempts=F("attempts") + 1, last_error=mask_text(f"{type(exc).__name__}: {exc}")[:1000]
        )
        log.warning("outbox message %s not sent yet: %s", message_id, type(exc).__name__)
        return False
    OutboxMessage.objects.filter(pk=message_id, sent_at=None).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    return True


def relay(limit: int = 500) -> int:
    """Send unsent messages, oldest first. Returns how many were sent."""
    from governance.celery import app

    sent = 0
    for message_id in (
        OutboxMessage.objects.filter(sent_at=None).order_by("created_at").values_list("pk", flat=True)[:limit]
    ):
        if _send(message_id):
            sent += 1
        elif not app.conf.task_always_eager:
            break  # the broker is still down: try again on the next tick
        # Run in-process, a message fails when its own task does: the others do not wait on it (one
        # task failing every time held back every message queued after it).
    return sent
