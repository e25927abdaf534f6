"""The official working-day calendars of the People's Republic of China, as published each year by the
General Office of the State Council (国务院办公厅关于 YYYY 年部分节假日安排的通知).

Deadlines in working days (petitions) and working hours (incident time limits) skip weekends and the
``Holiday`` table's holidays, and count the weekend days that are official working days (调休上班). A
fresh installation loads these with ``manage.py load_holidays``; a year the State Council has not
published yet (or published after this release) is entered in the admin from its notice.

Each entry is a holiday stretch (first and last day off, inclusive, weekends inside it included) or a
make-up working day. Keep the notice's own wording for the names; add a year only from the notice.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Notice:
    year: int
    source: str
    days_off: tuple[tuple[str, str, str], ...]  # (name, first day, last day)
    working_days: tuple[tuple[str, str], ...]  # (name, date): weekend days worked


NOTICES: dict[int, Notice] = {
    2025: Notice(
        2025,
        "国务院办公厅关于2025年部分节假日安排的通知（国办发明电〔2024〕12号，2024年11月12日）",
        (
            ("元旦", "2025-01-01", "2025-01-01"),
            ("春节", "2025-01-28", "2025-02-04"),
            ("清明节", "2025-04-04", "2025-04-06"),
            ("劳动节", "2025-05-01", "2025-05-05"),
            ("端午节", "2025-05-31", "2025-06-02"),
            ("国庆节、中秋节", "2025-10-01", "2025-10-08"),
        ),
        (
            ("春节调休上班", "2025-01-26"),
            ("春节调休上班", "2025-02-08"),
            ("劳动节调休上班", "2025-04-27"),
            ("国庆节调休上班", "2025-09-28"),
            ("国庆节调休上班", "2025-10-11"),
        ),
    ),
    2026: Notice(
        2026,
        "国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）",
        (
            ("元旦", "2026-01-01", "2026-01-03"),
            ("春节", "2026-02-15", "2026-02-23"),
            ("清明节", "2026-04-04", "2026-04-06"),
            ("劳动节", "2026-05-01", "2026-05-05"),
            ("端午节", "2026-06-19", "2026-06-21"),
            ("中秋节", "2026-09-25", "2026-09-27"),
            ("国庆节", "2026-10-01", "2026-10-07"),
        ),
        (
            ("元旦调休上班", "2026-01-04"),
            ("春节调休上班", "2026-02-14"),
            ("春节调休上班", "2026-02-28"),
            ("劳动节调休上班", "2026-05-09"),
            ("国庆节调休上班", "2026-09-20"),
            ("国庆节调休上班", "2026-10-10"),
        ),
    ),
}


def calendar_days(year: int) -> list[tuple[dt.date, bool, str]]:
    """(date, is a working day, name) for every exception to the Monday-to-Friday week in ``year``."""
    return notice_days(NOTICES[year])


# Entering a notice as text (the admin's "Enter a year's notice" page and ``load_holidays --notice``).
# One line per entry, the way the notice prints it: ``春节 2026-02-15 2026-02-23`` for a stretch of
# days off (a single day may give its date once), ``春节调休上班 2026-02-14`` for a make-up working day.
# Full-width spaces, digits and punctuation are read as their plain forms, dates as 2026-02-15,
# 2026/2/15, 2026.2.15 or 2026年2月15日, and "至", "到", "~" or "-" may stand between the two days.
#
# The notice for year Y covers Y: its New Year's Day (元旦) stretch may begin in the December before
# (and its make-up day fall then), as the notices for 2019 and 2023 did ("2022年12月31日至2023年1月2日"),
# while the next New Year belongs to the next notice. So every date lies in Y or in the December of Y-1,
# and a stretch ends in Y.

DAYS_OFF, WORKING_DAYS = "days_off", "working_days"
# The longest holiday stretch a notice may name: generous (the longest so far is 9 days), so a real
# notice is never refused, while a mistyped month is.
LONGEST_HOLIDAY_DAYS = 15
NAME_LENGTH = 60  # Holiday.name's max_length
_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)$")
_BETWEEN = {"至", "到", "~", "-", "—", "–"}
# "劳动节：2026-05-01 至 2026-05-05", as a notice reads: the colon separates the name from the dates.
_COLON = re.compile(r"[:：](?=\s*[0-9０-９])")
# A date run into the name ("春节2026-02-15"), which was read as the name's: the line is refused.
_DATE_INSIDE = re.compile(r"\d{4}(?:[-/.]\d{1,2}[-/.]\d{1,2}|年\d{1,2}月)")


@dataclass(frozen=True)
class EntryError:
    """A problem with one line of a notice (``line`` counts from 1 in its box or file; 0: the notice
    as a whole, e.g. its year)."""

    field: str  # DAYS_OFF or WORKING_DAYS, or "year"
    line: int
    message: str


class NoticeError(ValueError):
    def __init__(self, errors: list[EntryError]):
        super().__init__("; ".join(f"{e.field}:{e.line}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class _Entry:
    field: str
    line: int
    text: str
    name: str
    first: dt.date
    last: dt.date


def notice_days(notice: Notice) -> list[tuple[dt.date, bool, str]]:
    """(date, is a working day, name) for every date ``notice`` names, in date order."""
    days = []
    for name, first, last in notice.days_off:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days.append((day, False, name))
            day += dt.timedelta(days=1)
    days.extend((dt.date.fromisoformat(date), True, name) for name, date in notice.working_days)
    return sorted(days)


@dataclass(frozen=True)
class DayRun:
    """Consecutive dates of one kind and one name (a holiday stretch, a make-up working day)."""

    first: dt.date
    last: dt.date
    is_workday: bool
    name: str

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def day_runs(days: Iterable[tuple[dt.date, bool, str]]) -> list[DayRun]:
    """(date, is a working day, name) days as runs of consecutive dates of the same kind and name, in
    date order: a notice's 23 dates read as its seven lines."""
    runs: list[DayRun] = []
    for day, is_workday, name in sorted(days):
        last = runs[-1] if runs else None
        if last and (last.is_workday, last.name) == (is_workday, name) and (day - last.last).days == 1:
            runs[-1] = DayRun(last.first, day, is_workday, name)
        else:
            runs.append(DayRun(day, day, is_workday, name))
    return runs


def _date(token: str) -> dt.date | None | bool:
    """The date ``token`` writes, None if it is not written like a date, False if it is written like
    one but names no day (2026-02-30)."""
    match = _DATE.match(unicodedata.normalize("NFKC", token))
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups() if g is not None)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return False


def _read(field: str, lines: list[tuple[int, str]], errors: list[EntryError]) -> list[_Entry]:
    entries, seen = [], {}
    stretch = field == DAYS_OFF
    for number, raw in lines:
        # str.split() splits at full-width spaces too. Dates and the words between them are read in
        # their plain forms (full-width digits, "／"); the name is kept as typed (its "（）").
        tokens = _COLON.sub(" ", raw).split()
        if not tokens:
            continue
        text = unicodedata.normalize("NFKC", " ".join(tokens))
        if text in seen:
            errors.append(EntryError(field, number, _("repeats line %(line)d.") % {"line": seen[text]}))
            continue
        seen[text] = number
        dates = []
        while tokens and (found := _date(tokens[-1])) is not None:
            if found is False:
                errors.append(
                    EntryError(field, number, _("“%(token)s” is not a date.") % {"token": tokens[-1]})
                )
                break
            dates.insert(0, found)
            tokens.pop()
            if tokens and unicodedata.normalize("NFKC", tokens[-1]) in _BETWEEN and len(dates) == 1:
                tokens.pop()
        else:
            name = " ".join(tokens)
            if (
                not dates
                or len(dates) > (2 if stretch else 1)
                or _DATE_INSIDE.search(unicodedata.normalize("NFKC", name))
            ):
                example = "春节 2026-02-15 2026-02-23" if stretch else "春节调休上班 2026-02-14"
                expected = _("a name, the first day and the last day") if stretch else _("a name and a date")
                errors.append(
                    EntryError(
                        field,
                        number,
                        _("cannot be read: write %(expected)s, e.g. “%(example)s”.")
                        % {"expected": expected, "example": example},
                    )
                )
            elif not name:
                errors.append(EntryError(field, number, _("the name is missing.")))
            elif len(name) > NAME_LENGTH:
                errors.append(
                    EntryError(
                        field,
                        number,
                        _("the name is longer than %(n)d characters.") % {"n": NAME_LENGTH},
                    )
                )
            else:
                entries.append(_Entry(field, number, text, name, dates[0], dates[-1]))
    return entries


def _check(year: int, entries: list[_Entry], errors: list[EntryError]) -> None:
    """The rules of a notice (see above), each problem reported on its line."""
    taken: dict[dt.date, _Entry] = {}
    earliest = dt.date(year - 1, 12, 1)
    for entry in sorted(entries, key=lambda e: (e.field != DAYS_OFF, e.line)):

        def refuse(message: str, entry: _Entry = entry) -> None:
            errors.append(EntryError(entry.field, entry.line, message))

        if entry.first > entry.last:
            refuse(
                _("the first day %(first)s is after the last day %(last)s.")
                % {"first": entry.first, "last": entry.last}
            )
            continue
        outside = [d for d in (entry.first, entry.last) if not earliest <= d <= dt.date(year, 12, 31)]
        if outside or (entry.field == DAYS_OFF and entry.last.year != year):
            refuse(
                _(
                    "%(date)s is outside %(year)d: a notice names the days of its year (only its New "
                    "Year's Day holiday and make-up day may fall in the December before)."
                )
                % {"date": (outside or [entry.last])[0], "year": year}
            )
            continue
        if (length := (entry.last - entry.first).days + 1) > LONGEST_HOLIDAY_DAYS:
            # A typo in the last day (10-01 to 12-07) would turn two months into rest days and move
            # every running deadline; the longest stretch of any notice so far is 9 days (春节 2026).
            refuse(
                _(
                    "%(first)s to %(last)s is %(days)d days off: no holiday of a notice is longer than "
                    "%(longest)d days; check the last day."
                )
                % {"first": entry.first, "last": entry.last, "days": length, "longest": LONGEST_HOLIDAY_DAYS}
            )
            continue
        if entry.field == WORKING_DAYS and entry.first.weekday() < 5:
            refuse(
                _("%(date)s is a %(weekday)s: only a Saturday or Sunday is made a working day.")
                % {"date": entry.first, "weekday": date_format(entry.first, "l")}
            )
            continue
        day = entry.first
        while day <= entry.last:
            if (other := taken.get(day)) is not None:
                where = _("the holidays") if other.field == DAYS_OFF else _("the make-up working days")
                refuse(
                    _("%(date)s is also in %(where)s, line %(line)d.")
                    % {"date": day, "where": where, "line": other.line}
                )
                break
            day += dt.timedelta(days=1)
        else:
            day = entry.first
            while day <= entry.last:
                taken[day] = entry
                day += dt.timedelta(days=1)


def _lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.splitlines(), start=1))


def notice_from_text(year: int, source: str, days_off: str, working_days: str) -> Notice:
    """The notice typed as text (one entry a line, see above), checked: NoticeError lists every
    problem with its box and line, and nothing is returned."""
    return _notice(year, source, {DAYS_OFF: _lines(days_off), WORKING_DAYS: _lines(working_days)})


def _notice(year: int, source: str, lines: dict[str, list[tuple[int, str]]]) -> Notice:
    errors: list[EntryError] = []
    entries = _read(DAYS_OFF, lines[DAYS_OFF], errors) + _read(WORKING_DAYS, lines[WORKING_DAYS], errors)
    if not entries and not errors:
        errors.append(EntryError(DAYS_OFF, 0, _("The notice names no dates.")))
    _check(year, entries, errors)
    if errors:
        raise NoticeError(sorted(errors, key=lambda e: (e.field != DAYS_OFF, e.line)))
    return Notice(
        year,
        source,
        tuple((e.name, e.first.isoformat(), e.last.isoformat()) for e in entries if e.field == DAYS_OFF),
        tuple((e.name, e.first.isoformat()) for e in entries if e.field == WORKING_DAYS),
    )


# The file ``load_holidays --notice FILE`` reads: the same entries under two headings, after the year
# and the source (lines starting with # are comments):
#
#     year: 2026
#     source: 国务院办公厅关于2026年部分节假日安排的通知（2025年11月4日）
#     [days off]
#     元旦 2026-01-01 2026-01-03
#     春节 2026-02-15 2026-02-23
#     [working days]
#     元旦调休上班 2026-01-04
#     春节调休上班 2026-02-14
#
# The Chinese words 年份, 来源, [放假] and [调休上班] may stand for the English ones.
_HEADINGS = {"days off": DAYS_OFF, "放假": DAYS_OFF, "working days": WORKING_DAYS, "调休上班": WORKING_DAYS}
_KEYS = {"year": "year", "年份": "year", "source": "source", "来源": "source"}


def notice_from_file(text: str) -> Notice:
    """The notice written as a file (see above), checked like ``notice_from_text``; the errors'
    lines count in the file."""
    lines: dict[str, list[tuple[int, str]]] = {DAYS_OFF: [], WORKING_DAYS: []}
    header: dict[str, str] = {}
    errors: list[EntryError] = []
    section = None
    for number, raw in _lines(text):
        line = unicodedata.normalize("NFKC", raw).strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = _HEADINGS.get(line[1:-1].strip().lower())
            if section is None:
                errors.append(
                    EntryError("file", number, _("unknown heading: write [days off] or [working days]."))
                )
            continue
        key, colon, value = line.partition(":")
        if section is None and colon and key.strip().lower() in _KEYS:
            header[_KEYS[key.strip().lower()]] = value.strip()
            continue
        if section is None:
            errors.append(
                EntryError(
                    "file",
                    number,
                    _("not under [days off] or [working days], nor “year:” or “source:”."),
                )
            )
            continue
        lines[section].append((number, raw))
    year = header.get("year", "")
    if not re.fullmatch(r"\d{4}", year):
        errors.append(EntryError("year", 0, _("the file gives no year (a line such as “year: 2026”).")))
    if not header.get("source"):
        errors.append(EntryError("source", 0, _("the file gives no source (the notice's title).")))
    notice = None
    if re.fullmatch(r"\d{4}", year):
        try:
            notice = _notice(int(year), header.get("source", ""), lines)
        except NoticeError as error:
            errors.extend(error.errors)
    if errors or notice is None:
        raise NoticeError(sorted(errors, key=lambda e: e.line))
    return notice
