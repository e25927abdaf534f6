"""Indicators whose source is petitions (registered for the dashboards app).

One grouped query per (area concerned, local month); nothing personal leaves this module, so
analysts see statistics only. Rates are additive numerator/denominator pairs (ratio of sums).

* ``petitions_matters``            new matters registered in the month; confirmed repeats are not
                                   counted again (DOMAIN.md "Repeat petitions").
* ``petitions_person_times``       persons who came (persons count of every petition, repeats included).
* ``petitions_routed_on_time_rate`` routed or redirected within 15 days / petitions whose routing is
                                   done or due, by month received.
* ``petitions_replied_on_time_rate`` replied by the (possibly extended) reply deadline / accepted
                                   petitions replied or past their deadline, by month received.
* ``petitions_satisfaction_rate``  (satisfied + basically satisfied) / evaluated, by month evaluated.
* ``petitions_repeat_rate``        repeat petitions / all petitions received (lower is better).
* ``petitions_group``              group petitions received (count).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db.models import Count, DateField, F, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.indicators import COUNT, HIGHER_BETTER, LOWER_BETTER, PERCENT, IndicatorSpec, register
from petitions.models import Petition


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


def _received(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = _bounds(start, end)
    return Petition.objects.filter(received_at__gte=lo, received_at__lt=hi)  # index petition_received


def petitions_matters(start: dt.date, end: dt.date) -> QuerySet:
    new = Count("id", filter=Q(is_repeat=False))
    return _grouped(_received(start, end), "received_at", new, new)


def petitions_person_times(start: dt.date, end: dt.date) -> QuerySet:
    persons = Sum("persons_count")
    return _grouped(_received(start, end), "received_at", persons, persons)


def petitions_routed_on_time_rate(start: dt.date, end: dt.date) -> QuerySet:
    now = timezone.now()
    done_or_due = Q(routed_at__isnull=False) | Q(redirected_at__isnull=False) | Q(route_due_at__lt=now)
    on_time = Q(routed_at__lte=F("route_due_at")) | Q(redirected_at__lte=F("route_due_at"))
    qs = _received(start, end).filter(done_or_due)
    return _grouped(qs, "received_at", Count("id", filter=on_time), Count("id"))


def petitions_replied_on_time_rate(start: dt.date, end: dt.date) -> QuerySet:
    now = timezone.now()
    qs = _received(start, end).filter(
        Q(replied_at__isnull=False) | Q(reply_due_at__lt=now), reply_due_at__isnull=False
    )
    return _grouped(qs, "received_at", Count("id", filter=Q(replied_at__lte=F("reply_due_at"))), Count("id"))


def petitions_satisfaction_rate(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = _bounds(start, end)
    qs = Petition.objects.filter(evaluated_at__gte=lo, evaluated_at__lt=hi).exclude(evaluation="")
    content = Count("id", filter=Q(evaluation__in=["satisfied", "basically"]))
    return _grouped(qs, "evaluated_at", content, Count("id"))


def petitions_repeat_rate(start: dt.date, end: dt.date) -> QuerySet:
    return _grouped(_received(start, end), "received_at", Count("id", filter=Q(is_repeat=True)), Count("id"))


def petitions_group(start: dt.date, end: dt.date) -> QuerySet:
    groups = Count("id", filter=Q(is_group=True))
    return _grouped(_received(start, end), "received_at", groups, groups)


register(
    IndicatorSpec(
        code="petitions_matters",
        name=_("Petition matters registered"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=petitions_matters,
        description=_("New petition matters received; confirmed repeats are not counted again."),
    )
)
register(
    IndicatorSpec(
        code="petitions_person_times",
        name=_("Petitioners (person-times)"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=petitions_person_times,
        description=_("Persons who petitioned, counting every visit, letter or call including repeats."),
    )
)
register(
    IndicatorSpec(
        code="petitions_routed_on_time_rate",
        name=_("Petitions routed within 15 days"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=petitions_routed_on_time_rate,
        description=_("Routed to a department or redirected within 15 days of receipt, of those due."),
    )
)
register(
    IndicatorSpec(
        code="petitions_replied_on_time_rate",
        name=_("Petitions replied on time"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=petitions_replied_on_time_rate,
        description=_("Written replies given by the 60-day (or once extended) deadline, of those due."),
        headline=True,
    )
)
register(
    IndicatorSpec(
        code="petitions_satisfaction_rate",
        name=_("Petitioner satisfaction"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=petitions_satisfaction_rate,
        description=_("Satisfied plus basically satisfied, of the replies evaluated."),
    )
)
register(
    IndicatorSpec(
        code="petitions_repeat_rate",
        name=_("Repeat petition rate"),
        unit=PERCENT,
        direction=LOWER_BETTER,
        source=petitions_repeat_rate,
        description=_("Petitions linked as repeats of an earlier one, of all petitions received."),
    )
)
register(
    IndicatorSpec(
        code="petitions_group",
        name=_("Group petitions"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=petitions_group,
        description=_("Petitions brought by five or more people (a setting)."),
    )
)
