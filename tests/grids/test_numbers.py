"""Incident numbers (DESIGN.md "Core model"): ``INC-2026-000123``, gapless per year, the year being the
local one in which the item was reported, not the UTC year."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone


@pytest.mark.django_db
def test_an_item_reported_after_local_midnight_on_new_years_day_is_numbered_in_the_new_year(
    cast, report, monkeypatch
):
    tz = timezone.get_current_timezone()
    year = timezone.localdate().year
    eve = dt.datetime(year, 12, 31, 23, 50, tzinfo=tz)
    new_year = dt.datetime(year + 1, 1, 1, 0, 30, tzinfo=tz)  # 16:30 on 31 December in UTC
    assert new_year.astimezone(dt.UTC).year == year
    monkeypatch.setattr("django.utils.timezone.now", lambda: eve)
    first, second = report(), report()
    monkeypatch.setattr("django.utils.timezone.now", lambda: new_year)
    third = report()
    assert [first.code, second.code] == [f"INC-{year}-000001", f"INC-{year}-000002"]
    assert third.code == f"INC-{year + 1}-000001"  # the count starts again with the local year
