"""Indicators whose source is grid incidents (registered for the dashboards app).

Each source is one grouped query per (area, local month); the dashboards roll the areas up to
communities, streets and districts as ratios of sums. Incidents are keyed by their grid; the on-time
rate's steps by the area that answered for each step (``IncidentEvent.area``: the centre at the item's
level, the department's area, or the grid), so a street centre late on a community's item lowers the
street's rate, not the community's.

* ``incidents_reported``          incidents reported in the month (count), by anyone who may report
                                  (grid workers, centre handlers), on-the-spot items included.
* ``incidents_closure_rate``      of the incidents accepted in the month, how many are closed by now.
* ``incidents_on_time_rate``      of the workflow steps (accept, dispatch, handle + feedback, verify,
                                  close) whose deadline falls in the month: done by the deadline / all
                                  of them, counting steps still open past their deadline as late,
                                  each against the area that owns the step (``STEP_OWNERS``).
                                  Handle + feedback is one step (due from dispatch), completed by the
                                  feedback event; the handle event carries no deadline.
* ``incidents_local_resolution_rate``  resolved at grid or community level / resolved, by month of
                                  resolution ("small matters stay in the village").
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Count, Expression, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.indicators import (
    COUNT,
    HIGHER_BETTER,
    PERCENT,
    IndicatorSpec,
    local_bounds,
    local_month,
    months_of,
    register,
)
from grids.models import DEPARTMENT, GRID, STEP_OWNERS, Incident, IncidentEvent


def _per_area_month(
    qs: QuerySet, area: str | Expression, month_field: str, numerator: Count, denominator: Count
) -> QuerySet:
    # A model's own ``area_id`` column is grouped on as it is (an annotation may not take its name).
    key = {} if area == "area_id" else {"area_id": F(area) if isinstance(area, str) else area}
    return (
        qs.values(*([] if key else ["area_id"]), **key, month=local_month(month_field))
        .annotate(numerator=numerator, denominator=denominator)
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


def incidents_reported(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = local_bounds(start, end)
    qs = Incident.objects.filter(reported_at__gte=lo, reported_at__lt=hi)  # index incident_reported_at
    return _per_area_month(qs, "grid_id", "reported_at", Count("id"), Count("id"))


def incidents_closure_rate(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = local_bounds(start, end)
    qs = Incident.objects.filter(accepted_at__gte=lo, accepted_at__lt=hi)
    closed = Count("id", filter=Q(status__in=Incident.DONE_STATUSES))
    return _per_area_month(qs, "grid_id", "accepted_at", closed, Count("id"))


def incidents_on_time_rate(start: dt.date, end: dt.date) -> QuerySet:
    """Steps whose deadline falls in the month: done by the deadline / all of them, including steps
    still open past their deadline (they count as late now, and stay late when finished later, in the
    same month: both parts are keyed by the deadline, so finishing a late step never moves it)."""
    lo, hi = local_bounds(start, end)
    now = timezone.now()
    # Partial index incident_event_due (step_due_at where on_time is not null) serves the range.
    done = IncidentEvent.objects.filter(step_due_at__gte=lo, step_due_at__lt=hi, on_time__isnull=False)
    # Each step carries the area that answered for it: no join to the incident.
    done = _per_area_month(done, "area_id", "step_due_at", Count("id", filter=Q(on_time=True)), Count("id"))
    # Open items whose current step is already late (index incident_open_due), against the current
    # step's owner, as ``Incident.accountable_area_id`` decides it for the event the step will end in.
    late = Incident.objects.filter(status__in=Incident.OPEN_STATUSES, due_at__gte=lo, due_at__lt=min(hi, now))
    late = _per_area_month(late, _CURRENT_OWNER, "due_at", Value(0, output_field=IntegerField()), Count("id"))
    return done.union(late, all=True)


def _owned_by(owner: str) -> list[str]:
    return [status for status, who in STEP_OWNERS.items() if who == owner]


# The area answering for an open item's current step, in SQL (one LEFT JOIN to the small department
# table): the department's area while it has the item, the grid while its worker is to verify, the
# centre at the item's level otherwise (also for a department's step without a department, which the
# workflow never leaves).
_CURRENT_OWNER = Case(
    When(status__in=_owned_by(DEPARTMENT), department__isnull=False, then=F("department__area_id")),
    When(status__in=_owned_by(GRID), then=F("grid_id")),
    default=F("level_area_id"),
)


def incidents_local_resolution_rate(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = local_bounds(start, end)
    qs = Incident.objects.filter(resolved_at__gte=lo, resolved_at__lt=hi)
    local = Count("id", filter=Q(resolved_level__in=["grid", "community"]))
    return _per_area_month(qs, "grid_id", "resolved_at", local, Count("id"))


def incident_changes(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """Months whose incident facts may have changed since ``since``. An incident changes only through
    its workflow, which writes an event each time, and each date the indicators key on is set at one
    of its events (or at the report, and never moved): so the months of a touched incident's dates,
    events and step deadlines cover the old and the new values. Plus the months in which an open
    step passed its deadline in the meantime (late by now). Three queries (index incident_event_at)."""
    touched = IncidentEvent.objects.filter(at__gte=since).values("incident_id")
    fields = ("reported_at", "accepted_at", "resolved_at", "due_at")
    months = months_of(Incident.objects.filter(id__in=touched), *fields)
    months |= months_of(IncidentEvent.objects.filter(incident_id__in=touched), "at", "step_due_at")
    late = Incident.objects.filter(status__in=Incident.OPEN_STATUSES, due_at__gte=since, due_at__lt=now)
    return months | months_of(late, "due_at")


register(
    IndicatorSpec(
        code="incidents_reported",
        name=_("Incidents reported"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=incidents_reported,
        changes=incident_changes,
        description=_(
            "Incidents reported in the period, by grid workers or the centres' handlers, those resolved "
            "on the spot included (more reporting = more eyes on the ground)."
        ),
    )
)
register(
    IndicatorSpec(
        code="incidents_closure_rate",
        name=_("Incident closure rate"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=incidents_closure_rate,
        changes=incident_changes,
        description=_("Of the incidents accepted in the period, the share closed by now."),
        headline=True,
    )
)
register(
    IndicatorSpec(
        code="incidents_on_time_rate",
        name=_("Incident steps on time"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=incidents_on_time_rate,
        changes=incident_changes,
        description=_(
            "Workflow steps done within their time limit / steps due, each counted for the area that "
            "answered for it (the centre at the item's level, the department's area, or the grid for "
            "on-site checks); open steps past their deadline count as late."
        ),
    )
)
register(
    IndicatorSpec(
        code="incidents_local_resolution_rate",
        name=_("Resolved at grid or community level"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=incidents_local_resolution_rate,
        changes=incident_changes,
        description=_("Share of resolved incidents resolved at grid or community level."),
    )
)
