from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dashboards.models import IndicatorValue
from governance.indicators import registry
from grids import indicators, services
from grids.models import Incident, IncidentEvent
from tests.base import nightly_run_matches_full_rebuild, shift_back
from tests.grids.conftest import IN_GRID_B, action_fields


def _rows(qs) -> dict:
    """Sum rows per (area, month) as the rollup does (a source may yield several rows per key)."""
    out: dict = {}
    for r in qs:
        n, d = out.get((r["area_id"], r["month"]), (0, 0))
        out[(r["area_id"], r["month"])] = (n + r["numerator"], d + r["denominator"])
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
    steps = IncidentEvent.objects.filter(incident__grid=cast.grid_a, on_time__isnull=False)
    Incident.objects.filter(pk=accepted.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    rows = _rows(indicators.incidents_on_time_rate(lo, hi))
    assert {area for area, _month in rows} == {a}
    assert sum(n for n, _d in rows.values()) == steps.filter(on_time=True).count() == steps.count() - 1
    assert sum(d for _n, d in rows.values()) == steps.count() + 1
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
