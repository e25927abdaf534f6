"""Tasks whose work must not be lost retry a transient database error (a restart, a failover)
instead of failing once and being gone: the outbox already marked their message sent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import InterfaceError, OperationalError, transaction

from governance.celery import app
from governance.tasks import RETRY_ON_DATABASE_ERROR

ROOT = Path(__file__).resolve().parents[2]
APPS = ("governance", "grids", "mediation", "petitions", "dashboards")
# Not retried, on purpose: the relay runs again every minute; a rollup records its own failure
# (see the comment above dashboards.tasks.rollup).
NOT_RETRIED = {"governance.relay_outbox", "dashboards.rollup"}


def _our_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in APPS}


def _enqueued_names() -> set[str]:
    """Every task name the apps queue through the outbox (``outbox.enqueue("...")`` or a TASK constant)."""
    names = set()
    for app_dir in APPS:
        for path in (ROOT / app_dir).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            names |= set(re.findall(r'outbox\.enqueue\(\s*"([\w.]+)"', text))
            if "outbox.enqueue(TASK)" in text:
                names |= set(re.findall(r'^TASK = "([\w.]+)"', text, re.MULTILINE))
    return names


def test_every_task_of_the_apps_but_the_relay_and_the_rollup_retries_a_database_error():
    tasks = _our_tasks()
    assert {"grids.notify_new_incident", "governance.refresh_deadlines", "petitions.notify_deadlines"} <= set(
        tasks
    )
    enqueued = _enqueued_names()
    assert "dashboards.assessment_compute_all" in enqueued and enqueued <= set(tasks)
    missing = []
    for name, task in tasks.items():
        if name in NOT_RETRIED:
            assert not getattr(task, "autoretry_for", ()), name
            continue
        options = {key: getattr(task, key, None) for key in RETRY_ON_DATABASE_ERROR}
        if options != RETRY_ON_DATABASE_ERROR:
            missing.append(name)
    assert missing == []
    assert set(RETRY_ON_DATABASE_ERROR["autoretry_for"]) == {OperationalError, InterfaceError}
    assert RETRY_ON_DATABASE_ERROR["retry_backoff_max"] and RETRY_ON_DATABASE_ERROR["max_retries"]
    assert enqueued - NOT_RETRIED <= set(tasks) - set(missing)


def _failing_once(calls: list, message: str):
    """A stand-in for a notice service whose first call meets a database that went away."""

    def flaky(incident_id):
        calls.append(incident_id)
        if len(calls) == 1:
            raise OperationalError(message)
        return 1

    return flaky


def test_a_notice_whose_database_went_away_once_is_retried_not_lost(monkeypatch):
    from grids import services
    from grids.tasks import notify_new_incident

    calls = []
    monkeypatch.setattr(services, "incident_notify_new", _failing_once(calls, "server closed the connection"))
    # Eager, Celery runs the retry at once (a worker would queue it after the back-off).
    result = notify_new_incident.apply(kwargs={"incident_id": 7}, throw=False)
    assert result.successful() and result.get() == 1 and calls == [7, 7]


def test_a_database_error_that_lasts_fails_the_task_after_the_last_retry(monkeypatch):
    from petitions import services
    from petitions.tasks import notify_deadlines

    calls = []

    def down(*args, **kwargs):
        calls.append(1)
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(services, "petition_notify_deadlines", down)
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False  # each eager retry answers its own result, not Retry
    try:
        result = notify_deadlines.apply()
    finally:
        app.conf.task_eager_propagates = propagates
    assert result.failed() and isinstance(result.result, InterfaceError)
    assert len(calls) == RETRY_ON_DATABASE_ERROR["max_retries"] + 1


@pytest.mark.django_db(transaction=True)
def test_in_process_a_retried_outbox_task_keeps_its_message_for_the_relay(monkeypatch):
    """Run in-process (no Redis: the embedded default), the retry surfaces as the task's failure, so
    the outbox keeps the message and the relay runs it again, as for any failed task."""
    from governance import outbox
    from grids import services

    calls = []
    monkeypatch.setattr(services, "incident_notify_new", _failing_once(calls, "the database is starting up"))
    with transaction.atomic():
        message = outbox.enqueue("grids.notify_new_incident", incident_id=8)
    message.refresh_from_db()
    assert message.sent_at is None and "OperationalError" in message.last_error
    assert outbox.relay() == 1 and calls == [8, 8]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 2
