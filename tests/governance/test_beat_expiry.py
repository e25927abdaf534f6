"""Periodic tasks sent while the worker is down wait in Redis: the outbox relay alone is 60 messages
an hour, and a worker started after a night's stop ran them all at once. The frequent entries expire
before their next run is sent (a stopped worker comes back to one run of each, not a backlog); the
daily ones keep every run (a late night's rollup or morning notice, never a lost one)."""

import importlib

import pytest
from celery.beat import Scheduler
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from governance.celery import app

FREQUENT = {"governance.relay_outbox": 60, "grids.notify_overdue": 600, "petitions.notify_deadlines": 3600}


@pytest.mark.django_db
def test_the_frequent_entries_expire_before_their_next_run_and_the_daily_ones_never():
    tasks = {task.task: task for task in PeriodicTask.objects.select_related("interval", "crontab")}
    assert set(FREQUENT) <= set(tasks)
    for name, interval in FREQUENT.items():
        task = tasks[name]
        assert task.interval.schedule.run_every.total_seconds() == interval, name
        assert task.expires is None and 0 < task.expire_seconds < interval, name
    # Ours (beat adds celery.backend_cleanup with its own 12 h expiry when results are kept).
    daily = [task for task in tasks.values() if task.crontab_id and not task.task.startswith("celery.")]
    assert {"dashboards.rollup"} <= {task.task for task in daily}
    for task in daily:
        assert task.expires is None and task.expire_seconds is None, task.task


@pytest.mark.django_db
def test_the_migration_keeps_an_expiry_the_operator_chose_and_goes_back_cleanly():
    migration = importlib.import_module("governance.migrations.0011_periodic_task_expiry")
    from django.apps import apps

    relay = PeriodicTask.objects.get(task="governance.relay_outbox")
    migration.remove_expiry(apps, None)
    relay.refresh_from_db()
    assert relay.expire_seconds is None
    PeriodicTask.objects.filter(task="grids.notify_overdue").update(expire_seconds=120)
    migration.set_expiry(apps, None)
    assert PeriodicTask.objects.get(task="grids.notify_overdue").expire_seconds == 120
    relay.refresh_from_db()
    assert relay.expire_seconds == 50


@pytest.mark.django_db
def test_the_relay_message_beat_sends_carries_its_expiry(monkeypatch):
    app.conf.task_always_eager = False  # the autouse fixture (tests/conftest.py) restores it
    sent = []
    monkeypatch.setattr(
        app.amqp, "send_task_message", lambda producer, name, message, **kwargs: sent.append(message)
    )
    entry = ModelEntry(PeriodicTask.objects.get(task="governance.relay_outbox"), app=app)
    Scheduler(app, lazy=True).apply_async(entry, advance=False)
    assert len(sent) == 1
    headers = sent[0].headers
    assert headers["task"] == "governance.relay_outbox" and headers["expires"]
