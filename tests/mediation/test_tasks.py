"""The daily notices of closing judicial-confirmation windows and of running cases' time limits (mediation.tasks)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django_celery_beat.models import PeriodicTask

from governance.models import Notification
from mediation import tasks
from mediation.models import DisputeCase
from tests.base import every_day_working


def test_the_mediator_hears_once_when_a_confirmation_window_is_about_to_close(med):
    # Every day of these weeks a working day: a window ending on a weekend runs to Monday.
    every_day_working(-10, 39)
    closing = med.agreed(effective_days_ago=26)  # window ends in 4 days
    med.agreed(effective_days_ago=5)  # 25 days left: not yet
    med.agreed(effective_days_ago=31)  # window already closed
    applied = med.agreed(effective_days_ago=27)
    applied.transition(action="apply_confirmation", actor=applied.mediator, joint=True)

    assert tasks.notify_confirmation_closing.delay().get() == 1
    notices = list(Notification.objects.filter(key__startswith="dispute-confirmation-closing:"))
    assert [n.user for n in notices] == [closing.mediator]
    assert closing.code in notices[0].message and closing.confirmation_due.isoformat() in notices[0].message
    assert "4" in notices[0].message and notices[0].link.endswith(f"/{closing.code}/")

    assert tasks.notify_confirmation_closing.delay().get() == 0  # daily runs do not repeat it
    assert Notification.objects.filter(key__startswith="dispute-confirmation-closing:").count() == 1


def test_the_notice_is_scheduled_every_morning_by_a_migration(db):
    task = PeriodicTask.objects.get(task="mediation.notify_confirmation_closing")
    assert task.enabled and task.crontab.hour == "8" and task.crontab.minute == "30"
    assert str(task.crontab.timezone) == "Asia/Shanghai"


def test_a_holiday_entered_later_extends_a_confirmation_window_not_yet_used(
    med, django_capture_on_commit_callbacks
):
    import datetime as dt

    from governance.models import Holiday
    from governance.periods import first_working_day_from

    waiting, applied = med.agreed(effective_days_ago=0), med.agreed(effective_days_ago=0)
    applied.transition(action="apply_confirmation", actor=med.cast.mediator, joint=True)
    day = waiting.confirmation_due
    assert applied.confirmation_due == day
    with django_capture_on_commit_callbacks(execute=True):
        Holiday.objects.create(date=day, name="地方假日")
    waiting.refresh_from_db()
    applied.refresh_from_db()
    assert waiting.confirmation_due == first_working_day_from(day + dt.timedelta(days=1))
    assert applied.confirmation_due == day  # applied for within the window it had


def test_the_last_day_of_the_window_is_one_day_left_not_one_days(med, client):
    every_day_working(-10, 39)
    closing = med.agreed(effective_days_ago=29)  # the window ends tomorrow
    assert closing.confirmation_days_left == 1
    assert tasks.notify_confirmation_closing.delay().get() == 1
    notice = Notification.objects.get(key__startswith="dispute-confirmation-closing:")
    assert "(1 day left)" in notice.texts["en"] and "还剩 1 天" in notice.texts["zh-hans"]
    client.force_login(closing.mediator)
    case_page = client.get(f"/mediation/cases/{closing.code}/").content.decode()
    home = client.get("/mediation/").content.decode()
    assert "(1 day left): both parties" in case_page and "(1 day left)" in home
    assert "days left" not in case_page + home


def test_a_window_closing_after_its_mediator_left_is_told_to_the_head(med):
    # The notice went to the mediator who had left the committee (and may no longer act on the
    # case); the head, who may apply, was never told.
    from mediation.models import OrganisationMember

    every_day_working(-10, 39)
    closing = med.agreed(effective_days_ago=26)
    OrganisationMember.objects.filter(user=closing.mediator, organisation=closing.organisation).delete()
    assert tasks.notify_confirmation_closing.delay().get() == 1
    notice = Notification.objects.get(key__startswith="dispute-confirmation-closing:")
    assert notice.user == med.head_x and closing.code in notice.message


def _due(case, **delta):
    import datetime as dt

    from django.utils import timezone

    from mediation.models import DisputeCase

    DisputeCase.objects.filter(pk=case.pk).update(due_at=timezone.now() + dt.timedelta(**delta))
    return DisputeCase.objects.get(pk=case.pk)


def test_whoever_acts_hears_when_a_time_limit_is_ending_and_when_it_passed(med):
    # The desk showed an overdue case in red, but only to whoever opened it: a case whose mediator
    # was away ran out its time limit unseen.
    from django.utils import timezone

    ending = _due(med.accepted(), days=2)
    later = _due(med.accepted(), days=10)
    passed = _due(med.in_mediation(), days=-2)
    concluded = med.accepted()
    concluded.transition(action="conclude", actor=concluded.mediator, outcome="withdrawn")
    concluded = _due(concluded, days=-2)  # concluded: its clock stopped, nothing to tell

    assert tasks.notify_limits.delay().get() == 2
    notices = {n.key.split(":")[0]: n for n in Notification.objects.filter(key__startswith="dispute-limit")}
    assert set(notices) == {"dispute-limit-ending", "dispute-limit-passed"}
    assert notices["dispute-limit-ending"].user == ending.mediator
    assert ending.code in notices["dispute-limit-ending"].message
    assert "(2 days left)" in notices["dispute-limit-ending"].texts["en"]
    assert "还剩 2 天" in notices["dispute-limit-ending"].texts["zh-hans"]
    assert passed.code in notices["dispute-limit-passed"].message
    assert timezone.localdate(passed.due_at).isoformat() in notices["dispute-limit-passed"].message
    assert notices["dispute-limit-passed"].link.endswith(f"/{passed.code}/")
    assert later.code not in str([n.message for n in notices.values()])
    assert tasks.notify_limits.delay().get() == 0  # daily runs do not repeat it
    # Once it has passed, the ending case is told again, as passed.
    _due(ending, days=-1)
    assert tasks.notify_limits.delay().get() == 1
    assert Notification.objects.filter(key__startswith=f"dispute-limit-passed:{ending.pk}:").exists()


def test_a_time_limit_of_a_case_whose_mediator_left_is_told_to_the_head(med):
    from mediation.models import OrganisationMember

    case = _due(med.accepted(), days=1)
    OrganisationMember.objects.filter(user=case.mediator, organisation=case.organisation).delete()
    assert tasks.notify_limits.delay().get() == 1
    assert Notification.objects.get(key__startswith="dispute-limit-ending:").user == med.head_x


def test_the_time_limit_notice_is_scheduled_every_morning_by_a_migration(db):
    task = PeriodicTask.objects.get(task="mediation.notify_limits")
    assert task.enabled and task.crontab.hour == "8" and task.crontab.minute == "30"


def test_a_migration_moves_the_running_limits_stored_on_a_rest_day_without_a_calendar_change(med):
    # A case accepted before the limit moved off rest days kept a due date on a Saturday (overdue
    # from a day the office was closed) until the next holiday change, months away.
    import importlib

    from django.apps import apps

    from governance import deadlines as calendar_sync
    from governance.models import OutboxMessage

    migration = importlib.import_module("mediation.migrations.0015_recompute_running_time_limits")
    migration.queue_refresh(apps, None)
    assert not OutboxMessage.objects.exists()  # a database with no running case: nothing to do
    running, concluded = med.in_mediation(), med.in_mediation()
    concluded.transition(action="conclude", actor=concluded.mediator, outcome="withdrawn")
    accepted = dt.datetime(2026, 11, 12, 10, tzinfo=ZoneInfo("Asia/Shanghai"))
    saturday = dt.datetime(2026, 12, 12, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Shanghai"))
    DisputeCase.objects.filter(pk__in=[running.pk, concluded.pk]).update(
        accepted_at=accepted, due_at=saturday
    )
    calendar_sync.refresh()  # the deadlines are at the calendar's version: nothing moves
    assert DisputeCase.objects.get(pk=running.pk).due_at == saturday
    migration.queue_refresh(apps, None)
    assert OutboxMessage.objects.get().task == calendar_sync.TASK
    assert calendar_sync.refresh() == 1  # what the queued message runs
    monday = dt.datetime(2026, 12, 14, 23, 59, 59, 999999, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert DisputeCase.objects.get(pk=running.pk).due_at == monday
    assert DisputeCase.objects.get(pk=concluded.pk).due_at == saturday  # judged by the limit it had
