"""Background work of the grids app. Tasks re-read the database and call one service; safe to run twice."""

from __future__ import annotations

from celery import shared_task

from governance.tasks import RETRY_ON_DATABASE_ERROR
from grids import services


@shared_task(name="grids.notify_overdue", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_overdue() -> int:
    """Scheduled every 10 minutes (beat row created by migration 0003)."""
    return services.incident_notify_overdue()


@shared_task(name="grids.notify_new_incident", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_new_incident(incident_id: int) -> int:
    """Queued through the outbox when an incident is reported."""
    return services.incident_notify_new(incident_id)


@shared_task(name="grids.notify_escalated_incident", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_escalated_incident(incident_id: int, level: str) -> int:
    """Queued through the outbox when an incident is escalated to ``level``."""
    return services.incident_notify_escalated(incident_id, level)


@shared_task(name="grids.notify_dispatched_incident", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_dispatched_incident(incident_id: int, event_id: int) -> int:
    """Queued through the outbox when an incident is dispatched (the lead and supporting departments)."""
    return services.incident_notify_dispatched(incident_id, event_id)


@shared_task(name="grids.notify_incident_step", ignore_result=True, **RETRY_ON_DATABASE_ERROR)
def notify_incident_step(incident_id: int, event_id: int) -> int:
    """Queued through the outbox on feedback (the grid workers verify), on a verification (failed:
    the department handles again; passed: the centre closes), on a rejection (the reporter) and on a
    return (the centre dispatches again)."""
    return services.incident_notify_step(incident_id, event_id)
