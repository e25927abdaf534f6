from __future__ import annotations

import datetime as dt
import importlib
import io

import pytest
from django.apps import apps
from PIL import Image

from grids import services
from grids.models import Incident, IncidentCategory

# Points inside the cast's grids (rectangles, see tests/base.py).
IN_GRID_A = (31.805, 117.005)
IN_GRID_B = (31.805, 117.015)
IN_GRID_D = (31.805, 117.11)
OUTSIDE = (31.5, 116.5)

# How to reach each state from "reported", and the fields each action needs.
PATHS = {
    "reported": [],
    "accepted": ["accept"],
    "rejected": ["reject"],
    "dispatched": ["accept", "dispatch"],
    "handling": ["accept", "dispatch", "handle"],
    "fed_back": ["accept", "dispatch", "handle", "feedback"],
    "verified": ["accept", "dispatch", "handle", "feedback", "verify"],
    "closed": ["accept", "dispatch", "handle", "feedback", "verify", "close"],
    "evaluated": ["accept", "dispatch", "handle", "feedback", "verify", "close", "evaluate"],
}


def supporters(cast) -> list[int]:
    """Who supports the police on a coordination item ``incident_in`` dispatches: the district's
    urban management bureau and the street's team."""
    return [cast.urban.pk, cast.street_team.pk]


def action_fields(action: str, cast) -> dict:
    return {
        "reject": {"note": "not our business"},
        "escalate": {"note": "needs the street"},
        "return": {"note": "not the police's"},
        "dispatch": {"department": cast.police.pk},
        # A coordination item's supporting department (``incident_in`` names it at dispatch).
        "assist": {"note": "closed the road for the works", "department": cast.urban.pk},
        "feedback": {"resolution": "fixed it"},
        "verify": {"result": "pass"},
        "evaluate": {"evaluation": "satisfied"},
    }.get(action, {})


@pytest.fixture
def categories(db):
    """The default categories (a transactional test elsewhere may have flushed the seeded rows)."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    importlib.import_module("grids.migrations.0012_category_name_en").name_defaults(apps, None)
    return {c.code: c for c in IncidentCategory.objects.all()}


def jpeg_bytes(size=(40, 30), exif_gps: bool = False, fmt: str = "JPEG") -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    kwargs = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (31.0, 48.0, 18.0), 3: "E", 4: (117.0, 0.0, 18.0)}  # GPSInfo
        kwargs["exif"] = exif
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.fixture
def report(cast, categories):
    """Report an incident in grid A as worker_a (dispute category: community level)."""

    def _report(**overrides) -> Incident:
        data = {
            "actor": cast.worker_a,
            "category": "sanitation",
            "description": "垃圾堆放",
            "lat": IN_GRID_A[0],
            "lng": IN_GRID_A[1],
        }
        data.update(overrides)
        return services.incident_report(**data)

    return _report


@pytest.fixture
def incident_in(cast, report):
    """An incident driven (as the admin) to the given state through the real transitions (a
    coordination item, ``kind="coordination"``, is dispatched with ``supporters``)."""

    def _make(state: str, **overrides) -> Incident:
        incident = report(**overrides)
        for action in PATHS[state]:
            fields = action_fields(action, cast)
            if action == "dispatch" and incident.kind == Incident.Kind.COORDINATION:
                fields["supporting_departments"] = supporters(cast)
            note = fields.pop("note", "")
            services.incident_transition(
                incident=incident, actor=cast.admin, action=action, note=note, **fields
            )
        assert incident.status == state
        return incident

    return _make


def walk_with_the_street_late(cast, incident: Incident) -> None:
    """Take a community-level item in grid A through the whole loop with each actor doing their own
    step: the community escalates it, the street centre accepts it an hour past the deadline (the one
    late step), dispatches it to its own 城管中队, which handles and feeds back, grid A's worker checks
    it and the district closes it (the street dispatched it: separate duties)."""
    from django.utils import timezone

    steps = [
        (cast.community_handler, "escalate", {"note": "needs the street"}),
        (cast.street_handler, "accept", {}),
        (cast.street_handler, "dispatch", {"department": cast.street_team.pk}),
        (cast.street_handler, "handle", {}),
        (cast.street_handler, "feedback", {"resolution": "cleared"}),
        (cast.worker_a, "verify", {"result": "pass"}),
        (cast.district_officer, "close", {}),
    ]
    for actor, action, fields in steps:
        if action == "accept":
            Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
            incident.refresh_from_db()
        services.incident_transition(incident=incident, actor=actor, action=action, **fields)
