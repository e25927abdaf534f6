"""Deadline reminders: the department hears about its steps, the office about routing and reviews,
once per threshold, and running the task twice notifies nobody twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Notification
from petitions import tasks
from petitions.models import Petition

pytestmark = pytest.mark.django_db


def test_overdue_and_due_soon_items_notify_the_people_responsible_once(pet):
    now = timezone.now()
    routed = pet.routed()
    Petition.objects.filter(pk=routed.pk).update(due_at=now - dt.timedelta(hours=2))
    waiting = pet.register()
    Petition.objects.filter(pk=waiting.pk).update(due_at=now + dt.timedelta(days=2, hours=20))
    quiet = pet.register()  # due in 15 days: nothing to say yet
    assert tasks.notify_deadlines.delay().get() >= 2
    dept = Notification.objects.filter(user=pet.cast.department_user)
    assert [n.link for n in dept] == [f"/petitions/{routed.code}/"] and "overdue" in dept.get().message
    office = Notification.objects.filter(user=pet.cast.petition_officer)
    assert {n.link for n in office} == {f"/petitions/{waiting.code}/"}
    assert not Notification.objects.filter(link__contains=quiet.code).exists()
    assert not Notification.objects.filter(
        user__in=[pet.cast.outsider, pet.cast.analyst, pet.urban_user]
    ).exists()
    before = Notification.objects.count()
    assert tasks.notify_deadlines.delay().get() == 0
    assert Notification.objects.count() == before
