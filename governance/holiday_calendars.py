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
from dataclasses import dataclass


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
    notice = NOTICES[year]
    days = []
    for name, first, last in notice.days_off:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days.append((day, False, name))
            day += dt.timedelta(days=1)
    days.extend((dt.date.fromisoformat(date), True, name) for name, date in notice.working_days)
    return sorted(days)
