"""The incidents section of the home pages names each item's deadline, as "My grid" and the inbox do:
a handler "watches deadlines" (DESIGN.md), and the section listed number, category, grid and status
only, while the petitions section beside it counts the days left."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Incident


def home_item(html: str, code: str) -> str:
    start = html.index(f'href="/grids/incidents/{code}/"')
    return html[start : html.index("</li>", start)]


@pytest.mark.django_db
def test_the_home_sections_name_each_items_deadline(cast, client, report, incident_in):
    waiting = report()
    due = timezone.localtime(waiting.due_at).strftime("%Y-%m-%d %H:%M")
    client.force_login(cast.community_handler)
    item = home_item(client.get("/").content.decode(), waiting.code)
    assert f"due {due}" in item

    checked = incident_in("fed_back")  # the grid worker's on-site check, first on their home
    client.force_login(cast.worker_a)
    html = client.get("/").content.decode()
    check_due = timezone.localtime(checked.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"due {check_due}" in home_item(html, checked.code)
    assert f"due {due}" in home_item(html, waiting.code)

    Incident.objects.filter(pk=waiting.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    waiting.refresh_from_db()
    client.force_login(cast.community_handler)
    item = home_item(client.get("/").content.decode(), waiting.code)
    late = timezone.localtime(waiting.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"due {late}" in item and ">overdue</span>" in item
