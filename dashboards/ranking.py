"""Selectors and formatting of the ranking pages: the published ``IndicatorValue`` rows read with a
fixed number of queries whatever the number of areas (one for the rows, one for the sparklines)."""

from __future__ import annotations

import datetime as dt
import importlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards.models import IndicatorValue
from governance import indicators as registry
from governance.access import get_visible_or_404, scope_paths
from governance.models import Area, User
from governance.periods import MONTH, PERIOD_TYPES, Period

SPARK_PERIODS = 8
# How many periods of each type the period picker offers, counted back from the latest month.
PICKER_LENGTH = {"month": 24, "quarter": 8, "half": 6, "year": 4}


def specs() -> list[registry.IndicatorSpec]:
    return sorted(registry.registry().values(), key=lambda s: (not s.headline, s.app, s.code))


def headline_specs() -> list[registry.IndicatorSpec]:
    heads = [s for s in specs() if s.headline]
    return heads or specs()[:6]


def spec_or_none(code: str | None) -> registry.IndicatorSpec | None:
    try:
        return registry.get(code or "")
    except KeyError:
        return None


def home_area(user: User) -> Area | None:
    """The top of the user's scope (the first root), or the city for a superuser."""
    roots = scope_paths(user)
    if user.is_superuser:
        return Area.objects.filter(parent__isnull=True).order_by("code").first()
    if not roots:
        return None
    return Area.objects.filter(path=roots[0]).first()


def scope_roots(user: User) -> list[Area]:
    """The tops of a user's areas when they have several (two communities, a street and a district
    department): the pages opened on the first, and the others were reached only by typing a code.
    Empty for one area (the breadcrumbs lead there) and for a superuser (the city is the top)."""
    paths = [] if user.is_superuser else scope_paths(user)
    if len(paths) < 2:
        return []
    return list(Area.objects.filter(path__in=paths).order_by("path"))


def current_month() -> Period:
    today = timezone.localdate()
    return Period.of(MONTH, today.year, today.month)


def not_begun(period: Period, *, for_people: bool = False) -> str:
    """Why ``period`` is refused if it has not begun ("2027-01 has not begun yet: the latest is
    2026-12."), else "": its values do not exist yet, and an empty page or list of it read as "no
    data". ``for_people``: the periods as the pages write them (2027年1月), not their codes."""
    today = timezone.localdate()
    if period.start <= today:
        return ""
    latest = Period.of(period.kind, today.year, today.month)
    return _("%(period)s has not begun yet: the latest is %(latest)s.") % {
        "period": period.label if for_people else period.code,
        "latest": latest.label if for_people else latest.code,
    }


def running(period: Period) -> bool:
    """Whether ``period`` is not over yet: its values cover the days so far only."""
    return period.start <= timezone.localdate() < period.end


def area_for(user: User, code: str) -> Area:
    return get_visible_or_404(Area.objects.visible_to(user).select_related("parent"), code=code)


def latest_month(indicator: str, area: Area, *, ended: bool = False) -> Period:
    """The newest month with a value for the area (index value_series), else the current month.
    ``ended``: the newest month that is over, else the current one (the home page's figures, read
    at a glance, where a month seven days old is a closure rate of 22% "worse by 72 points")."""
    today = timezone.localdate()
    current = Period.of(MONTH, today.year, today.month)
    values = IndicatorValue.objects.filter(indicator=indicator, area=area, period_type=MONTH)
    if ended:
        values = values.filter(period__lt=current.code)  # month codes sort as the months do
    newest = values.order_by("-period").values_list("period", flat=True).first()
    return Period.parse(newest) if newest else current


def period_choices(kind: str, latest: Period) -> list[str]:
    month = latest.months()[-1]
    current = Period.of(kind, month.year, month.month)
    out = []
    for _i in range(PICKER_LENGTH[kind]):
        out.append(current.code)
        current = current.previous()
    return out


CENT = Decimal("0.01")


def two_decimals(value: float) -> Decimal:
    """A stored value (6 decimals, DESIGN.md section 6) to the 2 decimals shown, a half rounded away
    from zero (四舍五入) as the rollup rounds and as the assessment pages' ``floatformat`` does. Python's
    own formatting rounds the binary float: 93.125 (745 of 800 answers) came out "93.12", and 90.535,
    stored a hair below, "90.53". ``repr`` gives back the decimal the rollup stored."""
    rounded = Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded  # no "-0.00"


def unit_suffix(spec: registry.IndicatorSpec) -> str:
    """What follows a number of this indicator where a page writes one: "%" for percentages."""
    return "%" if spec.unit == registry.PERCENT else ""


def unit_label(spec: registry.IndicatorSpec) -> str:
    """The name of the value axis of a chart of this indicator: what its numbers count."""
    return {
        registry.PERCENT: _("Percent (%)"),
        registry.COUNT: _("Count"),
        registry.PER_10K: _("Per 10,000 residents"),
        registry.SCORE: _("Points"),
    }.get(spec.unit, "")


def format_value(spec: registry.IndicatorSpec, value: float | None) -> str:
    if value is None:
        return "—"
    if spec.unit == registry.PERCENT:
        return f"{two_decimals(value)}{unit_suffix(spec)}"
    if spec.unit == registry.COUNT:
        return f"{value:,.0f}"
    return f"{two_decimals(value)}"


def format_sample(denominator: float | None) -> str:
    """A survey's sample, the summed weight of its valid answers, as stored (weights have at most 3
    decimals): rounded to a whole number, 29.6 read "30" beside "not ranked" under a minimum of 30.
    The league table's numerators and denominators on hover are written the same way."""
    if denominator is None:
        return ""
    return f"{Decimal(repr(float(denominator))).quantize(Decimal('0.001')).normalize():,f}"


def format_delta(spec: registry.IndicatorSpec, delta: float | None) -> str:
    if delta is None:
        return "—"
    if spec.unit == registry.PERCENT:
        return _("%(delta)s pts") % {"delta": f"{two_decimals(delta):+}"}
    if spec.unit == registry.COUNT:
        return f"{delta:+,.0f}"
    return f"{two_decimals(delta):+}"


def format_rank_change(change: int | None) -> str:
    if change is None:
        return "—"
    if change > 0:
        return ngettext("up %(n)d place", "up %(n)d places", change) % {"n": change}
    if change < 0:
        return ngettext("down %(n)d place", "down %(n)d places", -change) % {"n": -change}
    return _("no change")


def trend(spec: registry.IndicatorSpec, delta: float | None) -> str | None:
    """A change read by the indicator's direction: "better", "worse" or "same" (nothing to see at
    the 2 decimals shown), None without a previous value. A rise of preventable cases is worse."""
    if delta is None:
        return None
    shown = two_decimals(delta)
    if not shown:
        return "same"
    return "better" if (shown > 0) == (spec.direction != registry.LOWER_BETTER) else "worse"


def arrow(change: int | None) -> str:
    if not change:
        return "same"
    return "up" if change > 0 else "down"


@dataclass
class Row:
    value: IndicatorValue
    spark: list[float | None]
    ranked: bool

    @property
    def area(self) -> Area:
        return self.value.area


SORTS = {
    "rank": lambda r: (r.value.rank is None, r.value.rank or 0, r.area.code),
    "value": lambda r: (r.value.value is None, r.value.value or 0, r.area.code),
    "delta": lambda r: (r.value.delta is None, r.value.delta or 0, r.area.code),
    "rank_change": lambda r: (r.value.rank_change is None, r.value.rank_change or 0, r.area.code),
    "yoy_delta": lambda r: (r.value.yoy_delta is None, r.value.yoy_delta or 0, r.area.code),
    "name": lambda r: (False, r.area.code, r.area.code),
    "sample": lambda r: (r.value.denominator is None, r.value.denominator or 0, r.area.code),
}


def spark_periods(period: Period) -> list[str]:
    out, current = [], period
    for _i in range(SPARK_PERIODS):
        out.append(current.code)
        current = current.previous()
    return out[::-1]


def children_without_value(
    values: list[IndicatorValue], indicator: str, period: Period, parent: Area
) -> list[IndicatorValue]:
    """The children of ``parent`` in service in ``period`` that have no stored row among ``values``
    (its children's rows), as unsaved stand-ins, never written: no value, no rank, nothing counted,
    ``rank_of`` the ranked siblings' count, as on an unranked row. Only the children in service on a
    day of the period: a grid drawn later, or merged away before, was not there. None when no child
    has a value at all (the league is then empty: "no values for this period"). One query, with the
    areas. The league page, its exports and map, and ``stats/rankings/`` list the same areas."""
    if not values:
        return []
    shown = {v.area_id for v in values}
    in_service = Area.in_service_on(period.start, period.end - dt.timedelta(days=1))
    return [
        IndicatorValue(
            area=area,
            parent=parent,
            indicator=indicator,
            period=period.code,
            period_type=period.kind,
            level=area.level,
            rank_of=values[0].rank_of,
        )
        for area in Area.objects.filter(in_service, parent=parent).exclude(pk__in=shown).order_by("code")
    ]


def league_rows(
    spec: registry.IndicatorSpec, period: Period, parent: Area, sort: str = "rank", descending: bool = False
) -> list[Row]:
    """Children of ``parent`` for one indicator and period, with a sparkline of the last periods.
    Three queries: the rows (index value_ranking), the sparkline values (index value_ranking too:
    same indicator and parent, a handful of periods) and the children without a value.

    A child without a stored value (no records in the period: a percentage has nothing to divide) is
    listed too, at the bottom, with no value and no rank: the map drew it grey as "no value" while
    the table left it out, and a district's three streets read as two. When no child has a value
    at all the list stays empty, and the page says there are no values for the period."""
    values = list(
        IndicatorValue.objects.filter(indicator=spec.code, period=period.code, parent=parent).select_related(
            "area"
        )
    )
    periods = spark_periods(period)
    series: dict[int, dict[str, float | None]] = defaultdict(dict)
    for area_id, code, value in IndicatorValue.objects.filter(
        indicator=spec.code, parent=parent, period__in=periods
    ).values_list("area_id", "period", "value"):
        series[area_id][code] = value
    values += children_without_value(values, spec.code, period, parent)
    rows = [
        Row(value=v, spark=[series[v.area_id].get(p) for p in periods], ranked=v.rank is not None)
        for v in values
    ]
    key = SORTS.get(sort, SORTS["rank"])
    rows.sort(key=lambda r: key(r)[1:], reverse=descending)
    rows.sort(key=lambda r: key(r)[0])  # stable: rows without the sorted value stay at the bottom
    return rows


@dataclass
class OwnRecords:
    """What the parent's stored sums hold beyond those of its listed children: the records filed at
    the parent itself (a dispute case registered at a community, not at one of its grids; police
    counts of a community). ``value`` by the indicator's own formula, None where the value is no
    function of the two sums (a stock denominator, a population: see ``own_records``)."""

    numerator: float
    denominator: float
    value: float | None
    stock: bool = False  # the denominator is a stock: no value


def _exact(number: float | None) -> Decimal:
    # The stored sums have at most 6 decimals (DESIGN.md section 6): subtracted as decimals, 9610 -
    # 9580 is 30, with no float noise to show as a difference.
    return Decimal(repr(float(number or 0)))


def own_records(
    spec: registry.IndicatorSpec, period: Period, parent: Area, values: Iterable[IndicatorValue]
) -> OwnRecords | None:
    """The parent's stored numerator and denominator less the sums of its children's ``values`` (all
    the league's rows, every page of ``stats/rankings/``), when not zero: an area's value is the ratio of sums over its whole subtree, its own
    records included, so its children's rows did not add up to it and nothing said why. One query.

    For an indicator whose denominator is a stock (``denominator_over_time="last"``, a population)
    the parent with records of its own divides by its own population, which already counts the
    residents of its children: the differences are given, not a value made of them. Otherwise a
    difference below zero is no record of the parent's (a stored row out of step with its
    children's) and no row is made."""
    stored = (
        IndicatorValue.objects.filter(indicator=spec.code, period=period.code, area=parent)
        .values_list("numerator", "denominator")
        .first()
    )
    if stored is None:
        return None
    listed = [v for v in values if v.pk]  # a child listed without a stored row counted nothing
    numerator = _exact(stored[0]) - sum((_exact(v.numerator) for v in listed), Decimal(0))
    denominator = _exact(stored[1]) - sum((_exact(v.denominator) for v in listed), Decimal(0))
    if not numerator and not denominator:
        return None
    stock = spec.denominator_over_time == "last"
    if not stock and (numerator < 0 or denominator < 0):
        return None
    value = None if stock else spec.value(float(numerator), float(denominator))
    if value is not None:
        # To the 6 decimals the rollup stores, a half away from zero: 23 of 160, 14.375%, comes out
        # of the float division as 14.374999999999998, which two_decimals read "14.37%".
        value = float(Decimal(repr(value)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP))
    return OwnRecords(numerator=float(numerator), denominator=float(denominator), value=value, stock=stock)


def sparkline_segments(values: list[float | None], width: int = 80, height: int = 20) -> list[str]:
    """The points attributes of an inline SVG sparkline, one polyline per run of periods with a
    value. A period without one (no records, nothing to divide) is a gap: one line drawn across it
    showed a value there, beside a "Change" of "—" for want of one. A value alone between gaps is a
    zero-length line, which the round line cap (dashboards.css) draws as a dot. Fewer than two
    values draw nothing: no trend to see. A line that never moves lies across the middle of the
    box; on its floor it read as the lowest line of the table."""
    present = [v for v in values if v is not None]
    if len(present) < 2:
        return []
    low, high = min(present), max(present)
    step = width / max(len(values) - 1, 1)

    def y(v: float) -> float:
        return height / 2 if high == low else height - 2 - (v - low) / (high - low) * (height - 4)

    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append(f"{i * step:.1f},{y(v):.1f}")
    return [" ".join(points if len(points) > 1 else points * 2) for points in segments if points]


def class_breaks(values: list[float], classes: int = 5) -> list[float]:
    """Quantile class breaks (upper bounds of all but the last class) for the choropleth, to the 2
    decimals shown (a break compared unrounded with the rounded one before it was repeated). No
    break is the largest value: with fewer areas than classes it was, and the top class, above
    every value, was always empty. When all values are equal, that value is the one break."""
    data = sorted(float(two_decimals(v)) for v in values if v is not None)
    if not data:
        return []
    breaks: list[float] = []
    for i in range(1, classes):
        b = data[min(len(data) - 1, int(len(data) * i / classes))]
        if b < data[-1] and (not breaks or b > breaks[-1]):
            breaks.append(b)
    return breaks or data[-1:]


def partial_comparisons(spec: registry.IndicatorSpec, period: Period, begins: dt.date | None) -> dict:
    """Why ``period`` of ``spec`` has no change shown although the other period has a value: the
    previous period (``"previous"``) or the same period last year (``"last_year"``) began before
    the indicator's data (``begins``, ``rollup.data_begins``), which covered it only in part. A
    reason for each, none for a period the data covered whole or not at all (that has no value)."""
    out = {}
    if begins is None:
        return out
    for key, other in (("previous", period.previous()), ("last_year", period.same_last_year())):
        if other.start < begins < other.end:
            out[key] = _(
                "No change shown: the data of this indicator begins in %(month)s, so %(period)s is "
                "covered only in part."
            ) % {"month": Period.of(MONTH, begins.year, begins.month).label, "period": other.label}
    return out


def headline_values(area: Area, period: Period) -> list[dict]:
    heads = headline_specs()
    stored = {
        v.indicator: v
        for v in IndicatorValue.objects.filter(
            area=area, period=period.code, indicator__in=[s.code for s in heads]
        )
    }
    out = []
    for spec in heads:
        v = stored.get(spec.code)
        out.append(
            {
                "spec": spec,
                "value": v,
                "text": format_value(spec, v.value if v else None),
                "delta": format_delta(spec, v.delta if v else None),
                "trend": trend(spec, v.delta if v else None),
                "previous": format_value(spec, v.previous_value if v else None),
                # DOMAIN.md: rates are reported year on year too (for a year it is the previous period).
                "yoy": format_delta(spec, v.yoy_delta if v else None),
                "last_year": format_value(spec, v.yoy_value if v else None),
                "rank_change": format_rank_change(v.rank_change if v else None),
                "arrow": arrow(v.rank_change if v else None),
            }
        )
    return out


def home_figures(user: User) -> dict | None:
    """The headline figures for the home page: the area the overview opens on (the top of the
    user's scope, ``home_area``) and its values, with the user's other areas when they have several.
    The period is the newest month *that is over* in which the first headline indicator has a value
    (the overview, as ``views._selection`` defaults, opens on the newest one, perhaps the month
    under way, with its warning): a figure on the home page is read at a glance, and a month a few
    days old compared with a whole one reads as a fall. None without an area. Three or four
    queries, whatever the numbers of areas and indicators."""
    heads = headline_specs()
    area = home_area(user)
    if area is None or not heads:
        return None
    period = latest_month(heads[0].code, area, ended=True)
    headlines = headline_values(area, period)
    return {
        "area": area,
        "period": period,
        "running": running(period),
        "headlines": headlines,
        "published": any(h["value"] is not None and h["value"].value is not None for h in headlines),
        "roots": scope_roots(user),
    }


_OVERDUE_SOURCES = [  # (key, module, selector, list page, the row's area field)
    ("incidents", "grids.selectors", "incident_list", "grids-inbox", "grid"),
    ("disputes", "mediation.selectors", "dispute_list", "mediation-cases", "area"),
    ("petitions", "petitions.selectors", "petition_list", "petitions-registry", "area"),
]


def overdue_counts(user: User, area: Area | None = None) -> list[dict]:
    """What is overdue across incidents, disputes and petitions, through each app's public selector
    (scoped list + its ``overdue()`` queryset method); an app not installed is left out, and so is
    a source of which the user sees no row at all (an analyst's disputes and petitions): its "0"
    would read as nothing overdue when it is only nothing shown.

    With ``area``, within its subtree: the overview of a street showed the overdue items of the
    whole district under the street's name (its links, ``?area=``, open the lists filtered alike)."""
    from django.utils.translation import gettext_lazy

    labels = {
        "incidents": gettext_lazy("Incidents"),
        "disputes": gettext_lazy("Disputes"),
        "petitions": gettext_lazy("Petitions"),
    }
    out = []
    for key, module, func, url_name, field in _OVERDUE_SOURCES:
        try:
            selector = getattr(importlib.import_module(module), func)
        except (ImportError, AttributeError):
            continue
        qs: QuerySet = selector(user)
        if not hasattr(qs, "overdue"):
            continue
        shown = qs  # what the user sees at all decides whether the source is listed, not the area's rows
        if area is not None:
            qs = qs.filter(**{f"{field}__path__startswith": area.path})
        count = qs.overdue().count()
        if count or shown.exists():
            out.append({"key": key, "label": labels[key], "count": count, "url_name": url_name})
    return out


PERIOD_TYPE_LABELS = {"month": "month", "quarter": "quarter", "half": "half-year", "year": "year"}
assert set(PERIOD_TYPE_LABELS) == set(PERIOD_TYPES)
