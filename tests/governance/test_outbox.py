"""The outbox keeps work that could not reach the broker and delivers it later."""

import pytest
from celery import shared_task
from django.db import transaction

from governance import outbox
from governance.models import OutboxMessage

delivered: list[dict] = []


@shared_task(name="tests.outbox_probe")
def outbox_probe(**kwargs):
    delivered.append(kwargs)


@shared_task(name="tests.outbox_failing_probe")
def outbox_failing_probe(**kwargs):
    raise ValueError("no grid for the reporter 13812345678 (ID 340104199003071234)")


@pytest.fixture(autouse=True)
def _clear():
    delivered.clear()


@pytest.mark.django_db(transaction=True)
def test_an_eager_message_runs_after_commit_and_is_marked_sent():
    with transaction.atomic():
        message = outbox.enqueue("tests.outbox_probe", incident=1)
        assert delivered == []  # nothing runs before the record is committed
    assert delivered == [{"incident": 1}]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_leaves_no_message():
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue("tests.outbox_probe", incident=2)
        raise RuntimeError("creation failed")
    assert not OutboxMessage.objects.exists() and delivered == []


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_the_message_waits_and_the_relay_delivers_it(real_celery, redis_url):
    from tests.base import reset_broker_connections

    real_celery.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        reset_broker_connections(real_celery)
        with transaction.atomic():
            outbox.enqueue("tests.outbox_probe", incident=3)
        message = OutboxMessage.objects.get()
        assert message.sent_at is None and message.attempts == 1 and message.last_error
    finally:
        real_celery.conf.broker_url = redis_url
        reset_broker_connections(real_celery)
    real_celery.conf.task_always_eager = True  # deliver in-process so the test can see it
    assert outbox.relay() == 1
    assert delivered == [{"incident": 3}]
    assert OutboxMessage.objects.get().sent_at is not None
    assert outbox.relay() == 0  # nothing twice


@pytest.mark.django_db
def test_the_relay_is_scheduled_every_minute_in_the_database():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="governance.relay_outbox")
    assert task.enabled and task.interval.every == 1 and task.interval.period == "minutes"


@pytest.mark.django_db(transaction=True)
def test_a_failed_messages_error_is_kept_with_personal_numbers_masked():
    # last_error is read in the admin and kept until the message is sent: a task whose exception
    # quotes a number must not store it in clear there.
    with transaction.atomic():
        outbox.enqueue("tests.outbox_failing_probe", incident=4)
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.attempts == 1
    assert message.last_error == "ValueError: no grid for the reporter 138****5678 (ID 3401**********1234)"


@pytest.mark.django_db(transaction=True)
def test_run_in_process_a_failing_message_does_not_hold_back_the_ones_after_it():
    """The relay stopped at the first message it could not send, as it must while the broker is
    down; run in-process (the embedded default) that was a task failing every time, and every
    message queued after it (a rollup asked for, a deadline refresh) waited behind it for ever."""
    with transaction.atomic():
        outbox.enqueue("tests.outbox_failing_probe", incident=5)
    later = OutboxMessage.objects.create(task="tests.outbox_probe", kwargs={"incident": 6})
    assert outbox.relay() == 1
    assert delivered == [{"incident": 6}]
    later.refresh_from_db()
    failing = OutboxMessage.objects.get(task="tests.outbox_failing_probe")
    assert later.sent_at is not None and failing.sent_at is None and failing.attempts == 2


@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_hand_a_message_to_the_broker_once(postgres, monkeypatch):
    # The on-commit send and a relay, or two workers' relays, both found the row unsent and both
    # sent it: a rollup requested through the API ran twice. The row is now held while it is sent.
    import threading

    from governance.celery import app
    from tests.base import race

    app.conf.task_always_eager = False  # the autouse fixture (tests/conftest.py) restores it
    message = OutboxMessage.objects.create(task="tests.outbox_probe", kwargs={"incident": 5})
    sent, sending = [], threading.Event()

    def slow_send_task(name, kwargs=None, retry=None, **_):
        sent.append(kwargs)
        sending.set()
        threading.Event().wait(0.5)  # still talking to the broker when the other relay looks

    monkeypatch.setattr(app, "send_task", slow_send_task)

    def second():
        sending.wait(5)
        return outbox.relay()

    assert sorted(race(outbox.relay, second)) == [0, 1]
    assert sent == [{"incident": 5}]
    message.refresh_from_db()
    assert message.sent_at is not None and message.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_an_in_process_task_that_fails_keeps_what_it_recorded_of_itself(monkeypatch):
    # Eager (the embedded default): the task ran inside the outbox's own transaction, and a failed
    # rollup run's row, which says why it failed, was rolled back with it.
    from dashboards import rollup as engine
    from dashboards.models import RollupRun

    def broken(*args, **kwargs):
        raise RuntimeError("source broken")

    monkeypatch.setattr(engine, "_execute", broken)
    with transaction.atomic():
        message = outbox.enqueue("dashboards.rollup", full=False, since=None, trigger="api", user_id=None)
    run = RollupRun.objects.get()
    assert run.status == RollupRun.Status.FAILED and "source broken" in run.error
    message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1 and message.last_error.startswith("RuntimeError")


@pytest.mark.django_db
def test_the_relay_tick_deletes_messages_sent_longer_ago_than_kept(settings):
    # Sent rows were kept forever: one a notice, every minute of every day, for years.
    from datetime import timedelta

    from django.utils import timezone

    from governance.tasks import relay_outbox

    settings.OUTBOX_KEEP_DAYS = 30
    now = timezone.now()
    old = OutboxMessage.objects.create(task="tests.outbox_probe", sent_at=now - timedelta(days=31))
    recent = OutboxMessage.objects.create(task="tests.outbox_probe", sent_at=now - timedelta(days=29))
    unsent = OutboxMessage.objects.create(
        task="tests.outbox_failing_probe", created_at=now - timedelta(days=60), attempts=9
    )
    relay_outbox()
    kept = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert old.pk not in kept and recent.pk in kept and unsent.pk in kept  # never an unsent one


@pytest.mark.django_db
def test_the_purge_is_bounded_a_tick():
    from datetime import timedelta

    from django.utils import timezone

    long_ago = timezone.now() - timedelta(days=400)
    OutboxMessage.objects.bulk_create(
        OutboxMessage(task="tests.outbox_probe", sent_at=long_ago + timedelta(minutes=i)) for i in range(5)
    )
    assert outbox.purge_sent(limit=3) == 3
    # The oldest went first.
    assert list(OutboxMessage.objects.values_list("sent_at", flat=True).order_by("sent_at")) == [
        long_ago + timedelta(minutes=3),
        long_ago + timedelta(minutes=4),
    ]
    assert outbox.purge_sent(limit=3) == 2
