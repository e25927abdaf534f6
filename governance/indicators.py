"""The registration API of indicators (DESIGN.md sections 2 and 6).

Each feature app declares the indicators it is the source of in ``<app>/indicators.py`` by calling
``register(IndicatorSpec(...))``; the dashboards app discovers those modules at start-up (like
``admin.py``) and owns all the machinery (rollup, ranking, storage, pages, API). This module lives in
the kernel so that feature apps depend on ``governance`` only.

A source is a function ``source(start: date, end: date) -> QuerySet`` returning a ``values()``
queryset with exactly these columns, grouped per (area, month), for records whose month lies in
[start, end):

* ``area_id``     the id of the Area the record belongs to (any level: grid, community, ...)
* ``month``       a ``date``, the first day of the local (TIME_ZONE) month (``local_month(field)`` for a
                  date-time field, ``MonthOfDate(field)`` for a date field)
* ``numerator``   additive count or sum
* ``denominator`` additive count or sum (use ``Value(1)``-style constants for plain counts)

The rollup engine compiles that queryset to SQL and aggregates it set-based; a source must never
loop over records in Python.

Several indicators computed from the same records should share ONE source function that yields a
pair of columns per indicator (named by ``numerator`` and ``denominator`` on each spec): the engine
runs each source function once per rollup, so the records are scanned once for all of them.

A row whose denominator is NULL is no data for that indicator in that area and month (no row is
stored for it); a NULL numerator counts as 0. In a shared source, give each indicator's denominator
the condition its own query would have filtered on, NULL when nothing matches: a filtered ``Sum``, or
``NullIf(Count("id", filter=...), Value(0))``.

The nightly run refreshes the facts of the current months (``ROLLUP_RECENT_MONTHS``, default 2) and
of the months a source's ``changes(since, now)`` returns: the local months whose facts may differ from
those computed at ``since`` (the start of the last successful run), because records were added or
changed since, or because time passed a deadline the source reads (a reply due by now). A source
whose records can change after their months have gone by must declare it, or the nightly run
would keep stale values until a full rebuild. ``months_of(queryset, *fields)`` computes such a set in
one query; the apps' functions read their workflow events, which every change writes.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, DateField, Func, Q, QuerySet, Value
from django.db.models.functions import Cast, NullIf, TruncMonth
from django.utils import timezone

PERCENT, COUNT, PER_10K, SCORE = "percent", "count", "per_10k", "score"
UNITS = [PERCENT, COUNT, PER_10K, SCORE]
HIGHER_BETTER, LOWER_BETTER = "higher_better", "lower_better"
DIRECTIONS = [HIGHER_BETTER, LOWER_BETTER]

Source = Callable[[dt.date, dt.date], QuerySet]
Changes = Callable[[dt.datetime, dt.datetime], set[dt.date]]


def local_month(field: str) -> Cast:
    """The ``month`` column from a date-time field: the first day of its local (TIME_ZONE) month."""
    return Cast(TruncMonth(field, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)), output_field=DateField())


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants at which the local (TIME_ZONE) days ``start`` and ``end`` begin: a source's
    date-time range for the months [start, end), so that a record falls in the month of its local date."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (
        timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz),
        timezone.make_aware(dt.datetime.combine(end, dt.time.min), tz),
    )


def per_area_month(qs: QuerySet, month_field: str, **columns) -> QuerySet:
    """A source's rows: ``qs`` grouped by its ``area_id`` and the local month of ``month_field``,
    with the aggregate ``columns``."""
    return (
        qs.annotate(month=local_month(month_field))
        .values("area_id", "month")
        .annotate(**columns)
        .values("area_id", "month", *columns)
        .order_by()
    )


def months_of(qs: QuerySet, *fields: str) -> set[dt.date]:
    """The local months of the date-time ``fields`` of the records of ``qs`` (NULLs left out), in
    one query: a UNION of one grouped select per field."""
    selects = [
        qs.filter(**{f"{name}__isnull": False})
        .annotate(changed_month=local_month(name))
        .values_list("changed_month", flat=True)
        .order_by()
        for name in fields
    ]
    union = selects[0].union(*selects[1:]) if len(selects) > 1 else selects[0].distinct()
    return {as_date(m) for m in union}


def as_date(value) -> dt.date:
    """A date read from the database: SQLite hands back computed dates (a UNION's, a temporary
    table's) as text."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def count_or_null(q: Q) -> NullIf:
    """The rows matching ``q``; NULL (no data for the indicator in that area and month) when none do."""
    return NullIf(Count("id", filter=q), Value(0))


class MonthOfDate(Func):
    """The ``month`` column from a date field: the first day of its month.

    PostgreSQL's DATE_TRUNC on a date (what TruncMonth writes) first converts it to a timestamp with
    time zone, a time-zone lookup per record: a third of a big survey scan. A date has no time zone,
    so it is truncated as a plain timestamp."""

    output_field = DateField()

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(Cast(TruncMonth(*self.get_source_expressions()), DateField()))

    def as_postgresql(self, compiler, connection, **extra):
        template = "CAST(DATE_TRUNC('month', CAST(%(expressions)s AS timestamp)) AS date)"
        return super().as_sql(compiler, connection, template=template, **extra)


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name: str
    unit: str
    direction: str
    source: Source
    description: str = ""
    # How the denominator combines over the months of a longer period: "sum" for flows (answers,
    # cases), "last" for stocks such as a population (per-10,000 rates).
    denominator_over_time: str = "sum"
    # Survey-style indicators: areas with a denominator below this are shown but not ranked.
    min_sample: int = 0
    # A headline indicator appears on the overview page.
    headline: bool = False
    # The source's columns holding this indicator's numerator and denominator (see above).
    numerator: str = "numerator"
    denominator: str = "denominator"
    # Raised by one whenever what the numerator or denominator counts changes (an outcome left out,
    # another date): the rollup's configuration hash includes it, so the first run after the change
    # is a full rebuild and no month already published stays on the old definition.
    revision: int = 1
    # The months whose facts may have changed since a time, besides the current ones (see above).
    changes: Changes | None = field(default=None, compare=False)
    app: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"indicator {self.code}: unit must be one of {UNITS}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"indicator {self.code}: direction must be one of {DIRECTIONS}")
        if self.denominator_over_time not in {"sum", "last"}:
            raise ValueError(f"indicator {self.code}: denominator_over_time must be 'sum' or 'last'")

    def rows(self, start: dt.date, end: dt.date) -> list[dict]:
        """This indicator's (area, month) rows as the engine reads them: ``area_id``, ``month``,
        ``numerator`` and ``denominator``. For tests and inspection on small data: it loads the rows
        into Python, which the rollup engine never does (it compiles the source to SQL)."""
        return [
            {
                "area_id": r["area_id"],
                "month": r["month"],
                "numerator": r[self.numerator] or 0,
                "denominator": r[self.denominator],
            }
            for r in self.source(start, end)
            if r[self.denominator] is not None
        ]

    def value(self, numerator: float, denominator: float) -> float | None:
        """The indicator's value from summed numerator and denominator (ratio of sums)."""
        if self.unit == COUNT:
            return float(numerator)
        if not denominator:
            return None
        ratio = float(numerator) / float(denominator)
        return ratio * {PERCENT: 100.0, PER_10K: 10000.0, SCORE: 1.0}[self.unit]


_registry: dict[str, IndicatorSpec] = {}


def register(spec: IndicatorSpec) -> IndicatorSpec:
    existing = _registry.get(spec.code)
    if existing is not None and existing.source is not spec.source:
        raise ValueError(f"indicator code {spec.code!r} registered twice")
    _registry[spec.code] = spec
    return spec


def registry() -> dict[str, IndicatorSpec]:
    return dict(_registry)


def get(code: str) -> IndicatorSpec:
    return _registry[code]
