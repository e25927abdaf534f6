"""A moved area is ranked under its new parent within minutes, not after the nightly run: the move
queues a rollup once it commits (dashboards.models), which rebuilds the values' stored parents and
the parents' sums."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from dashboards.models import IndicatorValue, RollupRun
from governance.models import Area, OutboxMessage
from tests.base import api_client, post_area_change
from tests.dashboards.test_stats_api import data  # noqa: F401

NEW_CODE = "340102001001009"  # grid C's code under community A1a


def _rankings(reader, parent: Area) -> list[str]:
    response = reader.get(
        "/api/v1/stats/rankings/",
        {"indicator": "survey_safety_rate", "period": "2026-11", "parent": parent.code},
    )
    assert response.status_code == 200
    return [row["area"] for row in response.json()["results"]]


def _answers(area: Area) -> float:
    """The area's November answer count (0: no row, nothing below it was asked)."""
    rows = IndicatorValue.objects.filter(indicator="survey_safety_rate", period="2026-11", area=area)
    return sum(rows.values_list("denominator", flat=True))


@pytest.mark.usefixtures("data")  # the published dataset: ``cast`` with its values rolled up
def test_a_grid_moved_in_the_admin_is_ranked_under_its_new_community_once_the_move_commits(
    cast, django_capture_on_commit_callbacks
):
    reader = api_client(cast.analyst)
    assert "340102001002001" in _rankings(reader, cast.community_a1b)
    before_a1a, before_a1b = _answers(cast.community_a1a), _answers(cast.community_a1b)
    client = Client()
    client.force_login(cast.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response, _form = post_area_change(client, cast.grid_c, code=NEW_CODE, parent=cast.community_a1a.pk)
    assert response.status_code == 302
    run = RollupRun.objects.order_by("-id").first()
    assert (run.trigger, run.kind, run.status) == ("tree", "full", "success")
    assert NEW_CODE in _rankings(reader, cast.community_a1a)
    assert _rankings(reader, cast.community_a1b) == []
    # The communities' sums follow the grid: its 20 November answers left A1b (its only grid) for A1a.
    assert before_a1b == 20
    assert (_answers(cast.community_a1a), _answers(cast.community_a1b)) == (before_a1a + 20, 0)
    assert not OutboxMessage.objects.filter(task="dashboards.rollup", sent_at=None).exists()


def _move(grid: Area, code: str, parent: Area) -> None:
    grid = Area.objects.get(pk=grid.pk)
    grid.code, grid.parent = code, parent
    grid.full_clean()
    grid.save()


def _queued() -> list[dict]:
    return list(OutboxMessage.objects.filter(task="dashboards.rollup").values_list("kwargs", flat=True))


def test_a_tree_change_queues_one_run_per_transaction_and_other_edits_none(cast):
    grid = Area.objects.get(pk=cast.grid_c.pk)
    grid.name, grid.population = "园丁第1网格（新）", 4000
    grid.save()
    assert _queued() == []  # a name or a population moves nothing (the nightly run takes the rates)
    with pytest.raises(RuntimeError), transaction.atomic():
        _move(cast.grid_c, NEW_CODE, cast.community_a1a)
        assert _queued() == [{"trigger": "tree"}]
        raise RuntimeError("rolled back")
    assert _queued() == []  # the message went with the move, and so did the mark: the next move queues
    with transaction.atomic():
        _move(cast.grid_c, NEW_CODE, cast.community_a1a)
        _move(cast.grid_d, "340102001002002", cast.community_a1b)
    assert _queued() == [{"trigger": "tree"}]
