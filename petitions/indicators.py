"""Indicators whose source is petitions (registered for the dashboards app).

One grouped query per (area concerned, local month): the indicators by month received share one
(``received_petitions``, one scan, a pair of columns each; governance/indicators.py). Nothing
personal leaves this module, so analysts see statistics only. Rates are additive numerator/denominator pairs (ratio of sums).

* ``petitions_matters``            new matters registered in the month; confirmed repeats are not
                                   counted again (DOMAIN.md "Repeat petitions").
* ``petitions_person_times``       persons who came (persons count of every petition, repeats included).
* ``petitions_routed_on_time_rate`` routed, redirected or (a repeat of a matter closed for good)
                                   declined by the office within 15 days / petitions whose routing
                                   is done or due, by month received.
* ``petitions_replied_on_time_rate`` replied by the (possibly extended) reply deadline / accepted
                                   petitions replied or past their deadline, by month received; an
                                   accepted repeat of a matter closed for good declined before its
                                   reply deadline is in neither.
* ``petitions_satisfaction_rate``  (satisfied + basically satisfied) / evaluations, each evaluation
                                   (one per answer) in the month it was recorded.
* ``petitions_repeat_rate``        repeat petitions / all petitions received (lower is better).
* ``petitions_group``              group petitions received (count).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from governance.indicators import (
    COUNT,
    HIGHER_BETTER,
    LOWER_BETTER,
    PERCENT,
    IndicatorSpec,
    count_or_null,
    local_bounds,
    months_of,
    per_area_month,
    register,
)
from petitions.models import Petition, PetitionEvent, group_min_persons


@lazy
def group_description() -> str:
    """Names the group size in force (PETITION_GROUP_MIN_PERSONS), read when the text is shown."""
    return gettext("Petitions brought by %(n)d or more people.") % {"n": group_min_persons()}


def received_petitions(start: dt.date, end: dt.date) -> QuerySet:
    """Six indicators by month received, from one scan of the petitions (the registry's shared
    sources). Routing and reply rates count only petitions whose step is done or already due."""
    lo, hi = local_bounds(start, end)
    qs = Petition.objects.filter(received_at__gte=lo, received_at__lt=hi)  # index petition_received
    now = timezone.now()
    # The office's first step is done by routing, redirecting, or declining a repeat of a matter
    # closed for good before routing it (the only decline without a routing).
    declined_unrouted = Q(status=Petition.Status.DECLINED, routed_at__isnull=True)
    route_due = (
        Q(routed_at__isnull=False)
        | Q(redirected_at__isnull=False)
        | declined_unrouted
        | Q(route_due_at__lt=now)
    )
    routed_on_time = (
        Q(routed_at__lte=F("route_due_at"))
        | Q(redirected_at__lte=F("route_due_at"))
        | (declined_unrouted & Q(closed_at__lte=F("route_due_at")))
    )
    # A repeat of a matter closed for good declined after its acceptance owes no reply (art. 35):
    # declined within the reply limit it leaves the rate; declined after the limit ended, the
    # limit had run out unanswered and it stays a late one.
    declined_in_time = Q(status=Petition.Status.DECLINED, closed_at__lte=F("reply_due_at"))
    reply_due = (
        Q(reply_due_at__isnull=False)
        & (Q(replied_at__isnull=False) | Q(reply_due_at__lt=now))
        & ~declined_in_time
    )
    return per_area_month(
        qs,
        "received_at",
        received=Count("id"),
        new=Count("id", filter=Q(is_repeat=False)),
        persons=Sum("persons_count"),
        routed_on_time=Count("id", filter=route_due & routed_on_time),
        route_due=count_or_null(route_due),
        replied_on_time=Count("id", filter=reply_due & Q(replied_at__lte=F("reply_due_at"))),
        reply_due=count_or_null(reply_due),
        repeats=Count("id", filter=Q(is_repeat=True)),
        groups=Count("id", filter=Q(is_group=True)),
    )


def petitions_satisfaction_rate(start: dt.date, end: dt.date) -> QuerySet:
    """Every evaluation recorded, in the month it was recorded, from the ``evaluate`` events (index
    petition_event_at). A petition takes one evaluation per answer (reply, review, re-review) and
    keeps only the last on its row: read from the row, the reply's evaluation of an earlier month
    left that month's published rate when the review's answer was evaluated, and reappeared in the
    later month instead."""
    lo, hi = local_bounds(start, end)
    qs = PetitionEvent.objects.filter(action="evaluate", at__gte=lo, at__lt=hi).annotate(
        area_id=F("petition__area_id")
    )
    content = Count("id", filter=Q(data__evaluation__in=["satisfied", "basically"]))
    return per_area_month(qs, "at", numerator=content, denominator=Count("id"))


def petition_changes(since: dt.datetime, now: dt.datetime) -> set[dt.date]:
    """Months whose petition facts may have changed since ``since``: a petition changes only through
    its workflow, which writes an event each time (a reply two months after receipt changes the month
    of receipt), and the dates the indicators key on are set at one of its events (or at
    registration, and never moved). Plus the months of receipt of the petitions whose routing or
    reply fell due in the meantime (due by now, done or not). Three queries."""
    touched = PetitionEvent.objects.filter(at__gte=since).values("petition_id")
    months = months_of(Petition.objects.filter(id__in=touched), "received_at", "evaluated_at")
    months |= months_of(PetitionEvent.objects.filter(petition_id__in=touched), "at")
    fell_due = Q(route_due_at__gte=since, route_due_at__lt=now) | Q(
        reply_due_at__gte=since, reply_due_at__lt=now
    )
    return months | months_of(Petition.objects.filter(fell_due), "received_at")


register(
    IndicatorSpec(
        code="petitions_matters",
        name=_("Petition matters registered"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="new",
        denominator="new",
        description=_("New petition matters received; confirmed repeats are not counted again."),
    )
)
register(
    IndicatorSpec(
        code="petitions_person_times",
        name=_("Petitioners (person-times)"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="persons",
        denominator="persons",
        description=_(
            "Persons on the petitions received through every channel (a group petition counts each "
            "of its people), repeats included."
        ),
    )
)
register(
    IndicatorSpec(
        code="petitions_routed_on_time_rate",
        name=_("Petitions routed within 15 days"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="routed_on_time",
        denominator="route_due",
        description=_(
            "Routed to a department, redirected, or declined as a repeat of a matter closed for good, "
            "within 15 days of receipt, of those due."
        ),
    )
)
register(
    IndicatorSpec(
        code="petitions_replied_on_time_rate",
        name=_("Petitions replied on time"),
        unit=PERCENT,
        direction=HIGHER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="replied_on_time",
        denominator="reply_due",
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
        changes=petition_changes,
        description=_("Satisfied plus basically satisfied, of the replies evaluated."),
    )
)
register(
    IndicatorSpec(
        code="petitions_repeat_rate",
        name=_("Repeat petition rate"),
        unit=PERCENT,
        direction=LOWER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="repeats",
        denominator="received",
        description=_("Petitions linked as repeats of an earlier one, of all petitions received."),
    )
)
register(
    IndicatorSpec(
        code="petitions_group",
        name=_("Group petitions"),
        unit=COUNT,
        direction=LOWER_BETTER,
        source=received_petitions,
        changes=petition_changes,
        numerator="groups",
        denominator="groups",
        description=group_description(),
    )
)
