from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from governance import deadlines, outbox

# Options of every task whose work must not be lost to a database restart or failover: the tasks the
# outbox sends (their message is marked sent once the broker has them, so a task that fails is gone
# for good) and the periodic notices. Such an error is retried after a growing pause (5 s, 10 s, 20 s
# ... at most 5 minutes, each drawn at random below that, so the workers do not all come back at the
# same moment), 8 times (some 15 minutes at most), then fails as before. The tasks are safe to run
# again: they re-read the database, and notifications are unique per (user, key).
# ``shared_task(..., **RETRY_ON_DATABASE_ERROR)``.
RETRY_ON_DATABASE_ERROR = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


# Not retried: the relay runs every minute, and what it did not send stays unsent for the next tick.
@shared_task(name="governance.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    sent = outbox.relay()
    outbox.purge_sent()
    return sent


@shared_task(
    name="governance.refresh_deadlines", ignore_result=True, acks_late=True, **RETRY_ON_DATABASE_ERROR
)
def refresh_deadlines() -> int:
    return deadlines.refresh()
