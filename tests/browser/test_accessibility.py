"""axe-core (WCAG 2.1 A and AA rules) in Chromium on the main page of every role, at 390x844 and
1366x768, in Chinese and in English: no violation of any impact, and a page's structure checked by
hand (its language, one h1, headings in order, every field labelled, nothing past a phone's edge). axe comes from npm (a dev dependency in
package.json, installed by ``make install``) and is injected by the test; it is never served."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.base import PASSWORD
from tests.browser.conftest import DESKTOP, PHONE, _new_page, login, signed_in_for_each

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical", "moderate", "minor"}
# Maps and charts are drawn after load; axe checks what a reader meets, so it waits for them.
DRAWN = {
    "/": "#home-map[data-loaded='1']",
    "/grids/report/": "#report-map[data-loaded='1']",
    "/dashboards/league/": "#dash-map[data-painted='1']",
    "/dashboards/trends/": "#trend-chart[data-rendered='1']",
}
# What a reader can open is checked open: the action forms and the phone menu, all <details>.
OPEN_ALL = """() => { document.querySelectorAll('details').forEach(d => { d.open = true; }); }"""
RUN_AXE = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({rule: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    targets: v.nodes.map(n => n.target.join(' '))})))"""


def _data(c) -> dict[str, str]:
    """A record of each kind for the cast to open: an incident in grid A, an accepted dispute case,
    a petition, indicator values, an assessment scheme, a notification."""
    from governance.services import notify
    from tests.browser.test_phone_lists import _desk_records, _reported_incident

    incident = _reported_incident(c)
    case, petition, scheme = _desk_records(c)
    notify(
        user=c.district_officer, key="a11y", message="事件即将超时", link=f"/grids/incidents/{incident.code}/"
    )
    return {"incident": incident.code, "case": case.code, "petition": petition.code, "scheme": str(scheme.pk)}


def _pages(d: dict[str, str]) -> list[tuple[str | None, str]]:
    """(who, page): None is nobody signed in."""
    indicator = "indicator=survey_safety_rate&period=2026-11&parent=340102001000"
    return [
        (None, "/accounts/login/"),
        (None, "/no-such-page/"),
        ("worker_a", "/"),
        ("worker_a", "/grids/my/"),
        ("worker_a", "/grids/report/"),
        ("worker_a", f"/grids/incidents/{d['incident']}/"),
        ("community_handler", "/"),
        ("community_handler", "/grids/inbox/"),
        ("community_handler", f"/grids/incidents/{d['incident']}/"),
        ("mediator", "/"),
        ("mediator", "/mediation/"),
        ("mediator", "/mediation/cases/"),
        ("mediator", f"/mediation/cases/{d['case']}/"),
        ("mediator", "/mediation/cases/new/"),
        ("petition_officer", "/"),
        ("petition_officer", "/petitions/"),
        ("petition_officer", "/petitions/new/"),
        ("petition_officer", f"/petitions/{d['petition']}/"),
        ("department_user", "/petitions/inbox/"),
        ("district_officer", "/"),
        ("district_officer", "/dashboards/?period=2026-11"),
        ("district_officer", f"/dashboards/league/?{indicator}"),
        ("district_officer", f"/dashboards/trends/?{indicator}"),
        ("district_officer", "/dashboards/assessments/"),
        ("district_officer", f"/dashboards/assessments/{d['scheme']}/"),
        ("district_officer", f"/dashboards/assessments/{d['scheme']}/entries/"),
        # Street A1 is assessed by the scheme: the street's own view (the notice, the items' rules).
        ("street_handler", "/dashboards/assessments/"),
        ("street_handler", f"/dashboards/assessments/{d['scheme']}/"),
        ("district_officer", "/notifications/"),
        ("district_officer", "/accounts/logout/"),
        ("district_officer", "/grids/incidents/INC-1999-000001/"),
    ]


def axe_violations(page, url: str) -> list[dict]:
    """Open ``url``, wait for what it draws, open its menus and forms, run axe: the violations, each with rule, impact, help,
    help URL and the CSS targets of its nodes."""
    page.goto(url)
    drawn = DRAWN.get(url.split("?")[0])
    if drawn:
        page.wait_for_selector(drawn)
    page.evaluate(OPEN_ALL)
    page.add_script_tag(path=str(AXE))
    return page.evaluate(RUN_AXE, WCAG_21_AA)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desk"])
def test_the_main_pages_have_no_serious_or_critical_axe_violation(browser, live_server, live_cast, viewport):
    assert AXE.exists(), f"{AXE} is missing: run make install (npm ci installs axe-core)"
    pages = _pages(_data(live_cast))
    # The page's own Content Security Policy would refuse the injected script (no inline scripts).
    context, page = _new_page(browser, live_server, viewport, bypass_csp=True)
    found: list[str] = []
    try:
        for username, url in signed_in_for_each(page, pages):
            for v in axe_violations(page, url):
                if v["impact"] in BLOCKING:
                    found += [
                        f"{url} ({username}): {v['rule']} [{v['impact']}] {t} {v['url']}"
                        for t in v["targets"]
                    ]
            found += [f"{url} ({username}): {p}" for p in structure_problems(page, "zh-hans")]
    finally:
        context.close()
    assert not found, f"{len(found)} axe violations or structure problems:\n" + "\n".join(found)


# What axe leaves alone: the page's language is the one shown (axe only asks for a valid one), one
# h1, headings that do not skip a level, a name for every field (axe passes a select named by its
# first option), a name for every table (its heading: a screen reader's list of tables read
# "table, table"), nothing past the right edge of the viewport, and in English the labels a reader
# picks from (options, check boxes, radio buttons), the values that fill a cell of a table or a
# fact list and the badges written as labels: with a capital, like every other label of the English
# pages (the choices are lowercase in the code, for use inside sentences).
STRUCTURE = r"""([lang, names]) => {
  const found = [];
  const shown = document.documentElement.lang;
  if (shown !== lang) found.push(`html lang="${shown}", not "${lang}"`);
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) found.push(`${h1} h1 elements`);
  let last = 0;
  document.querySelectorAll('h1, h2, h3, h4, h5, h6').forEach(h => {
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) found.push(`h${level} after h${last}: ${h.textContent.trim()}`);
    last = level;
  });
  document.querySelectorAll('input, select, textarea').forEach(f => {
    if (f.type === 'hidden') return;
    const named = (f.labels && f.labels.length) || f.getAttribute('aria-label') || f.getAttribute('aria-labelledby');
    if (!named) found.push(`no label: ${f.outerHTML.slice(0, 100)}`);
  });
  document.querySelectorAll('main table').forEach(t => {
    const by = (t.getAttribute('aria-labelledby') || '').split(/\s+/).filter(Boolean)
      .map(id => document.getElementById(id)).filter(Boolean).map(e => e.textContent.trim()).join(' ');
    if (!by && !(t.caption && t.caption.textContent.trim()) && !t.getAttribute('aria-label'))
      found.push(`table without a name: ${t.outerHTML.slice(0, 100)}`);
  });
  const past = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  if (past > 0) found.push(`scrolls sideways by ${past}px`);
  if (lang === 'en') {
    const picks = [...document.querySelectorAll('main option')].map(o => o.textContent.trim());
    document.querySelectorAll('main label:has(> input[type=checkbox]), main label:has(> input[type=radio])')
      .forEach(l => picks.push(l.textContent.trim()));
    new Set(picks.filter(t => /^[a-z]/.test(t))).forEach(t => found.push(`lowercase choice: ${t}`));
    // A value that fills its cell is a label too, and so is a badge (a status, 'Risk', 'Draft'),
    // wherever it stands; a person's name is data (the cast's users are named after their usernames).
    const values = [...document.querySelectorAll('main dd, main td, main .status')]
      .map(c => c.textContent.trim()).filter(t => !names.includes(t));
    new Set(values.filter(t => /^[a-z]/.test(t))).forEach(t => found.push(`lowercase value: ${t}`));
  }
  return found; }"""


def structure_problems(page, lang: str) -> list[str]:
    """What STRUCTURE finds on the page open in ``page``, whose language should be ``lang``."""
    from governance.models import User

    return page.evaluate(STRUCTURE, [lang, list(User.objects.values_list("display_name", flat=True))])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desk"])
def test_the_main_pages_in_english_pass_axe_and_the_structure_checks(
    browser, live_server, live_cast, viewport
):
    """The same pages in English (the language switch's cookie): axe found nothing in Chinese, but
    English labels are longer and other code paths (capitalised choices, period labels) run."""
    pages = _pages(_data(live_cast))
    context, page = _new_page(browser, live_server, viewport, bypass_csp=True)
    found: list[str] = []
    try:
        for username, url in signed_in_for_each(page, pages):
            context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
            violations = axe_violations(page, url)  # opens the page
            found += [f"{url} ({username}): {p}" for p in structure_problems(page, "en")]
            found += [
                f"{url} ({username}): {v['rule']} [{v['impact']}] {t}"
                for v in violations
                for t in v["targets"]
            ]
    finally:
        context.close()
    assert not found, f"{len(found)} problems on the English pages:\n" + "\n".join(found)


def _roles(page) -> dict[str, int]:
    """How many nodes of each table role Chromium's accessibility tree (what a screen reader gets) holds."""
    cdp = page.context.new_cdp_session(page)
    nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    roles = [n["role"]["value"] for n in nodes if not n.get("ignored")]
    return {r: roles.count(r) for r in ("table", "row", "columnheader", "cell")}


def test_a_list_shown_as_cards_on_a_phone_is_still_a_table_with_its_headers(phone_page, live_cast):
    """At 390 px the inbox's heading row was display:none: a screen reader's table navigation had
    no column headers. It is now only out of sight, and the parts carry explicit table roles (Safari
    drops a table whose display changed), also on a row htmx swaps in."""
    from tests.browser.test_phone_lists import _reported_incident

    incident = _reported_incident(live_cast)
    page = phone_page
    login(page, "community_handler")
    page.goto("/grids/inbox/")
    assert (
        page.locator("table.grids-inbox tbody tr").first.evaluate("tr => getComputedStyle(tr).display")
        == "grid"
    )
    assert _roles(page) == {"table": 1, "row": 2, "columnheader": 6, "cell": 6}
    row = page.locator(f"#row-{incident.code}")
    assert row.get_attribute("role") == "row"
    row.locator("button[data-action=accept]").click()
    page.wait_for_selector(f"#row-{incident.code} .status-accepted")
    # htmx fires htmx:load (which gives the new row its roles) after its settle delay, a moment after
    # the swapped row is in the page: wait for the roles rather than read them at once.
    expect(row).to_have_attribute("role", "row")
    assert row.locator("td").evaluate_all("tds => tds.map(td => td.getAttribute('role'))") == ["cell"] * 6
    assert _roles(page)["columnheader"] == 6
    assert page.js_errors == []


FOCUS_RING = """el => {
  const style = getComputedStyle(el);
  return [el === document.activeElement && el.matches(':focus-visible') && style.outlineStyle, style.outlineColor,
          parseFloat(style.outlineWidth)]; }"""


def _focus_ring(locator) -> tuple[str, bool]:
    """The focused element's outline colour, and whether the outline is a solid line of 2 px or more."""
    style, colour, width = locator.evaluate(FOCUS_RING)
    return colour, style == "solid" and width >= 2


def test_a_table_wider_than_its_box_can_be_scrolled_from_the_keyboard(desktop_page, live_cast):
    """A trend table of many months scrolls sideways inside its .table-wrap at a desk; the wrap was
    not focusable, so the months past the edge were out of a keyboard user's reach (axe:
    scrollable-region-focusable). It takes focus while, and only while, it scrolls."""
    from tests.browser.test_dashboards import SAFE, _values

    _values(live_cast)
    page = desktop_page
    login(page, "district_officer")
    page.goto(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102001000")
    wrap = page.locator(".table-wrap")
    assert wrap.get_attribute("tabindex") is None  # four months fit
    page.set_viewport_size({"width": 820, "height": 768})
    page.locator(".dash-trend-table").evaluate("t => { t.style.minWidth = '1600px'; }")
    page.evaluate("window.dispatchEvent(new Event('resize'))")
    assert wrap.get_attribute("tabindex") == "0"
    wrap.focus()
    assert wrap.evaluate("w => document.activeElement === w")
    page.keyboard.press("ArrowRight")  # the browser scrolls the focused box, maybe smoothly: wait for it
    page.wait_for_function("() => document.querySelector('.table-wrap').scrollLeft > 0")
    # Where the focus is shows: Chromium's own ring is 1 px, thin beside a select's border. Ours is
    # at least 2 px, dark on the page and white on the red top bar (3:1 against both).
    assert _focus_ring(wrap) == ("rgb(0, 0, 0)", True)
    page.locator("#pick-period-type").focus()
    page.keyboard.press("Shift+Tab")
    assert _focus_ring(page.locator("#pick-indicator")) == ("rgb(0, 0, 0)", True)
    page.locator("header.topbar a").first.focus()
    page.keyboard.press("Tab")
    assert _focus_ring(page.locator("header.topbar :focus")) == ("rgb(255, 255, 255)", True)


def test_a_map_area_reached_with_the_tab_key_says_its_name(desktop_page, live_cast):
    """Leaflet opens an area's tooltip on the focus of its shape, and Chromium put the bare <path> in
    the Tab order for that listener: a stop with no role and no name, drawn with the browser's box
    ring. Every map's areas are now named stops (role img, the tooltip's words) whose focus shows."""
    grid = live_cast.grid_a
    page = desktop_page
    login(page, "worker_a")
    page.goto("/")
    page.wait_for_selector("#home-map[data-loaded='1']")
    page.locator("#home-map").focus()
    page.keyboard.press("Tab")
    shape = page.locator("#home-map path.leaflet-interactive:focus")
    assert (
        shape.get_attribute("role"),
        shape.get_attribute("aria-label"),
        shape.get_attribute("tabindex"),
    ) == (
        "img",
        f"{grid.name} {grid.code}",
        "0",
    )
    assert page.locator(".leaflet-tooltip").inner_text() == f"{grid.name} {grid.code}"
    assert shape.evaluate("p => [getComputedStyle(p).outlineStyle, getComputedStyle(p).strokeWidth]") == [
        "none",
        "3px",
    ]
    assert page.js_errors == []


@pytest.mark.parametrize("script", [True, False])
def test_a_refused_login_says_error_once_in_its_title_with_or_without_the_script(
    browser, live_server, live_cast, script
):
    """The server writes "错误：" before a refused form's title; the script, which adds it when it takes
    the focus to a field in error, must not add it again. Without the script, the title says it."""
    context, page = _new_page(browser, live_server, PHONE, java_script_enabled=script)
    try:
        page.goto("/accounts/login/")
        assert not page.title().startswith("错误：")
        if script:
            # A username over the limit is a field in error (aria-invalid), which the script focuses.
            page.evaluate("document.getElementById('id_username').removeAttribute('maxlength')")
            page.fill("#id_username", "x" * 300)
        else:
            page.fill("#id_username", "worker_a")
        page.fill("#id_password", "not-the-password-1")
        with page.expect_navigation():
            page.press("#id_password", "Enter")
        if script:
            page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")
        assert page.title().startswith("错误：") and page.title().count("错误：") == 1, page.title()
        # The console logs the 400 itself; nothing else.
        assert [e for e in page.js_errors if "400 (Bad Request)" not in e] == []
    finally:
        context.close()


@pytest.mark.parametrize("script", [True, False])
def test_a_wrong_password_puts_the_focus_back_on_the_password_with_the_error_read_out(
    browser, live_server, live_cast, script
):
    """After a refused login the user retypes the password (the username comes back filled in): the
    focus waits in the password field, which is marked invalid and described by the error, with the
    script or without it (``autofocus``); a username in error keeps the focus on the username."""
    context, page = _new_page(browser, live_server, DESKTOP, java_script_enabled=script)
    try:
        page.goto("/accounts/login/")
        page.fill("#id_username", "worker_a")
        page.fill("#id_password", "not-the-password-1")
        with page.expect_navigation():
            page.press("#id_password", "Enter")
        password = page.locator("#id_password")
        expect(password).to_be_focused()
        assert password.get_attribute("aria-invalid") == "true"
        described = password.get_attribute("aria-describedby")
        assert described and "错误" in page.locator(f"#{described}").inner_text()
        assert page.input_value("#id_username") == "worker_a" and page.input_value("#id_password") == ""
        # Typed again, it logs in from there.
        page.keyboard.type(PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/accounts/login/" not in page.url
    finally:
        context.close()
