"""Calendar arithmetic of governance.periods: periods counted in months (Civil Code art. 202)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from governance.periods import Period, add_months, end_of_local_day, parse_month

TZ = ZoneInfo("Asia/Shanghai")  # the project's TIME_ZONE


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (dt.date(2026, 3, 15), 1, dt.date(2026, 4, 15)),  # the same day of the month
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),  # no 31 February: the month's last day
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),  # a leap year
        (dt.date(2026, 1, 29), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 29), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 11, 30), 3, dt.date(2027, 2, 28)),  # across the year
        (dt.date(2027, 11, 30), 3, dt.date(2028, 2, 29)),
        (dt.date(2100, 1, 31), 1, dt.date(2100, 2, 28)),  # a century not divisible by 400: no 29th
        (dt.date(2000, 1, 31), 1, dt.date(2000, 2, 29)),  # one that is
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 3, 31), 1, dt.date(2026, 4, 30)),
        (dt.date(2026, 2, 28), 1, dt.date(2026, 3, 28)),  # the 28th stays the 28th, not the month's end
        (dt.date(2026, 12, 31), 1, dt.date(2027, 1, 31)),
        (dt.date(2026, 8, 31), 6, dt.date(2027, 2, 28)),
        (dt.date(2026, 5, 10), 0, dt.date(2026, 5, 10)),
        (dt.date(2026, 3, 31), -1, dt.date(2026, 2, 28)),  # backwards too
        (dt.date(2026, 1, 15), -1, dt.date(2025, 12, 15)),
    ],
)
def test_adding_months_keeps_the_day_of_the_month_or_takes_the_months_last_day(start, months, expected):
    assert add_months(start, months) == expected


def test_a_datetime_keeps_its_local_time_of_day_on_the_date_reached():
    start = dt.datetime(2026, 1, 31, 10, 15, tzinfo=TZ)
    assert add_months(start, 1) == dt.datetime(2026, 2, 28, 10, 15, tzinfo=TZ)
    assert add_months(start.astimezone(dt.UTC), 1) == dt.datetime(2026, 2, 28, 10, 15, tzinfo=TZ)


def test_an_acceptance_late_in_the_evening_counts_from_its_local_day():
    # 23:30 in Shanghai: the due date is the same day of next month, ending at 24:00, not the day after.
    evening = dt.datetime(2026, 1, 31, 23, 30, tzinfo=TZ)
    assert end_of_local_day(add_months(evening, 1)) == dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=TZ)
    # 00:30 on 1 March in Shanghai is still 28 February in UTC: the local date counts.
    after_midnight = dt.datetime(2026, 3, 1, 0, 30, tzinfo=TZ).astimezone(dt.UTC)
    assert after_midnight.date() == dt.date(2026, 2, 28)
    assert end_of_local_day(add_months(after_midnight, 1)) == dt.datetime(
        2026, 4, 1, 23, 59, 59, 999999, tzinfo=TZ
    )
    # 23:30 on 31 March in Shanghai is 15:30 UTC the same day; the last day of April stands in for it.
    march = dt.datetime(2026, 3, 31, 23, 30, tzinfo=TZ)
    assert add_months(march, 1) == dt.datetime(2026, 4, 30, 23, 30, tzinfo=TZ)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        # Fixed values (WORKING_HOURS 08:30-17:30): the workflow tests compute their expectation with
        # this very function, so a bug in it passed them.
        (dt.datetime(2026, 11, 16, 15, 30), 2, dt.datetime(2026, 11, 16, 17, 30)),  # ends at closing time
        (dt.datetime(2026, 11, 16, 15, 30), 2.5, dt.datetime(2026, 11, 17, 9, 0)),  # runs over: next morning
        (dt.datetime(2026, 11, 16, 8, 30), 1, dt.datetime(2026, 11, 16, 9, 30)),  # starts at opening time
        (dt.datetime(2026, 11, 16, 6, 0), 1, dt.datetime(2026, 11, 16, 9, 30)),  # before opening: from 08:30
        (dt.datetime(2026, 11, 16, 17, 30), 1, dt.datetime(2026, 11, 17, 9, 30)),  # at closing time
        (dt.datetime(2026, 11, 20, 16, 30), 3, dt.datetime(2026, 11, 23, 10, 30)),  # Friday: over the weekend
        (dt.datetime(2026, 11, 21, 10, 0), 1, dt.datetime(2026, 11, 23, 9, 30)),  # a Saturday report
        (dt.datetime(2026, 11, 16, 9, 0), 9, dt.datetime(2026, 11, 17, 9, 0)),  # one whole working day
    ],
)
def test_working_hours_are_counted_from_fixed_times(start, hours, expected):
    from governance.periods import add_working_hours

    assert add_working_hours(start.replace(tzinfo=TZ), hours) == expected.replace(tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01", dt.date(2025, 1, 1)),
        ("２０２５-０１", dt.date(2025, 1, 1)),  # a Chinese input method in full-width mode
        ("２０２５－０１", dt.date(2025, 1, 1)),  # its full-width hyphen too
        ("２０２５-01", dt.date(2025, 1, 1)),  # mixed: strptime read this one and refused the one above
        ("2025-１２", dt.date(2025, 12, 1)),
    ],
)
def test_a_month_is_read_after_nfkc_so_full_width_digits_count(text, expected):
    assert parse_month(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "٢٠٢٥-٠١",
        "٢٠٢٥-01",
        "2025-٠١",
        "2026-13",
        "2026-00",
        "2026-1",
        "0000-01",
        "2026-01-01",
        " 2026-01",
        "",
    ],
)
def test_a_month_is_refused_unless_it_is_four_and_two_ascii_digits_after_nfkc(text):
    # Arabic-Indic digits are a \d to a regular expression without re.ASCII, and int() reads them:
    # "٢٠٢٥-01" passed the command's check while the API refused it.
    with pytest.raises(ValueError):
        parse_month(text)


def test_a_period_parameter_reads_its_digits_as_a_month_does():
    assert Period.parse("２０２６-１１") == Period.parse("2026-11")
    assert Period.parse("２０２６Ｑ４") == Period.parse("2026Q4")
    for text in ("٢٠٢٦-١١", "٢٠٢٦Q4", "٢٠٢٦"):
        with pytest.raises(ValueError):
            Period.parse(text)
