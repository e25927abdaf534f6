"""Running deadlines kept in step with the working-day calendar.

Deadlines are stored (an overdue list is an indexed ``due_at < now``), computed when a step starts
from the calendar as it is then. The State Council publishes next year's holidays in November or
December, and an office may correct a day later: a petition accepted on 4 December whose 60 days end
in the Spring Festival week was given a due date before those days were known to be holidays.

So every change to the calendar (the admin's form and bulk delete, ``load_holidays``) queues one
``governance.refresh_deadlines`` task through the outbox. It sends ``calendar_changed``; each app
that stores calendar-dependent deadlines (grids, mediation, petitions: governance imports none of
them) recomputes those of its steps still running from the moment each started, and returns how many
records changed. A step already completed keeps the deadline it was judged by; a window already used
(a review requested, a confirmation applied for) keeps its end.

The task is safe to run twice and to run late: it remembers the calendar version it brought the
deadlines to (``SequenceCounter`` "deadlines"), under a row lock, and does nothing for a version
already done; a newer change queues its own task.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from django.dispatch import Signal

from governance.periods import pinned_calendar

log = logging.getLogger(__name__)

TASK = "governance.refresh_deadlines"

# Sent inside the refreshing transaction; receivers return the number of records they changed.
calendar_changed = Signal()
# Sent by the admin's preview of a year's notice with ``start`` and ``end`` (aware datetimes, end
# excluded); each app storing calendar-dependent deadlines returns a list of (what, how many): its
# records whose running deadline, or the end of a window still open (a petitioner's to ask for review,
# the parties' to apply for judicial confirmation), falls in that span, each counted in one indexed
# query: those a change to those dates may move.
deadlines_between = Signal()
# The SequenceCounter key holding the calendar version the running deadlines were last brought to
# (the rollup's configuration includes it: docs/statistics.md).
MARKER = "deadlines"


def calendar_edited() -> None:
    """Call in the transaction that changed the ``Holiday`` rows (the model's signals do; code
    writing with bulk_create or update calls it itself): every process reloads its cached calendar
    (the "calendar" counter, governance.periods), and the running deadlines are refreshed."""
    from governance.models import SequenceCounter

    SequenceCounter.bump("calendar")
    schedule_refresh()


def running_deadlines_between(start: dt.datetime, end: dt.datetime) -> list[tuple[str, int]]:
    """(what, how many) for each kind of running deadline or open window that ends from ``start``
    to before ``end``: a fixed number of queries per app, whatever the number of records."""
    return [
        answer
        for _receiver, answers in deadlines_between.send(sender=None, start=start, end=end)
        for answer in answers
    ]


def _queued_in_this_transaction() -> None:
    """A no-op registered with ``on_commit`` beside the message: its presence among the
    transaction's commit callbacks says that this transaction has queued its refresh."""


def schedule_refresh() -> None:
    """Queue a refresh in the caller's transaction (the one that changed the calendar): once per
    transaction, however many days it changed.

    A refresh queued by *another* transaction does not count, even unsent: it may be delivered and
    run before this one commits, reading the calendar as it was, and then nothing brought the
    deadlines to this change (they stayed on a day that had become a holiday). Every transaction
    queues its own; a delivery that finds its version done does nothing. Whether this transaction
    already queued one is read from its commit callbacks (Django drops those of a rolled-back
    savepoint with it), together with the message still waiting."""
    from governance import outbox
    from governance.models import OutboxMessage

    connection = transaction.get_connection()
    if (
        connection.in_atomic_block
        and any(func is _queued_in_this_transaction for _sids, func, _robust in connection.run_on_commit)
        and OutboxMessage.objects.filter(task=TASK, sent_at=None).exists()
    ):
        return
    outbox.enqueue(TASK)
    transaction.on_commit(_queued_in_this_transaction)


def refresh() -> int:
    """Bring every running deadline to the current calendar. Returns the number of records changed."""
    from governance.models import SequenceCounter

    with transaction.atomic():
        # Locked: a concurrent delivery waits here, then finds the version done (get_or_create
        # re-reads the row when a concurrent first run created it). The version is read once the
        # lock is held, and the marker only ever moves on: a delivery that read an older version
        # before waiting wrote it back over a newer one's, and the rollup, whose configuration
        # includes the marker, ran an extra full rebuild.
        marker, _created = SequenceCounter.objects.select_for_update(no_key=True).get_or_create(
            key=MARKER, year=0
        )
        version = SequenceCounter.current("calendar")
        if marker.value >= version:
            return 0
        with pinned_calendar():
            changed = sum(n or 0 for _receiver, n in calendar_changed.send(sender=SequenceCounter))
        marker.value = version
        marker.save(update_fields=["value"])
    log.info("running deadlines refreshed for calendar version %s: %s record(s) changed", version, changed)
    return changed


def save_recomputed(rows: QuerySet, recompute: Callable[[Model], dict[str, Any]]) -> int:
    """For a receiver of ``calendar_changed``: ``recompute(row)`` gives a row's deadlines as they are
    now; the rows whose deadlines differ are saved, those columns only, in batches (no query per row).
    Returns how many changed.

    The rows are locked before they are read: a step being taken on one of them (which locks it)
    commits first, and the read that follows, a statement of its own, sees it. Read unlocked, the
    refresh wrote the finished step's deadline over the new one (an accepted petition got its
    acknowledgement deadline back). Steps on these rows wait for the refresh meanwhile (seconds,
    a few times a year). Streamed both times, so memory follows the rows changed."""
    locking = rows.select_for_update(of=("self",), no_key=True).values_list("pk", flat=True)
    deque(locking.iterator(chunk_size=2000), maxlen=0)
    changed, fields = [], set()
    for row in rows.iterator(chunk_size=2000):
        new = {name: value for name, value in recompute(row).items() if getattr(row, name) != value}
        if new:
            for name, value in new.items():
                setattr(row, name, value)
            changed.append(row)
            fields |= new.keys()
    if changed:
        type(changed[0]).objects.bulk_update(changed, sorted(fields), batch_size=500)
    return len(changed)
