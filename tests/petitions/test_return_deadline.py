"""A routed petition's department has two limits: 15 days to tell the petitioner whether it accepts,
and 5 working days to return it if it is not theirs. The inbox and the routing notice gave the 15
days alone, and the department learned of the 5 when the return was refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.models import Notification
from petitions import services
from petitions.models import Petition

pytestmark = pytest.mark.django_db


def day(at: dt.datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d")


def deadline_cell(html: str, code: str) -> str:
    row = re.search(rf'<tr [^>]*data-code="{code}">(.*?)</tr>', html, re.S).group(1)
    return re.search(r'data-label="(?:Deadline|期限)">(.*?)</td>', row, re.S).group(1)


def test_the_routing_notice_gives_the_return_limit_beside_the_notice_of_acceptance(pet):
    petition = pet.register()
    services.petition_transition(
        petition=petition, actor=pet.cast.petition_officer, action="assign", department=pet.cast.police.pk
    )
    petition.refresh_from_db()
    told = Notification.objects.get(user=pet.cast.department_user)
    back, notice = day(petition.return_due_at), day(petition.acknowledge_due_at)
    assert back < notice
    assert told.texts["en"] == (
        f"Petition {petition.code} was routed to your department: return it by {back} if it is not "
        f"yours to handle; tell the petitioner by {notice} whether it is accepted."
    )
    assert f"{back} 前退回" in told.texts["zh-hans"] and f"{notice} 前书面告知" in told.texts["zh-hans"]
    assert "你" not in told.texts["zh-hans"]
    # Nobody outside the department hears of it.
    assert not Notification.objects.filter(user__in=[pet.cast.outsider, pet.urban_user]).exists()


def test_the_inbox_gives_a_routed_items_return_limit_and_no_query_per_row(client, pet):
    routed, accepted, late = pet.routed(), pet.accepted(), pet.routed()
    Petition.objects.filter(pk=late.pk).update(return_due_at=timezone.now() - dt.timedelta(days=1))
    late.refresh_from_db()
    client.force_login(pet.cast.department_user)
    client.get("/petitions/inbox/")  # warm up
    with CaptureQueriesContext(connection) as few:
        html = client.get("/petitions/inbox/").content.decode()
    html = html.replace("\u2011", "-")
    cell = deadline_cell(html, routed.code)
    assert f"return by {day(routed.return_due_at)}" in cell and "days left" in cell
    assert "return" not in deadline_cell(html, accepted.code)
    assert f"return window ended {day(late.return_due_at)}" in deadline_cell(html, late.code)
    for _i in range(6):
        pet.routed()
    with CaptureQueriesContext(connection) as many:
        more = client.get("/petitions/inbox/").content.decode()
    assert more.count("return by ") == 7 and len(many) == len(few)
    client.cookies["django_language"] = "zh-hans"
    zh = (
        client.get("/petitions/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans")
        .content.decode()
        .replace("\u2011", "-")
    )
    assert f"退回期限 {day(routed.return_due_at)}" in deadline_cell(zh, routed.code)


def test_the_inbox_refuses_a_bad_filter_and_shows_nothing_of_another_department(client, pet):
    routed = pet.routed()
    client.force_login(pet.cast.department_user)
    refused = client.get("/petitions/inbox/?overdue=yes")
    assert refused.status_code == 400 and "return by" not in refused.content.decode()
    client.force_login(pet.urban_user)
    html = client.get("/petitions/inbox/").content.decode()
    assert routed.code not in html and "return by" not in html
    assert client.get(f"/petitions/{routed.code}/").status_code == 404
