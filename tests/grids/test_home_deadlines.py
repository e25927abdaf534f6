"""The incidents section of the home pages names each item's deadline, as "My grid" and the inbox do:
a handler "watches deadlines" (DESIGN.md), and the section listed number, category, grid and status
only, while the petitions section beside it counts the days left."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from grids.models import Incident


def home_item(html: str, code: str) -> str:
    start = html.index(f'href="/grids/incidents/{code}/"')
    return html[start : html.index("</li>", start)]


@pytest.mark.django_db
def test_the_home_sections_name_each_items_deadline(cast, client, report, incident_in):
    waiting = report()
    due = timezone.localtime(waiting.due_at).strftime("%Y-%m-%d %H:%M")
    client.force_login(cast.community_handler)
    item = home_item(client.get("/").content.decode(), waiting.code)
    assert f"due {due}" in item

    checked = incident_in("fed_back")  # the grid worker's on-site check, first on their home
    client.force_login(cast.worker_a)
    html = client.get("/").content.decode()
    check_due = timezone.localtime(checked.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"due {check_due}" in home_item(html, checked.code)
    assert f"due {due}" in home_item(html, waiting.code)

    Incident.objects.filter(pk=waiting.pk).update(due_at=timezone.now() - dt.timedelta(hours=3))
    waiting.refresh_from_db()
    client.force_login(cast.community_handler)
    item = home_item(client.get("/").content.decode(), waiting.code)
    late = timezone.localtime(waiting.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"due {late}" in item and ">overdue</span>" in item


@pytest.mark.django_db
def test_a_working_hour_deadline_in_a_year_without_a_calendar_says_it_may_move(
    cast, client, report, incident_in, monkeypatch
):
    # Reported at 16:30 on 31 December with next year's holidays not entered: the 2 office hours
    # to accept ran into 1 January, New Year's Day, counted as a working day. Every page named that
    # deadline with nothing said, where the petition pages say theirs may move.
    from governance.models import Holiday, SequenceCounter

    tz = timezone.get_current_timezone()
    Holiday.objects.create(date=dt.date(2026, 10, 1), name="国庆节")  # this year's calendar is entered
    SequenceCounter.bump("calendar")
    monkeypatch.setattr("django.utils.timezone.now", lambda: dt.datetime(2026, 12, 31, 16, 30, tzinfo=tz))
    waiting = report()
    assert timezone.localtime(waiting.due_at) == dt.datetime(2027, 1, 1, 9, 30, tzinfo=tz)
    # A handling deadline is counted in clock hours: no holiday moves it, and nothing is said of it.
    handling = incident_in("handling")
    Incident.objects.filter(pk=handling.pk).update(due_at=dt.datetime(2027, 1, 2, 10, 0, tzinfo=tz))
    note = "The calendar has no dates for 2027 yet"
    pages = [
        (cast.worker_a, f"/grids/incidents/{waiting.code}/"),
        (cast.worker_a, f"/grids/report/{waiting.code}/done/"),
        (cast.worker_a, "/grids/my/"),
        (cast.worker_a, "/"),
        (cast.community_handler, "/grids/inbox/"),
        (cast.community_handler, "/"),
    ]
    for user, url in pages:
        client.force_login(user)
        assert note in client.get(url).content.decode(), (user, url)
    client.force_login(cast.community_handler)
    assert "no dates for" not in client.get(f"/grids/incidents/{handling.code}/").content.decode()
    assert "no dates for" not in client.get("/grids/inbox/?status=handling").content.decode()
    # Once the year is entered, the note goes.
    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    for user, url in pages:
        client.force_login(user)
        assert "no dates for" not in client.get(url).content.decode(), (user, url)


@pytest.mark.django_db
def test_my_grid_names_the_deadline_of_each_check_waiting_and_marks_a_late_one(cast, client, incident_in):
    # The on-site check is the grid worker's own timed step (8 working hours, counted against the
    # grid when late), yet "To verify on site" listed number, category and status only, while the
    # worker's reports below it and the home page named their deadlines.
    checked = incident_in("fed_back")
    client.force_login(cast.worker_a)

    def to_verify() -> str:
        html = client.get("/grids/my/").content.decode()
        section = html[html.index('id="to-verify"') :]
        return section[: section.index("</section>")]

    due = timezone.localtime(checked.due_at).strftime("%Y-%m-%d %H:%M")
    assert f"due {due}" in to_verify()
    Incident.objects.filter(pk=checked.pk).update(due_at=timezone.now() - dt.timedelta(hours=1))
    checked.refresh_from_db()
    late = timezone.localtime(checked.due_at).strftime("%Y-%m-%d %H:%M")
    section = to_verify()
    assert f"due {late}" in section and '<li class="overdue">' in section


@pytest.mark.django_db
def test_a_grid_worker_s_home_counts_what_is_overdue(cast, client, report, incident_in):
    """Every other role's home says what is overdue (DESIGN.md section 8); the grid worker's said how
    many reports were open and checks waiting, not how many were late. It counts the worker's own open
    reports and the checks waiting in their grid that are past their deadline, never another grid's."""
    late_report, on_time = report(), report()
    late_check = incident_in("fed_back", actor=cast.community_handler)
    past = timezone.now() - dt.timedelta(hours=3)
    Incident.objects.filter(pk__in=[late_report.pk, late_check.pk]).update(due_at=past)
    client.force_login(cast.worker_a)
    html = client.get("/").content.decode()
    assert 'href="/grids/my/">Overdue <span class="status">2</span></a>' in html
    assert on_time.code in html
    client.force_login(cast.worker_b)  # grid B: neither is theirs
    assert 'href="/grids/my/">Overdue <span class="status">0</span></a>' in client.get("/").content.decode()
    client.cookies["django_language"] = "zh-hans"
    assert '逾期 <span class="status">0</span></a>' in client.get("/").content.decode()
