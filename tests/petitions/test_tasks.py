"""Deadline reminders: the department hears about its steps, the office about routing and reviews,
once per threshold, and running the task twice notifies nobody twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Notification
from petitions import services, tasks
from petitions.models import Petition
from tests.base import every_day_working

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


def test_a_step_that_starts_in_its_last_three_days_or_already_late_still_notifies(
    pet, django_assert_max_num_queries
):
    # A letter registered 14 days after it arrived must be routed by tomorrow night: its deadline
    # never crosses the "3 days left" line after registration, and the office was never told. One
    # registered 17 days after (late by more than a day when it is registered) was never told either.
    now = timezone.now()
    # Every day of these three weeks a working day: a limit ending on a weekend would run to Monday
    # (art. 203) and the test would depend on the day it runs.
    every_day_working(-20, 5)
    soon = pet.register(received_at=now - dt.timedelta(days=14))
    late = pet.register(received_at=now - dt.timedelta(days=17))
    assert now < soon.due_at < now + dt.timedelta(days=2)
    assert late.due_at < now - dt.timedelta(days=1)
    assert services.petition_notify_deadlines() == 2
    office = Notification.objects.filter(user=pet.cast.petition_officer)
    messages = {n.link: n.texts["en"] for n in office}
    assert "is due within 3 days" in messages[f"/petitions/{soon.code}/"]
    assert "is overdue" in messages[f"/petitions/{late.code}/"]
    # Later runs find them told already, in a constant number of queries.
    for _i in range(5):
        pet.register(received_at=now - dt.timedelta(days=14))
    services.petition_notify_deadlines()
    with django_assert_max_num_queries(6):
        assert services.petition_notify_deadlines() == 0


def test_the_department_hears_of_a_petition_routed_to_it_and_the_office_of_one_returned(pet):
    # Incidents tell the department they are dispatched to and mediation the mediator a case is
    # assigned to; a routed petition waited unannounced in the department's inbox until 3 days
    # before its 15-day notice fell due, and a returned one for the office, whose 15 days to route
    # it keep running.
    petition = pet.register()
    services.petition_transition(
        petition=petition, actor=pet.cast.petition_officer, action="assign", department=pet.cast.police.pk
    )
    told = Notification.objects.get(user=pet.cast.department_user)
    assert told.link == f"/petitions/{petition.code}/" and petition.code in told.texts["en"]
    assert "routed to your department" in told.texts["en"]
    # The Chinese UI addresses its reader as 您: the notice said "已转送你部门".
    assert "已转送您所在部门" in told.texts["zh-hans"] and "你" not in told.texts["zh-hans"]
    assert not Notification.objects.filter(
        user__in=[pet.cast.petition_officer, pet.cast.outsider, pet.cast.analyst, pet.urban_user]
    ).exists()
    services.petition_transition(
        petition=petition, actor=pet.cast.department_user, action="return", note="不属于本部门职责"
    )
    returned = Notification.objects.get(user=pet.cast.petition_officer)
    assert "returned" in returned.texts["en"] and returned.link == f"/petitions/{petition.code}/"
    assert not Notification.objects.filter(user__in=[pet.cast.outsider, pet.urban_user]).exists()
    # Routed again: a new notice for the new routing.
    services.petition_transition(
        petition=petition, actor=pet.cast.petition_officer, action="assign", department=pet.cast.police.pk
    )
    assert Notification.objects.filter(user=pet.cast.department_user).count() == 2


def test_the_office_told_of_a_return_after_its_routing_limit_ended_is_not_told_a_day_gone_by(pet):
    # Routed on the last day, returned within the department's 5 working days: the 15 days to
    # route had ended, and the notice read "route it again by" that past day.
    every_day_working(-20, 10)
    petition = pet.register(received_at=timezone.now() - dt.timedelta(days=16))
    assert petition.route_due_at < timezone.now()
    services.petition_transition(
        petition=petition, actor=pet.cast.petition_officer, action="assign", department=pet.cast.police.pk
    )
    services.petition_transition(
        petition=petition, actor=pet.cast.department_user, action="return", note="不属于本部门职责"
    )
    text = Notification.objects.get(user=pet.cast.petition_officer).texts["en"]
    due = timezone.localtime(petition.route_due_at).strftime("%Y-%m-%d")
    assert f"ended on {due}" in text and "again by" not in text


@pytest.mark.parametrize(
    ("status", "en", "zh"),
    [
        ("registered", "the routing", "转送交办"),
        ("routed", "the written notice of acceptance", "书面告知是否受理"),
        ("accepted", "the written reply", "书面答复"),
        ("under_review", "the review decision", "复查决定"),
        ("under_re_review", "the re-review decision", "复核决定"),
    ],
)
def test_a_deadline_notice_names_the_step_and_its_day_without_a_time(pet, status, en, zh):
    # "the step due 2026-12-01 23:59 has not been done" did not say which step (a department with
    # a notice to send, or a reply?), and a limit that ends with its day read as one due at 23:59.
    petition = pet.register()
    due = timezone.now() - dt.timedelta(hours=2)
    Petition.objects.filter(pk=petition.pk).update(status=status, due_at=due)
    services.petition_notify_deadlines()
    notice = Notification.objects.filter(link=f"/petitions/{petition.code}/").first()
    day = timezone.localtime(due).strftime("%Y-%m-%d")
    assert notice.texts["en"] == f"Petition {petition.code} is overdue: {en} was due by {day}."
    assert f"{zh}应于 {day} 前完成" in notice.texts["zh-hans"]
    assert ":" not in notice.texts["en"].split("due by")[1]
    Petition.objects.filter(pk=petition.pk).update(due_at=timezone.now() + dt.timedelta(days=2))
    services.petition_notify_deadlines()
    soon = Notification.objects.filter(link=f"/petitions/{petition.code}/").exclude(pk=notice.pk).get()
    day = timezone.localtime(timezone.now() + dt.timedelta(days=2)).strftime("%Y-%m-%d")
    assert soon.texts["en"] == f"Petition {petition.code}: {en} is due within 3 days, by {day}."
    assert zh in soon.texts["zh-hans"] and ":" not in soon.texts["zh-hans"].split("（")[-1]
