"""A year's notice of the State Council entered in one go: the admin's "Enter a year's notice" page
and ``manage.py load_holidays --notice FILE``, which read the same text (governance.holiday_calendars).
The notices here are made up (2031); the real ones are entered from the published notice."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from governance import deadlines as calendar_sync
from governance import periods
from governance.holiday_calendars import NOTICES, calendar_days, notice_days, notice_from_text
from governance.models import Holiday, OutboxMessage
from tests.base import make_user
from tests.grids.conftest import categories, report  # noqa: F401  (fixtures)
from tests.mediation.conftest import med  # noqa: F401  (fixtures)
from tests.petitions.conftest import pet  # noqa: F401  (fixtures)

URL = "/admin/governance/holiday/notice/"
SOURCE = "国务院办公厅关于2031年部分节假日安排的通知（示例）"
DAYS_OFF = "元旦 2031-01-01\n春节 2031-01-27 2031-02-02\n劳动节 2031-05-01 2031-05-05\n国庆节 2031-10-01 2031-10-07\n"
WORKING = "春节调休上班 2031-01-26\n春节调休上班 2031-02-08\n国庆节调休上班 2031-10-11\n"


def _fields(
    days_off: str = DAYS_OFF, working: str = WORKING, year: str = "2031", source: str = SOURCE
) -> dict:
    return {"year": year, "source": source, "days_off": days_off, "working_days": working}


def _post(client, confirm: bool = True, **fields):
    """The notice posted with the preview's confirmation (``confirm``), as "Save these dates" sends it."""
    return client.post(URL, {**_fields(**fields), **({"confirm": "1"} if confirm else {})})


def test_the_calendar_list_offers_the_notice_page_to_who_may_add_dates(client, cast):
    client.force_login(cast.admin)
    html = client.get("/admin/governance/holiday/").content.decode()
    assert f'href="{URL}"' in html and "Enter a year&#x27;s notice" in html
    page = client.get(URL)
    assert page.status_code == 200
    assert page.context["form"]["year"].value() == timezone.localdate().year + 1


def test_a_notice_is_saved_in_one_go_and_the_deadlines_follow(
    client, cast, django_capture_on_commit_callbacks
):
    client.force_login(cast.admin)
    friday = dt.datetime(2031, 1, 24, 10, 0, tzinfo=dt.UTC)
    assert periods.add_working_days(friday, 1).date() == dt.date(2031, 1, 27)  # the plain week
    # Typed by hand: full-width spaces and digits, slashes, "至" between the days, blank lines; the
    # name is kept as typed.
    days_off = (
        "元旦　2031/1/1\n\n春节 2031/1/27 至 2031/2/2\n劳动节（五一）　2031年5月1日　2031年5月5日\n"
        "国庆节 ２０３１－１０－０１ 2031-10-07"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, days_off=days_off, working=WORKING + "\n")
    assert response.status_code == 302
    assert response["Location"] == "/admin/governance/holiday/?date__year=2031"
    assert Holiday.objects.filter(is_workday=False).count() == 1 + 7 + 5 + 7
    assert Holiday.objects.filter(is_workday=True).count() == 3
    assert Holiday.objects.get(date=dt.date(2031, 1, 30)).name == "春节"
    assert Holiday.objects.get(date=dt.date(2031, 5, 1)).name == "劳动节（五一）"
    assert Holiday.objects.get(date=dt.date(2031, 10, 1)).name == "国庆节"
    # Sunday 26 January is worked, the Spring Festival runs from the 27th to 2 February.
    assert periods.add_working_days(friday, 1).date() == dt.date(2031, 1, 26)
    assert periods.add_working_days(friday, 2).date() == dt.date(2031, 2, 3)
    # One refresh for the 23 dates, sent once the transaction committed.
    assert OutboxMessage.objects.filter(task=calendar_sync.TASK).count() == 1
    assert OutboxMessage.objects.get(task=calendar_sync.TASK).sent_at is not None
    # Each date's history names the notice it came from and who entered it.
    entries = LogEntry.objects.filter(content_type__model="holiday")
    assert entries.count() == 23
    assert {(e.user_id, e.change_message) for e in entries} == {(cast.admin.pk, f"From the notice: {SOURCE}")}
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown[0] == "Notice for 2031: 23 dates added, 0 already in the calendar and kept."
    assert any("being recomputed" in m for m in shown)


def _nothing_written() -> bool:
    return not (Holiday.objects.exists() or LogEntry.objects.exists() or OutboxMessage.objects.exists())


def test_a_valid_notice_is_shown_before_anything_is_saved(client, cast):
    client.force_login(cast.admin)
    response = _post(client, confirm=False)
    assert response.status_code == 200
    assert response.templates[0].name == "admin/governance/holiday/notice_preview.html"
    assert _nothing_written()
    preview = response.context["preview"]
    # The dates as runs with their names, in date order, the make-up working days marked.
    assert [(r.first.isoformat(), r.last.isoformat(), r.is_workday, r.name) for r in preview.added] == [
        ("2031-01-01", "2031-01-01", False, "元旦"),
        ("2031-01-26", "2031-01-26", True, "春节调休上班"),
        ("2031-01-27", "2031-02-02", False, "春节"),
        ("2031-02-08", "2031-02-08", True, "春节调休上班"),
        ("2031-05-01", "2031-05-05", False, "劳动节"),
        ("2031-10-01", "2031-10-07", False, "国庆节"),
        ("2031-10-11", "2031-10-11", True, "国庆节调休上班"),
    ]
    assert (preview.added_count, preview.kept, preview.differing) == (23, [], [])
    html = response.content.decode()
    assert "Nothing has been saved yet" in html
    assert '2031-01-27</span> – <span class="date">2031-02-02' in html and "春节调休上班" in html
    # "Save these dates" posts the same fields again with the confirmation; "Change the notice" too,
    # without it.
    for name, value in _fields().items():
        assert response.context["form"][name].value() == value
    assert 'name="confirm"' in html and 'name="change"' in html
    assert _post(client, confirm=False).status_code == 200
    assert _nothing_written()


def test_the_preview_names_the_dates_kept_and_those_the_calendar_has_otherwise(client, cast):
    Holiday.objects.create(date=dt.date(2031, 1, 1), name="新年")
    Holiday.objects.create(date=dt.date(2031, 10, 11), name="本地假日")  # the notice works that Saturday
    Holiday.objects.create(date=dt.date(2031, 5, 2), name="劳动节")
    before = list(Holiday.objects.values_list("date", "is_workday", "name"))
    OutboxMessage.objects.all().delete()
    client.force_login(cast.admin)
    response = _post(client, confirm=False)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.added_count == 20
    assert [(r.first.isoformat(), r.last.isoformat()) for r in preview.added][3:5] == [
        ("2031-05-01", "2031-05-01"),
        ("2031-05-03", "2031-05-05"),
    ]
    assert [row.date.isoformat() for row, _w, _n in preview.kept] == [
        "2031-01-01",
        "2031-05-02",
        "2031-10-11",
    ]
    assert [(row.date.isoformat(), w, n) for row, w, n in preview.differing] == [
        ("2031-01-01", False, "元旦"),
        ("2031-10-11", True, "国庆节调休上班"),
    ]
    html = response.content.decode()
    assert "2031-01-01, 2031-05-02, 2031-10-11" in html
    assert "本地假日" in html and "国庆节调休上班" in html
    assert list(Holiday.objects.values_list("date", "is_workday", "name")) == before
    assert not OutboxMessage.objects.exists() and not LogEntry.objects.exists()


def test_the_preview_counts_the_running_deadlines_of_the_year(client, cast, pet, report, med):  # noqa: F811
    from grids.models import Incident
    from mediation.models import DisputeCase
    from petitions.models import Petition

    in_year, before_year, after_year = (
        timezone.make_aware(dt.datetime(2031, 3, 3, 17)),
        timezone.make_aware(dt.datetime(2030, 12, 20, 17)),
        timezone.make_aware(dt.datetime(2032, 1, 5, 17)),
    )
    petitions = [pet.accepted() for _ in range(3)]
    closed = pet.accepted()
    Petition.objects.filter(pk__in=[p.pk for p in petitions[:2]]).update(due_at=in_year)
    Petition.objects.filter(pk=petitions[2].pk).update(due_at=after_year)
    Petition.objects.filter(pk=closed.pk).update(due_at=in_year, status=Petition.Status.CLOSED)
    incident, handled = report(), report()
    Incident.objects.filter(pk=incident.pk).update(due_at=in_year)  # reported: acceptance in working hours
    Incident.objects.filter(pk=handled.pk).update(due_at=in_year, status=Incident.Status.HANDLING)
    case = med.accepted()
    DisputeCase.objects.filter(pk=case.pk).update(due_at=before_year)
    client.force_login(cast.admin)

    def counts(days_off: str) -> dict[str, int]:
        response = _post(client, confirm=False, days_off=days_off, working="")
        assert response.status_code == 200
        return {str(label): n for label, n in response.context["preview"].deadlines}

    windows = {"windows to apply for judicial confirmation": 0, "petitioners' windows to ask for a review": 0}
    assert counts(DAYS_OFF) == {"open incidents": 1, "open dispute cases": 0, "open petitions": 2, **windows}
    # A notice whose New Year's Day holiday starts in the December before counts from its first day.
    assert counts("元旦 2030-12-20 2031-01-01") == {
        "open incidents": 1,
        "open dispute cases": 1,
        "open petitions": 2,
        **windows,
    }
    html = _post(client, confirm=False).content.decode()
    assert "2031-01-01" in html and "open petitions" in html.lower()


def test_the_preview_counts_the_windows_still_open_that_end_in_the_year(client, cast, pet, med):  # noqa: F811
    # A petitioner's window to ask for a review and the parties' to apply for judicial confirmation
    # end on a working day too (Civil Code art. 203): the refresh moves them, so the preview counts
    # them, but not a window already used or one of a petition closed for good.
    from mediation.models import DisputeCase
    from petitions.models import Petition

    in_year = timezone.make_aware(dt.datetime(2031, 10, 2, 23, 59))
    replied, asked, reviewed, final = pet.replied(), pet.replied(), pet.reviewed(), pet.reviewed()
    Petition.objects.filter(pk__in=[replied.pk, asked.pk]).update(review_request_until=in_year)
    Petition.objects.filter(pk=asked.pk).update(review_requested_at=timezone.now())
    Petition.objects.filter(pk__in=[reviewed.pk, final.pk]).update(re_review_request_until=in_year)
    Petition.objects.filter(pk=final.pk).update(closed_for_good=True)
    agreed, confirmed, later = (
        med.agreed(effective_days_ago=2),
        med.agreed(effective_days_ago=2),
        med.agreed(effective_days_ago=2),
    )
    DisputeCase.objects.filter(pk__in=[agreed.pk, confirmed.pk]).update(
        confirmation_due=dt.date(2031, 12, 31)
    )
    DisputeCase.objects.filter(pk=confirmed.pk).update(judicial_status="applied")
    DisputeCase.objects.filter(pk=later.pk).update(confirmation_due=dt.date(2032, 1, 1))
    client.force_login(cast.admin)
    response = _post(client, confirm=False)
    counts = {str(label): n for label, n in response.context["preview"].deadlines}
    assert counts["petitioners' windows to ask for a review"] == 2
    assert counts["windows to apply for judicial confirmation"] == 1
    client.cookies["django_language"] = "zh-hans"
    html = _post(client, confirm=False).content.decode()
    assert "信访人申请复查、复核的期限" in html and "申请司法确认的期限" in html


def test_the_preview_takes_the_same_queries_for_one_date_as_for_a_whole_year(client, cast, pet):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        pet.accepted()
    Holiday.objects.create(date=dt.date(2031, 5, 2), name="劳动节")
    client.force_login(cast.admin)
    _post(client, confirm=False, year="2030", days_off="地方假日 2030-03-04", working="")  # warm-up

    def queries(**fields) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _post(client, confirm=False, **fields).status_code == 200
        return len(captured)

    one = queries(year="2032", days_off="元旦 2032-01-01", working="")
    whole = queries()
    assert one == whole
    assert Holiday.objects.count() == 1


def test_change_the_notice_goes_back_to_the_form_with_the_text_kept(client, cast):
    client.force_login(cast.admin)
    response = client.post(URL, {**_fields(), "change": "1"})
    assert response.status_code == 200
    assert response.templates[0].name == "admin/governance/holiday/notice.html"
    form = response.context["form"]
    assert not form.errors
    assert {name: form[name].value() for name in _fields()} == _fields()
    assert "春节 2031-01-27 2031-02-02" in response.content.decode()
    assert _nothing_written()


def test_a_notice_may_start_its_new_years_holiday_in_the_december_before(client, cast):
    # As the notices for 2019 and 2023 did: 元旦 from the last days of the previous year.
    client.force_login(cast.admin)
    response = _post(client, days_off="元旦 2030-12-29 2031-01-01", working="元旦调休上班 2030-12-28")
    assert response.status_code == 302
    assert Holiday.objects.filter(date__year=2030).count() == 4
    assert Holiday.objects.get(date=dt.date(2030, 12, 28)).is_workday


def test_a_colon_after_the_name_separates_it_from_the_dates(client, cast):
    # "劳动节：5月1日至5日" is how a notice reads: "劳动节：2031-05-01 至 2031-05-05" saved one day,
    # 05-05, named "劳动节：2031-05-01".
    client.force_login(cast.admin)
    response = _post(
        client,
        days_off="劳动节：2031-05-01 至 2031-05-05\n国庆节: 2031-10-01 2031-10-07",
        working="国庆节调休上班：2031-10-11",
    )
    assert response.status_code == 302
    saved = list(Holiday.objects.order_by("date").values_list("date", "name", "is_workday"))
    assert [name for _date, name, _workday in saved] == ["劳动节"] * 5 + ["国庆节"] * 7 + ["国庆节调休上班"]
    assert saved[0][0] == dt.date(2031, 5, 1) and saved[-1] == (dt.date(2031, 10, 11), "国庆节调休上班", True)


@pytest.mark.parametrize(
    ("field", "days_off", "working", "error"),
    [
        (
            "days_off",
            "春节 2031-02-02 2031-01-27",
            "",
            "Line 1: the first day 2031-02-02 is after the last day 2031-01-27.",
        ),
        (
            "days_off",
            "元旦 2031-01-01\n元旦 2031-12-31 2032-01-01",
            "",
            "Line 2: 2032-01-01 is outside 2031: a notice names the days of its year (only its New Year's "
            "Day holiday and make-up day may fall in the December before).",
        ),
        (
            "days_off",
            "春节 2030-11-30 2031-01-01",
            "",
            "Line 1: 2030-11-30 is outside 2031: a notice names the days of its year (only its New Year's "
            "Day holiday and make-up day may fall in the December before).",
        ),
        (
            "days_off",
            "元旦 2030-12-30 2030-12-31",
            "",
            "Line 1: 2030-12-31 is outside 2031: a notice names the days of its year (only its New Year's "
            "Day holiday and make-up day may fall in the December before).",
        ),
        (
            "working_days",
            DAYS_OFF,
            "春节调休上班 2031-01-26\n国庆节调休上班 2031-10-10",
            "Line 2: 2031-10-10 is a Friday: only a Saturday or Sunday is made a working day.",
        ),
        (
            "days_off",
            "春节 2031-01-27 2031-02-02\n地方假日 2031-02-02 2031-02-04",
            "",
            "Line 2: 2031-02-02 is also in the holidays, line 1.",
        ),
        (
            "working_days",
            "春节 2031-01-25 2031-02-02",
            "春节调休上班 2031-01-26",
            "Line 1: 2031-01-26 is also in the holidays, line 1.",
        ),
        (
            "working_days",
            "",
            "春节调休上班 2031-01-26\n调休 2031-01-26",
            "Line 2: 2031-01-26 is also in the make-up working days, line 1.",
        ),
        ("days_off", "元旦 2031-01-01\n2031-05-01 2031-05-05", "", "Line 2: the name is missing."),
        ("working_days", "", "2031-01-26", "Line 1: the name is missing."),
        (
            "days_off",
            "春节 2031-01-27 2031-02-02\n劳动节 五月一日",
            "",
            "Line 2: cannot be read: write a name, the first day and the last day, e.g. “春节 2026-02-15 "
            "2026-02-23”.",
        ),
        (
            "working_days",
            "",
            "春节调休上班 2031-01-26 2031-02-08",
            "Line 1: cannot be read: write a name and a date, e.g. “春节调休上班 2026-02-14”.",
        ),
        ("days_off", "春节 2031-02-30 2031-03-02", "", "Line 1: “2031-02-30” is not a date."),
        # A date run into the name was read as part of it: one day (02-02) named "春节2031-01-27".
        (
            "days_off",
            "春节2031-01-27 2031-02-02",
            "",
            "Line 1: cannot be read: write a name, the first day and the last day, e.g. “春节 2026-02-15 "
            "2026-02-23”.",
        ),
        (
            "working_days",
            "",
            "调休2031年1月25日 2031-01-26",
            "Line 1: cannot be read: write a name and a date, e.g. “春节调休上班 2026-02-14”.",
        ),
        ("days_off", "元旦 2031-01-01\n元旦　2031-01-01", "", "Line 2: repeats line 1."),
        ("days_off", "", "", "The notice names no dates."),
        ("days_off", "节" * 61 + " 2031-01-01", "", "Line 1: the name is longer than 60 characters."),
        (
            "days_off",
            "国庆节 2031-10-01 2031-12-07",
            "",
            "Line 1: 2031-10-01 to 2031-12-07 is 68 days off: no holiday of a notice is longer than 15 "
            "days; check the last day.",
        ),
    ],
)
@pytest.mark.parametrize("confirm", [False, True], ids=["preview", "confirmed"])
def test_a_bad_line_is_named_and_nothing_is_saved(client, cast, field, days_off, working, error, confirm):
    # Refused the same whether it asks for the preview or (edited by hand after it) for the save.
    client.force_login(cast.admin)
    response = _post(client, confirm=confirm, days_off=days_off, working=working)
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors[field] == [error]
    assert not Holiday.objects.exists() and not LogEntry.objects.exists()
    assert "nothing has been saved" in response.content.decode()


def test_every_bad_line_is_reported_at_once(client, cast):
    client.force_login(cast.admin)
    response = _post(
        client,
        days_off="春节 2031-02-02 2031-01-27\n劳动节 2031-05-01 2031-05-05\n 2031-10-01",
        working="调休 2031-05-09",
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "days_off": [
            "Line 1: the first day 2031-02-02 is after the last day 2031-01-27.",
            "Line 3: the name is missing.",
        ],
        "working_days": ["Line 1: 2031-05-09 is a Friday: only a Saturday or Sunday is made a working day."],
    }
    assert not Holiday.objects.exists()


def test_a_bad_year_or_a_missing_source_is_named(client, cast):
    client.force_login(cast.admin)
    response = _post(client, year="31", source="")
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"year", "source"}
    assert not Holiday.objects.exists()


def test_an_empty_post_is_refused_with_the_boxes_it_lacks(client, cast):
    """The form was built from ``request.POST or None``: a post with no fields showed the blank page
    again with a 200 and no word of what was missing."""
    client.force_login(cast.admin)
    response = client.post(URL, {})
    assert response.status_code == 400
    assert {"year", "source"} <= set(response.context["form"].errors)
    assert not Holiday.objects.exists()


def test_dates_already_entered_are_kept_and_reported(client, cast):
    Holiday.objects.create(date=dt.date(2031, 1, 1), name="新年")
    Holiday.objects.create(date=dt.date(2031, 10, 11), name="本地假日")  # the notice works that Saturday
    Holiday.objects.create(date=dt.date(2031, 5, 2), name="劳动节")
    client.force_login(cast.admin)
    response = _post(client)
    assert response.status_code == 302
    assert Holiday.objects.count() == 23
    assert Holiday.objects.get(date=dt.date(2031, 1, 1)).name == "新年"
    assert not Holiday.objects.get(date=dt.date(2031, 10, 11)).is_workday
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown[:4] == [
        "Notice for 2031: 20 dates added, 3 already in the calendar and kept.",
        "Already in the calendar: 2031-01-01, 2031-05-02, 2031-10-11.",
        "2031-01-01: already entered as 新年, the notice names it 元旦; kept as entered.",
        "2031-10-11: the calendar has it as a holiday (本地假日), the notice as a working day (国庆节调休上班); "
        "kept as entered: change it in the list if the notice is right.",
    ]
    client.get(response["Location"])  # the messages shown
    # Entered a second time: nothing added, no refresh queued, nothing changed.
    before = list(Holiday.objects.values_list("date", "is_workday", "name"))
    OutboxMessage.objects.all().delete()
    response = _post(client)
    assert [str(m) for m in response.wsgi_request._messages][:2] == [
        "Notice for 2031: 0 dates added, 23 already in the calendar and kept.",
        "Already in the calendar: 2031-01-01, 2031-01-26–2031-02-02, 2031-02-08, 2031-05-01–2031-05-05, "
        "2031-10-01–2031-10-07, 2031-10-11.",
    ]
    assert list(Holiday.objects.values_list("date", "is_workday", "name")) == before
    assert not OutboxMessage.objects.filter(task=calendar_sync.TASK).exists()


def test_only_who_may_add_calendar_dates_may_enter_a_notice(client, cast):
    viewer = make_user("calendar_viewer", None, None, is_staff=True)
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_holiday", "change_holiday"]))
    client.force_login(viewer)
    assert client.get(URL).status_code == 403
    assert _post(client).status_code == 403
    assert _post(client, confirm=False).status_code == 403
    assert URL not in client.get("/admin/governance/holiday/").content.decode()
    client.force_login(cast.district_officer)  # not staff: the admin's login page
    response = _post(client)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not Holiday.objects.exists()
    viewer.user_permissions.add(Permission.objects.get(codename="add_holiday"))
    client.force_login(viewer)
    assert _post(client).status_code == 302
    assert Holiday.objects.count() == 23


def test_the_page_speaks_chinese(client, cast):
    client.force_login(cast.admin)
    with translation.override("zh-hans"):
        response = client.post(
            URL,
            {"year": "2031", "source": SOURCE, "days_off": "春节 2031-02-02 2031-01-27", "working_days": ""},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    html = response.content.decode()
    assert "录入一年的放假通知" in html
    assert response.context["form"].errors["days_off"] == ["第 1 行：首日 2031-02-02 晚于末日 2031-01-27。"]


def test_the_notices_this_release_carries_read_back_the_same_from_text():
    # One parser for the admin's page, the command's file and the release's own notices: written as
    # text, each published notice gives back exactly the calendar load_holidays loads.
    for year, notice in NOTICES.items():
        typed = notice_from_text(
            year,
            notice.source,
            "\n".join(f"{name} {first} {last}" for name, first, last in notice.days_off),
            "\n".join(f"{name} {date}" for name, date in notice.working_days),
        )
        assert typed == notice
        assert notice_days(typed) == calendar_days(year)


def _load_notice(tmp_path, text: str) -> tuple[str, str]:
    path = tmp_path / "notice.txt"
    path.write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("load_holidays", "--notice", str(path), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


NOTICE_FILE = f"""# made up for the test
year: 2031
source: {SOURCE}

[days off]
{DAYS_OFF}
[working days]
{WORKING}"""


def test_the_command_loads_a_notice_file(db, tmp_path, django_capture_on_commit_callbacks):
    Holiday.objects.create(date=dt.date(2031, 10, 11), name="本地假日")
    with django_capture_on_commit_callbacks(execute=True):
        out, _err = _load_notice(tmp_path, NOTICE_FILE)
    assert "Calendar 2031: 22 dates added, 1 already present and kept." in out
    assert "2031-10-11: the calendar says a holiday, the notice the opposite; kept as entered" in out
    assert Holiday.objects.count() == 23
    assert OutboxMessage.objects.filter(task=calendar_sync.TASK).count() == 1
    assert "0 dates added, 23 already present" in _load_notice(tmp_path, NOTICE_FILE)[0]


def test_the_command_reports_every_bad_line_of_the_file_and_loads_nothing(db, tmp_path):
    text = NOTICE_FILE.replace("国庆节调休上班 2031-10-11", "国庆节调休上班 2031-10-10").replace(
        "元旦 2031-01-01", "元旦 2031-01-02 2031-01-01"
    )
    path = tmp_path / "notice.txt"
    path.write_text(text + "stray line\n[holidays]\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"notice.txt: 4 problems, nothing loaded"):
        call_command("load_holidays", "--notice", str(path), stdout=io.StringIO(), stderr=err)
    # Every problem of the file at once, in the order of its lines.
    assert err.getvalue().splitlines() == [
        f"{path}, line 6: the first day 2031-01-02 is after the last day 2031-01-01.",
        f"{path}, line 14: 2031-10-10 is a Friday: only a Saturday or Sunday is made a working day.",
        f"{path}, line 15: cannot be read: write a name and a date, e.g. “春节调休上班 2026-02-14”.",
        f"{path}, line 16: unknown heading: write [days off] or [working days].",
    ]
    assert not Holiday.objects.exists()
    err = io.StringIO()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match=r"2 problems, nothing loaded"):
        call_command("load_holidays", "--notice", str(path), stdout=io.StringIO(), stderr=err)
    assert f"{path}, line 6: the first day 2031-01-02 is after the last day 2031-01-01." in err.getvalue()
    assert f"{path}, line 14: 2031-10-10 is a Friday" in err.getvalue()
    assert not Holiday.objects.exists()


def test_the_command_refuses_a_file_without_a_year_or_with_year(db, tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE_FILE.replace("year: 2031\n", ""), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem, nothing loaded"):
        call_command("load_holidays", "--notice", str(path), stdout=io.StringIO(), stderr=err)
    assert "the file gives no year" in err.getvalue()
    with pytest.raises(CommandError, match="--notice loads the year its file names"):
        call_command("load_holidays", "--notice", str(path), "--year", "2026", stdout=io.StringIO())
    with pytest.raises(CommandError, match="cannot be read"):
        call_command("load_holidays", "--notice", str(tmp_path / "missing.txt"), stdout=io.StringIO())
    assert not Holiday.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_notice_entered_twice_at_once_is_added_once(db):
    # Two administrators (or the page and a scripted --notice) at the same moment: each read the
    # dates as missing and the second insert failed on the unique date with a server error.
    from governance.services import calendar_days_add
    from tests.base import race

    days = notice_days(notice_from_text(2031, SOURCE, DAYS_OFF, WORKING))
    results = race(lambda: calendar_days_add(days=days), lambda: calendar_days_add(days=days))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(len(r.added) for r in results) == [0, 23]
    assert Holiday.objects.count() == 23


def test_saving_a_notice_takes_the_same_queries_for_one_date_as_for_a_whole_year(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.admin)
    _post(client, year="2030", days_off="地方假日 2030-03-04", working="")  # warm-up: sessions, content types

    def queries(year: int, days_off: str, working: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert _post(client, year=str(year), days_off=days_off, working=working).status_code == 302
        return len(captured)

    one = queries(2032, "元旦 2032-01-01", "")
    whole = queries(2031, DAYS_OFF, WORKING)
    assert Holiday.objects.filter(date__year=2031).count() == 23
    assert one == whole


def test_the_notice_file_may_use_the_chinese_words(db, tmp_path):
    text = f"年份：2031\n来源：{SOURCE}\n[放假]\n{DAYS_OFF}[调休上班]\n{WORKING}"
    out, err = _load_notice(tmp_path, text)
    assert "Calendar 2031: 23 dates added, 0 already present and kept." in out and not err
    assert Holiday.objects.filter(is_workday=True).count() == 3


def test_the_command_previews_a_notice_file_with_dry_run_and_writes_nothing(db, tmp_path):
    Holiday.objects.create(date=dt.date(2031, 10, 11), name="本地假日")  # the notice works that Saturday
    OutboxMessage.objects.all().delete()
    path = tmp_path / "notice.txt"
    path.write_text(NOTICE_FILE, encoding="utf-8")
    out = io.StringIO()
    call_command("load_holidays", "--notice", str(path), "--dry-run", stdout=out, stderr=io.StringIO())
    lines = out.getvalue().splitlines()
    assert (
        lines[0]
        == "Notice for 2031, not saved (--dry-run): 22 dates to be added, 1 already present and kept."
    )
    assert "to be added: 2031-01-27–2031-02-02 春节 (holiday)" in lines
    assert "to be added: 2031-01-26 春节调休上班 (make-up working day)" in lines
    assert "2031-10-11: the calendar says a holiday, the notice the opposite; kept as entered" in lines
    assert lines[-1] == (
        "Running deadlines due from 2031-01-01 to the end of 2031, recounted once saved: "
        "open incidents 0, open dispute cases 0, windows to apply for judicial confirmation 0, "
        "open petitions 0, petitioners' windows to ask for a review 0."
    )
    assert Holiday.objects.count() == 1
    assert not LogEntry.objects.exists() and not OutboxMessage.objects.exists()
    with pytest.raises(CommandError, match="--dry-run previews a --notice FILE"):
        call_command("load_holidays", "--dry-run", stdout=io.StringIO())
