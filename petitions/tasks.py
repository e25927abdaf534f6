"""Background work of the petitions app. Tasks re-read the database and call one service; safe to
run twice (notifications are idempotent per user and key)."""

from __future__ import annotations

from celery import shared_task

from governance.tasks import RETRY_ON_DATABASE_ERROR
from petitions import services


@shared_task(name="petitions.notify_deadlines", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_deadlines() -> int:
    """Scheduled hourly (beat row created by migration 0002); also tells the office of petitions
    left with a department that has nobody to act on them."""
    return services.petition_notify_deadlines() + services.petition_notify_unstaffed()
