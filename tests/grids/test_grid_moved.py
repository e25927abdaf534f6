"""A grid redrawn into another community: its open items follow it to the new community's centre."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from governance.models import Area, Notification, Role
from grids import services
from grids.models import Incident, allowed_actions
from tests.base import make_user

pytestmark = pytest.mark.django_db


def test_the_open_items_of_a_moved_grid_belong_to_its_new_community(cast, report, incident_in):
    open_item = report()  # sanitation: a community-level item, owned by community A1a
    closed = incident_in("closed")
    assert open_item.level == "community" and open_item.level_area_id == cast.community_a1a.pk
    new_handler = make_user("a1b_handler", Role.HANDLER, cast.community_a1b)
    grid = Area.objects.get(pk=cast.grid_a.pk)
    grid.code, grid.parent = "340102001002009", Area.objects.get(pk=cast.community_a1b.pk)
    grid.full_clean()
    grid.save()
    open_item.refresh_from_db()
    assert open_item.level_area_id == cast.community_a1b.pk
    assert Incident.objects.get(pk=closed.pk).level_area_id == closed.level_area_id  # history kept
    assert "accept" in allowed_actions(new_handler, open_item)
    # The overdue notice goes to the centre that can act on it, not to the one that lost the grid.
    Incident.objects.filter(pk=open_item.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    services.incident_notify_overdue()
    told = set(
        Notification.objects.filter(key__startswith="incident-overdue").values_list(
            "user__username", flat=True
        )
    )
    assert "a1b_handler" in told and cast.community_handler.username not in told, told
