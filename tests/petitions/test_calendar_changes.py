"""Deadlines follow the calendar (governance.deadlines): a holiday entered after a step started moves
the deadline of that step if it is still running, and leaves the deadlines of completed steps alone."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance import deadlines as calendar_sync
from governance.models import Holiday, OutboxMessage
from governance.periods import end_of_local_day, first_working_day_from, start_of_local_day
from petitions.models import Petition
from tests.base import race, wait_until_another_waits_for_a_lock


def day_of(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def moved_past(day: dt.date) -> dt.datetime:
    """Where a period that ended on ``day``, now a holiday, ends: the first working day after it."""
    return end_of_local_day(start_of_local_day(first_working_day_from(day + dt.timedelta(days=1))))


def test_a_holiday_entered_in_the_admin_moves_a_running_routing_deadline_not_a_completed_one(
    client, cast, pet, django_capture_on_commit_callbacks
):
    waiting = pet.register()
    accepted = pet.accepted()
    day = day_of(waiting.route_due_at)
    assert day_of(accepted.route_due_at) == day  # both received today: the same 15 days
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/governance/holiday/add/", {"date": day.isoformat(), "name": "地方假日"}, follow=True
        )
    assert response.redirect_chain[-1][1] == 302
    assert "deadlines of the steps still running are being recomputed" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.route_due_at == waiting.due_at == moved_past(day)
    # Routed and accepted within the limit: that step was judged by the calendar of its day.
    route_due, reply_due = accepted.route_due_at, accepted.reply_due_at
    accepted.refresh_from_db()
    assert (accepted.route_due_at, accepted.reply_due_at) == (route_due, reply_due)
    assert OutboxMessage.objects.get(task=calendar_sync.TASK).sent_at is not None


def test_a_notice_entered_in_one_go_moves_the_reply_limit_it_falls_on(
    client, cast, pet, django_capture_on_commit_callbacks
):
    # Accepted in December, the 60 days run into the next year, whose notice is entered later.
    accepted = pet.accepted()
    day = day_of(accepted.reply_due_at)
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/governance/holiday/notice/",
            {
                "year": str(day.year),
                "source": "示例通知",
                "days_off": f"地方假日 {day.isoformat()} {day.isoformat()}",
                "working_days": "",
                "confirm": "1",  # "Save these dates", after the preview
            },
        )
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.reply_due_at == accepted.due_at == moved_past(day)
    assert OutboxMessage.objects.get(task=calendar_sync.TASK).sent_at is not None


def test_the_reply_limit_and_a_review_window_not_yet_used_move_and_a_used_one_keeps_its_end(
    cast, pet, django_capture_on_commit_callbacks
):
    accepted, replied, reviewing = pet.accepted(), pet.replied(), pet.replied()
    reviewing.transition(action="request_review", actor=cast.petition_officer)
    reply_day, window_day = day_of(accepted.reply_due_at), day_of(replied.review_request_until)
    assert day_of(reviewing.review_request_until) == window_day
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=reply_day, name="春节")
        Holiday.objects.create(date=window_day, name="地方假日")
    # One task for the transaction's two changes (each Holiday save is its own transaction here:
    # the second queued its own once the first had been sent).
    assert OutboxMessage.objects.filter(task=calendar_sync.TASK, sent_at=None).count() == 0
    accepted.refresh_from_db()
    replied.refresh_from_db()
    assert accepted.reply_due_at == accepted.due_at == moved_past(reply_day)
    assert replied.review_request_until == moved_past(window_day)
    until = reviewing.review_request_until
    reviewing.refresh_from_db()
    assert reviewing.review_request_until == until  # the request was made within the window it had
    assert reviewing.status == Petition.Status.UNDER_REVIEW
    # Done for this calendar: a second delivery of the task changes nothing.
    assert calendar_sync.refresh() == 0


def test_several_changes_in_one_transaction_queue_one_refresh_and_load_holidays_queues_one(db):
    from django.db import transaction

    with transaction.atomic():
        Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
        Holiday.objects.create(date=dt.date(2027, 1, 2), name="元旦")
        Holiday.objects.filter(date=dt.date(2027, 1, 2)).delete()
    assert OutboxMessage.objects.filter(task=calendar_sync.TASK).count() == 1
    OutboxMessage.objects.all().delete()
    call_command("load_holidays", "--year", "2026", stdout=io.StringIO())
    assert OutboxMessage.objects.filter(task=calendar_sync.TASK, sent_at=None).count() == 1


def test_the_refresh_makes_no_query_per_record(pet):
    def refreshed(n: int, day: dt.date) -> tuple[int, int]:
        for _ in range(n):
            pet.accepted()
        Holiday.objects.create(date=day, name="地方假日")  # on_commit not run: the task is called below
        with CaptureQueriesContext(connection) as queries:
            changed = calendar_sync.refresh()
        return changed, len(queries)

    calendar_sync.refresh()  # the first run ever creates its marker row: not the case measured
    first_day = day_of(pet.accepted().reply_due_at)
    few = refreshed(2, first_day)
    second_day = day_of(moved_past(first_day))  # where the three went
    Petition.objects.all().delete()
    many = refreshed(9, second_day)
    assert (few[0], many[0]) == (3, 9)
    assert few[1] == many[1]  # the calendar once, each app's running records once, one bulk update
    assert set(Petition.objects.values_list("reply_due_at", flat=True)) == {moved_past(second_day)}


@pytest.mark.django_db(transaction=True)
def test_a_change_made_while_an_earlier_refresh_is_delivered_gets_a_refresh_of_its_own(
    cast, pet, monkeypatch
):
    """A change skipped queuing while another transaction's refresh waited unsent; that refresh could
    run before the change committed (reading the calendar as it was) and mark the deadlines done, and
    the deadline stayed on a day that had become a holiday."""
    import threading

    from django.db import transaction

    from governance import outbox
    from governance.models import SequenceCounter

    waiting = pet.register()
    day = day_of(waiting.route_due_at)
    real_send = outbox._send
    monkeypatch.setattr(outbox, "_send", lambda pk: False)  # the broker down: the first refresh waits
    Holiday.objects.create(date=day + dt.timedelta(days=40), name="另一假日")
    monkeypatch.setattr(outbox, "_send", real_send)
    edited, relayed = threading.Event(), threading.Event()

    def officer():
        try:
            with transaction.atomic():
                Holiday.objects.create(date=day, name="地方假日")
                edited.set()
                relayed.wait(20)  # still open while the waiting refresh is delivered and runs
        finally:
            connection.close()

    thread = threading.Thread(target=officer)
    thread.start()
    assert edited.wait(20)
    outbox.relay()
    relayed.set()
    thread.join()
    assert SequenceCounter.current("calendar") == SequenceCounter.current("deadlines")
    waiting.refresh_from_db()
    assert waiting.route_due_at == moved_past(day)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_while_a_step_is_being_taken_keeps_the_steps_new_deadline(postgres, cast, pet, monkeypatch):
    # The refresh read the running rows unlocked, waited on the row the department was accepting,
    # then wrote the acknowledgement deadline (of the step just finished) over the reply deadline.
    import threading

    from petitions.models import PetitionEvent

    petition = pet.routed()
    day = day_of(petition.acknowledge_due_at)
    inside = threading.Event()
    blocked: list[bool] = []
    create = PetitionEvent.objects.create

    def slow_create(**kwargs):  # the accept's row is written and locked, not yet committed
        event = create(**kwargs)
        if kwargs.get("action") == "accept":
            inside.set()
            # Held until the refresh waits on the row. (The holiday's own refresh, run at its commit
            # by the eager task, is the one that waits: the accept used to wait for a signal sent
            # only after it, and went on after a 10 s timeout, then a fixed pause.)
            blocked.append(wait_until_another_waits_for_a_lock())
        return event

    monkeypatch.setattr(PetitionEvent.objects, "create", slow_create)

    def accept():
        Petition.objects.get(pk=petition.pk).transition(
            action="accept", actor=cast.department_user, note="受理"
        )

    def refresh():
        assert inside.wait(30)
        Holiday.objects.create(date=day, name="地方假日")  # its refresh runs at the commit
        return calendar_sync.refresh()

    results = race(accept, refresh)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert blocked == [True]  # the refresh did wait for the accept's row
    petition.refresh_from_db()
    assert petition.status == "accepted" and petition.due_at == petition.reply_due_at


@pytest.mark.django_db
def test_the_refresh_marker_only_moves_on(cast):
    # A delivery that read an older calendar version before waiting on the marker wrote it back over
    # a newer one's: the rollup's configuration, which includes the marker, changed for nothing.
    from governance.models import SequenceCounter

    calendar_sync.refresh()
    done = SequenceCounter.current(calendar_sync.MARKER)
    SequenceCounter.objects.filter(key=calendar_sync.MARKER, year=0).update(value=done + 5)
    assert calendar_sync.refresh() == 0
    assert SequenceCounter.current(calendar_sync.MARKER) == done + 5
