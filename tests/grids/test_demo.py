from __future__ import annotations

import datetime as dt
import importlib
import io
import random
from collections import Counter

import pytest
from django.apps import apps
from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone

from governance import demo as demo_city
from grids import demo
from grids import selectors as grid_selectors
from grids.models import Incident, IncidentEvent, IncidentPhoto


@pytest.mark.django_db
def test_the_demo_adds_months_of_varied_incidents_with_timelines_once(categories):
    city = demo_city.build_city("small", seed=3)
    demo_city.create_demo_users(city, with_passwords=False)
    out = io.StringIO()
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=6, stdout=out)
    count = Incident.objects.count()
    assert count > 500
    statuses = dict(Incident.objects.values_list("status").annotate(n=Count("id")))
    assert statuses["closed"] + statuses["evaluated"] > count * 0.7 and statuses.get("rejected", 0) > 0
    assert IncidentEvent.objects.filter(action="report").count() == count
    assert (
        Incident.objects.filter(resolved_level="grid").exists()
        and Incident.objects.filter(level="street").exists()
    )
    # Numbers are gapless per year.
    for year in {c[4:8] for c in Incident.objects.values_list("code", flat=True)}:
        numbers = sorted(
            int(c[-6:])
            for c in Incident.objects.filter(code__startswith=f"INC-{year}-").values_list("code", flat=True)
        )
        assert numbers == list(range(1, len(numbers) + 1))
    # Volumes differ between districts.
    per_district = [Incident.objects.filter(grid__path__startswith=d.path).count() for d in city.districts]
    assert len(set(per_district)) == len(per_district)
    # Separate duties: nobody closed an item they dispatched or fed back, and the stored command
    # actors are those of the timeline, so a demo handler at a verified item finds the close button.
    closes = IncidentEvent.objects.filter(action="close", incident__dispatched_by__isnull=False)
    assert closes.count() > 100
    assert not closes.filter(actor=F("incident__dispatched_by")).exists()
    assert not closes.filter(actor=F("incident__fed_back_by")).exists()
    last = IncidentEvent.objects.filter(incident=OuterRef("pk"), action="dispatch").order_by("-at", "-id")
    dispatched = Incident.objects.filter(status__in=["verified", "closed", "evaluated"], kind="promised")
    assert dispatched.exists()
    assert not dispatched.exclude(dispatched_by=Subquery(last.values("actor")[:1])).exists()
    # Every timed step names the area that answered for it, the one the set-based backfill derives
    # from the timeline (docs/incidents.md "Who answers for a step"): departments' feedback their
    # department's area, checks the grid, the rest the centre at the item's level.
    timed = IncidentEvent.objects.filter(on_time__isnull=False).order_by("id")
    owners = list(timed.values_list("id", "area_id"))
    assert len(owners) > 1000 and not timed.filter(area__isnull=True).exists()
    assert not timed.filter(action="feedback").exclude(area=F("department__area")).exists()
    assert not timed.filter(action="verify").exclude(area=F("incident__grid")).exists()
    timed.update(area=None)
    importlib.import_module("grids.migrations.0008_event_area").backfill(apps, None)
    assert list(timed.values_list("id", "area_id")) == owners
    # demo_department's steps name its bureau, a centre's user standing in for a department's does not
    # (docs/incidents.md "Timeline"): as migration 0023 fills older events from the memberships.
    events = IncidentEvent.objects.order_by("id")
    acting = list(events.values_list("id", "acting_department_id"))
    ours = events.exclude(acting_department=None)
    assert ours.filter(action="feedback").exists()
    assert not ours.exclude(actor__username="demo_department").exists()
    events.update(acting_department=None)
    importlib.import_module(
        "grids.migrations.0023_incidentevent_acting_department"
    ).acting_departments_from_memberships(apps, None)
    assert list(events.values_list("id", "acting_department_id")) == acting
    # Coordination items show the feature: supporters named at dispatch (on the item and on the event),
    # never the lead, and one of them records its part.
    coordinated = Incident.objects.filter(kind="coordination", department__isnull=False)
    assert coordinated.count() > 20
    assert not coordinated.filter(supporting_departments__isnull=True).exists()
    assert not coordinated.filter(supporting_departments=F("department")).exists()
    assert Incident.objects.filter(kind="promised", supporting_departments__isnull=False).count() == 0
    counts = Counter(Incident.supporting_departments.through.objects.values_list("incident_id", flat=True))
    assert set(counts.values()) == {1, 2}
    dispatches = IncidentEvent.objects.filter(action="dispatch", incident__in=coordinated)
    assert not dispatches.filter(supporting_departments__isnull=True).exists()
    assists = IncidentEvent.objects.filter(action="assist")
    assert assists.count() > 10 and not assists.filter(on_time__isnull=False).exists()
    assert not assists.exclude(department__incidents_supported=F("incident")).exists()
    # Checked items waiting for their sign-off are recent ones, not a year's backlog.
    month_ago = timezone.now() - dt.timedelta(days=31)
    assert not Incident.objects.filter(status="verified", reported_at__lt=month_ago).exists()
    # demo_community (README: "community inbox") opens the site to this morning's reports to accept,
    # whatever the random history left open in its community.
    waiting = Incident.objects.filter(level_area=city.communities[0], status="reported")
    assert waiting.count() >= 3 and "reports of this morning" in out.getvalue()
    assert set(waiting) <= set(grid_selectors.incident_list(city.users["demo_community"]))
    # Photos to see (docs/incidents.md "Photos"): a few dozen items have one or two, stored as uploads
    # are, each with its thumbnail; demo_community's morning reports too. A feedback photo comes
    # from the department's step.
    photos = list(IncidentPhoto.objects.select_related("event"))
    photographed = {p.incident_id for p in photos}
    assert 30 <= len(photographed) <= 40 and len(photos) > len(photographed)
    assert "incidents with photos" in out.getvalue()
    for photo in photos:
        assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (960, 720)
        assert (photo.thumbnail_width, photo.thumbnail_height) == (320, 240)
        assert photo.file.storage.exists(photo.file.name) and photo.thumbnail.storage.exists(
            photo.thumbnail.name
        )
        assert photo.event.incident_id == photo.incident_id
        # Past items' photos carry their step's time; this morning's are stored as the report is saved.
        assert photo.uploaded_at == photo.event.at or photo.event.at > timezone.now() - dt.timedelta(hours=1)
    assert {p.stage for p in photos} == {"report", "feedback"}
    assert all(p.event.action == "feedback" for p in photos if p.stage == "feedback")
    assert photographed >= set(waiting.values_list("id", flat=True))
    seen = grid_selectors.incident_list(city.users["demo_community"]).filter(id__in=photographed)
    assert seen.count() >= 15
    demo.seed(demo=city, rng=random.Random(1), scale="small", months=6, stdout=out)
    assert Incident.objects.count() == count  # idempotent
    assert IncidentPhoto.objects.count() == len(photos)
