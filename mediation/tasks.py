"""Background work of the mediation app. Tasks re-read the database and call one service; safe to
run twice (notifications are idempotent per user and key)."""

from __future__ import annotations

from celery import shared_task

from governance.tasks import RETRY_ON_DATABASE_ERROR
from mediation import services


@shared_task(name="mediation.notify_confirmation_closing", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_confirmation_closing() -> int:
    """Scheduled daily at 08:30 Asia/Shanghai (beat row created by migration 0003)."""
    return services.dispute_notify_confirmation_closing()


@shared_task(name="mediation.notify_limits", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_limits() -> int:
    """Scheduled daily at 08:30 Asia/Shanghai (beat row created by migration 0011)."""
    return services.dispute_notify_limits()
