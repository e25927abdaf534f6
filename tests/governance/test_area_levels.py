"""An area's level and its parent's level in the admin and the importer: a change that would leave
sub-areas, incidents or roles at the wrong level is refused naming the field, nothing saved."""

import importlib
import json

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import Client

from governance.models import Area
from tests.base import post_area_change, rect


def _admin(cast) -> Client:
    client = Client()
    client.force_login(cast.admin)
    return client


def _unchanged(area: Area) -> None:
    stored = Area.objects.get(pk=area.pk)
    assert (stored.code, stored.level, stored.parent_id, stored.path) == (
        area.code,
        area.level,
        area.parent_id,
        area.path,
    )


def test_the_admin_refuses_to_change_the_level_of_an_area_with_sub_areas(cast):
    # Community A1b made a street: its grid would sit two levels below a street (the rollup stops on
    # an area not one level below its parent). The code is read-only there (it has sub-areas), and
    # the code's own errors for the new level, put on that field, were a 500 (no such form field).
    response, form = post_area_change(_admin(cast), cast.community_a1b, level="street")
    assert response.status_code == 200
    assert form.errors == {
        "level": [
            "The level of this area cannot change: it has sub-areas, recorded for a community / village. "
            "Only an area with nothing recorded at it can change its level."
        ]
    }
    _unchanged(cast.community_a1b)


def test_the_admin_refuses_to_turn_a_grid_with_incidents_and_grid_workers_into_a_community(cast):
    from grids.services import incident_report

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    incident_report(actor=cast.worker_a, category="sanitation", description="垃圾堆放", grid=cast.grid_a)
    # A new code and a street for parent: the grid would be a valid community but for what it holds.
    response, form = post_area_change(
        _admin(cast), cast.grid_a, level="community", code="340102001009", parent=cast.street_a1.pk
    )
    assert response.status_code == 200
    assert list(form.errors) == ["level"]
    message = form.errors["level"][0]
    assert "memberships" in message and "incidents" in message and "recorded for a grid" in message
    _unchanged(cast.grid_a)


def test_an_empty_grid_created_at_the_wrong_level_may_become_a_community(cast):
    # Grid D holds nothing (no worker, no incident): its level is a mistake to correct, not a breakage.
    grid = cast.grid_d
    response, _form = post_area_change(
        _admin(cast), grid, level="community", code="340103001002", parent=cast.street_b1.pk
    )
    assert response.status_code == 302
    grid.refresh_from_db()
    assert (grid.level, grid.code, grid.depth) == ("community", "340103001002", 3)
    assert grid.path == cast.street_b1.path + "340103001002/"


def test_the_admin_names_the_level_when_the_new_level_does_not_fit_the_parent(cast):
    # Grid D made a community under its community: the level is what was changed.
    response, form = post_area_change(_admin(cast), cast.grid_d, level="community", code="340103001002")
    assert response.status_code == 200
    assert form.errors["level"] == [
        "a community / village belongs to a street / township, not a community / village"
    ]
    _unchanged(cast.grid_d)


def test_the_admin_refuses_to_move_a_grid_under_a_street_naming_the_parent(cast):
    response, form = post_area_change(_admin(cast), cast.grid_c, parent=cast.street_a1.pk)
    assert response.status_code == 200
    assert form.errors["parent"] == ["a grid belongs to a community / village, not a street / township"]
    assert "code" not in form.errors  # the code is not what is wrong
    _unchanged(cast.grid_c)


def test_the_import_refuses_a_new_level_for_an_area_with_records_naming_the_level(cast, tmp_path, capsys):
    # The grid as a community: its code no longer fits (reported as ever), and the file is also told
    # why no code would do: the grid's worker holds it at its level.
    path = tmp_path / "areas.geojson"
    features = [
        {
            "type": "Feature",
            "properties": {
                "code": cast.grid_a.code,
                "name": "春晖",
                "level": "community",
                "parent": "340102001000",
            },
            "geometry": rect(117.0, 31.8, 117.01, 31.81),
        }
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_areas", str(path), "--commit")
    report = capsys.readouterr().err
    assert (
        "feature 1: level: 340102001001001 is a grid in the database and cannot change its level: "
        "it has memberships." in report
    )
    _unchanged(cast.grid_a)


def test_an_unknown_level_is_reported_as_such_not_as_a_city_with_a_parent(cast):
    from django.core.exceptions import ValidationError

    area = Area(code="340102001001009", name="x", level="village", parent=cast.community_a1a)
    with pytest.raises(ValidationError) as exc:
        area.full_clean()
    assert "parent" not in exc.value.message_dict
    assert exc.value.message_dict["code"] == ["unknown level village"]
