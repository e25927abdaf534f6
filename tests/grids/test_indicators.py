from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dashboards.models import IndicatorValue
from governance.indicators import registry
from grids import indicators, services
from grids.models import Incident, IncidentEvent
from tests.base import described, nightly_run_matches_full_rebuild, shift_back
from tests.grids.conftest import IN_GRID_B, action_fields, jpeg_bytes, walk_with_the_street_late


def _rows(qs) -> dict:
    """Sum rows per (area, month) as the rollup does (a source may yield several rows per key)."""
    out: dict = {}
    for r in qs:
        n, d = out.get((r["area_id"], r["month"]), (0, 0))
        out[(r["area_id"], r["month"])] = (n + r["numerator"], d + r["denominator"])
    return out


def _per_area(qs) -> dict:
    """Sum rows per area over all months."""
    out: dict = {}
    for (area, _month), (n, d) in _rows(qs).items():
        out[area] = (out.get(area, (0, 0))[0] + n, out.get(area, (0, 0))[1] + d)
    return out


@pytest.mark.django_db
def test_the_four_indicators_are_registered():
    codes = set(registry())
    assert {"incidents_reported", "incidents_closure_rate", "incidents_on_time_rate",
            "incidents_local_resolution_rate"} <= codes  # fmt: skip


@pytest.mark.django_db
def test_indicator_sources_give_numerator_and_denominator_per_grid_and_local_month(
    cast, report, incident_in, django_assert_num_queries
):
    this_month = timezone.localdate().replace(day=1)
    next_month = (this_month + dt.timedelta(days=32)).replace(day=1)
    incident_in("closed")  # accepted, resolved at community level, closed
    accepted = incident_in("accepted")
    report(actor=cast.worker_b, lat=IN_GRID_B[0], lng=IN_GRID_B[1])
    escalated = incident_in("reported")
    services.incident_transition(incident=escalated, actor=cast.admin, action="escalate", note="big")
    services.incident_transition(incident=escalated, actor=cast.admin, action="accept")
    services.incident_transition(
        incident=escalated, actor=cast.admin, action="dispatch", department=cast.police.pk
    )
    services.incident_transition(incident=escalated, actor=cast.admin, action="handle")
    services.incident_transition(incident=escalated, actor=cast.admin, action="feedback", resolution="ok")
    services.incident_transition(incident=escalated, actor=cast.admin, action="verify", result="pass")
    # One late step: the accept of `accepted` is recorded as missed.
    IncidentEvent.objects.filter(incident=accepted, action="accept").update(on_time=False)
    # An incident of last year does not count this month.
    old = report()
    Incident.objects.filter(pk=old.pk).update(reported_at=timezone.now() - dt.timedelta(days=400))

    a, b = cast.grid_a.pk, cast.grid_b.pk
    with django_assert_num_queries(1):
        reported = _rows(indicators.incidents_reported(this_month, next_month))
    assert reported == {(a, this_month): (3, 3), (b, this_month): (1, 1)}
    assert isinstance(next(iter(reported))[1], dt.date)
    assert _rows(indicators.incidents_closure_rate(this_month, next_month)) == {(a, this_month): (1, 3)}
    assert _rows(indicators.incidents_local_resolution_rate(this_month, next_month)) == {
        (a, this_month): (1, 2)
    }
    # Steps are keyed by the month of their deadline; an open step past its deadline is due and late.
    lo = (this_month - dt.timedelta(days=1)).replace(day=1)
    hi = (next_month + dt.timedelta(days=32)).replace(day=1)
    Incident.objects.filter(pk=accepted.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    rows = _per_area(indicators.incidents_on_time_rate(lo, hi))
    # Each step counts for its owner: the community centre accepted, dispatched and closed the first
    # item, escalated the third, missed the second's acceptance (recorded late) and is late now on
    # its dispatch; the street centre accepted and dispatched the escalated one; the district's
    # police fed both back; grid A's worker verified both.
    assert rows == {
        cast.community_a1a.pk: (4, 6),
        cast.street_a1.pk: (2, 2),
        cast.district_a.pk: (2, 2),
        a: (2, 2),
    }
    assert (
        _rows(indicators.incidents_reported(next_month, (next_month + dt.timedelta(days=32)).replace(day=1)))
        == {}
    )


@pytest.mark.django_db
def test_closing_an_incident_accepted_months_ago_reaches_the_month_of_acceptance_at_night(cast, incident_in):
    incident = incident_in("fed_back")
    fields = ("occurred_at", "reported_at", "accepted_at", "resolved_at", "due_at")
    shift_back(Incident.objects.filter(pk=incident.pk), 100, *fields)
    shift_back(IncidentEvent.objects.filter(incident=incident), 100, "at", "step_due_at")
    incident.refresh_from_db()

    def close():
        for action in ("verify", "close"):
            extra = action_fields(action, cast)
            services.incident_transition(incident=incident, actor=cast.admin, action=action, **extra)

    nightly = nightly_run_matches_full_rebuild(close)
    assert nightly.months >= 3
    month = timezone.localtime(incident.accepted_at).strftime("%Y-%m")
    rate = IndicatorValue.objects.get(indicator="incidents_closure_rate", area=incident.grid, period=month)
    assert rate.value == 100.0


@pytest.mark.django_db
def test_a_street_centre_late_on_a_communitys_item_counts_against_the_street(cast, incident_in):
    incident = incident_in("reported")
    walk_with_the_street_late(cast, incident)
    events = IncidentEvent.objects.filter(incident=incident, on_time__isnull=False).order_by("at", "id")
    assert [(e.action, e.area_id, e.on_time) for e in events] == [
        ("escalate", cast.community_a1a.pk, True),
        ("accept", cast.street_a1.pk, False),
        ("dispatch", cast.street_a1.pk, True),
        ("feedback", cast.street_a1.pk, True),  # 城管中队 is the street's department
        ("verify", cast.grid_a.pk, True),
        ("close", cast.street_a1.pk, True),  # the item is at street level: the street centre's sign-off
    ]
    month = timezone.localdate().replace(day=1)
    events.update(step_due_at=timezone.now())  # all in this month, whatever the day the test runs on
    rows = _rows(indicators.incidents_on_time_rate(month, (month + dt.timedelta(days=32)).replace(day=1)))
    assert rows == {
        (cast.community_a1a.pk, month): (1, 1),
        (cast.street_a1.pk, month): (3, 4),
        (cast.grid_a.pk, month): (1, 1),
    }


@pytest.mark.django_db
def test_an_open_step_past_its_deadline_counts_against_its_current_owner(cast, incident_in):
    """Late now: a department's handling against the department's area, an on-site check against the
    grid, an acceptance against the centre at the item's level (one LEFT JOIN, one query)."""
    month = timezone.localdate().replace(day=1)
    with_police = incident_in("handling")  # dispatched to district A's police
    to_verify = incident_in("fed_back")
    to_accept = incident_in("reported")
    for incident in (with_police, to_verify, to_accept):
        Incident.objects.filter(pk=incident.pk).update(due_at=timezone.now() - dt.timedelta(seconds=1))
    IncidentEvent.objects.update(step_due_at=timezone.now() - dt.timedelta(seconds=1))
    rows = _rows(indicators.incidents_on_time_rate(month, (month + dt.timedelta(days=32)).replace(day=1)))
    # with_police: accept, dispatch (community) on time, handling late (district); to_verify: accept,
    # dispatch (community), feedback (district) on time, check late (grid A); to_accept: late (community).
    assert rows == {
        (cast.community_a1a.pk, month): (4, 5),
        (cast.district_a.pk, month): (1, 2),
        (cast.grid_a.pk, month): (0, 1),
    }


@pytest.mark.django_db
def test_the_migration_gives_recorded_steps_the_area_the_workflow_gives_new_ones(
    cast, incident_in, django_assert_max_num_queries
):
    """Backfill (grids/0008) of rows written before the column: the same owner as the workflow,
    including an escalation that took the item from a department and demo rows without
    ``from_level``, in a fixed number of UPDATEs whatever the number of rows."""
    from django.apps import apps

    backfill = importlib.import_module("grids.migrations.0008_event_area").backfill
    incident_in("closed")
    taken_back = incident_in("dispatched")
    services.incident_transition(incident=taken_back, actor=cast.admin, action="escalate", note="too big")
    on_street = incident_in("reported", category="work_safety")  # street level from the start
    services.incident_transition(incident=on_street, actor=cast.admin, action="accept")
    IncidentEvent.objects.filter(incident=on_street).update(from_level="")  # as the demo wrote them
    timed = IncidentEvent.objects.filter(on_time__isnull=False).order_by("id")
    recorded = list(timed.values_list("action", "area_id"))
    assert ("escalate", cast.district_a.pk) in recorded  # the police had it: the department's area
    assert ("accept", cast.street_a1.pk) in recorded
    assert len(recorded) == 9 and None not in {area for _a, area in recorded}
    timed.update(area=None)
    with django_assert_max_num_queries(7):
        backfill(apps, None)
    assert list(timed.values_list("action", "area_id")) == recorded


@pytest.mark.django_db
def test_a_calendar_change_that_moves_a_late_step_into_another_month_reaches_the_rollup(
    cast, incident_in, monkeypatch
):
    # Reported on Monday 31 March 2025 at 10:00, accepted by nobody: its acceptance step is open
    # and late, counted in March. The 31st then becomes a holiday and the deadline moves to April.
    # Moving a deadline writes no event, so the nightly run kept the step in March while a full
    # rebuild counted it in April, until the weekly full run.
    import zoneinfo

    from dashboards.models import RollupRun
    from dashboards.rollup import run_rollup
    from governance import deadlines
    from governance.models import Holiday
    from tests.base import published_values

    at = dt.datetime(2025, 3, 31, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    incident = incident_in("reported")
    monkeypatch.undo()

    def on_time(period):
        row = IndicatorValue.objects.filter(
            indicator="incidents_on_time_rate", area=cast.community_a1a, period=period
        ).first()
        return row and (row.numerator, row.denominator)

    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS
    assert (on_time("2025-03"), on_time("2025-04")) == ((0, 1), None)
    Holiday.objects.create(date=dt.date(2025, 3, 31), is_workday=False, name="更正")
    deadlines.refresh()  # the task the calendar change queues
    incident.refresh_from_db()
    assert timezone.localtime(incident.due_at).month == 4
    nightly = run_rollup()
    assert nightly.kind == RollupRun.Kind.FULL  # the deadlines' calendar is part of the configuration
    assert (on_time("2025-03"), on_time("2025-04")) == (None, (0, 1))
    rows = published_values()
    assert run_rollup(full=True).status == RollupRun.Status.SUCCESS and published_values() == rows
    assert run_rollup().kind == RollupRun.Kind.INCREMENTAL  # and the night after, incremental again


@pytest.mark.django_db
def test_incidents_reported_counts_every_report_and_its_description_says_so(cast, report):
    """A centre's handler reports too (docs/incidents.md "Workflow"), and an item resolved on the
    spot is a report: the count is every incident reported in the grid, 3 here. The description
    said "reported by grid workers" (网格员上报), which the handler's report is not."""
    report()
    report(actor=cast.community_handler)
    photo = SimpleUploadedFile("a.jpg", jpeg_bytes(), content_type="image/jpeg")
    on_the_spot = report(kind="on_the_spot", resolution="当场清理", photos=[photo])
    assert on_the_spot.status == Incident.Status.CLOSED
    month = timezone.localdate().replace(day=1)
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    assert _rows(indicators.incidents_reported(month, nxt)) == {(cast.grid_a.pk, month): (3, 3)}
    assert described("incidents_reported") == {
        "en": (
            "Incidents reported in the period, by grid workers or the centres' handlers, those resolved "
            "on the spot included (more reporting = more eyes on the ground)."
        ),
        "zh-hans": (
            "本期上报的事件数，含网格员和各级综治中心人员上报、当场办结的事件（上报越多，基层发现问题的能力越强）。"
        ),
    }
