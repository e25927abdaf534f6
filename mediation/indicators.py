"""Indicators whose source is dispute cases (registered for the dashboards app).

Each source is one grouped query per (case area, local month); a case's area is a grid or a
community, and the dashboards roll them up as ratios of sums (never averages of rates).

* ``dispute_cases_received``        cases received in the month (count).
* ``dispute_cases_concluded``       cases concluded in the month, any outcome (count).
* ``dispute_success_rate``          success / (success + failure), by month of conclusion; withdrawn
                                    and refused cases are in neither (DOMAIN.md, never typed in).
* ``dispute_judicial_confirmation_rate``  of the successful cases concluded in the month, the share
                                    whose agreement a court has confirmed.
* ``dispute_escalations_prevented`` cases where escalation to a criminal case was prevented, by month
                                    recorded (count); ``dispute_escalation_persons`` the persons.
* ``dispute_group_defused``         group disputes defused (cases), by month recorded.
* ``dispute_on_time_rate``          cases concluded within their time limit / cases concluded.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db.models import Count, DateField, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.indicators import COUNT, HIGHER_BETTER, PERCENT, IndicatorSpec, register
from mediation.models import DisputeCase


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end, dt.time.min), tz),
    )


def _month(field: str) -> Cast:
    # First day of the *local* month, as a date (the dashboards key months by date).
    return Cast(TruncMonth(field, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)), output_field=DateField())


def _grouped(qs: QuerySet, month_field: str, numerator, denominator) -> QuerySet:
    return (
        qs.annotate(month=_month(month_field))
        .values("area_id", "month")
        .annotate(numerator=numerator, denominator=denominator)
        .values("area_id", "month", "numerator", "denominator")
        .order_by()
    )


def _concluded(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = _bounds(start, end)
    return DisputeCase.objects.filter(concluded_at__gte=lo, concluded_at__lt=hi)  # dispute_concluded_at


def _prevented(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = _bounds(start, end)
    # Partial index dispute_prevention_at serves the range.
    return DisputeCase.objects.filter(prevention_recorded_at__gte=lo, prevention_recorded_at__lt=hi)


def dispute_cases_received(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = _bounds(start, end)
    qs = DisputeCase.objects.filter(received_at__gte=lo, received_at__lt=hi)  # index dispute_received_at
    return _grouped(qs, "received_at", Count("id"), Count("id"))


def dispute_cases_concluded(start: dt.date, end: dt.date) -> QuerySet:
    return _grouped(_concluded(start, end), "concluded_at", Count("id"), Count("id"))


def dispute_success_rate(start: dt.date, end: dt.date) -> QuerySet:
    qs = _concluded(start, end).filter(outcome__in=DisputeCase.RATED_OUTCOMES)
    success = Count("id", filter=Q(outcome__in=DisputeCase.SUCCESS_OUTCOMES))
    return _grouped(qs, "concluded_at", success, Count("id"))


def dispute_judicial_confirmation_rate(start: dt.date, end: dt.date) -> QuerySet:
    qs = _concluded(start, end).filter(outcome__in=DisputeCase.SUCCESS_OUTCOMES)
    confirmed = Count("id", filter=Q(judicial_status=DisputeCase.Judicial.CONFIRMED))
    return _grouped(qs, "concluded_at", confirmed, Count("id"))


def dispute_escalations_prevented(start: dt.date, end: dt.date) -> QuerySet:
    qs = _prevented(start, end).filter(escalation_prevented=True)
    return _grouped(qs, "prevention_recorded_at", Count("id"), Count("id"))


def dispute_escalation_persons(start: dt.date, end: dt.date) -> QuerySet:
    qs = _prevented(start, end).filter(escalation_prevented=True)
    return _grouped(qs, "prevention_recorded_at", Sum("escalation_persons"), Count("id"))


def dispute_group_defused(start: dt.date, end: dt.date) -> QuerySet:
    qs = _prevented(start, end).filter(group_defused=True)
    return _grouped(qs, "prevention_recorded_at", Count("id"), Count("id"))


def dispute_on_time_rate(start: dt.date, end: dt.date) -> QuerySet:
    on_time = Count("id", filter=Q(concluded_on_time=True))
    return _grouped(_concluded(start, end), "concluded_at", on_time, Count("id"))


for _spec in [
    IndicatorSpec(
        code="dispute_cases_received",
        name=_("Dispute cases received"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=dispute_cases_received,
        description=_("Dispute cases received by mediation organisations in the period."),
    ),
    IndicatorSpec(
        code="dispute_cases_concluded",
        name=_("Dispute cases concluded"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=dispute_cases_concluded,
        description=_("Dispute cases concluded in the period, whatever the outcome."),
    ),
    IndicatorSpec(
        code="dispute_success_rate",
        name=_("Mediation success rate"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=dispute_success_rate,
        description=_(
            "Successful mediations / (successful + failed), by month of conclusion; withdrawn cases and "
            "cases a party refused are in neither."
        ),
        headline=True,
    ),
    IndicatorSpec(
        code="dispute_judicial_confirmation_rate",
        name=_("Judicial confirmation rate"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=dispute_judicial_confirmation_rate,
        description=_(
            "Of the successful mediations concluded in the period, the share confirmed by a court."
        ),
    ),
    IndicatorSpec(
        code="dispute_escalations_prevented",
        name=_("Criminal escalations prevented (cases)"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=dispute_escalations_prevented,
        description=_("Cases where the mediator prevented a dispute from turning into a criminal case."),
    ),
    IndicatorSpec(
        code="dispute_escalation_persons",
        name=_("Criminal escalations prevented (persons)"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=dispute_escalation_persons,
        description=_("Persons involved in the cases where a criminal escalation was prevented."),
    ),
    IndicatorSpec(
        code="dispute_group_defused",
        name=_("Group disputes defused"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=dispute_group_defused,
        description=_("Group disputes defused by mediation in the period (cases)."),
    ),
    IndicatorSpec(
        code="dispute_on_time_rate",
        name=_("Mediations concluded on time"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=dispute_on_time_rate,
        description=_("Cases concluded within the time limit (one month, or as extended) / cases concluded."),
    ),
]:
    register(_spec)
