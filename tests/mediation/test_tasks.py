"""The daily notice of closing judicial-confirmation windows (mediation.tasks)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from governance.models import Holiday, Notification, SequenceCounter
from mediation import tasks
from mediation.models import DisputeCase


def _successful(med, *, effective_days_ago: int) -> DisputeCase:
    case = med.in_mediation(received_at=timezone.now() - dt.timedelta(days=effective_days_ago + 5))
    case.transition(
        action="conclude",
        actor=case.mediator,
        outcome="success_written",
        agreement_facts="楼上漏水，责任在李四",
        agreement_terms="李四赔偿张三丰维修费2000元",
        performance_method="银行转账",
        performance_due=timezone.localdate(),
        agreement_effective_on=timezone.localdate() - dt.timedelta(days=effective_days_ago),
    )
    return case


def _every_day_working() -> None:
    """A window ending on a weekend runs to Monday (Civil Code art. 203): with every day of these
    weeks a working day, the days left do not depend on the weekday the test runs."""
    today = timezone.localdate()
    Holiday.objects.bulk_create(
        Holiday(date=today + dt.timedelta(days=d), is_workday=True, name="test") for d in range(-10, 40)
    )
    SequenceCounter.bump("calendar")


def test_the_mediator_hears_once_when_a_confirmation_window_is_about_to_close(med):
    _every_day_working()
    closing = _successful(med, effective_days_ago=26)  # window ends in 4 days
    _successful(med, effective_days_ago=5)  # 25 days left: not yet
    _successful(med, effective_days_ago=31)  # window already closed
    applied = _successful(med, effective_days_ago=27)
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
