"""The official working-day calendar: ``manage.py load_holidays`` and the admin's reminder."""

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from governance import periods
from governance.models import Holiday


def _load(*args) -> str:
    out = io.StringIO()
    call_command("load_holidays", *args, stdout=out)
    return out.getvalue()


def test_loading_the_published_calendars_moves_working_day_deadlines(db):
    friday = dt.datetime(2026, 2, 13, 10, 0, tzinfo=dt.UTC)
    assert periods.add_working_days(friday, 1).date() == dt.date(2026, 2, 16)  # the plain week
    output = _load()
    # 2025: 1 + 8 + 3 + 5 + 3 + 8 days off, 5 make-up days; 2026: 3 + 9 + 3 + 5 + 3 + 3 + 7 and 6.
    assert Holiday.objects.filter(is_workday=False).count() == 28 + 33
    assert Holiday.objects.filter(is_workday=True).count() == 5 + 6
    assert "72 dates added, 0 already present" in output
    # Saturday 14 February 2026 is worked, the Spring Festival runs from the 15th to the 23rd.
    assert periods.add_working_days(friday, 1).date() == dt.date(2026, 2, 14)
    assert periods.add_working_days(friday, 2).date() == dt.date(2026, 2, 24)
    assert Holiday.objects.get(date=dt.date(2026, 10, 10)).name == "国庆节调休上班"
    assert not periods.is_working_day(dt.date(2025, 10, 8)) and periods.is_working_day(dt.date(2025, 10, 11))


def test_a_year_named_twice_is_loaded_once(db):
    # It inserted each date twice: an IntegrityError traceback, nothing loaded.
    assert "Calendar 2026: 39 dates added" in _load("--year", "2026", "--year", "2026")
    assert Holiday.objects.count() == 39


def test_a_second_load_adds_nothing_and_keeps_what_the_admin_entered(db):
    Holiday.objects.create(date=dt.date(2026, 10, 10), is_workday=False, name="本地调整")
    Holiday.objects.create(date=dt.date(2026, 12, 28), name="本地假日")
    output = _load("--year", "2026")
    assert "38 dates added, 1 already present and kept" in output
    assert "2026-10-10: the calendar says a holiday, the notice the opposite; kept as entered" in output
    assert Holiday.objects.get(date=dt.date(2026, 10, 10)).name == "本地调整"
    assert Holiday.objects.filter(date__year=2025).count() == 0
    before = list(Holiday.objects.values_list("date", "is_workday", "name"))
    assert "0 dates added, 39 already present" in _load("--year", "2026")
    assert list(Holiday.objects.values_list("date", "is_workday", "name")) == before


def test_a_year_without_a_published_calendar_is_refused_and_nothing_is_written(db):
    with pytest.raises(CommandError, match="--year 2031: no published calendar in this release"):
        _load("--year", "2026", "--year", "2031")
    assert not Holiday.objects.exists()


@pytest.mark.parametrize(("today", "warned"), [(dt.date(2026, 12, 4), True), (dt.date(2026, 10, 30), False)])
def test_the_admin_reminds_to_enter_next_years_calendar_from_november(
    client, cast, monkeypatch, today, warned
):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today)
    client.force_login(cast.admin)
    response = client.get("/admin/governance/holiday/")
    assert response.status_code == 200
    assert ("The calendar has no dates for 2027 yet" in response.content.decode()) is warned
    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    assert "no dates for 2027" not in client.get("/admin/governance/holiday/").content.decode()


@pytest.mark.parametrize(("today", "warned"), [(dt.date(2026, 12, 4), True), (dt.date(2026, 10, 30), False)])
def test_the_home_page_of_who_keeps_the_calendar_says_next_year_is_missing(
    client, cast, monkeypatch, today, warned
):
    # The reminder was only on the calendar's admin list, which nobody opens until they know.
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: today)
    client.force_login(cast.admin)
    html = client.get("/").content.decode()
    assert ('id="calendar-missing"' in html) is warned
    if warned:
        assert (
            "The calendar has no dates for 2027 yet" in html and 'href="/admin/governance/holiday/"' in html
        )
        # The page where the notice is entered in one go, for who may add dates.
        assert 'href="/admin/governance/holiday/notice/"' in html
    client.force_login(cast.district_officer)  # deadlines are not theirs to keep
    assert 'id="calendar-missing"' not in client.get("/").content.decode()
    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    client.force_login(cast.admin)
    assert 'id="calendar-missing"' not in client.get("/").content.decode()


def test_the_command_speaks_the_sites_language(db):
    # Its report was English whatever LANGUAGE_CODE said, on a site whose operators read Chinese.
    from django.utils import translation

    Holiday.objects.create(date=dt.date(2026, 10, 10), is_workday=False, name="本地调整")
    with translation.override("zh-hans"):
        output = _load("--year", "2026")
        with pytest.raises(CommandError, match="本版本未收录该年份已发布的日历"):
            _load("--year", "2031")
    assert "日历 2026：新增 38 个日期，1 个已存在并保留。" in output
    assert "2026-10-10：日历中为节假日，通知中相反；按已录入内容保留" in output


def test_a_weekday_entered_as_a_make_up_working_day_is_refused_naming_the_box(client, cast):
    # 1 October 2027 (a Friday) typed with "is a working day" ticked: saved, it changed nothing (a
    # weekday is worked anyway) and the holiday meant was never entered, so deadlines ran through it.
    client.force_login(cast.admin)
    friday, saturday = dt.date(2027, 10, 1), dt.date(2027, 9, 25)
    response = client.post(
        "/admin/governance/holiday/add/", {"date": friday.isoformat(), "name": "国庆节", "is_workday": "on"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["is_workday"] == [
        "2027-10-01 is a weekday, a working day already: only a Saturday or Sunday is made a working day. "
        "Untick it to enter a holiday."
    ]
    assert not Holiday.objects.exists() and periods.is_working_day(friday)
    response = client.post(
        "/admin/governance/holiday/add/",
        {"date": saturday.isoformat(), "name": "国庆节调休上班", "is_workday": "on"},
    )
    assert response.status_code == 302 and periods.is_working_day(saturday)
    assert (
        client.post(
            "/admin/governance/holiday/add/", {"date": friday.isoformat(), "name": "国庆节", "is_workday": ""}
        ).status_code
        == 302
    )
    assert not periods.is_working_day(friday)
