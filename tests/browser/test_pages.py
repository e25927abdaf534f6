"""Pages as a reader sees them, in English and Chinese, on a phone and a desk: what is measured
(contrast, widths, what is on screen) rather than only photographed."""

import pytest

from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser

# WCAG relative luminance and contrast ratio of an element's text against the nearest painted background.
CONTRAST_JS = """el => {
  const rgb = s => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  let bg = el;
  while (bg && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
  const a = lum(rgb(getComputedStyle(el).color)), b = lum(rgb(getComputedStyle(bg).backgroundColor));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


# How many lines the first date (2026-11-20) in an element's text is drawn on.
DATE_LINES_JS = """el => {
  const node = el.firstChild, m = node.textContent.match(/\\d{4}.\\d{2}.\\d{2}/);
  const range = document.createRange();
  range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
}"""


def test_the_count_on_a_home_pages_first_button_is_legible(desktop_page, live_cast):
    # The first link of each home section is a primary (blue, white-text) button; its count pill is
    # light grey and inherited the white text: 1.2:1, the number unreadable (seen as demo_mediator).
    page = desktop_page
    login(page, "mediator")
    counts = page.locator(".card .button.primary .status")
    assert counts.count() >= 1
    for i in range(counts.count()):
        assert counts.nth(i).evaluate(CONTRAST_JS) >= 4.5
    screenshot(page, "home-counts-desktop-en")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_petition_registry_on_a_phone_shows_each_deadline(phone_page, live_cast, live_server, language):
    # At phone width the registry keeps number, status and deadline. A status and a deadline each
    # stayed on one line: 'accepted by the department' (English) and 'overdue since 2026-11-20' (both
    # languages, 自 2026-11-20 起逾期) pushed the deadline off a 390 px screen.
    from petitions import services
    from petitions.models import Petition
    from tests.base import shift_back
    from tests.petitions.conftest import ID_1

    cast = live_cast
    codes = []
    for _ in range(2):
        petition = services.petition_register(
            actor=cast.petition_officer,
            channel="visit",
            category="urban",
            content="小区旁工地夜间施工噪音扰民。",
            area=cast.community_a1a,
            petitioners=[{"name": "王建国", "id_number": ID_1}],
        )
        codes.append(petition.code)
    petition.transition(action="assign", actor=cast.petition_officer, department=cast.police.pk)
    petition.transition(action="accept", actor=cast.department_user)
    shift_back(Petition.objects.filter(code=codes[0]), 20, "due_at")
    page = phone_page
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    login(page, "petition_officer")
    page.goto("/petitions/")
    screenshot(page, f"petition-registry-phone-{language}")
    for code in codes:
        deadline = page.locator(f"tr[data-code='{code}'] td").last.bounding_box()
        assert deadline["x"] + deadline["width"] <= 390, (code, deadline)
    # and the overdue date wraps as a whole, not as 2026- / 11-20
    date_lines = page.locator(f"tr[data-code='{codes[0]}'] .pet-due").evaluate(DATE_LINES_JS)
    assert date_lines == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_map_zoom_buttons_are_titled_in_the_page_language(phone_page, live_cast, settings):
    # Leaflet titles its zoom buttons 'Zoom in' / 'Zoom out' (the tooltip and what a screen reader
    # says), whatever the page's language. The words now come from the translation catalogue.
    from django.utils.translation import trans_real

    settings.LANGUAGE_CODE = "zh-hans"
    catalog = trans_real.translation("zh-hans")._catalog
    for msgid, msgstr in [("Zoom in", "放大"), ("Zoom out", "缩小")]:
        if msgid not in catalog:  # until the catalogue has them: whatever it says must reach the map
            catalog[msgid] = msgstr
    expected = (catalog["Zoom in"], catalog["Zoom out"])
    page = phone_page
    login(page, "street_handler")
    page.wait_for_selector("#home-map[data-loaded='1']")
    zoom_in, zoom_out = (
        page.locator("#home-map .leaflet-control-zoom-in"),
        page.locator("#home-map .leaflet-control-zoom-out"),
    )
    assert (zoom_in.get_attribute("title"), zoom_out.get_attribute("title")) == expected
    assert (zoom_in.get_attribute("aria-label"), zoom_out.get_attribute("aria-label")) == expected
    assert page.js_errors == []


# How many lines an element's text is drawn on.
LINES_JS = """el => { const range = document.createRange(); range.selectNodeContents(el);
  return new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))).size; }"""


# How many lines the date or date-time (2026-11-20 08:30) in an element's text is drawn on, and
# the date-time itself.
DATETIME_LINES_JS = """el => {
  const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const m = node.textContent.match(/\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2})?/);
    if (!m) continue;
    const range = document.createRange();
    range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
    return [m[0], new Set([...range.getClientRects()].map(r => Math.round(r.top))).size];
  }
  return null;
}"""


def test_names_and_the_overdue_flag_in_a_desk_list_stay_whole_when_squeezed(
    desktop_page, phone_page, live_cast
):
    # At 1366 px the automatic table layout gave the wide columns (actions, statuses) the room and
    # squeezed the names: 南苑社区3第2网 / 格, 吕 / **, and 逾 / 期 beside an incident's status;
    # then the deadline's time under its date, and the mediator's title over the name (调解员 /
    # 吴玉). On my grid on a phone a deadline broke at its hyphen (2026- / 11-12 10:30).
    from django.utils import timezone

    from grids.models import Incident
    from tests.base import shift_back
    from tests.browser.test_mediation import _case
    from tests.browser.test_phone_lists import _reported_incident

    incident = _reported_incident(live_cast)
    shift_back(Incident.objects.filter(pk=incident.pk), 30, "due_at")
    incident.refresh_from_db()
    due = timezone.localtime(incident.due_at).strftime("%Y-%m-%d %H:%M")
    reported = timezone.localtime(incident.reported_at).strftime("%Y-%m-%d %H:%M")
    _org, case = _case(live_cast)
    case.mediator.display_name = "调解员 吴玉"
    case.mediator.save(update_fields=["display_name"])
    page = desktop_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    screenshot(page, "grids-inbox-overdue-desktop")
    row = page.locator(f"#row-{incident.code}")
    squeeze = "td => { td.style.width = td.style.maxWidth = '3em'; }"
    row.locator("td.keep").evaluate(squeeze)
    row.locator("td[data-label='状态']").evaluate(squeeze)
    row.locator("td[data-label='截止时间']").evaluate(squeeze)
    row.locator("td.stack-head").evaluate(squeeze)
    assert row.locator("td.keep").evaluate("td => td.firstChild.textContent") == incident.grid.name
    assert row.locator("td.keep").evaluate(f"td => ({LINES_JS})(td.firstChild)") == 1
    assert row.locator("span.overdue").evaluate(LINES_JS) == 1
    assert row.locator("td[data-label='截止时间']").evaluate(DATETIME_LINES_JS) == [due, 1]
    assert row.locator("td.stack-head .muted").evaluate(DATETIME_LINES_JS) == [reported, 1]
    context = page.context
    context.clear_cookies()
    login(page, "mediator")
    page.goto("/mediation/cases/")
    screenshot(page, "mediation-cases-desktop")
    cells = page.locator(f"tr[data-case='{case.code}'] td.keep")
    assert cells.count() == 5  # category, parties, area, organisation, mediator
    for i in range(cells.count()):
        cells.nth(i).evaluate(squeeze)
        names = cells.nth(i).inner_text().split("、")
        assert cells.nth(i).evaluate(LINES_JS) == len(names), names  # a line per name at most
    assert cells.nth(4).inner_text() == "调解员 吴玉"
    # on a phone: the deadline on my grid wraps as a whole, and the mediator's card keeps title and name
    phone = phone_page
    login(phone, "worker_a")
    phone.goto("/grids/my/")
    phone.wait_for_selector("#my-grid-map[data-markers-drawn='1']")
    screenshot(phone, "grids-my-grid-due-phone")
    item = phone.locator(f"li:has(a[href='/grids/incidents/{incident.code}/'])").first
    assert item.evaluate(DATETIME_LINES_JS) == [due, 1]
    item.evaluate("li => { li.style.width = '8em'; }")  # narrower than a date-time: it still keeps whole
    assert item.evaluate(DATETIME_LINES_JS) == [due, 1]
    phone.context.clear_cookies()
    login(phone, "mediator")
    phone.goto("/mediation/cases/")
    screenshot(phone, "mediation-cases-phone")
    assert phone.locator(f"tr[data-case='{case.code}'] td[data-label='调解员']").evaluate(LINES_JS) == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_mediator_and_the_deadline_on_the_organisation_page_stay_whole_when_squeezed(
    desktop_page, live_cast
):
    # As in the case list, the head's page broke the mediator's title from the name (调解员 / 吴玉) in
    # the workload table and in a concluded case's row, and a deadline at its hyphen (2026- / 12-02).
    from django.utils import timezone

    from mediation.models import DisputeCase
    from tests.browser.test_mediation import _case

    org, case = _case(live_cast, head=True)
    case.mediator.display_name = "调解员 吴玉"
    case.mediator.save(update_fields=["display_name"])
    # Closed: a concluded case's row now offers the head its reassignment (its court application
    # and visits), so the name sits in a select there; a closed one's row shows the name itself.
    case.transition(action="conclude", actor=live_cast.mediator, outcome="withdrawn")
    DisputeCase.objects.get(pk=case.pk).transition(action="close", actor=live_cast.mediator)
    case = DisputeCase.objects.get(pk=case.pk)
    assert case.status == "closed"
    # A closed case's row gives the day it was concluded, not its time limit (mediation/_due_cell.html).
    due = timezone.localtime(case.concluded_at).strftime("%Y-%m-%d")
    page = desktop_page
    login(page, "mediator")
    page.goto(f"/mediation/organisations/{org.pk}/?status=closed")
    squeeze = "td => { td.style.width = td.style.maxWidth = '3em'; }"
    member = page.locator("#workload tr[data-member='mediator'] td.stack-head")
    member.evaluate(squeeze)
    assert member.evaluate("td => td.firstChild.textContent.trim()") == "调解员 吴玉"
    assert member.evaluate(f"td => ({LINES_JS})(td.firstChild)") == 1
    row = page.locator(f"tr:has(a[href='/mediation/cases/{case.code}/'])")
    for label in ("调解员", "终结日期"):
        row.locator(f"td[data-label='{label}']").evaluate(squeeze)
    assert row.locator("td[data-label='调解员']").inner_text() == "调解员 吴玉"
    assert row.locator("td[data-label='调解员']").evaluate(LINES_JS) == 1
    assert row.locator("td[data-label='终结日期']").evaluate(DATETIME_LINES_JS) == [due, 1]
    screenshot(page, "mediation-organisation-squeezed-desktop")
    assert page.js_errors == []


# The gap in pixels between the last character before the first colon (":" or "：") of an element and the colon itself,
# wherever the two sit (a link's text and the text after it).
COLON_GAP_JS = """el => {
  const chars = [], walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (let i = 0; i < n.textContent.length; i++) chars.push([n, i]);
  }
  const at = chars.findIndex(([n, i]) => ":：".includes(n.textContent[i]));
  const box = ([n, i]) => { const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
    return r.getBoundingClientRect(); };
  return box(chars[at]).left - box(chars[at - 1]).right;
}"""


def test_an_overdue_count_sits_by_its_label_on_a_phone(phone_page, live_cast):
    # "事件  : 10": the link was the label alone, boxed to the 44 px target width on a phone, and
    # the colon and count after it floated a gap away. The count is part of the link, in red. (The
    # colon is the reader's: "事件：1" in Chinese, "Incidents: 1" in English.)
    from grids.models import Incident
    from tests.browser.test_phone_lists import _reported_incident

    incident = _reported_incident(live_cast)
    Incident.objects.filter(pk=incident.pk).update(due_at="2020-01-01T00:00:00Z")
    page = phone_page
    login(page, "district_officer")
    for url in ("/dashboards/", "/"):
        page.goto(url)
        item = page.locator("li.overdue:has(a[href^='/grids/inbox/?overdue=true'])").first
        assert item.evaluate(COLON_GAP_JS) < 2, url
        link = item.locator("a")
        assert link.locator(".status").inner_text() == "1"
        assert link.locator(".status").evaluate("e => getComputedStyle(e).color") == "rgb(185, 28, 28)"
    screenshot(page, "home-overdue-count-phone")
    assert page.js_errors == []


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_headline_figures_on_a_phone_fit_and_lead_to_their_league_tables(phone_page, live_cast, language):
    # The figures district staff rank their areas on, on the page they land on: each a row within
    # the 390 px screen, its change read as better or worse, a tap away from its league table.
    from dashboards import ranking
    from tests.dashboards.assessment_data import indicator_value

    cast = live_cast
    for spec in ranking.headline_specs():
        indicator_value(spec.code, cast.district_a, "2026-11", 90.0, 900, 1000, rank=1, rank_of=2, delta=1.5)
    page = phone_page
    page.set_extra_http_headers({"Accept-Language": language})
    login(page, "district_officer")
    figures = page.locator("#home-figures li.home-figure")
    assert figures.count() == len(ranking.headline_specs())
    for i in range(figures.count()):
        box = figures.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    safe = page.locator("#home-figures li[data-indicator='survey_safety_rate']")
    assert safe.locator(".trend-better").is_visible()
    screenshot(page, f"home-figures-phone-{language}")
    safe.locator("a").click()
    page.wait_for_url("**/dashboards/league/**")
    assert "indicator=survey_safety_rate" in page.url and "parent=340102000000" in page.url
    assert page.js_errors == []


def test_a_notice_opens_by_its_button_on_a_phone_and_only_that_one_is_read(phone_page, live_cast):
    """Opening a notice posts (a GET marked it read, so a link prefetcher or the back button did):
    the button reads as a link, in the link colour, is a full-size target, and takes the reader to
    the record with that notice read and the other still unread."""
    from governance.services import notify

    worker = live_cast.worker_a
    notify(user=worker, key="k1", message="Incident INC-1 is overdue.", link="/grids/my/")
    notify(user=worker, key="k2", message="Incident INC-2 is overdue.", link="/grids/my/")
    page = phone_page
    login(page, "worker_a")
    page.goto("/notifications/")
    button = page.get_by_role("button", name="Incident INC-1 is overdue.")
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= 390
    colour = button.evaluate("el => getComputedStyle(el).color")
    link_colour = page.evaluate(
        "() => { const a = document.createElement('a'); a.href = '#';"
        " document.querySelector('.main').append(a); return getComputedStyle(a).color; }"
    )
    assert colour == link_colour and button.evaluate("el => getComputedStyle(el).textAlign") == "left"
    # Its time stays whole beside or below it: "2026-12-08" and "02:53" were drawn on two lines.
    times = page.locator(".list li .muted")
    assert times.count() == 2
    for i in range(times.count()):
        assert times.nth(i).evaluate("el => new Set([...el.getClientRects()].map(r => r.top)).size") == 1
    screenshot(page, "notifications-phone")
    with page.expect_navigation():
        button.click()
    assert page.url.endswith("/grids/my/")
    assert list(worker.notifications.filter(read_at=None).values_list("key", flat=True)) == ["k2"]
