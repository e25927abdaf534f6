"""Bring the time limits of the cases still running to the current rule and calendar once.

A case accepted before the limit moved off rest days (a limit ending on a Saturday or in the National
Day week runs to the first working day after it) kept the due date it was given, overdue from a day
the office was closed, until the next change to the holiday calendar recomputed it, which may be
months away. This queues the recomputation that a calendar change queues (``governance.deadlines``):
the calendar version moves on and a ``governance.refresh_deadlines`` message is written to the outbox,
which the relay delivers within a minute; the task recomputes every running deadline (mediation's and
petitions', set-based), safe to run twice. Nothing is queued on a database with no running case.
"""

from django.db import migrations
from django.db.models import F
from django.utils import timezone

TASK = "governance.refresh_deadlines"  # governance.deadlines.TASK


def queue_refresh(apps, schema_editor):
    DisputeCase = apps.get_model("mediation", "DisputeCase")
    SequenceCounter = apps.get_model("governance", "SequenceCounter")
    OutboxMessage = apps.get_model("governance", "OutboxMessage")
    running = DisputeCase.objects.filter(status__in=("accepted", "in_mediation"), due_at__isnull=False)
    if not running.exists():
        return
    now = timezone.now()
    # As SequenceCounter.bump("calendar"): the refresh does nothing for a version already done.
    if not SequenceCounter.objects.filter(key="calendar", year=0).update(
        value=F("value") + 1, changed_at=now
    ):
        SequenceCounter.objects.create(key="calendar", year=0, value=1, changed_at=now)
    OutboxMessage.objects.create(task=TASK, kwargs={})


class Migration(migrations.Migration):
    dependencies = [
        ("mediation", "0014_dispute_area_received_with_key"),
        ("governance", "0011_periodic_task_expiry"),
    ]

    operations = [migrations.RunPython(queue_refresh, migrations.RunPython.noop)]
