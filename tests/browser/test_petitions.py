"""A petition in a real browser: an officer registers a visit with two petitioners at the reception
desk (keyboard order) and routes it; the department accepts and replies; the petitioner's evaluation
is recorded; a review is requested and decided."""

from __future__ import annotations

import contextlib

import pytest

from petitions.models import Petition
from tests.browser.conftest import facts_keep_their_width, login, screenshot
from tests.petitions.conftest import ID_1, ID_2

pytestmark = pytest.mark.browser


def _switch_user(page, username: str) -> None:
    page.context.clear_cookies()
    login(page, username)


def _accepted(cast) -> Petition:
    """A visit about community A1a, routed to the police and accepted there."""
    from petitions import services

    petition = services.petition_register(
        actor=cast.petition_officer,
        channel="visit",
        category="urban",
        content="小区旁工地夜间施工噪音扰民。",
        area=cast.community_a1a,
        petitioners=[{"name": "王建国", "id_number": ID_1}],
    )
    petition.transition(action="assign", actor=cast.petition_officer, department=cast.police.pk)
    petition.transition(action="accept", actor=cast.department_user)
    return petition


def _act(page, action: str, fill=None) -> None:
    details = page.locator(f"#action-{action}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    if fill:
        fill(details)
    details.locator("button[type=submit]").click()
    page.wait_for_load_state("load")


def test_an_officer_registers_a_visit_routes_it_and_the_review_chain_runs(desktop_page, live_cast):
    page, c = desktop_page, live_cast

    # --- reception desk: the officer types the visit, mostly from the keyboard ---------------------
    login(page, "petition_officer")
    page.goto("/petitions/new/")
    assert page.evaluate("document.activeElement.id") == "id_p0_name"
    page.keyboard.type("王建国")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_p0_id_number"
    page.keyboard.type(ID_1)
    page.keyboard.press("Tab")
    page.keyboard.type("13812345678")
    page.keyboard.press("Tab")
    page.keyboard.type("甲区春晖路12号")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "id_p1_name"
    page.keyboard.type("刘秀英")
    page.keyboard.press("Tab")
    page.keyboard.type(ID_2)
    page.fill("#id_persons_count", "2")
    page.select_option("#id_category", "urban")
    page.select_option("#id_area", c.community_a1a.code)
    page.select_option("#id_handling_type", "claim")  # nothing preselected: the officer chooses
    page.fill("#id_content", "小区旁工地夜间施工噪音扰民，多次反映未解决。")
    page.select_option("#id_complained_unit", str(c.urban.pk))
    page.wait_for_timeout(300)  # the HTMX repeat check answers (nothing earlier: no warning)
    assert page.locator("#repeat-matches").count() == 0
    screenshot(page, "petitions-intake-desk")
    page.click("#register-button")
    page.wait_for_url("**/petitions/PET-*/")
    petition = Petition.objects.get()
    assert petition.channel == "visit" and petition.petitioners.count() == 2
    assert "王**" in page.inner_text("body") and "王建国" not in page.inner_text("body")

    # --- route it to the police bureau -------------------------------------------------------------
    _act(page, "assign", lambda d: d.locator("select[name=department]").select_option(str(c.police.pk)))
    assert page.inner_text("#routed-to") == c.police.name
    screenshot(page, "petitions-detail-routed")

    # --- the department: inbox, accept, reply ------------------------------------------------------
    _switch_user(page, "department_user")
    page.goto("/petitions/inbox/")
    page.click(f"a:text('{petition.code}')")
    page.wait_for_url(f"**/petitions/{petition.code}/")
    _act(page, "accept", lambda d: d.locator("textarea[name=note]").fill("已书面告知信访人受理。"))
    _act(
        page,
        "reply",
        lambda d: (
            d.locator("select[name=opinion]").select_option("support"),
            d.locator("textarea[name=text]").fill("已责令施工单位夜间停工，并加强巡查。"),
        ),
    )
    assert "已责令施工单位" in page.inner_text("#reply")

    # --- the office records the evaluation, then the review is requested and decided --------------
    _switch_user(page, "petition_officer")
    page.goto(f"/petitions/{petition.code}/")
    _act(page, "evaluate", lambda d: d.locator("select[name=evaluation]").select_option("dissatisfied"))
    assert page.locator("#evaluation").count() == 1
    _act(page, "request_review", lambda d: d.locator("textarea[name=note]").fill("信访人申请复查"))
    _act(
        page,
        "decide_review",
        lambda d: (
            d.locator("select[name=decision]").select_option("upheld"),
            d.locator("textarea[name=note]").fill("经复查，维持原处理意见。"),
        ),
    )
    assert page.locator("#review-decision").count() == 1
    screenshot(page, "petitions-detail-reviewed")

    petition.refresh_from_db()
    assert petition.status == "reviewed" and petition.review_decision == "upheld"
    assert petition.evaluation == "dissatisfied"
    actions = [li.get_attribute("data-action") for li in page.locator("#timeline li").all()]
    assert actions == ["register", "assign", "accept", "reply", "evaluate", "request_review", "decide_review"]
    assert page.js_errors == [], page.js_errors


def test_a_refused_intake_on_a_phone_opens_at_the_first_field_in_error(phone_page, live_cast):
    """The intake form is several screens long on a phone; after a refused submit the page must show
    what is wrong instead of its unchanged top."""
    page = phone_page
    login(page, "petition_officer")
    page.goto("/petitions/new/")
    title = page.title()
    assert not title.startswith("错误")
    page.fill("#id_p0_name", "王建国")
    page.select_option("#id_category", "urban")
    page.select_option("#id_handling_type", "claim")
    page.fill("#id_content", "小区旁工地夜间施工噪音扰民。")
    page.click("#register-button")  # no area concerned
    page.wait_for_selector(".form-error-summary")
    # The focus moves when the page has loaded (app.js, DOMContentLoaded), not when the summary
    # is parsed; the name field, autofocused on the fresh form, is not on the refused one.
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "id_area"
    assert page.locator("#id_p0_name[autofocus]").count() == 0
    # The title, read first, says the form came back refused (the reader's colon, then the page's).
    assert page.title() == f"错误：{title}"
    box = page.locator("#id_area").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # on screen
    assert page.input_value("#id_p0_name") == "王建国"
    assert not Petition.objects.exists()


def test_an_extended_reply_limit_fits_a_phone(phone_page, live_cast):
    """The deadline table kept each date cell on one line, the extension note with it, so an extended
    petition's page was 550 px wide on a 390 px phone and its row headings broke every two characters."""
    from governance.models import Role
    from tests.base import make_user

    cast = live_cast
    approver = make_user("approver", Role.HANDLER, cast.district_a, cast.police)
    approver.display_name = "公安分局副局长 欧阳建华"
    approver.save(update_fields=["display_name"])
    approver.memberships.update(is_head=True)
    petition = _accepted(cast)
    petition.transition(
        action="extend",
        actor=cast.department_user,
        days=30,
        approver="approver",
        note="需现场核查",
        notified=True,
    )
    page = phone_page
    login(page, "petition_officer")
    page.goto(f"/petitions/{petition.code}/")
    screenshot(page, "petition-extended-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # "书面答复（60 + 30 日）" broke over three lines in the narrow heading column, the limit's figures
    # parted (60 + / 30 日）): the bracket now stays whole, on one line.
    aside = page.locator("tr[data-deadline=reply] th .nowrap")
    assert aside.inner_text() == "（60 + 30 日）"
    assert aside.evaluate("e => e.getClientRects().length") == 1
    assert page.js_errors == [], page.js_errors


def test_a_step_marked_late_fits_a_phone_in_english(phone_page, live_cast):
    """ "after the limit" beside the date widened the English page past a 390 px phone."""
    import datetime as dt

    from django.utils import timezone

    cast = live_cast
    petition = _accepted(cast)
    Petition.objects.filter(pk=petition.pk).update(reply_due_at=timezone.now() - dt.timedelta(days=1))
    petition.refresh_from_db()
    petition.transition(action="reply", actor=cast.department_user, opinion="support", text="已责令整改。")
    page = phone_page
    login(page, "petition_officer")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"/petitions/{petition.code}/")
    assert "after the limit" in page.inner_text("tr[data-deadline=reply]")
    screenshot(page, "petition-late-reply-phone-en")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.js_errors == [], page.js_errors


def test_a_refused_reply_keeps_the_text_and_goes_to_the_field_in_error(phone_page, live_cast):
    """The written reply vanished when the step was refused (here: no opinion chosen)."""
    petition = _accepted(live_cast)
    page = phone_page
    login(page, "department_user")
    page.goto(f"/petitions/{petition.code}/")
    details = page.locator("#action-reply")
    text = "经核查，工地已停止夜间施工。"
    details.locator("#opinion-reply").evaluate("el => { el.required = false; }")  # as if left empty
    details.locator("#text-reply").fill(text)
    details.locator("button[type=submit]").click()
    page.wait_for_selector("#action-error")
    assert page.locator("#action-reply").get_attribute("open") is not None
    assert page.locator("#text-reply").input_value() == text
    assert page.evaluate("document.activeElement.id") == "opinion-reply"
    assert page.locator("#opinion-reply-error").is_visible()
    assert Petition.objects.get(pk=petition.pk).replied_at is None


def test_an_empty_extension_names_every_missing_field_at_once(desktop_page, live_cast):
    """The browser's own check named one empty field at a time (days, then the reason, then the
    approver, then the notice): fix one, send, learn the next."""
    petition = _accepted(live_cast)
    page = desktop_page
    login(page, "department_user")
    page.goto(f"/petitions/{petition.code}/")
    _act(page, "extend")
    page.wait_for_selector("#action-error")
    for field in ("days", "note", "approver", "notified"):
        assert page.locator(f"#{field}-extend-error").is_visible(), field
        assert page.get_attribute(f"#{field}-extend", "aria-invalid") == "true", field
    assert page.evaluate("document.activeElement.id") == "days-extend"  # the first of them
    assert Petition.objects.get(pk=petition.pk).extended_days == 0
    # The refused step answers 400, which Chromium logs; nothing else.
    assert len(page.js_errors) == 1 and "status of 400" in page.js_errors[0], page.js_errors


def _city_wide_intake(page, c):
    """A city-wide officer's intake page over three more districts (its lists narrowed); returns
    the unit of street 5-3, listed once that street is picked."""
    from governance.models import Department, Role
    from tests.base import make_user
    from tests.petitions.test_intake_choices import _grow

    _grow(c.city, range(4, 7))
    make_user("city_officer", Role.PETITION_OFFICER, c.city)
    login(page, "city_officer")
    page.goto("/petitions/new/")
    return Department.objects.get(name="5区3街道城管中队")


def test_a_city_wide_office_picks_a_street_then_one_of_its_communities(desktop_page, live_cast):
    """The narrowed intake of a city-wide office (tests/petitions/test_intake_choices.py): the street
    picked brings its communities into the same select, and the units of that line into the unit
    list, while what was typed stays."""
    page, team = desktop_page, _city_wide_intake(desktop_page, live_cast)
    page.fill("#id_p0_name", "王建国")
    page.fill("#id_content", "街道违规停车占用消防通道。")
    assert page.locator("#id_area option[value='340105003007']").count() == 0
    assert page.locator(f"#id_complained_unit option[value='{team.pk}']").count() == 0
    page.select_option("#id_area", "340105003000")
    page.wait_for_selector("#id_area option[value='340105003007']", state="attached")
    assert page.locator("#id_area").input_value() == "340105003000"  # the street stays chosen
    page.wait_for_selector(f"#id_complained_unit option[value='{team.pk}']", state="attached")
    page.select_option("#id_area", "340105003007")
    page.wait_for_timeout(300)
    page.select_option("#id_complained_unit", str(team.pk))
    page.select_option("#id_category", "urban")
    page.select_option("#id_handling_type", "claim")
    assert page.input_value("#id_p0_name") == "王建国" and page.input_value("#id_content")
    page.click("#register-button")
    page.wait_for_url("**/petitions/PET-*/")
    petition = Petition.objects.get()
    assert petition.area.code == "340105003007" and petition.complained_unit == team


def _hold_the_first_choices_request(page, field: str) -> list:
    """Holds the first request for the intake's ``field`` list (a busy server) until released; the
    routes held are in the list returned."""
    held = []

    def hold(route):
        if f"field={field}" in route.request.url and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/petitions/new/choices/**", hold)
    return held


def _pick_while_held(page, held: list, select: str, value: str, asked: str) -> None:
    """Picks ``value`` in ``select`` while the held list request is under way, then lets it answer."""
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, asked
    page.select_option(select, value)
    page.wait_for_timeout(500)  # the request the pick made (if any) answers
    with contextlib.suppress(Exception):  # aborted by the browser in favour of the pick's request
        held[0].continue_()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)


def test_a_unit_picked_while_the_units_of_a_new_area_are_on_their_way_stays_picked(desktop_page, live_cast):
    # The refreshed unit list, asked for when the area changed, arrived after the officer had picked
    # a unit and reset the pick to "no unit". The first unit request is held here until the pick.
    page, team = desktop_page, _city_wide_intake(desktop_page, live_cast)
    page.select_option("#id_area", "340105003000")
    page.wait_for_selector(f"#id_complained_unit option[value='{team.pk}']", state="attached")
    held = _hold_the_first_choices_request(page, "complained_unit")
    page.select_option("#id_area", "340105003007")
    _pick_while_held(page, held, "#id_complained_unit", str(team.pk), "the area's change asked for its units")
    assert page.locator("#id_complained_unit").input_value() == str(team.pk)
    assert page.locator("#id_area").input_value() == "340105003007"


def test_switching_language_at_the_intake_keeps_what_was_typed(phone_page, live_cast, settings):
    """The language switch posts and the page comes back drawn anew: a visit half taken down at the
    reception desk was lost, every name, number and word of it."""
    settings.LANGUAGE_CODE = "zh-hans"
    page, c = phone_page, live_cast
    login(page, "petition_officer")
    page.goto("/petitions/new/")
    page.fill("#id_p0_name", "王建国")
    page.fill("#id_p0_id_number", ID_1)
    page.select_option("#id_category", "urban")
    page.select_option("#id_area", c.community_a1a.code)
    page.fill("#id_content", "小区旁工地夜间施工噪音扰民。")
    # Picking the area asks for its units (and keeps the pick); a switch during that request aborts
    # it, which htmx reports on the console. Here the officer switches once the form has settled.
    page.wait_for_load_state("networkidle")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url.endswith("/petitions/new/")
    assert page.input_value("#id_p0_name") == "王建国"
    assert page.input_value("#id_p0_id_number") == ID_1
    assert page.input_value("#id_category") == "urban"
    assert page.input_value("#id_area") == c.community_a1a.code
    assert page.input_value("#id_content") == "小区旁工地夜间施工噪音扰民。"
    # Taken once: the page opened again later starts empty, and nothing stays in the tab's storage.
    assert page.evaluate("window.sessionStorage.getItem('language-switch-carry')") is None
    page.goto("/petitions/new/")
    assert page.input_value("#id_p0_name") == ""
    assert not Petition.objects.exists()
    assert page.js_errors == [], page.js_errors


def test_switching_language_after_a_refused_reply_keeps_the_reply(phone_page, live_cast, settings):
    """A refused step is drawn at its POST-only address; the switch goes to the petition's page, and
    the reply typed there comes along."""
    settings.LANGUAGE_CODE = "zh-hans"
    petition = _accepted(live_cast)
    page = phone_page
    login(page, "department_user")
    page.goto(f"/petitions/{petition.code}/")
    text = "经核查，工地已停止夜间施工。"
    page.locator("#opinion-reply").evaluate("el => { el.required = false; }")  # as if left empty
    page.locator("#text-reply").fill(text)
    page.locator("#action-reply button[type=submit]").click()
    page.wait_for_selector("#action-error")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.url.endswith(f"/petitions/{petition.code}/")
    assert page.locator("#text-reply").input_value() == text
    assert Petition.objects.get(pk=petition.pk).replied_at is None


def test_a_receipt_day_typed_before_a_merge_brings_back_the_community_merged_away(desktop_page, live_cast):
    """docs/petitions.md: the area list offers the areas in service on the receipt day and is redrawn
    when that time changes; a letter received before its community was merged away is registered
    for it."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Area

    page, c = desktop_page, live_cast
    community = c.community_a1a
    Area.objects.filter(pk=community.pk).update(in_service_until=timezone.localdate() - dt.timedelta(days=1))
    option = f"#id_area option[value='{community.code}']"
    login(page, "petition_officer")
    page.goto("/petitions/new/")
    assert page.locator(option).count() == 0
    page.fill("#id_p0_name", "王建国")
    page.fill("#id_received_at", (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.wait_for_selector(option, state="attached")
    page.select_option("#id_area", community.code)
    page.select_option("#id_category", "urban")
    page.select_option("#id_handling_type", "claim")
    page.fill("#id_content", "小区旁工地夜间施工噪音扰民。")
    assert page.input_value("#id_p0_name") == "王建国"
    page.click("#register-button")
    page.wait_for_url("**/petitions/PET-*/")
    assert Petition.objects.get().area == community


def test_a_receipt_day_that_drops_the_area_chosen_redraws_the_units_too(desktop_page, live_cast):
    """docs/petitions.md: the area list redrawn for a new receipt time left the community chosen out
    (merged away by then) and fell back to "choose", but the unit list kept the units drawn for that
    community's line. Now it is drawn again, for no area."""
    import datetime as dt

    from django.utils import timezone

    from governance.models import Area

    page, team = desktop_page, _city_wide_intake(desktop_page, live_cast)
    Area.objects.filter(code="340105003007").update(
        in_service_until=timezone.localdate() - dt.timedelta(days=1)
    )
    unit = f"#id_complained_unit option[value='{team.pk}']"
    page.fill("#id_received_at", (timezone.localtime() - dt.timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"))
    page.wait_for_load_state("networkidle")
    page.select_option("#id_area", "340105003000")
    page.wait_for_selector("#id_area option[value='340105003007']", state="attached")
    page.wait_for_load_state("networkidle")
    page.select_option("#id_area", "340105003007")
    page.wait_for_load_state("networkidle")
    # The units of the community's line on the receipt day (its street's team among them).
    assert page.locator(unit).count() == 1
    page.fill("#id_received_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.wait_for_selector("#id_area option[value='340105003007']", state="detached")
    assert page.locator("#id_area").input_value() == ""
    page.wait_for_selector(unit, state="detached")
    # Filling the time fires its change twice; htmx logs the area request so replaced (hx-sync) as an
    # error. Nothing else may be logged.
    assert not [e for e in page.js_errors if not e.startswith(("htmx:sendAbort", "htmx:afterRequest"))]


def test_the_facts_of_a_petition_keep_their_width_on_a_phone_in_english(phone_page, live_cast):
    """ "Unit complained about" set the English label column past 40% of a phone's card: the values
    (the area concerned with its code, the content) had what was left, as on a case's page."""
    cast = live_cast
    petition = _accepted(cast)
    Petition.objects.filter(pk=petition.pk).update(complained_unit=cast.police)
    page = phone_page
    login(page, "petition_officer")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    page.goto(f"/petitions/{petition.code}/")
    facts_keep_their_width(page, "dl.pet-facts", "Unit complained about", cast.community_a1a.code)
    assert page.js_errors == [], page.js_errors


def test_an_area_picked_while_the_list_for_a_new_receipt_time_loads_stays_picked(desktop_page, live_cast):
    # A letter received days ago: the officer types its receipt time and picks the area while the
    # area list for that day is on its way. The list arrived, the select went back to "choose", and
    # the registration came back refused for want of the area the officer had picked.
    page, community = desktop_page, live_cast.community_a1a
    login(page, "petition_officer")
    page.goto("/petitions/new/")
    held = _hold_the_first_choices_request(page, "area")
    page.fill("#id_received_at", "2026-11-27T10:00")
    page.locator("#id_received_at").dispatch_event("change")
    _pick_while_held(page, held, "#id_area", community.code, "the receipt time's change asked for its areas")
    assert page.locator("#id_area").input_value() == community.code
