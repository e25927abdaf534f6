"""Indicators whose source is dispute cases (registered for the dashboards app).

Each source is one grouped query per (case area, local month); a case's area is a grid or a
community, and the dashboards roll them up as ratios of sums (never averages of rates). Indicators
read by the same month column share one source (one scan): ``concluded_cases``,
``escalation_records`` and ``group_records`` yield a pair of columns per indicator
(governance/indicators.py).

* ``dispute_cases_received``        cases received in the month (count).
* ``dispute_cases_concluded``       cases concluded in the month with success or failure (count): the
                                    success rate's denominator; withdrawn and refused cases ended
                                    without a result of mediating (DOMAIN.md).
* ``dispute_success_rate``          success / (success + failure), by month of conclusion; withdrawn
                                    and refused cases are in neither (DOMAIN.md, never typed in).
* ``dispute_judicial_confirmation_rate``  of the cases concluded in the month with a written
                                    agreement, the share a court has confirmed. Only a written
                                    agreement can be confirmed (``CONFIRMABLE_OUTCOMES``; DOMAIN.md:
                                    the application is made within 30 days of the written agreement
                                    taking effect, and the API refuses it for an oral one), so oral
                                    agreements are in neither the numerator nor the denominator
                                    (revision 2; the denominator was every success, oral included,
                                    which no area settling matters orally could ever bring to 100%).
* ``dispute_escalations_prevented`` cases where escalation to a criminal case was prevented, by month
                                    that fact was recorded (count); ``dispute_escalation_persons`` the persons.
* ``dispute_group_defused``         group disputes defused (cases), by month that fact was recorded
                                    (not the month of the case's first prevention record);
                                    ``dispute_group_defused_persons`` the persons.
* ``dispute_on_time_rate``          cases concluded within their time limit / every case concluded,
                                    withdrawn and refused included (a mediation that ended, whatever
                                    its outcome, ended on time or late).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from governance.indicators import (
    COUNT,
    HIGHER_BETTER,
    PERCENT,
    IndicatorSpec,
    count_or_null,
    local_bounds,
    months_of,
    per_area_month,
    register,
)
from mediation.models import DisputeCase, DisputeEvent


def _concluded(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = local_bounds(start, end)
    return DisputeCase.objects.filter(concluded_at__gte=lo, concluded_at__lt=hi)  # dispute_concluded_at


def dispute_cases_received(start: dt.date, end: dt.date) -> QuerySet:
    lo, hi = local_bounds(start, end)
    qs = DisputeCase.objects.filter(received_at__gte=lo, received_at__lt=hi)  # index dispute_received_at
    return per_area_month(qs, "received_at", numerator=Count("id"), denominator=Count("id"))


def concluded_cases(start: dt.date, end: dt.date) -> QuerySet:
    """Four indicators by month of conclusion from one scan of the concluded cases (the registry's
    shared sources): success over rated outcomes, court confirmation of the written agreements, on
    time."""
    success = Q(outcome__in=DisputeCase.SUCCESS_OUTCOMES)
    confirmable = Q(outcome__in=DisputeCase.CONFIRMABLE_OUTCOMES)
    return per_area_month(
        _concluded(start, end),
        "concluded_at",
        concluded=Count("id"),
        mediated=Count("id", filter=Q(outcome__in=DisputeCase.RATED_OUTCOMES)),
        successes=Count("id", filter=success),
        rated=count_or_null(Q(outcome__in=DisputeCase.RATED_OUTCOMES)),
        confirmed=Count("id", filter=confirmable & Q(judicial_status=DisputeCase.Judicial.CONFIRMED)),
        confirmable=count_or_null(confirmable),
        on_time=Count("id", filter=Q(concluded_on_time=True)),
    )


def _fact_records(flag: str, persons: str, recorded_at: str) -> Callable[[dt.date, dt.date], QuerySet]:
    """The source of one prevention fact: its cases and their persons, by the local month the fact
    was recorded (one scan of the partial index on ``recorded_at``). A fact cleared by a correction
    keeps its date, so its month is recomputed and counts nothing for it."""

    def source(start: dt.date, end: dt.date) -> QuerySet:
        lo, hi = local_bounds(start, end)
        qs = DisputeCase.objects.filter(**{f"{recorded_at}__gte": lo, f"{recorded_at}__lt": hi})
        fact = Q(**{flag: True})
        return per_area_month(qs, recorded_at, cases=count_or_null(fact), persons=Sum(persons, filter=fact))

    source.__name__ = source.__qualname__ = f"{flag}_records"
    return source


# Criminal escalations prevented, and group disputes defused: cases and persons of each.
escalation_records = _fact_records("escalation_prevented", "escalation_persons", "escalation_recorded_at")
group_records = _fact_records("group_defused", "group_persons", "group_recorded_at")


def case_changes(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """Months whose case facts may have changed since ``since``: a case changes only through its
    workflow, which writes an event each time (a court's confirmation of an agreement concluded
    months ago changes that month), and the dates the indicators key on are set at one of its events
    (or at registration, and never moved). No fact depends on time passing. Two queries."""
    touched = DisputeEvent.objects.filter(at__gte=since).values("case_id")
    fields = ("received_at", "concluded_at", "escalation_recorded_at", "group_recorded_at")
    months = months_of(DisputeCase.objects.filter(id__in=touched), *fields)
    return months | months_of(DisputeEvent.objects.filter(case_id__in=touched), "at")


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
        source=concluded_cases,
        numerator="mediated",
        denominator="mediated",
        description=_(
            "Dispute cases concluded in the period with success or failure, the success rate's "
            "denominator; withdrawn and refused cases ended without mediating and are not counted."
        ),
    ),
    IndicatorSpec(
        code="dispute_success_rate",
        name=_("Mediation success rate"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=concluded_cases,
        numerator="successes",
        denominator="rated",
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
        source=concluded_cases,
        numerator="confirmed",
        denominator="confirmable",
        description=_(
            "Of the mediations concluded in the period with a written agreement, the share confirmed "
            "by a court; oral agreements cannot be confirmed and are not counted."
        ),
        revision=2,
    ),
    IndicatorSpec(
        code="dispute_escalations_prevented",
        name=_("Criminal escalations prevented (cases)"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=escalation_records,
        numerator="cases",
        denominator="cases",
        description=_("Cases where the mediator prevented a dispute from turning into a criminal case."),
    ),
    IndicatorSpec(
        code="dispute_escalation_persons",
        name=_("Criminal escalations prevented (persons)"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=escalation_records,
        numerator="persons",
        denominator="cases",
        description=_("Persons involved in the cases where a criminal escalation was prevented."),
    ),
    IndicatorSpec(
        code="dispute_group_defused",
        name=_("Group disputes defused"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=group_records,
        numerator="cases",
        denominator="cases",
        description=_("Group disputes defused by mediation in the period (cases)."),
    ),
    IndicatorSpec(
        code="dispute_group_defused_persons",
        name=_("Group disputes defused (persons)"),
        unit=COUNT,
        direction=HIGHER_BETTER,
        source=group_records,
        numerator="persons",
        denominator="cases",
        description=_("Persons involved in the group disputes defused by mediation in the period."),
    ),
    IndicatorSpec(
        code="dispute_on_time_rate",
        name=_("Mediations concluded on time"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=concluded_cases,
        numerator="on_time",
        denominator="concluded",
        description=_(
            "Cases concluded within the time limit (one month, or as extended) / every case concluded, "
            "withdrawn and refused cases included (unlike the count of cases concluded)."
        ),
    ),
]:
    register(replace(_spec, changes=case_changes))
