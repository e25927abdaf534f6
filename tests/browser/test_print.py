"""Record pages on paper: printed, an incident, a dispute case, a petition and the assessment entry
page show the record (facts, timeline, parties as masked, the lists) and none of the forms and
buttons that act on it. The mediation agreement, a document made for printing, prints whole; a
list's short labels (the inbox's category) are not broken character by character."""

from __future__ import annotations

import pytest

from tests.browser.conftest import _new_page, login, screenshot
from tests.browser.test_mediation import _conclude_with_a_written_agreement
from tests.browser.test_phone_lists import A4_PORTRAIT, _desk_records, _reported_incident

pytestmark = pytest.mark.browser

# What a reader could act on inside the page's content, as laid out (nothing hidden by CSS counted).
ACTIONS_JS = """() => [...document.querySelectorAll(
  'main form, main button, main input:not([type=hidden]), main select, main textarea, main summary, main a.button')]
  .filter(e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' ' + String(e.innerText || e.getAttribute('name') || '').trim().slice(0, 20))"""


def _shown(page, selector: str) -> str:
    """The text of ``selector`` if it is laid out, else ''."""
    locator = page.locator(selector).first
    return locator.inner_text() if locator.is_visible() else ""


def _open_as(page, username: str, url: str) -> None:
    """``url`` on screen, signed in as ``username`` (the sign-in form is not on paper)."""
    page.goto("about:blank")
    page.context.clear_cookies()
    page.emulate_media(media="screen")
    login(page, username)
    page.goto(url)


def test_record_pages_print_the_record_without_the_forms_that_act_on_it(browser, live_server, live_cast):
    incident = _reported_incident(live_cast)
    case, petition, scheme = _desk_records(live_cast)
    records = [
        ("community_handler", f"/grids/incidents/{incident.code}/", "dl.grids-facts", "楼道堆放杂物", "#act"),
        ("mediator", f"/mediation/cases/{case.code}/", "dl.med-facts", "楼上漏水", "#act"),
        ("petition_officer", f"/petitions/{petition.code}/", "main section.card", "工地夜间施工", "#actions"),
    ]
    context, page = _new_page(browser, live_server, A4_PORTRAIT)
    try:
        for username, url, facts, fact, actions in records:
            _open_as(page, username, url)
            assert page.locator(actions).is_visible(), url  # screens keep the steps
            assert page.evaluate(ACTIONS_JS), url
            page.emulate_media(media="print")
            screenshot(page, f"printed-record-{url.split('/')[1]}-718")
            assert fact in _shown(page, facts), url
            assert _shown(page, "ol.timeline"), url
            assert page.evaluate(ACTIONS_JS) == [], url
            if "mediation" in url:
                assert "张*" in _shown(page, "table.med-parties"), url  # the parties, masked
            if "petitions" in url:
                assert "王*" in _shown(page, "table.pet-people"), url

        # The inbox's category, a short label, stays whole on paper: 环境卫生, not 环 / 境 / 卫 / 生.
        _open_as(page, "community_handler", "/grids/inbox/")
        page.emulate_media(media="print")
        label = page.locator("table.grids-inbox .short-label").first
        assert label.inner_text() == "环境卫生"
        assert label.evaluate("e => e.getClientRects().length") == 1
        screenshot(page, "printed-record-inbox-718")

        # The entry page: the entered scores and decisions stay, the entry forms go.
        _open_as(page, "district_officer", f"/dashboards/assessments/{scheme.pk}/entries/")
        assert page.locator("#form-manual").is_visible()
        page.emulate_media(media="print")
        screenshot(page, "printed-record-entries-718")
        assert page.evaluate(ACTIONS_JS) == []
        assert _shown(page, "#manual-scores h2") and _shown(page, "#decided-adjustments h2")

        # The agreement, made to be printed, prints whole; only its tools above the page go.
        _conclude_with_a_written_agreement(live_cast, case)
        _open_as(page, "mediator", f"/mediation/cases/{case.code}/agreement/")
        on_screen = page.inner_text("#agreement")
        page.emulate_media(media="print")
        screenshot(page, "printed-record-agreement-718")
        assert page.inner_text("#agreement") == on_screen
        assert "人民调解协议书" in on_screen and "李四赔偿张三丰维修费2000元" in on_screen
        assert not page.locator("#print-button").is_visible()
        assert page.js_errors == []
    finally:
        context.close()


def test_links_print_a_line_high_from_a_touch_screen_too(browser, live_server, live_cast):
    """A touch screen's 44 px targets are for the thumb: printed from a phone or a tablet, a list's links
    are a line high as from a desk, not 44 px boxes spreading the list over the paper."""
    _case, _petition, scheme = _desk_records(live_cast)
    context, page = _new_page(browser, live_server, A4_PORTRAIT, has_touch=True)
    try:
        _open_as(page, "district_officer", "/dashboards/assessments/")
        link = page.locator(f"ul.list li > a[href$='/{scheme.pk}/']")
        assert link.evaluate("e => e.getBoundingClientRect().height") >= 44  # on the screen, a thumb's
        page.emulate_media(media="print")
        assert link.evaluate("e => e.getBoundingClientRect().height") < 30
        assert page.js_errors == []
    finally:
        context.close()
