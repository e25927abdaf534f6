"""The transactional outbox: work that must survive a broker outage.

``enqueue`` writes an ``OutboxMessage`` in the caller's transaction and, once it commits, tries to
hand it to Celery without waiting on a dead broker (one quick attempt, no retries). Anything not
sent is picked up by ``relay`` (the beat task ``governance.relay_outbox``, every minute), so the work
is delivered once Redis is back. A message is sent once as a rule (its row is locked while it is
sent); a crash between sending and recording it sends it again, so tasks fed from here must be safe
to run twice.

Sent rows are kept ``OUTBOX_KEEP_DAYS`` (30 by default) for the admin to read what was sent when, then
the relay deletes them, a bounded batch a tick, so the table does not grow without end.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta
from typing import Any

from django.conf import settings
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


def _send(message_id: int) -> bool | None:
    """Hand one message to Celery while holding its row: the on-commit send and a relay, or two
    relays on two workers, took the same unsent row and both sent it. The second now skips a row
    being sent (``skip_locked``) and finds it sent once the first commits. A crash between sending
    and committing leaves it unsent: sent again later, so at least once. True when sent, False when
    not (kept for the relay), None when there was nothing to send."""
    from governance.celery import app

    if app.conf.task_always_eager:
        return _run_here(message_id, app)
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at=None)
            .first()
        )
        if message is None:
            return None  # sent, or being sent by someone else right now: nothing to do here
        try:
            app.send_task(message.task, kwargs=message.kwargs, retry=False)
        except Exception as exc:  # the broker is down: keep the row for the relay
            _not_sent(message_id, exc, attempts=F("attempts") + 1)
            return False
        OutboxMessage.objects.filter(pk=message_id).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
    return True


def _run_here(message_id: int, app) -> bool | None:
    """In-process (the embedded default, eager tasks): the message is claimed (marked sent) first,
    then its task runs outside any transaction of the outbox's, as a worker would run it: what the
    task records of itself (a failed rollup run's row) is kept, not rolled back with the outbox's
    own work. A task that fails gives the message back to the relay."""
    claimed = OutboxMessage.objects.filter(pk=message_id, sent_at=None).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    message = OutboxMessage.objects.get(pk=message_id)
    # Celery imports the apps' tasks modules lazily (when a worker starts); in-process execution
    # needs them now. The loader remembers what it already imported.
    app.loader.import_default_modules()
    # Called inside a transaction (a test's, or a caller's), the task runs in a savepoint: a
    # database error in it must not break that transaction.
    guard = transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()
    try:
        with guard:
            app.tasks[message.task].apply(kwargs=message.kwargs, throw=True)
    except Exception as exc:  # the task failed: the relay tries it again (the claim counted the attempt)
        _not_sent(message_id, exc, sent_at=None)
        return False
    return True


def _not_sent(message_id: int, exc: Exception, **changes: Any) -> None:
    """Keep the error (numbers masked: it is read in the admin), with ``changes`` to the row."""
    error = mask_text(f"{type(exc).__name__}: {exc}")[:1000]
    OutboxMessage.objects.filter(pk=message_id).update(last_error=error, **changes)
    log.warning("outbox message %s not sent yet: %s", message_id, type(exc).__name__)


def relay(limit: int = 500) -> int:
    """Send unsent messages, oldest first. Returns how many this call sent (not those another
    relay was sending at the same moment)."""
    from governance.celery import app

    sent = 0
    for message_id in (
        OutboxMessage.objects.filter(sent_at=None).order_by("created_at").values_list("pk", flat=True)[:limit]
    ):
        result = _send(message_id)
        if result:
            sent += 1
        elif result is False and not app.conf.task_always_eager:
            break  # the broker is still down: try again on the next tick
        # Run in-process, a message fails when its own task does: the others do not wait on it (one
        # task failing every time held back every message queued after it).
    return sent


def purge_sent(limit: int = 5000) -> int:
    """Delete at most ``limit`` messages sent more than ``OUTBOX_KEEP_DAYS`` ago (oldest first, read
    through the ``outbox_sent`` index); returns how many. Called by every relay tick, so a backlog of
    any size drains at ``limit`` a minute without one long delete holding the table."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
    old = OutboxMessage.objects.filter(sent_at__lt=cutoff).order_by("sent_at").values("pk")[:limit]
    deleted, _ = OutboxMessage.objects.filter(pk__in=old).delete()
    return deleted
