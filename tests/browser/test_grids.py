"""The closed loop in a real browser: a grid worker on a phone reports with a pin and a photo, a
community handler accepts and dispatches from the inbox, the department feeds back, the worker verifies
on site, and the street centre closes (the community centre dispatched it: separate duties)."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from playwright.sync_api import expect

from grids.models import Incident
from tests.base import PASSWORD
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    _new_page,
    areas_clear_of_map_controls,
    login,
    screenshot,
)
from tests.grids.conftest import jpeg_bytes

pytestmark = pytest.mark.browser


def _switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def test_a_grid_worker_reports_and_handlers_run_the_closed_loop(phone_page, desktop_page, live_cast):
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    phone, desk = phone_page, desktop_page

    # --- the grid worker, on a phone --------------------------------------------------------------
    phone.context.grant_permissions(["geolocation"])
    phone.context.set_geolocation({"latitude": 31.8052, "longitude": 117.0047})
    login(phone, "worker_a")
    phone.goto("/grids/report/")
    phone.wait_for_selector("#report-map[data-loaded='1']")
    phone.select_option("#id_category", "sanitation")
    phone.fill("#id_description", "3号楼楼道堆放杂物")
    phone.click("#use-location")
    phone.wait_for_selector("#report-map[data-pin='1']")
    assert phone.input_value("#id_lat").startswith("31.8052")
    # The server says which grid the pin is in as soon as the point is known.
    phone.wait_for_selector(f"#geo-status:has-text('{live_cast.grid_a.name}')")
    assert "已获取位置" in phone.inner_text("#geo-status")  # and then the grid
    # Move the pin by tapping elsewhere inside the grid.
    box = phone.locator("#report-map").bounding_box()
    phone.mouse.click(box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5)
    assert not phone.input_value("#id_lat").startswith("31.8052") or not phone.input_value(
        "#id_lng"
    ).startswith("117.0047")
    phone.set_input_files(
        "#id_photos",
        files=[{"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((320, 240))}],
    )
    phone.wait_for_timeout(400)  # let Leaflet's zoom animation finish before the picture
    screenshot(phone, "grids-report-phone")
    # No network: the page says so in words and keeps everything that was typed.
    phone.route(
        "**/grids/report/",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    phone.click("#report-submit")
    phone.wait_for_selector("#report-status.grids-alert-error")
    assert "network" in phone.inner_text("#report-status").lower() or "网络" in phone.inner_text(
        "#report-status"
    )
    assert phone.input_value("#id_description") == "3号楼楼道堆放杂物"
    assert not Incident.objects.exists()
    phone.unroute("**/grids/report/")
    phone.js_errors.clear()  # the aborted request is logged as a console error by design
    phone.click("#report-submit")
    phone.wait_for_selector("#incident-number")
    code = phone.inner_text("#incident-number")
    incident = Incident.objects.get(code=code)
    assert incident.grid == live_cast.grid_a and incident.photos.count() == 1
    screenshot(phone, "grids-reported-phone")
    phone.goto("/grids/my/")
    phone.wait_for_selector("#my-grid-map[data-markers-drawn='1']")
    assert code in phone.inner_text("main")
    phone.wait_for_timeout(400)
    areas_clear_of_map_controls(phone, "#my-grid-map")  # every map is fitted clear of its buttons
    screenshot(phone, "grids-my-grid-phone")
    # its pin is a link (Tab reaches it, Enter opens it) to the incident, a thumb's width on a phone
    pin = phone.locator("#my-grid-map .map-pin-link")
    assert pin.get_attribute("aria-label") == f"{code} {incident.category.name}"
    box = pin.bounding_box()
    assert (box["width"], box["height"]) == (44, 44)
    pin.click()
    phone.wait_for_url(f"**/grids/incidents/{code}/")

    # --- the community handler, at a desk: accept and dispatch with one click each (HTMX) ----------
    login(desk, "community_handler")
    desk.goto("/grids/inbox/")
    row = f"#row-{code}"
    desk.click(f"{row} button[data-action=accept]")
    desk.wait_for_selector(f"{row} button[data-action=dispatch]")
    desk.select_option(f"{row} select[name=department]", str(live_cast.police.pk))
    screenshot(desk, "grids-inbox-desktop")
    desk.click(f"{row} button[data-action=dispatch]")
    desk.wait_for_selector(f"{row} .status-dispatched")

    # --- the department starts handling and feeds back ------------------------------------------------
    _switch_user(desk, "department_user")
    desk.goto("/grids/inbox/")
    desk.click(f"{row} button[data-action=handle]")
    desk.wait_for_selector(f"{row} .status-handling")
    desk.goto(f"/grids/incidents/{code}/")
    desk.fill("#resolution-fb", "已清理楼道杂物")
    desk.click("button[data-action=feedback]")
    desk.wait_for_selector(".status-fed_back")

    # --- the worker verifies on site -----------------------------------------------------------------
    phone.goto(f"/grids/incidents/{code}/")
    phone.wait_for_selector("#incident-map[data-markers-drawn='1']")
    phone.wait_for_timeout(400)
    screenshot(phone, "grids-incident-phone")
    phone.select_option("#result-verify", "pass")
    phone.click("button[data-action=verify]")
    phone.wait_for_selector(".status-verified")

    # --- the street centre closes: the community handler dispatched it (separate duties) ---------------
    _switch_user(desk, "street_handler")
    desk.goto("/grids/inbox/?status=verified")
    desk.click(f"{row} button[data-action=close]")
    desk.wait_for_selector(f"{row} .status-closed")
    desk.goto(f"/grids/incidents/{code}/")
    desk.wait_for_selector("#incident-map[data-markers-drawn='1']")
    desk.wait_for_timeout(400)
    screenshot(desk, "grids-incident-desktop")
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert list(incident.events.values_list("action", flat=True)) == [
        "report", "accept", "dispatch", "handle", "feedback", "verify", "close"
    ]  # fmt: skip
    assert phone.js_errors == [] and desk.js_errors == []


def test_a_refused_report_brings_the_phone_back_to_the_field_in_error(phone_page, live_cast):
    """The submit button is at the bottom of a long form: after a refused submit the worker must see
    what is wrong, not a screen that did not change."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.fill("#id_description", "井盖丢失")
    page.click("#report-submit")  # no category chosen
    page.wait_for_selector("[data-errors-for='category'] li")
    assert page.evaluate("document.activeElement.id") == "id_category"
    assert page.get_attribute("#id_category", "aria-invalid") == "true"
    box = page.locator("[data-errors-for='category']").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # on screen
    assert page.input_value("#id_description") == "井盖丢失"
    assert not Incident.objects.exists()


def _handling(c) -> Incident:
    """An incident in grid A, dispatched to the police and being handled (its feedback is next)."""
    from grids import services
    from tests.grids.conftest import IN_GRID_A, PATHS, action_fields

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    incident = services.incident_report(
        actor=c.worker_a, category="sanitation", description="垃圾堆放", lat=IN_GRID_A[0], lng=IN_GRID_A[1]
    )
    for action in PATHS["handling"]:
        fields = action_fields(action, c)
        services.incident_transition(
            incident=incident, actor=c.admin, action=action, note=fields.pop("note", ""), **fields
        )
    return incident


def test_a_refused_feedback_on_a_phone_shows_the_error_and_keeps_the_text(phone_page, live_cast):
    """A department worker feeds back with a file that is not an image: the page must come back at
    the error, inside the feed-back form, with what was typed still there."""
    incident = _handling(live_cast)
    page = phone_page
    login(page, "department_user")
    page.goto(f"/grids/incidents/{incident.code}/")
    form = page.locator("form[data-action-form='feedback']")
    form.locator("textarea[name=resolution]").fill("已清理垃圾并消毒")
    form.locator("input[type=file]").set_input_files(
        files=[{"name": "a.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"}]
    )
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#act-error")
    # The focus is on the field the error names, which is described by it (read out with it).
    assert page.evaluate("document.activeElement.id") == "photos-fb"
    assert page.get_attribute("#photos-fb", "aria-invalid") == "true"
    assert page.get_attribute("#photos-fb", "aria-describedby") == "act-error"
    box = page.locator("#act-error").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # on screen
    assert (
        page.locator("form[data-action-form='feedback'] textarea[name=resolution]").input_value()
        == "已清理垃圾并消毒"
    )
    screenshot(page, "grids-feedback-refused-phone")
    incident.refresh_from_db()
    assert incident.status == "handling"


def test_a_step_sent_twice_by_a_double_tap_is_sent_once(phone_page, live_cast):
    """The second submit of a double tap was sent too: the first had moved the item on, and the page
    answered the second with a conflict (409) over a step that was done."""
    from grids import services
    from tests.grids.conftest import IN_GRID_A

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    c = live_cast
    incident = services.incident_report(
        actor=c.worker_a, category="sanitation", description="垃圾堆放", lat=IN_GRID_A[0], lng=IN_GRID_A[1]
    )
    page = phone_page
    login(page, "community_handler")
    page.goto(f"/grids/incidents/{incident.code}/")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # Both submits in one go; a listener on window (after the page's own) sees which were refused.
    refused = page.evaluate(
        """() => {
            const seen = [];
            window.addEventListener("submit", (e) => seen.push(e.defaultPrevented));
            const form = document.querySelector("form[data-action-form='accept']");
            form.requestSubmit();
            form.requestSubmit();
            return seen;
        }"""
    )
    assert refused == [False, True]
    page.wait_for_load_state()
    expect(page.locator(".messages, [role=status]").first).to_be_visible()
    assert len(posts) == 1
    assert Incident.objects.get(pk=incident.pk).events.filter(action="accept").count() == 1


def test_a_long_unbroken_word_does_not_widen_the_phone_pages(phone_page, live_cast):
    """A pasted link or serial number has no break point: one such word made the incident page
    tens of thousands of pixels wide on a phone (and My grid, and the timeline, too)."""
    from grids import services
    from tests.grids.conftest import IN_GRID_A

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    c = live_cast
    word = "https://example.gov.cn/" + "x" * 300

    def report():
        return services.incident_report(
            actor=c.worker_a, category="sanitation", description=word, lat=IN_GRID_A[0], lng=IN_GRID_A[1]
        )

    rejected, still_open = report(), report()
    services.incident_transition(incident=rejected, actor=c.community_handler, action="reject", note=word)
    page = phone_page
    login(page, "worker_a")
    for url in (f"/grids/incidents/{rejected.code}/", f"/grids/incidents/{still_open.code}/", "/grids/my/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url


def test_a_point_outside_every_grid_is_said_once_on_the_phone(phone_page, live_cast):
    """The error belongs to lat and lng alike; the page without JavaScript shows it once, the fetch
    path listed it twice, one under the other."""
    from tests.grids.conftest import OUTSIDE

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "井盖丢失")
    page.fill("#id_lat", str(OUTSIDE[0]))
    page.fill("#id_lng", str(OUTSIDE[1]))
    page.click("#report-submit")
    page.wait_for_selector("[data-errors-for='lat'] li")
    assert page.locator("[data-errors-for='lat'] li").count() == 1
    assert page.locator("[data-errors-for='lng'] li").count() == 0
    assert not Incident.objects.exists()


def test_a_report_sent_after_the_session_ended_says_to_sign_in_and_keeps_the_text(phone_page, live_cast):
    """A worker leaves the form open for hours; the session ends. The page said "the server had a
    problem, try again in a moment" (HTTP 200: the login page), which never helps."""
    from django.contrib.sessions.models import Session

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "路灯损坏")
    page.select_option("#id_grid", live_cast.grid_a.code)
    Session.objects.all().delete()  # the session ended on the server
    page.click("#report-submit")
    page.wait_for_selector("#report-login")
    status = page.inner_text("#report-status")
    assert "signed in" in status or "登录" in status, status
    assert page.input_value("#id_description") == "路灯损坏"
    assert not Incident.objects.exists()
    page.click("#report-login")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/grids/report/")
    assert page.input_value("#id_description") == "路灯损坏"  # the draft comes back
    page.click("#report-submit")
    page.wait_for_selector("#incident-number")
    assert Incident.objects.get().description == "路灯损坏"


def _report_with_a_point_chosen(page) -> tuple[int, int]:
    """worker_a's report form with a point chosen by tapping the map's centre: where it was tapped."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.wait_for_selector("#report-map[data-loaded='1']")
    box = page.locator("#report-map").bounding_box()
    x, y = round(box["x"] + box["width"] * 0.5), round(box["y"] + box["height"] * 0.5)
    page.mouse.click(x, y)
    page.wait_for_selector("#report-map[data-pin='1']")
    return x, y


def test_clearing_the_coordinates_takes_the_pin_off_the_map(phone_page, live_cast):
    """A worker who empties latitude and longitude (to choose the grid instead) still saw the pin, as
    if a place were set, and then read "give the location" on submitting."""
    page = phone_page
    _report_with_a_point_chosen(page)
    assert page.locator("#report-map .leaflet-marker-icon").count() == 1
    page.fill("#id_lat", "")
    page.fill("#id_lng", "")
    page.locator("#id_lng").dispatch_event("change")
    assert page.locator("#report-map .leaflet-marker-icon").count() == 0
    assert page.get_attribute("#report-map", "data-pin") is None
    page.fill("#id_lat", "31.805")  # typing a place back puts the pin back
    page.fill("#id_lng", "117.005")
    page.locator("#id_lng").dispatch_event("change")
    page.wait_for_selector("#report-map[data-pin='1']")
    assert page.js_errors == []


def test_the_report_pin_is_a_thumb_sized_box_on_the_point_that_drags_and_is_named(phone_page, live_cast):
    """The report form's pin was Leaflet's 25x41 image (narrower than the 44 px a thumb needs on a
    phone), with its tip on the point, named "pin" in English whatever the page's language."""
    from django.utils import translation

    page = phone_page
    x, y = _report_with_a_point_chosen(page)
    pin = page.locator("#report-map .leaflet-marker-icon")
    at = pin.bounding_box()
    assert (at["width"], at["height"]) == (44, 44)
    # centred on the point chosen (Leaflet places it on whole pixels of the map, which may not be)
    assert (round(at["x"] + 22), round(at["y"] + 22)) == (x, y)
    with translation.override("zh-hans"):
        name = translation.gettext(
            "The place of the report: drag it, tap the map, or move it with the arrow keys"
        )
    assert (pin.get_attribute("title"), pin.get_attribute("role"), pin.get_attribute("tabindex")) == (
        name,
        "button",
        "0",
    )
    chosen = (page.input_value("#id_lat"), page.input_value("#id_lng"))
    # dragged 60 px east, from off its centre (anywhere in the box): the point moves east, not north
    page.mouse.move(x + 15, y + 15)
    page.mouse.down()
    page.mouse.move(x + 45, y + 15, steps=5)
    page.mouse.move(x + 75, y + 15, steps=5)
    page.mouse.up()
    page.wait_for_function(f"document.getElementById('id_lng').value !== '{chosen[1]}'")
    east = float(page.input_value("#id_lng")) - float(chosen[1])
    north = float(page.input_value("#id_lat")) - float(chosen[0])
    assert east > 0 and abs(north) < east / 60  # less than the pixel Leaflet rounds the pin to
    moved = pin.bounding_box()
    assert (round(moved["x"] - at["x"]), round(moved["y"] - at["y"])) == (60, 0)

    # Without a pointer: the focused pin moves 10 px per arrow key, 50 with Shift, and neither the
    # page scrolls nor the map pans under it.
    dragged = [float(page.input_value(f)) for f in ("#id_lat", "#id_lng")]
    scrolled = page.evaluate("window.scrollY")
    pin.focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_function(f"document.getElementById('id_lat').value !== '{dragged[0]:.6f}'")
    assert float(page.input_value("#id_lat")) > dragged[0]
    assert float(page.input_value("#id_lng")) == dragged[1]
    page.keyboard.press("Shift+ArrowLeft")
    page.wait_for_function(f"document.getElementById('id_lng').value !== '{dragged[1]:.6f}'")
    assert float(page.input_value("#id_lng")) < dragged[1]
    keyed = pin.bounding_box()
    assert (round(keyed["x"] - moved["x"]), round(keyed["y"] - moved["y"])) == (-50, -10)
    assert page.evaluate("window.scrollY") == scrolled
    assert page.evaluate("document.activeElement.classList.contains('map-pin')")
    assert page.js_errors == []


def test_a_coordination_item_on_a_phone_lead_and_supporters_then_a_supporter_assists(phone_page, live_cast):
    """The centre ticks supporting departments (checkboxes, thumb-sized) beside the lead; the page then
    names both; a supporter's liaison records its part. Nothing is wider than the phone."""
    from governance.models import Role
    from grids import services
    from tests.base import make_user
    from tests.grids.conftest import IN_GRID_A

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    c = live_cast
    make_user("urban_user", Role.HANDLER, c.district_a, c.urban)
    incident = services.incident_report(
        actor=c.worker_a, category="sanitation", description="工地渣土占道，需城管与公安联合处置",
        lat=IN_GRID_A[0], lng=IN_GRID_A[1], kind="coordination",
    )  # fmt: skip
    services.incident_transition(incident=incident, actor=c.community_handler, action="accept")
    page = phone_page
    login(page, "community_handler")

    # The inbox row: the dispatch form with its checkboxes fits the phone.
    page.goto("/grids/inbox/")
    row = page.locator(f"#row-{incident.code}")
    assert row.locator("input[name=supporting_departments]").count() == 4
    assert row.locator("select[name=department]").input_value() == ""  # no lead until one is chosen
    assert row.locator("input[name=supporting_departments]:disabled").count() == 0
    lead = str(c.urban.pk)
    row.locator("select[name=department]").select_option(lead)  # the lead cannot support as well
    assert row.locator(f"input[name=supporting_departments][value='{lead}']").is_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "grids-coordination-inbox-phone")

    page.goto(f"/grids/incidents/{incident.code}/#act")
    form = page.locator("form[data-action-form='dispatch']")
    form.locator("select[name=department]").select_option(str(c.police.pk))
    assert form.locator(f"input[name=supporting_departments][value='{c.police.pk}']").is_disabled()
    assert form.locator(f"input[name=supporting_departments][value='{lead}']").is_enabled()
    for label in form.locator("label.grids-check").all():
        box = label.bounding_box()
        assert box and box["height"] >= 44, box  # the label is the thumb's target
    form.locator(f"input[name=supporting_departments][value='{c.urban.pk}']").check()
    form.locator(f"input[name=supporting_departments][value='{c.street_team.pk}']").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "grids-coordination-dispatch-phone")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#supporting-departments")
    assert page.locator("#lead-department").inner_text() == "公安分局"
    assert set(page.locator("#supporting-departments").inner_text().split("、")) == {"城市管理局", "城管中队"}

    # Leave the page first: the map's GeoJSON still in flight would bring the session cookie back.
    page.goto("about:blank")
    page.context.clear_cookies()
    login(page, "urban_user")
    page.goto(f"/grids/incidents/{incident.code}/")
    assist = page.locator("form[data-action-form='assist']")
    assist.locator("textarea[name=note]").fill("已派执法队员到场清运渣土")
    assist.locator("button[type=submit]").click()
    page.wait_for_selector(".timeline li:has-text('已派执法队员到场清运渣土')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "grids-coordination-assisted-phone")
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    assert incident.events.get(action="assist").department == c.urban


def test_a_location_outside_every_grid_is_said_at_once(phone_page, live_cast):
    """The phone's position is outside every grid of the worker's area: the page said "location
    found" and only the submit told otherwise. Moving the pin into the grid clears the warning."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 0.0, "longitude": 0.0})
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.wait_for_selector("#report-map[data-loaded='1']")
    page.click("#use-location")
    page.wait_for_selector("#geo-status.grids-alert-error")
    assert "不在您所辖区域的任何网格内" in page.inner_text("#geo-status")
    screenshot(page, "grids-report-outside-phone")
    page.fill("#id_lat", "31.805")
    page.fill("#id_lng", "117.005")
    page.locator("#id_lng").dispatch_event("change")
    page.wait_for_selector("#geo-status:not(.grids-alert-error)")
    assert page.inner_text("#geo-status") == f"标记位于{live_cast.grid_a.name}。"
    assert not Incident.objects.exists()  # checking the point saves nothing


def test_a_typed_point_off_the_earth_is_said_and_not_drawn(phone_page, live_cast):
    """A longitude typed with a digit too many (1169.12): the server's 400 was ignored, so "the pin
    is in grid A" about the last good point stayed on screen, and the map panned off the world."""
    page = phone_page
    _report_with_a_point_chosen(page)
    page.wait_for_selector(f"#geo-status:has-text('{live_cast.grid_a.name}')")
    before = page.evaluate("document.querySelector('#report-map .leaflet-marker-icon').style.transform")
    page.fill("#id_lng", "1169.12")
    page.locator("#id_lng").dispatch_event("change")
    page.wait_for_selector("#geo-status.grids-alert-error")
    status = page.inner_text("#geo-status")
    assert "经度" in status and live_cast.grid_a.name not in status
    after = page.evaluate("document.querySelector('#report-map .leaflet-marker-icon').style.transform")
    assert after == before  # the pin stays on the last good point
    page.fill("#id_lng", "117.005")  # put right, the grid is said again
    page.locator("#id_lng").dispatch_event("change")
    page.wait_for_selector("#geo-status:not(.grids-alert-error)")
    assert live_cast.grid_a.name in page.inner_text("#geo-status")
    assert page.js_errors == []


def test_after_a_step_in_the_inbox_the_focus_stays_in_the_row(desktop_page, live_cast):
    """The row htmx swaps in replaced the button that had the focus, which fell back to <body>: a
    keyboard or screen-reader user was thrown to the top of the page. The focus now goes to the row's
    result message (read out), whether the step was done or refused, and Tab goes on inside the row."""
    from grids import services
    from tests.browser.test_phone_lists import _reported_incident

    c = live_cast
    done, refused = _reported_incident(c), _reported_incident(c)
    page = desktop_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    row = f"#row-{done.code}"
    page.focus(f"{row} button[data-action=accept]")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"{row} .status-accepted")
    expect(page.locator(f"{row} .grids-row-msg.ok")).to_be_focused()  # moved once htmx has settled
    page.keyboard.press("Tab")  # on to the row's next control, not the page's first link
    assert page.evaluate(f"document.activeElement.closest('{row}') !== null")

    # Someone else accepted the other item meanwhile: the refusal takes the focus, in its row.
    services.incident_transition(incident=refused, actor=c.street_handler, action="accept")
    row = f"#row-{refused.code}"
    page.focus(f"{row} button[data-action=accept]")
    page.keyboard.press("Enter")
    expect(page.locator(f"{row} .grids-row-msg.error")).to_be_focused()
    assert page.js_errors == []


def test_a_double_tap_on_an_inbox_step_sends_it_once(desktop_page, live_cast):
    """The inbox's forms are sent by htmx, not by the page-wide guard (app.js): htmx queues a second
    tap behind the first and drops it when the first answer replaces the row, so the step goes once
    and the row shows it done, never a conflict (409) over the step it had just done."""
    from tests.browser.test_phone_lists import _reported_incident

    incident = _reported_incident(live_cast)
    page = desktop_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    row = f"#row-{incident.code}"
    page.evaluate(
        f"""() => {{
            const form = document.querySelector("{row} button[data-action=accept]").form;
            form.requestSubmit();
            form.requestSubmit();
        }}"""
    )
    expect(page.locator(f"{row} .grids-row-msg.ok")).to_be_visible()
    page.wait_for_timeout(300)  # time for a queued second request to go out, were there one
    assert len(posts) == 1 and page.locator(f"{row} .grids-row-msg.error").count() == 0
    assert Incident.objects.get(pk=incident.pk).events.filter(action="accept").count() == 1
    assert page.js_errors == []


def test_a_refused_report_marks_each_field_in_error_and_points_it_at_its_message(phone_page, live_cast):
    """The script's answer marked only the first field in error (aria-invalid) and described none: a
    screen reader on any other field heard no error. Each field in error now names its message, and a
    field put right is unmarked on the next try."""
    from tests.grids.conftest import OUTSIDE

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.fill("#id_lat", str(OUTSIDE[0]))
    page.fill("#id_lng", str(OUTSIDE[1]))
    page.click("#report-submit")  # no category, no description
    page.wait_for_selector("[data-errors-for='category'] li")

    def described() -> dict[str, str]:
        return page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('#report-form [aria-invalid=true]')]
              .map(el => [el.name, (el.getAttribute('aria-describedby') || '').split(' ')
                .map(id => document.getElementById(id)).filter(Boolean)
                .map(ul => ul.innerText.trim()).filter(Boolean).join(' ')]))"""
        )

    errors = described()
    # The place is checked with the rest, in the one answer (it came only once the form was complete).
    assert set(errors) == {"category", "description", "lat", "lng"} and all(errors.values()), errors
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "井盖丢失")
    page.click("#report-submit")
    page.wait_for_selector("[data-errors-for='category'] li", state="detached")
    errors = described()
    assert set(errors) == {"lat", "lng"}, errors
    assert errors["lat"] == errors["lng"] == page.inner_text("[data-errors-for='lat']").strip() != ""
    assert page.get_attribute("#id_category", "aria-describedby") is None
    assert not Incident.objects.exists()
    # Chromium logs the refusals' 400s and the 404 of the locate check of a point outside every grid.
    assert [e for e in page.js_errors if "(Bad Request)" not in e and "(Not Found)" not in e] == []


@pytest.mark.parametrize(
    "viewport, locale",
    [(PHONE, "zh-CN"), (DESKTOP, "zh-CN"), ({"width": 320, "height": 640}, "en-US")],
    ids=["phone", "desktop", "small-phone-en"],
)
def test_the_incident_map_shows_the_whole_grid_outline_around_the_pin(
    browser, live_server, live_cast, viewport, locale
):
    """The map was set to zoom 17 on the pin, closer than the grid: its outline lay outside the view
    and was never seen. The map is fitted to the grid's outline (and the pin). On a small phone the
    grid's code broke inside the number ("34010200100 / 1001"); it stays whole without pushing the
    page sideways (the labels beside it wrap instead)."""
    from tests.browser.conftest import _new_page
    from tests.browser.test_phone_lists import _reported_incident

    incident = _reported_incident(live_cast)
    context, page = _new_page(browser, live_server, viewport, locale=locale)
    try:
        login(page, "worker_a")
        page.goto(f"/grids/incidents/{incident.code}/")
        page.wait_for_selector("#incident-map[data-markers-drawn='1']")
        page.wait_for_timeout(400)  # Leaflet's zoom animation, if any
        outline = page.locator("#incident-map path.leaflet-interactive")
        assert outline.count() == 1
        box, frame = outline.bounding_box(), page.locator("#incident-map").bounding_box()
        # The whole outline inside the map, and not a speck: it spans most of the map's width or height.
        assert box["x"] >= frame["x"] and box["y"] >= frame["y"], (box, frame)
        assert box["x"] + box["width"] <= frame["x"] + frame["width"], (box, frame)
        assert box["y"] + box["height"] <= frame["y"] + frame["height"], (box, frame)
        assert box["width"] >= frame["width"] / 2 or box["height"] >= frame["height"] / 2, (box, frame)
        pin = page.locator("#incident-map .map-pin").bounding_box()
        centre = (pin["x"] + pin["width"] / 2, pin["y"] + pin["height"] / 2)
        assert (
            box["x"] <= centre[0] <= box["x"] + box["width"]
            and box["y"] <= centre[1] <= box["y"] + box["height"]
        )
        areas_clear_of_map_controls(page, "#incident-map")
        # The grid's code on one line, whole.
        code = page.locator(".grids-facts .grid-code")
        assert code.inner_text() == live_cast.grid_a.code
        assert code.evaluate("el => el.getClientRects().length") == 1
        screenshot(page, f"grids-incident-map-{viewport['width']}-{locale}")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        assert page.js_errors == []
    finally:
        context.close()


def test_a_report_whose_answer_was_lost_is_saved_once_when_sent_again(phone_page, live_cast):
    """On a weak network the report reaches the server but its answer never comes back: the page says
    "not sent" and the worker sends it again, even after opening the page anew (the draft brings the
    text back). It was saved twice."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    sent = []

    def lose_the_answer(route):
        if route.request.method == "POST" and not sent:
            sent.append(route.fetch().status)  # saved on the server ...
            route.abort()  # ... and the answer lost on the way back
        else:
            route.continue_()

    page.route("**/grids/report/", lose_the_answer)
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "路灯不亮")
    page.fill("#id_lat", "31.805")
    page.fill("#id_lng", "117.005")
    page.click("#report-submit")
    page.wait_for_selector("#report-status.grids-alert-error")
    assert sent == [201] and Incident.objects.count() == 1
    page.js_errors.clear()  # the aborted request is logged as a console error by design
    page.reload()
    assert page.input_value("#id_description") == "路灯不亮"  # the draft
    page.click("#report-submit")
    page.wait_for_selector("#incident-number")
    assert Incident.objects.count() == 1
    assert page.inner_text("#incident-number") == Incident.objects.get().code


def test_the_departments_record_picker_shows_the_month_of_the_page(desktop_page, live_cast):
    """Reached from the inbox's link (no month in the address), the record was the current month's
    and the picker stood empty; opened for a month, the picker shows it."""
    from django.utils import timezone

    page = desktop_page
    login(page, "district_officer")
    page.goto("/grids/inbox/")
    page.click("#departments-link")
    page.wait_for_url("**/grids/departments/")
    current = timezone.localdate().strftime("%Y-%m")
    assert page.input_value("#id_month") == current
    page.goto("/grids/departments/?month=2026-10")
    assert page.input_value("#id_month") == "2026-10"
    assert page.locator("h1 .status").inner_text() == "2026-10"
    screenshot(page, "grids-departments-month")
    assert page.js_errors == []


def _type_on_the_spot_report(page, grid_code: str, description: str, resolution: str) -> None:
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", description)
    page.select_option("#id_grid", grid_code)
    page.select_option("#id_kind", "on_the_spot")
    page.fill("#id_resolution", resolution)


def _choose_a_photo(page) -> None:
    page.set_input_files(
        "#id_photos", files=[{"name": "done.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((320, 240))}]
    )


def test_a_draft_of_an_item_resolved_on_the_spot_comes_back_resolved_on_the_spot(phone_page, live_cast):
    """The draft kept every field but the kind: a select always has a value, and only empty fields
    were filled back. An item resolved on the spot came back as a promised one with what was done
    typed but hidden, and sending it asked a centre to accept what was already settled."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    _type_on_the_spot_report(page, live_cast.grid_a.code, "路灯不亮", "已更换灯泡")
    page.reload()  # the phone dropped the page (a call, the camera, a dead battery)
    assert page.input_value("#id_description") == "路灯不亮"
    assert page.input_value("#id_kind") == "on_the_spot"
    assert page.is_visible("#id_resolution") and page.input_value("#id_resolution") == "已更换灯泡"
    _choose_a_photo(page)
    page.click("#report-submit")
    page.wait_for_selector("#incident-number")
    incident = Incident.objects.get()
    assert (incident.kind, incident.status, incident.resolution) == ("on_the_spot", "closed", "已更换灯泡")
    page.goto("/grids/report/")  # a new form starts at the page's own choices again
    assert page.input_value("#id_kind") == "promised" and not page.is_visible("#id_resolution")
    assert page.js_errors == []


def test_tapping_a_photo_on_a_phone_shows_it_and_saves_nothing(phone_page, live_cast):
    """The thumbnails link to the photo, which was served as an attachment: a tap on a phone saved it
    into the phone's downloads (faces, plates, doorways, left for the next user of a shared phone) and
    showed nothing. It opens as a picture now, in a sandbox (an opaque origin, not ours): its display
    copy of 640 px, not the whole photo, which is linked apart ("Original photos")."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grids import services
    from grids.models import IncidentCategory

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    incident = services.incident_report(
        actor=live_cast.worker_a,
        category=IncidentCategory.objects.get(code="sanitation"),
        description="楼道堆放杂物",
        grid=live_cast.grid_a.code,
        photos=[SimpleUploadedFile("scene.jpg", jpeg_bytes((2000, 1500)), content_type="image/jpeg")],
    )
    page = phone_page
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    login(page, "worker_a")
    page.goto(f"/grids/incidents/{incident.code}/")
    # The page shows the thumbnail, a square filling a third of the phone's row, sized before it loads.
    thumb = page.locator(".grids-photos img")
    assert thumb.get_attribute("src").endswith("/small/")
    assert (thumb.get_attribute("width"), thumb.get_attribute("height")) == ("320", "240")
    box = thumb.bounding_box()
    assert box and box["width"] == box["height"] and box["width"] >= 96, box
    page.click(".grids-photos a")
    page.wait_for_url("**/grids/photos/*/display/")
    page.wait_for_function("() => document.images.length === 1 && document.images[0].complete")
    assert page.evaluate("() => [document.images[0].naturalWidth, document.images[0].naturalHeight]") == [
        640,
        480,
    ]
    assert page.evaluate("() => window.origin") == "null"  # sandboxed: not the site's origin
    screenshot(page, "grids-photo-phone")
    page.go_back()
    page.wait_for_url(f"**/grids/incidents/{incident.code}/")
    page.click(".grids-photo-originals a")  # the photo itself, whole
    page.wait_for_url("**/grids/photos/*/")
    page.wait_for_function("() => document.images.length === 1 && document.images[0].complete")
    assert page.evaluate("() => document.images[0].naturalWidth") == 2000
    assert downloads == []
    page.go_back()
    page.wait_for_url(f"**/grids/incidents/{incident.code}/")
    assert page.js_errors == []


def test_a_name_with_markup_is_shown_as_text_in_the_map_tooltip(desktop_page, live_cast):
    # Leaflet put a tooltip string into the page as HTML: an area name typed in the admin became a
    # link (or an image with a handler, which only the CSP stopped) on every map.
    grid = live_cast.grid_a
    grid.name = "<b id=pwn>A</b><img id=pwnimg src=/nope>"
    grid.save()
    page = desktop_page
    login(page, "worker_a")
    page.goto("/grids/my/")
    page.wait_for_selector("#my-grid-map[data-loaded='1']")
    page.locator("#my-grid-map path.leaflet-interactive").first.hover()
    tooltip = page.wait_for_selector(".leaflet-tooltip")
    assert "<b id=pwn>A</b>" in tooltip.text_content()
    assert page.locator(".leaflet-tooltip #pwn, .leaflet-tooltip #pwnimg").count() == 0


def test_a_refused_report_keeps_the_privacy_warning_of_the_description(phone_page, live_cast):
    """The description is described by its privacy warning (no residents' names). The script's answer
    to a refused report replaced that with the error's id, and the next answer removed both: once
    put right, the field no longer gave the warning. The script now adds and removes only the error,
    as the page rendered by the server has it (the warning, then the error)."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.wait_for_selector("#report-map[data-loaded='1']")
    assert page.get_attribute("#id_description", "aria-describedby") == "id_description_helptext"
    page.click("#report-submit")  # nothing typed: the description is refused with the rest
    page.wait_for_selector("[data-errors-for='description'] li")
    assert page.get_attribute("#id_description", "aria-invalid") == "true"
    assert (
        page.get_attribute("#id_description", "aria-describedby")
        == "id_description_helptext id_description_error"
    )
    page.fill("#id_description", "井盖丢失")
    page.click("#report-submit")  # still no category: refused again, the description now right
    page.wait_for_selector("[data-errors-for='description'] li", state="detached")
    page.wait_for_selector("[data-errors-for='category'] li")
    assert page.get_attribute("#id_description", "aria-invalid") is None
    assert page.get_attribute("#id_description", "aria-describedby") == "id_description_helptext"
    assert page.get_attribute("#id_category", "aria-describedby") == "id_category_error"
    assert [e for e in page.js_errors if "(Bad Request)" not in e] == []


def test_photos_over_the_request_limit_say_so_and_keep_the_text(phone_page, live_cast, settings, tmp_path):
    """A report with many phone photos over the request limit (413) said "the server had a problem,
    try again in a moment", which never helps: it says the photos are too large together."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # the live server runs in this process
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * (1536 * 1024))
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "垃圾堆积")
    page.select_option("#id_grid", live_cast.grid_a.code)
    page.set_input_files("#id_photos", [str(big)])
    page.click("#report-submit")
    # Through the selector engine: a string for wait_for_function is evaluated with eval, which the
    # page's policy (script-src 'self') refuses whenever the first look does not find it already.
    page.wait_for_selector("#report-status:has-text('照片合计过大')")
    status = page.inner_text("#report-status")  # the phone reads Chinese
    assert "请减少照片数量或改用较小的照片" in status and "请求内容超过 1 MB" in status, status
    assert "服务器出现问题" not in status
    assert page.input_value("#id_description") == "垃圾堆积"
    assert not Incident.objects.exists()


GOOD_PHOTO = {"name": "p.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}


def _choose_refused_photos(page, field: str, error_items: str):
    """Choose seven photos, one of them over 10 MB and one a HEIC from the gallery, in ``field``; check
    that the three problems are said in ``error_items`` at once and the field is marked invalid."""
    page.set_input_files(
        field,
        [{**GOOD_PHOTO, "name": f"p{i}.jpg"} for i in range(5)]
        + [{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8" + b"\0" * (10 * 1024 * 1024)}]
        + [{"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": b"\0" * 64}],
    )
    errors = page.locator(error_items)
    expect(errors).to_have_count(3)
    texts = errors.all_inner_texts()  # the phone reads Chinese
    assert "选择了 7 张照片" in texts[0] and "最多 6 张" in texts[0], texts
    assert texts[1].startswith("big.jpg 超过 10 MB") and texts[2].startswith("IMG_0001.HEIC 不是"), texts
    assert page.get_attribute(field, "aria-invalid") == "true"
    return errors


def test_photos_the_server_would_refuse_are_said_when_chosen_and_nothing_is_sent(phone_page, live_cast):
    """A worker who picked seven photos, or one of 12 MB, or a HEIC picture from the gallery, learned it
    only after the whole report had gone up over mobile data (up to 80 MB) and come back refused."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    login(page, "worker_a")
    posts.clear()
    page.goto("/grids/report/")
    assert page.get_attribute("#id_photos", "data-max-count") == "6"
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "垃圾堆积")
    page.select_option("#id_grid", live_cast.grid_a.code)
    errors = _choose_refused_photos(page, "#id_photos", "#id_photos_error li")
    assert "id_photos_error" in page.get_attribute("#id_photos", "aria-describedby")
    page.click("#report-submit")
    expect(page.locator("#report-status")).to_contain_text("未发送")
    assert page.evaluate("document.activeElement.id") == "id_photos"
    assert posts == [] and not Incident.objects.exists()
    assert page.input_value("#id_description") == "垃圾堆积"
    # Chosen again, within the limits: the errors go and the report is sent.
    page.set_input_files("#id_photos", [GOOD_PHOTO])
    expect(errors).to_have_count(0)
    assert page.get_attribute("#id_photos", "aria-invalid") is None
    page.click("#report-submit")
    page.wait_for_url("**/done/")
    assert Incident.objects.get().photos.count() == 1


def test_feedback_photos_the_server_would_refuse_are_said_when_chosen_and_nothing_is_sent(
    phone_page, live_cast
):
    """The report page said at once that seven photos, one of 12 MB or a HEIC from the gallery would
    be refused; a department's feedback, with the same limits, sent them all over mobile data first.
    Both pages use one check (static/grids/photo_check.js)."""
    incident = _handling(live_cast)
    page = phone_page
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    login(page, "department_user")
    posts.clear()
    page.goto(f"/grids/incidents/{incident.code}/")
    form = page.locator("form[data-action-form='feedback']")
    form.locator("textarea[name=resolution]").fill("已清理垃圾并消毒")
    assert page.get_attribute("#photos-fb", "data-max-count") == "6"
    errors = _choose_refused_photos(page, "#photos-fb", "#photos-fb-check li")
    assert page.get_attribute("#photos-fb", "aria-describedby") == "photos-fb-check"
    form.locator("button[type=submit]").click()
    assert page.evaluate("document.activeElement.id") == "photos-fb"
    box = page.locator("#photos-fb-check").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # on screen
    assert posts == []
    incident.refresh_from_db()
    assert incident.status == "handling"
    screenshot(page, "grids-feedback-photos-refused-phone")
    # Chosen again, within the limits: the errors go and the feedback is sent with its photo.
    page.set_input_files("#photos-fb", [GOOD_PHOTO])
    expect(errors).to_have_count(0)
    assert page.get_attribute("#photos-fb", "aria-invalid") is None
    assert page.get_attribute("#photos-fb", "aria-describedby") is None
    form.locator("button[type=submit]").click()
    page.wait_for_selector("ul.messages")
    incident.refresh_from_db()
    assert incident.status == "fed_back" and incident.photos.count() == 1
    assert page.js_errors == []


def test_the_report_says_an_empty_time_is_now_and_offers_no_saved_address(phone_page, live_cast):
    """The time it happened is optional and an empty one is the time of the report, which the page
    did not say (workers typed the time they were standing there); the incident's address offered the
    phone's saved addresses (the worker's own home) to fill it."""
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    assert page.get_attribute("#id_address", "autocomplete") == "off"
    assert "id_occurred_at_helptext" in page.get_attribute("#id_occurred_at", "aria-describedby")
    assert "留空" in page.inner_text("#id_occurred_at_helptext")  # the phone reads Chinese
    assert page.js_errors == []


DRAFT = "grids-report-draft-{}"


def _tab_draft(page, user) -> dict | None:
    """The report draft this tab keeps for ``user`` (sessionStorage), and that nothing is left in
    localStorage, which outlives the tab (the text may name residents)."""
    key = DRAFT.format(user.pk)
    assert page.evaluate("k => localStorage.getItem(k)", key) is None
    return page.evaluate("k => JSON.parse(sessionStorage.getItem(k))", key)


def test_a_report_typed_after_the_session_ended_comes_back_after_signing_in(phone_page, live_cast):
    """A worker fills in the report on a phone after the session ended (left open overnight, or the
    browser dropped the cookie): sent, it went to the login page and everything typed was lost. The
    tab keeps a draft; signed in again, the report page fills it back in and says so, photos apart."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    assert not page.is_visible("#draft-note")
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "5号楼门口井盖松动")
    page.fill("#id_lat", "31.805")
    page.fill("#id_lng", "117.005")
    page.fill("#id_address", "幸福路5号")
    page.set_input_files(
        "#id_photos", files=[{"name": "lid.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes((320, 240))}]
    )
    assert _tab_draft(page, live_cast.worker_a)["description"] == "5号楼门口井盖松动"
    # The pin's grid lookup may still be under way: its answer would set the session cookie again
    # (SESSION_SAVE_EVERY_REQUEST) after it was dropped, and the login link would lead straight back.
    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()  # the browser dropped the session
    page.js_errors.clear()
    page.click("#report-submit")
    page.wait_for_selector("#report-login")
    assert not Incident.objects.exists()
    page.js_errors.clear()  # the refused POST (403) is logged as a console error
    page.click("#report-login")
    page.wait_for_url("**/accounts/login/**")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/grids/report/")
    assert page.input_value("#id_category") == "sanitation"
    assert page.input_value("#id_description") == "5号楼门口井盖松动"
    assert (page.input_value("#id_lat"), page.input_value("#id_lng")) == ("31.805", "117.005")
    assert page.input_value("#id_address") == "幸福路5号"
    page.wait_for_selector("#report-map[data-pin='1']")  # the pin is back where it was
    note = page.locator("#draft-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("已恢复未提交的草稿")
    expect(page.locator("#draft-photos")).to_be_visible()  # photos must be chosen again
    expect(page.locator("#draft-discard")).to_be_visible()
    screenshot(page, "grids-report-draft-restored-phone")
    page.click("#report-submit")
    page.wait_for_selector("#incident-number")
    assert Incident.objects.get().description == "5号楼门口井盖松动"
    assert _tab_draft(page, live_cast.worker_a) is None  # a saved report leaves no draft
    page.goto("/grids/report/")
    assert page.input_value("#id_description") == "" and not page.is_visible("#draft-note")
    assert page.js_errors == []


def test_discarding_the_restored_draft_empties_the_form_and_forgets_it(phone_page, live_cast):
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    first_key = page.input_value("#id_submission")
    page.select_option("#id_category", "sanitation")
    page.fill("#id_description", "路灯不亮")
    page.fill("#id_lat", "31.805")
    page.fill("#id_lng", "117.005")
    page.reload()
    page.wait_for_selector("#report-map[data-pin='1']")
    expect(page.locator("#draft-note")).to_be_visible()
    assert not page.is_visible("#draft-photos")  # no photo had been chosen
    assert page.input_value("#id_submission") == first_key  # the same report if sent
    page.click("#draft-discard")
    expect(page.locator("#draft-note")).to_be_hidden()
    assert page.input_value("#id_description") == "" and page.input_value("#id_lat") == ""
    assert page.input_value("#id_category") == ""
    assert page.locator("#report-map[data-pin='1']").count() == 0  # the pin went with its point
    # A new report, not the discarded one under its key (the server would take it for a resend).
    assert page.input_value("#id_submission") != first_key
    assert _tab_draft(page, live_cast.worker_a) is None
    page.reload()
    assert page.input_value("#id_description") == "" and not page.is_visible("#draft-note")
    assert page.js_errors == []


def test_logging_out_forgets_the_draft_and_a_confirmation_clears_only_its_own(phone_page, live_cast):
    """Logging out ends what the tab kept for the user. The confirmation page clears the draft of the
    report it confirms (a report sent without fetch lands there), never a newer draft."""
    from grids import services
    from grids.models import IncidentCategory

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.fill("#id_description", "楼道灯坏")
    assert _tab_draft(page, live_cast.worker_a)["description"] == "楼道灯坏"
    page.click("#nav-toggle")  # the phone's menu
    page.click("nav form button.link")  # log out
    page.wait_for_url("**/accounts/login/**")
    assert _tab_draft(page, live_cast.worker_a) is None
    login(page, "worker_a")
    page.goto("/grids/report/")
    assert page.input_value("#id_description") == "" and not page.is_visible("#draft-note")

    key = "4f9c1d2e-8a6b-4c3d-9e0f-1a2b3c4d5e6f"
    incident = services.incident_report(
        actor=live_cast.worker_a,
        category=IncidentCategory.objects.get(code="sanitation"),
        description="楼道堆放杂物",
        grid=live_cast.grid_a.code,
        submission=key,
    )
    draft_key = DRAFT.format(live_cast.worker_a.pk)
    store = "([k, s]) => sessionStorage.setItem(k, JSON.stringify({description: 'x', submission: s}))"
    page.evaluate(store, [draft_key, "0c0c0c0c-0000-4000-8000-000000000000"])
    page.goto(f"/grids/report/{incident.code}/done/")
    assert _tab_draft(page, live_cast.worker_a)["description"] == "x"  # another report's draft stays
    page.evaluate(store, [draft_key, key])
    page.goto(f"/grids/report/{incident.code}/done/")
    page.wait_for_load_state("load")
    assert _tab_draft(page, live_cast.worker_a) is None
    assert page.js_errors == []


def test_back_after_a_saved_report_shows_an_empty_form_not_the_report_again(phone_page, live_cast):
    """Back from the confirmation, the browser filled the form it drew anew (with a new key) with the
    report just saved: its text, "resolved on the spot" chosen but the resolution hidden. Sent again,
    as it looked unsent, it was saved a second time."""
    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    _type_on_the_spot_report(page, live_cast.grid_a.code, "垃圾桶满溢", "已清运")
    _choose_a_photo(page)
    page.click("#report-submit")
    page.wait_for_selector("#incident-number")
    page.go_back()
    page.wait_for_selector("#report-form")
    page.wait_for_load_state("load")
    assert page.input_value("#id_description") == ""
    assert page.input_value("#id_resolution") == ""
    assert page.input_value("#id_kind") == "promised" and not page.is_visible("#id_resolution")
    assert page.is_hidden("#draft-note")
    assert Incident.objects.count() == 1
    assert page.js_errors == []


def test_a_refused_location_says_so_and_points_the_worker_at_the_grid_select(phone_page, live_cast):
    """With location refused for the site (or no fix), the page said "could not get your location:
    tap the map or type latitude and longitude": a refusal the worker can undo was not named, and the
    map without tiles (offline intranet) is a blank box, while the grid select below needs no point."""
    page = phone_page
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.click("#use-location")  # no geolocation permission granted: the browser refuses
    expect(page.locator("#geo-status")).to_contain_text("位置权限")
    expect(page.locator("#geo-status")).to_contain_text("选择所属网格")
    assert page.js_errors == []


# Tooltips open where the reader taps: with Leaflet's "auto" side, a grid whose middle lies right of
# the map's put its name to the left, wider than the space there, and the phone cut off its first
# characters at the map's edge (a demo walk: "花社区1第1网格 …" for 桂花社区1第1网格).
TOOLTIPS_INSIDE_JS = """el => new Promise(done => GovMap.ready(el, (map, layer) => {
  const box = el.getBoundingClientRect(), out = [];
  layer.eachLayer(l => {
    l.openTooltip();
    const t = l.getTooltip().getElement().getBoundingClientRect();
    if (t.left < box.left - 0.5 || t.right > box.right + 0.5 || t.top < box.top - 0.5 || t.bottom > box.bottom + 0.5)
      out.push(`${l.getTooltip().getElement().textContent}: ${Math.round(t.left)}..${Math.round(t.right)} `
               + `in ${Math.round(box.left)}..${Math.round(box.right)}`);
    l.closeTooltip();
  });
  done(out);
}))"""


def test_an_areas_label_on_a_phone_map_stays_inside_the_map(phone_page, live_cast):
    page = phone_page
    live_cast.grid_a.name = "春晖社区第一居民小组网格"  # a name as long as real ones get
    live_cast.grid_a.save(update_fields=["name"])
    login(page, "worker_a")
    page.goto("/grids/report/")
    page.wait_for_selector("#report-map[data-loaded='1']")
    assert page.eval_on_selector("#report-map", TOOLTIPS_INSIDE_JS) == []
    page.context.clear_cookies()
    login(page, "community_handler")
    page.goto("/")
    page.wait_for_selector("[data-map][data-loaded]:not([data-loaded='0'])")
    assert page.eval_on_selector("[data-map]", TOOLTIPS_INSIDE_JS) == []


@pytest.mark.parametrize("viewport", ["phone_page", "desktop_page"])
def test_a_superuser_without_a_role_gets_the_report_map_with_no_failed_request(request, viewport, live_cast):
    # Its map asked the areas API for ?code=- (400 "Unknown area code -.") and drew nothing.
    page = request.getfixturevalue(viewport)
    refused = []
    page.on("response", lambda r: refused.append(r.url) if r.status >= 400 else None)
    login(page, "admin")
    page.goto("/grids/report/")
    page.wait_for_selector("#report-map[data-loaded='1']")
    assert page.locator("#report-map path[aria-label]").count() == 1
    assert refused == []
    screenshot(page, f"report-map-superuser-{viewport}")


def test_without_scripts_the_report_page_offers_no_location_button(browser, live_server, live_cast):
    """ "使用我的位置" did nothing without scripts, under a hint to tap the map: the page now says to type
    the coordinates or choose the grid; with scripts the button and its hint are there as before."""
    context, page = _new_page(browser, live_server, PHONE, java_script_enabled=False)
    try:
        login(page, "worker_a")
        page.goto("/grids/report/")
        assert not page.locator("#use-location").is_visible()
        assert not page.locator("#geo-status").is_visible()
        expect(page.locator("#report-form")).to_contain_text("请填写纬度和经度，或在下方选择所属网格。")
    finally:
        context.close()
    context, page = _new_page(browser, live_server, PHONE)
    try:
        login(page, "worker_a")
        page.goto("/grids/report/")
        expect(page.locator("#use-location")).to_be_visible()
        expect(page.locator("#geo-status")).to_be_visible()
        assert "请填写纬度和经度" not in page.inner_text("#report-form")
    finally:
        context.close()


def test_a_phones_links_that_stand_alone_under_a_list_are_thumb_sized(phone_page, live_cast):
    """ "我上报的全部已办结事件" under "My grid"'s finished reports and "部门办理情况" above a street
    centre's inbox were the 19 px of their text on a phone, each a paragraph of its own."""
    from grids import services

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    incident = services.incident_report(
        actor=live_cast.worker_a, category="sanitation", description="垃圾堆放", lat=31.8052, lng=117.0047
    )
    services.incident_transition(incident=incident, actor=live_cast.admin, action="reject", note="重复")
    page = phone_page
    for user, url, link in [
        ("worker_a", "/grids/my/", "a[href$='?mine=true&open=false']"),
        ("street_handler", "/grids/inbox/", "#departments-link"),
    ]:
        # Leave the page first: the map's GeoJSON still in flight would bring the session cookie back.
        page.goto("about:blank")
        _switch_user(page, user)
        page.goto(url)
        box = page.locator(link).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (url, box)
