"""Desk lists on a 390 px phone: each row is a card of labelled values inside its card, nothing
scrolls sideways, and a row's one-click action is on screen, a thumb's size and works. At 1366 px
the same lists stay tables."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from grids.models import Incident
from tests.browser.conftest import DESKTOP, PHONE, _new_page, login, screenshot
from tests.browser.test_dashboards import SAFE, _scheme, _values
from tests.browser.test_mediation import _case

pytestmark = pytest.mark.browser

# Does the page, and the .table-wrap around ``table``, fit the window without a sideways scroll?
FITS_JS = """table => {
  const wrap = table.closest('.table-wrap');
  return {page: document.documentElement.scrollWidth <= window.innerWidth,
          wrap: wrap.scrollWidth <= wrap.clientWidth,
          row: getComputedStyle(table.tBodies[0].rows[0]).display,
          head: table.tHead.getBoundingClientRect().height <= 1 ? 'out of sight' : getComputedStyle(table.tHead).display};
}"""
# The first heading row's texts, each as laid out (empty where a heading is out of sight).
HEADINGS_JS = """table => [...table.tHead.rows[0].cells].map(
  c => c.getBoundingClientRect().height > 1 && c.getBoundingClientRect().width > 1 ? c.innerText.trim() : '')"""
# The label a phone shows above each value of the table's first row (its column heading).
LABELS_JS = (
    """table => [...table.tBodies[0].rows[0].cells].map(c => getComputedStyle(c, '::before').content)"""
)


def _reported_incident(cast) -> Incident:
    from grids import services
    from tests.grids.conftest import IN_GRID_A

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    return services.incident_report(
        actor=cast.worker_a,
        category="sanitation",
        description="楼道堆放杂物",
        lat=IN_GRID_A[0],
        lng=IN_GRID_A[1],
    )


def test_the_handler_inbox_on_a_phone_is_cards_with_the_accept_button_in_reach(phone_page, live_cast):
    """At 390 px the inbox table was 684 px wide in a 366 px card: status, deadline and the Accept
    button were past the right edge, reached only by scrolling the table sideways."""
    incident = _reported_incident(live_cast)
    page = phone_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    table = page.locator("table.grids-inbox")
    fits = table.evaluate(FITS_JS)
    assert fits == {"page": True, "wrap": True, "row": "grid", "head": "out of sight"}, fits
    labels = table.evaluate(LABELS_JS)
    assert labels[:5] == ['"编号"', '"类别"', '"网格"', '"状态"', '"截止时间"'], labels

    row = f"#row-{incident.code}"
    accept = page.locator(f"{row} button[data-action=accept]")
    assert accept.is_visible()
    box = accept.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44, box
    link = page.locator(f"{row} a[href$='/{incident.code}/']").bounding_box()
    assert link["height"] >= 44, link  # the record's link is a touch target too
    screenshot(page, "grids-inbox-phone")
    accept.click()
    page.wait_for_selector(f"{row} .status-accepted")  # the row came back from HTMX, still a card
    dispatch = page.locator(f"{row} button[data-action=dispatch]").bounding_box()
    select = page.locator(f"{row} select[name=department]").bounding_box()
    for box in (dispatch, select):
        assert box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44, box
    assert table.evaluate(FITS_JS)["wrap"]
    incident.refresh_from_db()
    assert incident.status == "accepted"
    assert page.js_errors == []


def test_incident_dates_and_times_stay_whole_on_a_phone(phone_page, live_cast):
    """At 390 px a date-time must not break between its date and its time (2026-12-04 / 23:33): in
    the inbox's cards, and on the incident page (its times and the timeline), each stays on one line
    even when its cell or line is squeezed narrower than it."""
    from django.utils import timezone

    from tests.browser.test_pages import DATETIME_LINES_JS

    incident = _reported_incident(live_cast)
    reported = timezone.localtime(incident.reported_at).strftime("%Y-%m-%d %H:%M")
    due = timezone.localtime(incident.due_at).strftime("%Y-%m-%d %H:%M")
    squeeze = "el => { el.style.width = el.style.maxWidth = '5em'; }"
    page = phone_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "grids-inbox-dates-phone")
    row = page.locator(f"#row-{incident.code}")
    for label, value in (("编号", reported), ("截止时间", due)):
        cell = row.locator(f"td[data-label='{label}']")
        assert cell.evaluate(DATETIME_LINES_JS) == [value, 1]
        cell.evaluate(squeeze)
        assert cell.evaluate(DATETIME_LINES_JS) == [value, 1], label
    page.goto(f"/grids/incidents/{incident.code}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "grids-incident-dates-phone")
    # Found by their form, not by the year of the report: the page shows local dates (a report made
    # before 08:00 on 1 January is in the previous year in UTC) and a deadline may fall in the next year.
    dates = page.locator("dl dd, ol.timeline li").filter(has_text=re.compile(r"\d{4}-\d{2}-\d{2}"))
    assert dates.count() >= 4  # occurred, reported, due, and the report in the timeline
    for i in range(dates.count()):
        dates.nth(i).evaluate(squeeze)
        value, lines = dates.nth(i).evaluate(DATETIME_LINES_JS)
        assert lines == 1, (value, dates.nth(i).inner_text())
    assert page.js_errors == []


def _desk_records(c):
    """A row for each desk list: an accepted dispute case, a petition, indicator values of
    September to November 2026 and an assessment scheme scored on them."""
    from petitions import services as petition_services
    from tests.petitions.conftest import petitioners

    _org, case = _case(c)
    petition = petition_services.petition_register(
        actor=c.petition_officer,
        channel="visit",
        category="urban",
        content="小区旁工地夜间施工噪音扰民。",
        area=c.community_a1a,
        petitioners=petitioners(1),
    )
    _values(c)
    return case, petition, _scheme(c)


# A4 portrait's 718 px of page (210 mm less the margins), printed: under 800 px, yet no phone.
A4_PORTRAIT = {"width": 718, "height": 1000}
A4_LANDSCAPE = {"width": 1043, "height": 700}


@pytest.mark.parametrize(
    "viewport",
    [PHONE, DESKTOP, A4_PORTRAIT, A4_LANDSCAPE],
    ids=["phone", "desk", "a4-portrait", "a4-landscape"],
)
def test_the_desk_lists_fit_a_phone_and_stay_tables_at_a_desk(browser, live_server, live_cast, viewport):
    """Every desk list: the handler's inbox, the mediation case list, the petition registry, the
    departments' record, the league table, the assessment results and the trend table. On a phone, cards with their column
    names; at a desk, the table as it was. Printed, a table with its heading row at A4 portrait
    too, where the page is under 800 px and printed as a phone's cards (no headings)."""
    incident = _reported_incident(live_cast)
    case, petition, scheme = _desk_records(live_cast)
    phone = viewport == PHONE
    printed = viewport in (A4_PORTRAIT, A4_LANDSCAPE)
    street = "&parent=340102001000"
    pages = [
        ("community_handler", "/grids/inbox/", "table.grids-inbox", '"编号"', incident.code),
        ("mediator", "/mediation/cases/", "table.med-table", '"编号"', case.code),
        ("petition_officer", "/petitions/", "#petition-rows", '"编号"', petition.code),
        ("petition_officer", f"/petitions/{petition.code}/", "table.pet-people", '"姓名"', "王*"),
        (
            "district_officer",
            "/grids/departments/",
            "table.grids-departments",
            '"部门"',
            live_cast.police.name,
        ),
        (
            "district_officer",
            f"/dashboards/league/?indicator={SAFE}&period=2026-11",
            "#league",
            '"区域"',
            "甲一街道",
        ),
        (
            "district_officer",
            f"/dashboards/assessments/{scheme.pk}/",
            "#assessment-results",
            '"排名"',
            "甲一街道",
        ),
        (
            "district_officer",
            f"/dashboards/trends/?indicator={SAFE}&period=2026-11{street}",
            ".dash-trend-table",
            '"区域"',
            "甲一街道",
        ),
    ]
    context, page = _new_page(browser, live_server, viewport)
    try:
        user = None
        for username, url, selector, first_label, text in pages:
            if username != user:
                context.clear_cookies()
                page.emulate_media(media="screen")
                login(page, username)
                user = username
            page.goto(url)
            if printed:
                page.emulate_media(media="print")
            table = page.locator(selector)
            assert text in table.inner_text(), url
            fits = table.evaluate(FITS_JS)
            assert fits["page"] and fits["wrap"], (url, fits)
            if printed:
                assert (fits["row"], fits["head"]) == ("table-row", "table-header-group"), (url, fits)
                headings = table.evaluate(HEADINGS_JS)
                assert any(h.startswith(first_label.strip('"')) for h in headings), (url, headings)
                if "assessments" in url:  # paper has no hover text: the value under each score
                    assert table.locator(".dash-value").first.inner_text() == "指标值 92.00%"
                name = url.strip("/").split("?")[0].replace("/", "-")
                screenshot(page, f"printed-{name}-{viewport['width']}")
            elif phone:
                assert (fits["row"], fits["head"]) == (
                    "grid",
                    "block" if "league" in url else "out of sight",
                ), (
                    url,
                    fits,
                )
                assert table.evaluate(LABELS_JS)[0] == first_label, url
            else:
                assert (fits["row"], fits["head"]) == ("table-row", "table-header-group"), (url, fits)
        # The league's column headings are its sort links: on a phone they stay, as buttons.
        if phone:
            page.goto(f"/dashboards/league/?indicator={SAFE}&period=2026-11")
            sort = page.locator("#league thead a").first.bounding_box()
            assert sort["height"] >= 44 and sort["x"] + sort["width"] <= PHONE["width"], sort
        screenshot(page, f"dashboards-trends-{viewport['width']}")
        assert page.js_errors == []
    finally:
        context.close()


def test_the_inbox_filters_fold_so_a_phone_opens_on_the_first_row_and_still_filter(phone_page, live_cast):
    """The eleven filters ran about 400 px before the first row at 390 px. Folded, the first card is
    near the top; a tap on the summary opens the form, and filtering says what is in force, values too."""
    incident = _reported_incident(live_cast)
    page = phone_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    assert not page.locator("#inbox-filters").is_visible()
    row = page.locator(f"#row-{incident.code}").bounding_box()
    assert row["y"] < 300, row
    summary = page.locator(".filters-fold > summary")
    assert summary.inner_text() == "筛选：办结情况：未办结"
    assert summary.bounding_box()["height"] >= 44
    summary.click()
    page.select_option("#inbox-filters select[name=category]", "sanitation")
    page.locator("#inbox-filters button[type=submit]").click()
    page.wait_for_url("**category=sanitation**")
    assert page.locator(".filters-fold > summary").inner_text() == "筛选：办结情况：未办结、类别：环境卫生"
    assert not page.locator("#inbox-filters").is_visible()
    assert page.locator(f"#row-{incident.code}").is_visible()
    assert page.js_errors == []


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desk"])
def test_a_phone_card_of_the_assessment_says_each_items_value_under_its_score(
    browser, live_server, live_cast, viewport
):
    """A phone shows no hover text, where the value an item was scored on was: its card says it."""
    scheme = _scheme(live_cast)
    context, page = _new_page(browser, live_server, viewport)
    try:
        login(page, "district_officer")
        page.goto(f"/dashboards/assessments/{scheme.pk}/")
        value = page.locator("#assessment-results .dash-value").first
        if viewport == PHONE:
            assert (
                value.is_visible() and value.inner_text() == "指标值 92.00%"
            )  # in its unit, as the league writes it
        else:
            assert not value.is_visible()  # the desk table keeps it in the cell's hover text
            cell = page.locator("#assessment-results td[title*='92.00']")
            assert cell.count() == 1
    finally:
        context.close()


LISTS = ["/grids/inbox/", "/petitions/", "/mediation/cases/"]


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desk"])
def test_the_list_filters_show_open_where_there_is_room_and_fold_on_a_phone(
    browser, live_server, live_cast, viewport
):
    """Folded, the filters left a 1366 px window's list with one line where the form had room to show
    what it offers: from 800 px (the desk layout) they show open (js/filters_fold.js); on a phone they stay folded, as
    the summary says which are in force, and a refused filter opens them at every width."""
    _reported_incident(live_cast)
    context, page = _new_page(browser, live_server, viewport)
    try:
        login(page, "district_officer")
        for url in LISTS:
            page.goto(url)
            fold = page.locator("details.filters-fold")
            assert fold.evaluate("d => d.open") == (viewport == DESKTOP), (url, viewport)
            assert page.locator(".filters-fold form").is_visible() == (viewport == DESKTOP), url
            name = url.strip("/").replace("/", "-")
            screenshot(page, f"filters-fold-{name}-{viewport['width']}")
            page.goto(f"{url}?overdue=maybe")  # refused: open for the field to be fixed
            assert page.locator(".filters-fold form").is_visible(), url
        page.locator(".filters-fold > summary").click()  # the reader's choice stands
        assert page.locator("details.filters-fold").evaluate("d => d.open") is False
        # The refused filters' pages answer 400, which the console reports; nothing else.
        assert [e for e in page.js_errors if "status of 400" not in e] == []
    finally:
        context.close()


def test_without_scripts_a_desk_s_filters_stay_as_the_server_drew_them(browser, live_server, live_cast):
    """The script only opens the fold: without it the page works as drawn, folded, and opens on a tap."""
    context, page = _new_page(browser, live_server, DESKTOP, java_script_enabled=False)
    try:
        login(page, "district_officer")
        for url in LISTS:
            page.goto(url)
            assert not page.locator(".filters-fold form").is_visible(), url
        page.locator(".filters-fold > summary").click()
        assert page.locator(".filters-fold form").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desk"])
def test_a_filter_from_the_link_survives_the_form_and_is_cleared_alone(
    browser, live_server, live_cast, viewport
):
    """The registry linked with ``?department=`` (no field in its form): choosing a channel and sending
    the form kept the department in force, and its "× 清除", reached by the keyboard, removes it alone
    (the channel stays). The same on the case list for ``?open=`` (a dashboard's link)."""
    from tests.browser.test_accessibility import axe_violations
    from tests.browser.test_target_size import CHECK_JS

    tap = 44 if viewport == PHONE else 24
    # axe is injected as a script, which the page's Content Security Policy would refuse.
    context, page = _new_page(browser, live_server, viewport, bypass_csp=True)
    try:
        login(page, "district_officer")
        for url, linked, field, value, summary_kept, summary_left in (
            (
                f"/petitions/?department={live_cast.police.pk}",
                "department",
                "channel",
                "visit",
                "筛选：渠道：来访、转送交办至：公安分局",
                "筛选：渠道：来访",
            ),
            ("/mediation/cases/?open=true", "open", "source", "application", None, None),
        ):
            page.goto(url)
            if viewport == PHONE:
                page.locator(".filters-fold > summary").click()
            form = page.locator(".filters-fold form")
            form.locator(f"select[name={field}]").select_option(value)
            with page.expect_navigation():
                form.locator("button[type=submit]").click()
            query = page.url.split("?", 1)[1]
            assert f"{linked}=" in query and f"{field}={value}" in query, page.url
            if summary_kept:
                assert page.locator(".filters-fold > summary").inner_text() == summary_kept
            if viewport == PHONE:
                page.locator(".filters-fold > summary").click()
            remove = page.locator(".linked-filter-remove")
            assert remove.count() == 1
            box = remove.bounding_box()
            assert box["width"] >= tap - 0.5 and box["height"] >= tap - 0.5, box
            assert page.evaluate(CHECK_JS, tap)["bad"] == []  # every target's size, none overlapping
            screenshot(page, f"linked-filter-{linked}-{viewport['width']}")
            assert axe_violations(page, page.url) == []
            if viewport == PHONE:
                page.reload()  # axe opened the menu: as the reader left it, the filters open
                page.locator(".filters-fold > summary").click()
            # By the keyboard: Tab from the form's last field before it reaches it.
            form = page.locator(".filters-fold form")
            form.locator("select, input:not([type=hidden])").last.focus()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "linked-filter-remove"
            with page.expect_navigation():
                page.keyboard.press("Enter")
            query = page.url.split("?", 1)[1] if "?" in page.url else ""
            assert f"{linked}=" not in query and f"{field}={value}" in query, page.url
            assert page.locator(".linked-filter-remove").count() == 0
            if summary_left:
                assert page.locator(".filters-fold > summary").inner_text() == summary_left
        assert page.js_errors == []
    finally:
        context.close()


def test_a_head_s_organisation_lists_print_as_tables_on_a4_portrait(browser, live_server, live_cast):
    """The organisation page's two lists (the mediators' workload and the cases) are cards on a phone's
    screen and tables with their headings on paper, also on A4 portrait's 718 px."""
    org, case = _case(live_cast, head=True)
    context, page = _new_page(browser, live_server, PHONE)
    try:
        login(page, "mediator")
        page.goto(f"/mediation/organisations/{org.pk}/")
        tables = page.locator("table.med-table")
        assert tables.count() == 2
        for i in range(2):
            assert tables.nth(i).evaluate(FITS_JS)["row"] == "grid"
        page.set_viewport_size(A4_PORTRAIT)
        page.emulate_media(media="print")
        for i, first in enumerate(("调解员", "编号")):
            fits = tables.nth(i).evaluate(FITS_JS)
            assert fits == {"page": True, "wrap": True, "row": "table-row", "head": "table-header-group"}, (
                fits
            )
            assert tables.nth(i).evaluate(HEADINGS_JS)[0] == first
        assert case.code in tables.nth(1).inner_text()
        # The mediator of an accepted case: on screen the reassign form's choice, which paper has not
        # (print hides every form); the printed cell names them as the cell of a closed case does.
        mediator = tables.nth(1).locator("tbody tr").first.locator("td[data-label='调解员']")
        assert mediator.inner_text().strip() == str(case.mediator)
        screenshot(page, "printed-mediation-organisation-718")
        assert page.js_errors == []
    finally:
        context.close()


def test_the_report_confirmation_keeps_its_acceptance_deadline_whole_on_a_phone(phone_page, live_cast):
    """At 390 px the confirmation's "社区综治中心将于 2026-12-08 10:30 前受理。" broke inside the date
    (2026-12- / 08): the deadline is one span kept on one line (.nowrap), the sentence breaking before
    or after it, even squeezed narrower than the date-time."""
    from django.utils import timezone

    from tests.browser.test_pages import DATETIME_LINES_JS

    incident = _reported_incident(live_cast)
    due = timezone.localtime(incident.due_at).strftime("%Y-%m-%d %H:%M")
    page = phone_page
    login(page, "worker_a")
    page.goto(f"/grids/report/{incident.code}/done/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "grids-reported-due-phone")
    deadline = page.locator("#acceptance-due")
    assert deadline.inner_text() == due
    sentence = page.locator("p", has=deadline)
    for width in (None, "11em", "6em"):  # as drawn; then the date at a line's end; then narrower than it
        if width:
            sentence.evaluate(f"el => {{ el.style.width = el.style.maxWidth = '{width}'; }}")
        assert sentence.evaluate(DATETIME_LINES_JS) == [due, 1], width
        assert deadline.evaluate("el => el.getClientRects().length") == 1, width
    assert page.js_errors == []
