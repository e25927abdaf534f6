"""Periods (month, quarter, half-year, year) and working-time and calendar arithmetic.

Periods are written ``2026-11``, ``2026Q4``, ``2026H2``, ``2026``. Months are the base; every other
period is the sum of its months. Working days skip weekends and the ``Holiday`` table's holidays,
and count the weekend days it marks as working days (调休).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import overload

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

MONTH, QUARTER, HALF, YEAR = "month", "quarter", "half", "year"
PERIOD_TYPES = [MONTH, QUARTER, HALF, YEAR]
_MONTHS_PER = {MONTH: 1, QUARTER: 3, HALF: 6, YEAR: 12}
# re.ASCII: without it \d is any Unicode digit, and int() reads Arabic-Indic ones (٢٠٢٥) as 2025.
# The text is NFKC-normalised first (``normalised``), which turns full-width digits and signs into
# ASCII; digits NFKC keeps as they are stay refused, the same by every entry point.
_MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)
_PATTERNS = [
    (_MONTH_PATTERN, MONTH),
    (re.compile(r"^(\d{4})Q([1-4])$", re.ASCII), QUARTER),
    (re.compile(r"^(\d{4})H([12])$", re.ASCII), HALF),
    (re.compile(r"^(\d{4})$", re.ASCII), YEAR),
]
# Years a period may name: any the platform could hold data for, with room on either side for the
# previous periods and last years the pages and the rollup step back through (year 0 is no date).
FIRST_YEAR, LAST_YEAR = 1900, 2999


def normalised(text: str | None) -> str:
    """``text`` with full-width digits and signs (２０２５－０１, typed with a Chinese input method in
    full-width mode) as ASCII (NFKC)."""
    text = text or ""
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def parse_month(text: str) -> dt.date:
    """The first day of the month ``text`` names as ``YYYY-MM``, full-width digits included; the one
    reading of a month typed as such, by ``POST stats/rollups/`` and ``manage.py rollup --since``
    alike (strptime's %m takes only ASCII digits while its %Y takes any, so the command refused
    "２０２５-０１" and took "٢٠٢٥-01"). ValueError for anything else, a month outside 1-12 and year 0
    included; whether the month may be in the future is the caller's to say."""
    m = _MONTH_PATTERN.fullmatch(normalised(text))
    if m is None:
        raise ValueError(f"{text!r} is not a month written YYYY-MM")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)  # ValueError for month 13 or year 0


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str
    index: int  # month 1-12, quarter 1-4, half 1-2, year 1

    @classmethod
    def parse(cls, text: str) -> Period:
        for pattern, kind in _PATTERNS:
            m = pattern.match(normalised(text).strip())
            if m:
                year = int(m.group(1))
                index = int(m.group(2)) if kind != YEAR else 1
                if kind == MONTH and not 1 <= index <= 12:
                    break
                if not FIRST_YEAR <= year <= LAST_YEAR:
                    raise ValueError(
                        _("%(text)r is out of range: the year must be between %(first)d and %(last)d.")
                        % {"text": text, "first": FIRST_YEAR, "last": LAST_YEAR}
                    )
                return cls(year, kind, index)
        raise ValueError(
            _("%(text)r is not a period (use 2026-11, 2026Q4, 2026H2 or 2026).") % {"text": text}
        )

    @classmethod
    def of(cls, kind: str, year: int, month: int) -> Period:
        """The period of ``kind`` containing the given month."""
        return cls(year, kind, (month - 1) // _MONTHS_PER[kind] + 1)

    @property
    def code(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.index:02d}"
        if self.kind == QUARTER:
            return f"{self.year}Q{self.index}"
        if self.kind == HALF:
            return f"{self.year}H{self.index}"
        return f"{self.year}"

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        """The period as the pages write it for people, in the active language ("2026年第4季度",
        "Q4 2026"); the code stays what URLs, the API and the picker's values carry."""
        if self.kind == MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.index}
        if self.kind == QUARTER:
            return _("Q%(quarter)d %(year)d") % {"year": self.year, "quarter": self.index}
        if self.kind == HALF:
            if self.index == 1:
                return _("H1 %(year)d") % {"year": self.year}
            return _("H2 %(year)d") % {"year": self.year}
        return pgettext("a calendar year", "%(year)d") % {"year": self.year}

    @property
    def first_month(self) -> int:
        return (self.index - 1) * _MONTHS_PER[self.kind] + 1

    def months(self) -> list[dt.date]:
        """First days of the months this period covers."""
        start = self.first_month
        return [dt.date(self.year, m, 1) for m in range(start, start + _MONTHS_PER[self.kind])]

    @property
    def start(self) -> dt.date:
        return self.months()[0]

    @property
    def end(self) -> dt.date:
        """The first day after the period."""
        last = self.months()[-1]
        return dt.date(last.year + (last.month == 12), last.month % 12 + 1, 1)

    def previous(self) -> Period:
        if self.index > 1:
            return Period(self.year, self.kind, self.index - 1)
        return Period(self.year - 1, self.kind, 12 // _MONTHS_PER[self.kind])

    def same_last_year(self) -> Period:
        return Period(self.year - 1, self.kind, self.index)

    def contains(self, month: dt.date) -> bool:
        return self.start <= month < self.end


def month_start(day: dt.date | dt.datetime) -> dt.date:
    if isinstance(day, dt.datetime):
        day = timezone.localtime(day).date() if timezone.is_aware(day) else day.date()
    return day.replace(day=1)


def periods_between(kind: str, first: Period, last: Period) -> list[Period]:
    out, p = [], Period.of(kind, first.year, first.first_month)
    end = Period.of(kind, last.year, last.first_month)
    while p <= end and len(out) < 1000:
        out.append(p)
        p = Period(
            p.year + (p.index == 12 // _MONTHS_PER[kind]), kind, p.index % (12 // _MONTHS_PER[kind]) + 1
        )
    return out


# --- working days and hours ----------------------------------------------------------------------


@lru_cache(maxsize=1)
def _calendar_cache(version: int) -> tuple[frozenset, frozenset]:
    from governance.models import Holiday

    holidays, workdays = set(), set()
    for date, is_workday in Holiday.objects.values_list("date", "is_workday"):
        (workdays if is_workday else holidays).add(date)
    return frozenset(holidays), frozenset(workdays)


_pinned: ContextVar[tuple[frozenset, frozenset] | None] = ContextVar("pinned_calendar", default=None)


def _current_calendar() -> tuple[frozenset, frozenset]:
    from governance.models import SequenceCounter

    return _calendar_cache(SequenceCounter.current("calendar", 0))


def _calendar() -> tuple[frozenset, frozenset]:
    return _pinned.get() or _current_calendar()


@contextmanager
def pinned_calendar() -> Iterator[None]:
    """Inside, the calendar is read once, not its version once per working-day question: for work
    that computes many deadlines at once (governance.deadlines), in a query count that does not
    grow with the number of records."""
    token = _pinned.set(_current_calendar())
    try:
        yield
    finally:
        _pinned.reset(token)


def is_working_day(day: dt.date) -> bool:
    holidays, workdays = _calendar()
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def calendar_lacks_year(moment: dt.datetime | dt.date) -> int | None:
    """The year of ``moment`` (local) when the calendar has none of its dates, else None. A year
    without a single holiday has not been entered (every year has some): its deadlines count every
    weekday as worked and every weekend as rest, and may move once its holidays are entered (the
    State Council publishes next year's in November or December; a deadline of a December step
    often ends in January or at the Spring Festival)."""
    day = timezone.localtime(moment).date() if isinstance(moment, dt.datetime) else moment
    holidays, workdays = _calendar()
    if any(d.year == day.year for d in holidays) or any(d.year == day.year for d in workdays):
        return None
    return day.year


def provisional_years(deadlines: Iterable[dt.datetime | None]) -> list[int]:
    """The years of ``deadlines`` (None skipped) the calendar has no dates for, in order, or []: the
    deadlines there count plain weekdays and may move when those holidays are entered. The calendar
    is read once: the one pinned around a list (an API page), else here; not at all without a date."""
    dates = [due for due in deadlines if due is not None]
    if dates and _pinned.get() is None:
        with pinned_calendar():
            return provisional_years(dates)
    return sorted({y for due in dates if (y := calendar_lacks_year(due))})


def uncalendared_years(deadlines: Iterable[dt.datetime | None]) -> str:
    """``provisional_years`` in the reader's language ("2026、2027"), or "": a list's countdowns there
    count plain weekdays. The calendar is read once for the list (pinned), not per row."""
    with pinned_calendar():
        years = provisional_years(deadlines)
    return pgettext("list separator", ", ").join(map(str, years))


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local time-of-day ``days`` working days after ``start`` (end of that day's clock)."""
    local = timezone.localtime(start)
    day, left = local.date(), days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def first_working_day_from(day: dt.date) -> dt.date:
    """``day`` when it is a working day, else the first working day after it. A period whose last
    day is a rest day or a public holiday runs to the end of the next working day (Civil Code art.
    203; the Civil Procedure Law and the provincial petition regulations count their periods the same
    way). Working days come from the calendar: weekends, listed holidays, weekend working days."""
    for _guard in range(60):  # the longest run of rest days in a year is about ten
        if is_working_day(day):
            break
        day += dt.timedelta(days=1)
    return day


def end_of_days_period(start: dt.datetime, days: int) -> dt.datetime:
    """The end of a period of ``days`` calendar days starting at ``start``: the day of the event is
    not counted, the period ends at 24:00 of its last local day (Civil Code arts. 201 and 203), or of
    the first working day after it when that day is a rest day. 15 days from Friday 2026-11-13 end
    on Saturday the 28th, so at the end of Monday the 30th."""
    last = timezone.localtime(start).date() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(first_working_day_from(last), dt.time.max))


@overload
def add_months(start: dt.datetime, months: int) -> dt.datetime: ...
@overload
def add_months(start: dt.date, months: int) -> dt.date: ...
def add_months(start: dt.date | dt.datetime, months: int) -> dt.date | dt.datetime:
    """The same day of the month ``months`` months later, or that month's last day when it is
    shorter: 31 January + 1 is 28 (29) February. A period counted in months ends on the day with the
    same number in its last month, or on the last day of a month without one (Civil Code art. 202).

    A date gives a date. An aware datetime gives the same local time of day on the local date
    reached: the local day counts, not the UTC one (00:30 in Shanghai is the previous day in UTC).
    """
    if isinstance(start, dt.datetime):
        local = timezone.localtime(start)
        day = add_months(local.date(), months)
        return local.replace(year=day.year, month=day.month, day=day.day)
    year, month0 = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return start.replace(year=year, month=month0 + 1, day=min(start.day, last))


def start_of_local_day(day: dt.date) -> dt.datetime:
    """00:00 local time of ``day``: where a date filter (received on or after a day) starts."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def end_of_local_day(moment: dt.datetime) -> dt.datetime:
    """The last instant of ``moment``'s local day. A period counted in days or months ends at 24:00 of
    its last day (Civil Code arts. 201-203), not at the hour the period happened to start."""
    day = timezone.localtime(moment).date()
    return timezone.make_aware(dt.datetime.combine(day, dt.time.max))


def _work_window(day: dt.date, tz) -> tuple[dt.datetime, dt.datetime]:
    begin, end = getattr(settings, "WORKING_HOURS", ("08:30", "17:30"))
    h1, m1 = map(int, begin.split(":"))
    h2, m2 = map(int, end.split(":"))
    return (
        dt.datetime(day.year, day.month, day.day, h1, m1, tzinfo=tz),
        dt.datetime(day.year, day.month, day.day, h2, m2, tzinfo=tz),
    )


def add_working_hours(start: dt.datetime, hours: float) -> dt.datetime:
    """``start`` plus ``hours`` of office time (WORKING_HOURS on working days)."""
    tz = timezone.get_current_timezone()
    cursor = timezone.localtime(start, tz)
    left = dt.timedelta(hours=hours)
    for _guard in range(3660):
        if is_working_day(cursor.date()):
            open_at, close_at = _work_window(cursor.date(), tz)
            if cursor < open_at:
                cursor = open_at
            if cursor < close_at:
                available = close_at - cursor
                if left <= available:
                    return cursor + left
                left -= available
        nxt = cursor.date() + dt.timedelta(days=1)
        cursor = dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    raise ValueError("no working time found within ten years")


def receipt_day(
    received_at: dt.datetime | None, now: dt.datetime, *, ahead: dt.timedelta, back: dt.timedelta
) -> dt.date:
    """The local day a new record was received on, which the place it names must have been in service
    on: that of ``received_at``, or today when none is given or it is one the registration refuses
    (more than ``ahead`` to come, or more than ``back`` ago)."""
    if received_at is None or not now - back <= received_at <= now + ahead:
        return timezone.localdate(now)
    return timezone.localdate(received_at)
