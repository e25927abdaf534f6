"""A district officer works the ranking pages in Chromium: league table, indicator and period changes,
drill-down by clicking the map, CSV export, then the assessment results (390x844 and 1366x768)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import gettext

from dashboards import assessment
from dashboards.assessment_models import AssessmentItem, AssessmentScheme
from dashboards.models import IndicatorValue
from dashboards.ranking import running
from governance.periods import Period
from tests.base import make_area
from tests.browser.conftest import PHONE, _new_page, areas_clear_of_map_controls, login, screenshot
from tests.dashboards.assessment_data import indicator_value

pytestmark = pytest.mark.browser

SAFE, SATISFIED = "survey_safety_rate", "survey_satisfaction_rate"


def _values(cast) -> None:
    for indicator, base in ((SAFE, 90.0), (SATISFIED, 85.0)):
        for period, shift in (("2026-09", -2), ("2026-10", -1), ("2026-11", 0), ("2026Q4", 0.5)):
            indicator_value(indicator, cast.street_a1, period, base + shift + 3, 900, 1000, rank=1, rank_of=1)
            for i, area in enumerate((cast.community_a1a, cast.community_a1b)):
                value = base + shift + 4 * i
                indicator_value(
                    indicator,
                    area,
                    period,
                    value,
                    value * 10,
                    1000,
                    rank=2 - i,
                    rank_of=2,
                    delta=1.5 - i,
                    rank_change=i,
                )


def _league(page, parent: str) -> None:
    """Signed in as district A's officer, the league table of ``parent``'s children, map painted."""
    login(page, "district_officer")
    page.goto(f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent={parent}")
    page.wait_for_selector("#dash-map[data-painted='1']")


def _legend(page) -> list[str]:
    """The map legend's entries, as read."""
    return [s.strip() for s in page.locator("#dash-legend > span").all_inner_texts()]


def _no_value() -> str:
    """The words of the legend's grey swatch in the page's language (zh-hans in these tests). These
    maps show a survey indicator, whose areas below the minimum sample are grey as well."""
    with translation.override("zh-hans"):
        return gettext("No value, or too few answers to rank")


def _scheme(cast) -> AssessmentScheme:
    scheme = AssessmentScheme.objects.create(
        year=2026, name="2026 街道平安建设考核", area=cast.district_a, level="street"
    )
    AssessmentItem.objects.create(
        scheme=scheme, name="安全感", max_points=100, method="target", indicator=SAFE, target=90
    )
    indicator_value(SAFE, cast.street_a1, "2026", 92.0, 920, 1000, rank=1, rank_of=1)
    assessment.assessment_compute(scheme=scheme)
    return scheme


def test_a_district_officer_ranks_drills_down_exports_and_reads_the_assessment(
    desktop_page, phone_page, live_cast
):
    _values(live_cast)
    # District A's own value, as the rollup gives every area above one with a value: the page opens
    # on the latest month with a value (2026-11). With none it opened on the current month, and the
    # quarter picked below was 2026Q4 only while the tests ran in that quarter.
    for indicator in (SAFE, SATISFIED):
        indicator_value(indicator, live_cast.district_a, "2026-11", 90.0, 1800, 2000, rank=1, rank_of=1)
    scheme = _scheme(live_cast)
    page = desktop_page
    login(page, "district_officer")
    page.goto("/dashboards/league/")
    page.wait_for_selector("#dash-map[data-painted='1']")
    assert page.locator("#league tbody tr").count() == 1  # district A's one street

    page.select_option("#pick-indicator", SATISFIED)
    page.wait_for_url(lambda url: SATISFIED in url)
    page.select_option("#pick-period-type", "quarter")
    page.wait_for_url(lambda url: "period_type=quarter" in url)
    assert page.locator("#pick-period").input_value() == "2026Q4"
    page.wait_for_selector("#dash-map[data-painted='1']")
    page.wait_for_timeout(500)  # let Leaflet's zoom animation finish before the picture and the click
    screenshot(page, "dashboards-league-desktop")

    # Click the street on the map: the table drills down to its communities.
    box = page.locator("#dash-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_url(lambda url: "parent=340102001000" in url)
    page.wait_for_selector("#dash-map[data-painted='1']")
    assert page.locator("#league tbody tr").count() == 2
    assert "period=2026Q4" in page.url and SATISFIED in page.url

    with page.expect_download() as download:
        page.click("#export-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "340102001001" in text and "340102001002" in text

    page.goto(f"/dashboards/assessments/{scheme.pk}/")
    assert page.locator("#assessment-results tbody tr").count() == 1
    assert "100.00" in page.locator("#assessment-results").inner_text()
    screenshot(page, "dashboards-assessment-desktop")
    assert page.js_errors == []

    phone = phone_page
    login(phone, "district_officer")
    phone.goto(f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent=340102001000")
    phone.wait_for_selector("#dash-map[data-painted='1']")
    phone.wait_for_timeout(500)
    screenshot(phone, "dashboards-league-phone")
    phone.goto("/dashboards/?period=2026-11")
    screenshot(phone, "dashboards-overview-phone")
    assert phone.js_errors == []


def test_the_trend_chart_tooltip_breaks_no_content_security_policy(desktop_page, live_cast):
    """ECharts draws its HTML tooltip with inline style attributes, which style-src 'self' blocks
    (one console error per hover, tooltip unstyled): the chart renders its tooltip on the canvas."""
    _values(live_cast)
    page = desktop_page
    login(page, "district_officer")
    page.goto(f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent=340102001000")
    page.wait_for_selector("#trend-chart[data-rendered='1']")
    box = page.locator("#trend-chart").bounding_box()
    for i in range(1, 10):
        page.mouse.move(box["x"] + box["width"] * i / 10, box["y"] + box["height"] / 2)
        page.wait_for_timeout(100)
    assert page.js_errors == []


def test_the_map_legend_of_a_period_without_values_shows_only_no_value(desktop_page, live_cast):
    """With no values there are no class breaks: the legend showed a swatch labelled "≤" alone."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    # Two areas, 90.00% and 94.00%: two classes and "no value", not an empty "> 94" class; the
    # breaks as the table writes them, to 2 decimals.
    assert _legend(page) == ["≤ 90.00%", "> 90.00%", _no_value()]
    page.goto(f"/dashboards/league/?indicator={SAFE}&period=2026-05&parent=340102001000")
    page.wait_for_selector("#dash-map[data-painted='1']")
    assert _legend(page) == [_no_value()]
    assert "≤" not in page.locator("#dash-legend").inner_text()
    assert page.js_errors == []


def test_every_column_of_the_league_table_shows_beside_the_map_on_a_desk(desktop_page, live_cast):
    """At 1366x768 the map took two fifths of the row and the table's last column (the trend)
    was cut off behind a horizontal scroll: the table takes the width it needs, the map the rest."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    wrap = page.evaluate(
        "() => { const w = document.querySelector('#league').parentElement;"
        " return [w.scrollWidth, w.clientWidth]; }"
    )
    assert wrap[0] <= wrap[1], wrap
    table, chart = page.locator("#league").bounding_box(), page.locator("#dash-map").bounding_box()
    assert table["x"] + table["width"] <= chart["x"] and chart["width"] >= 320
    screenshot(page, "league-desk-columns")
    assert page.js_errors == []


# Each heading of the league table: its text, its sort link's look and what follows the link.
HEADINGS = """() => [...document.querySelectorAll('#league th')].map(th => {
  const a = th.querySelector('a'), s = getComputedStyle(a || th), after = a && getComputedStyle(a, '::after');
  return {text: th.innerText.trim(), link: !!a, colour: s.color, text_colour: getComputedStyle(th).color,
          decoration: s.textDecorationLine, border: s.borderTopStyle, background: s.backgroundColor,
          height: (a || th).getBoundingClientRect().height, after: after ? after.content : 'none'};
})"""


@pytest.mark.parametrize("width", [1366, 718])  # a desk's print, and A4 portrait's 718 px of page
def test_the_league_table_s_sort_headings_print_as_plain_headings(desktop_page, live_cast, width):
    """The headings are sort links. Printed (on A4 portrait the page is under 800 px wide, so the
    phone's layout applies) they were a row of bordered buttons, with the sort arrow: on paper they
    are plain headings in the headings' colour, and the column the rows are ordered by says so in
    words. The screen keeps its links and arrow."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    screen = {h["text"]: h for h in page.evaluate(HEADINGS)}
    assert screen["排名"]["after"] == '" ↑"'  # sorted by rank, ascending; the print-only words hidden
    page.set_viewport_size({"width": width, "height": 768})
    page.emulate_media(media="print")
    printed = page.evaluate(HEADINGS)
    screenshot(page, f"league-printed-{width}")
    links = [h for h in printed if h["link"]]
    assert len(links) >= 6, printed
    for heading in links:
        assert heading["decoration"] == "none" and heading["colour"] == heading["text_colour"], heading
        assert heading["border"] == "none" and heading["background"] == "rgba(0, 0, 0, 0)", heading
        assert heading["after"] in ("none", "normal"), heading  # no arrow, no address
        assert heading["height"] < 30, heading  # a line of text, not a 44 px button
    assert [h["text"] for h in links if "（" in h["text"]] == ["排名（升序）"]
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.evaluate(HEADINGS) == list(screen.values())
    assert page.js_errors == []


# Each sparkline's box, its cell's, and the visible box of the table's scroll wrapper.
SPARK_BOXES = """() => [...document.querySelectorAll('#league svg.spark')].map(svg => {
  const box = r => { const b = r.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom]; };
  return {spark: box(svg), cell: box(svg.closest('td')), wrap: box(svg.closest('.table-wrap'))}; })"""


def _inside(inner, outer) -> bool:
    return (
        inner[0] >= outer[0] - 0.5
        and inner[1] >= outer[1] - 0.5
        and inner[2] <= outer[2] + 0.5
        and inner[3] <= outer[3] + 0.5
    )


@pytest.mark.parametrize("viewport", [{"width": 1366, "height": 768}, {"width": 390, "height": 844}])
def test_every_sparkline_lies_whole_within_its_cell_and_the_table(desktop_page, live_cast, viewport):
    """On a 1366 px desk a district's league table (a long street name, changes in percentage
    points, a sample column) was wider than its share beside the map: the trend column was cut off
    at the table's right edge. Each sparkline lies within its cell and the table's visible box,
    which does not scroll sideways; on a phone the cards hold them too."""
    _values(live_cast)
    live_cast.community_a1a.name = "大兴街道经济开发区管理委员会(示例)"
    live_cast.community_a1a.save(update_fields=["name"])
    page = desktop_page
    page.set_viewport_size(viewport)
    _league(page, "340102001000")
    screenshot(page, f"league-sparklines-{viewport['width']}")
    boxes = page.evaluate(SPARK_BOXES)
    assert len(boxes) == 2
    for box in boxes:
        assert _inside(box["spark"], box["cell"]) and _inside(box["spark"], box["wrap"]), box
    wrap = page.evaluate(
        "() => { const w = document.querySelector('#league').parentElement;"
        " return [w.scrollWidth, w.clientWidth]; }"
    )
    assert wrap[0] <= wrap[1], wrap
    assert page.js_errors == []


def _equal_values(cast, value: float) -> None:
    for i, area in enumerate((cast.community_a1a, cast.community_a1b)):
        indicator_value(SAFE, area, "2026-11", value, value * 10, 1000, rank=1, rank_of=2)


@pytest.mark.parametrize("value, shown", [(100.0, "100.00%"), (0.0, "0.00%"), (87.5, "87.50%")])
def test_the_map_legend_of_equal_values_shows_one_class_with_that_value(
    desktop_page, live_cast, value, shown
):
    """Every area at 100%: the legend read "≤ 100%" and "> 100%", a class no area could be in. The
    one value is written once, to 2 decimals as the table writes it, beside the labelled grey swatch
    (it had no words, only "—")."""
    _equal_values(live_cast, value)
    page = desktop_page
    _league(page, "340102001000")
    assert _legend(page) == [shown, _no_value()]
    assert page.locator("#dash-legend [data-no-value] i.cnone").count() == 1
    assert page.locator("#dash-legend [data-single]").count() == 1
    # Both areas in that one class, the colour of its swatch.
    fills = page.eval_on_selector_all(
        "#dash-map path.leaflet-interactive", "ps => ps.map(p => p.getAttribute('fill'))"
    )
    assert len(fills) == 2 and len(set(fills)) == 1 and fills[0] != "#e5e7eb"
    assert page.js_errors == []


def test_the_map_tooltip_gives_the_rank_in_the_pages_language(desktop_page, live_cast):
    """The tooltip read "春晖社区 90.00% #2": the rank in words the page translates."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    page.hover("#dash-map path[data-area='340102001001']")
    tooltip = page.locator(".leaflet-tooltip").inner_text()
    assert tooltip == "春晖社区 90.00% 排名第 2（共 2）", tooltip
    assert "#" not in tooltip
    assert page.js_errors == []


def test_a_tap_or_the_keyboard_shows_an_areas_label_on_a_phone(browser, live_server, live_cast):
    """The label (name, value, rank) came with a mouse hover only: on a phone a tap drilled straight
    down, and the keyboard reached no area. A first tap shows the label and stays on the page, a
    second tap opens the area; each area takes the focus (Tab), which shows its label, and Enter
    opens it."""
    _values(live_cast)
    context, page = _new_page(browser, live_server, PHONE, has_touch=True, is_mobile=True)
    try:
        _league(page, "340102001000")
        page.wait_for_timeout(300)  # Leaflet's fit, before the tap
        league_url = page.url
        assert "再次轻触或按回车键" in page.locator("#dash-map-hint").inner_text()
        shape = page.locator("#dash-map path[data-area='340102001001']")
        shape.tap()
        tooltip = page.locator(".leaflet-tooltip")
        assert tooltip.inner_text() == "春晖社区 90.00% 排名第 2（共 2）"
        assert tooltip.is_visible()
        page.wait_for_timeout(300)
        assert page.url == league_url  # not drilled into yet
        screenshot(page, "league-map-tapped-phone")
        shape.tap()
        page.wait_for_url("**parent=340102001001**")

        page.goto(league_url)
        page.wait_for_selector("#dash-map[data-painted='1']")
        shapes = page.locator("#dash-map path.leaflet-interactive")
        assert shapes.count() == 2
        assert shapes.evaluate_all("ps => ps.map(p => p.getAttribute('tabindex'))") == ["0", "0"]
        assert page.locator(".leaflet-tooltip").count() == 0
        shape = page.locator("#dash-map path[data-area='340102001001']")
        assert shape.get_attribute("aria-label") == "春晖社区 90.00% 排名第 2（共 2）"
        shape.focus()
        assert page.locator(".leaflet-tooltip").inner_text() == "春晖社区 90.00% 排名第 2（共 2）"
        page.keyboard.press("Enter")
        page.wait_for_url("**parent=340102001001**")
        assert page.js_errors == []
    finally:
        context.close()


def test_the_map_zoom_buttons_cover_no_area_on_a_desk(desktop_page, live_cast):
    """At 1366x768 the zoom buttons lay over the leftmost area, fitted with 8 px of padding: here a
    street whose two communities fill the map's height, the left one under the buttons."""
    street = make_area(
        "340102002000", "甲二街道", "street", live_cast.district_a, (117.0, 31.8, 117.04, 31.822)
    )
    left = make_area("340102002001", "东湖社区", "community", street, (117.0, 31.8, 117.02, 31.822))
    right = make_area("340102002002", "西湖社区", "community", street, (117.02, 31.8, 117.04, 31.822))
    for i, area in enumerate((left, right)):
        indicator_value(SAFE, area, "2026-11", 90.0 + i, rank=2 - i, rank_of=2)
    page = desktop_page
    _league(page, "340102002000")
    page.wait_for_timeout(300)
    assert len(areas_clear_of_map_controls(page, "#dash-map")) == 2
    screenshot(page, "league-map-clear-of-zoom")
    assert page.js_errors == []


def _manual_scheme(cast) -> AssessmentScheme:
    scheme = AssessmentScheme.objects.create(
        year=2026, name="2026 街道考核", area=cast.district_a, level="street"
    )
    AssessmentItem.objects.create(
        scheme=scheme, order=1, name="安全感", max_points=80, method="target", indicator=SAFE, target=90
    )
    AssessmentItem.objects.create(scheme=scheme, order=2, name="工作台账", max_points=20, method="manual")
    return scheme


def test_entry_errors_sit_under_their_own_fields_and_each_entry_says_it_was_saved(
    desktop_page, live_cast, tmp_path
):
    """The audit: an item chosen, no area, 999 points, no file. "Required" showed under the item
    (which was filled) and the evidence's error under the points; a saved entry said nothing, and a
    bonus entered twice made two identical pending bonuses."""
    scheme = _manual_scheme(live_cast)
    page = desktop_page
    login(page, "district_officer")
    page.goto(f"/dashboards/assessments/{scheme.pk}/entries/")
    page.select_option("#id_manual-item", label="工作台账（最高20分）")  # the choice names its maximum
    page.fill("#id_manual-points", "999")
    page.click("#form-manual button[type=submit]")
    page.wait_for_selector("#form-manual [data-error-summary]")
    summary = page.locator("#form-manual [data-error-summary]").inner_text()
    assert "区域" in summary and "佐证材料" in summary and "考核项目" not in summary, summary
    assert "该项最高20分。" in page.locator("#id_manual-points_error").inner_text()  # at once, not next time

    def top(selector: str) -> float:
        return page.locator(selector).bounding_box()["y"]

    assert (
        top("label[for='id_manual-area']")
        < top("#id_manual-area_error")
        < top("label[for='id_manual-points']")
    )
    assert (
        top("label[for='id_manual-evidence']")
        < top("#id_manual-evidence_error")
        < top("label[for='id_manual-note']")
    )
    assert page.locator("#id_manual-item_error").count() == 0
    assert page.get_attribute("#id_manual-area", "aria-describedby") == "id_manual-area_error"
    screenshot(page, "assessment-entry-errors")

    evidence = tmp_path / "台账.pdf"
    evidence.write_bytes(b"%PDF-1.4 ledger")
    page.select_option("#id_manual-area", "340102001000")
    page.set_input_files("#id_manual-evidence", str(evidence))
    page.fill("#id_manual-points", "15")
    page.click("#form-manual button[type=submit]")
    page.wait_for_selector(".messages .msg-success")
    assert "甲一街道" in page.locator(".messages").inner_text()
    assert page.locator("[data-error-summary]").count() == 0

    manual_item = str(scheme.items.get(method="manual").pk)

    def bonus() -> None:
        page.select_option("#id_adjustment-kind", "bonus")
        page.select_option("#id_adjustment-area", "340102001000")
        page.select_option("#id_adjustment-item", manual_item)  # its label names the bonus cap
        page.fill("#id_adjustment-points", "2")
        page.fill("#id_adjustment-reason", "排名上升")
        page.click("#form-adjustment button[type=submit]")

    bonus()
    page.wait_for_selector(".messages .msg-success")
    bonus()
    page.wait_for_selector("#id_adjustment-reason_error")
    assert page.locator(".messages").count() == 0
    assert page.locator("[data-own-entry]").count() == 1  # one bonus awaiting approval, not two
    # The two refused submissions answer 400, which Chromium logs; nothing else.
    assert len(page.js_errors) == 2 and all("status of 400" in e for e in page.js_errors), page.js_errors


def test_the_picker_moves_with_the_arrow_keys_and_submits_on_enter(desktop_page, live_cast):
    """Each arrow key on the indicator list reloaded the page at once (a change event per key), with
    the focus back at the top: the fifth indicator took four reloads and a dozen tabs after each
    (WCAG 3.2.2). Arrows move the choice; Enter submits and the focus comes back to the list."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    url = page.url
    options = page.eval_on_selector_all("#pick-indicator option", "os => os.map(o => o.value)")
    start = options.index(SAFE)
    page.focus("#pick-indicator")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(500)
    assert page.url == url  # no reload while choosing
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: f"indicator={options[start + 2]}" in u)
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.id") == "pick-indicator"
    screenshot(page, "league-picker-keyboard")
    # The mouse (or a finger) still submits at the first choice.
    page.select_option("#pick-indicator", SAFE)
    page.wait_for_url(lambda u: f"indicator={SAFE}" in u)
    assert page.js_errors == []


def test_a_grid_is_not_drilled_into_an_empty_league_table(desktop_page, live_cast):
    """A community's grids linked, in the table and on the map, to their own league table, always
    empty, which said "no values for this period": a grid has nothing below it. The grids do not
    drill down, and a grid's league table says why it is empty and links to its trend."""
    c = live_cast
    for i, grid in enumerate((c.grid_a, c.grid_b)):
        indicator_value(SAFE, grid, "2026-11", 90.0 + i, rank=2 - i, rank_of=2)
    page = desktop_page
    _league(page, c.community_a1a.code)
    page.wait_for_timeout(300)
    assert page.locator("#league tbody tr").count() == 2
    assert page.locator("#league tbody a").count() == 0
    url = page.url
    page.click(f"#dash-map path[data-area='{c.grid_a.code}']")
    page.wait_for_timeout(500)
    assert page.url == url
    screenshot(page, "league-grids-no-drill")

    page.goto(f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent={c.grid_a.code}")
    assert page.locator("#league").count() == 0 and page.locator("#dash-map").count() == 0
    note = page.locator("#league-leaf")
    assert c.grid_a.name in note.inner_text()
    note.locator("a").click()
    page.wait_for_url(lambda u: "/dashboards/trends/" in u and c.grid_a.code in u)
    assert page.js_errors == []


# The text of ``label`` inside the page's h1 as the lines it takes: one rectangle per line.
LABEL_LINES = """label => {
  const h1 = document.querySelector('h1');
  const walker = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.textContent.indexOf(label);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + label.length);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  }
  return 0; }"""


def _assert_on_one_line(page, url: str, text: str) -> None:
    """``text`` in the page's h1 on one line at every phone width from 300 to 416 px."""
    page.goto(url)
    for width in range(300, 420, 4):
        page.set_viewport_size({"width": width, "height": 844})
        assert page.evaluate(LABEL_LINES, text) == 1, (url, width)


@pytest.mark.parametrize(
    ("language", "label"),
    [("en", "2026-11"), ("en", "Q4 2026"), ("zh-hans", "2026年11月")],
    ids=["en", "en-q", "zh"],
)
def test_the_period_in_a_dashboard_heading_is_never_split_across_lines(
    phone_page, live_cast, language, label
):
    """The league table's and the overview's h1 end with the period, which wrapped inside itself
    on a phone ('2026-' on one line, '12' on the next; 'Q4' / '2026'; '2026年' / '12月')."""
    _values(live_cast)
    page = phone_page
    login(page, "district_officer")
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.url}])
    period = "2026Q4" if label.startswith("Q") else "2026-11"
    for url in (
        f"/dashboards/league/?indicator={SAFE}&period={period}&parent=340102001000",
        f"/dashboards/?period={period}",
    ):
        _assert_on_one_line(page, url, label)


def test_the_area_name_in_an_assessment_heading_is_never_split_across_lines(phone_page, live_cast):
    """A long Chinese area name broke inside itself at 390 px ('合肥' / '市(示例)'); the line may
    break between the words of the heading, not inside the name."""
    name = "合肥市蜀山区(示例)"
    live_cast.district_a.name = name
    live_cast.district_a.save(update_fields=["name"])
    scheme = _scheme(live_cast)
    page = phone_page
    login(page, "district_officer")
    for url in (f"/dashboards/assessments/{scheme.pk}/", f"/dashboards/assessments/{scheme.pk}/entries/"):
        _assert_on_one_line(page, url, name)


def test_the_area_name_in_an_overview_league_or_trends_heading_is_never_split_across_lines(
    phone_page, live_cast
):
    """The overview's and the league table's h1 broke a long Chinese area name inside itself on a
    phone ('合肥' / '市(示例)', as the assessment headings did); the line breaks between the heading's
    parts. A name longer than a phone's line still wraps rather than push the page sideways."""
    _values(live_cast)
    district, street = "合肥市蜀山区(示例)", "经济技术开发区街道(示例)"
    live_cast.district_a.name = district
    live_cast.district_a.save(update_fields=["name"])
    live_cast.street_a1.name = street
    live_cast.street_a1.save(update_fields=["name"])
    page = phone_page
    login(page, "district_officer")
    a, a1 = live_cast.district_a.code, live_cast.street_a1.code
    for url, name in (
        ("/dashboards/?period=2026-11", district),
        (f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent={a1}", street),
        (f"/dashboards/trends/?indicator={SAFE}&period=2026-11&parent={a1}", street),
        (f"/dashboards/league/?indicator={SAFE}&period=2026-11&parent={a}", district),
    ):
        _assert_on_one_line(page, url, name)
    very_long = "合肥市蜀山区经济技术开发区管理委员会示例街道社区居民委员会第一网格"
    live_cast.district_a.name = very_long
    live_cast.district_a.save(update_fields=["name"])
    page.goto("/dashboards/?period=2026-11")
    page.set_viewport_size({"width": 320, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    assert page.evaluate(LABEL_LINES, very_long) > 1


# The boxes of the x axis's labels as drawn on the canvas, and the chart's width: ECharts draws them
# with zrender, not as DOM nodes, so their places are read from its display list.
AXIS_LABELS = """() => {
  const el = document.getElementById("trend-chart");
  const chart = window.echarts.getInstanceByDom(el);
  const periods = JSON.parse(document.getElementById("trend-data").textContent);
  // A label of two lines ("2026年12月" over "（至今）") is drawn line by line: its first line names it.
  const labels = new Set((periods.axis_labels || periods.labels || periods.periods).map((l) => String(l).split("\\n")[0]));
  const boxes = chart.getZr().storage.getDisplayList(true)
    .filter((e) => e.style && labels.has(String(e.style.text)))
    .map((e) => {
      const r = e.getBoundingRect().clone();
      r.applyTransform(e.getComputedTransform());
      return {text: String(e.style.text), left: r.x, right: r.x + r.width};
    });
  return {width: el.clientWidth, boxes: boxes};
}"""


def _sixteen_month_trend(page, cast):
    """Street A1's trend over sixteen months, 2025-09 to 2026-12 as in the demo, open in ``page``
    signed in as district A's officer, its chart drawn."""
    for i in range(16):
        period = f"{2025 + (8 + i) // 12}-{(8 + i) % 12 + 1:02d}"
        indicator_value(SAFE, cast.street_a1, period, 90.0 + i / 10, 900, 1000, rank=1, rank_of=1)
    login(page, "district_officer")
    page.goto(f"/dashboards/trends/?indicator={SAFE}&period=2026-12&parent={cast.street_a1.code}")
    page.wait_for_selector("#trend-chart[data-rendered='1']")
    return page


@pytest.mark.parametrize("viewport", ["phone", "desk"])
def test_every_period_label_of_the_trend_chart_lies_whole_within_the_chart(
    phone_page, desktop_page, live_cast, viewport
):
    """With a year and more of months on a phone the last label was cut at the chart's right edge
    ("2026年12" without its 月): the plot reached to 16 px of the edge whatever its labels' width.
    And the newest month is always labelled: ECharts counted its skips from the oldest, and with a
    slightly wider CJK font (a fresh machine's) a phone named 2025-09, 2026-03 and 2026-09 only."""
    # Sixteen months, 2025-09 to 2026-12, as in the demo: on a phone only some are labelled, every
    # so many counted back from the newest; how many fit depends on the font, not on this test.
    page = _sixteen_month_trend(phone_page if viewport == "phone" else desktop_page, live_cast)
    page.wait_for_timeout(1500)  # the line draws itself in; the axis is there from the start
    screenshot(page, f"trend-sixteen-months-{viewport}")
    drawn = page.evaluate(AXIS_LABELS)
    boxes = sorted(drawn["boxes"], key=lambda b: b["left"])
    texts = [b["text"] for b in boxes]
    assert len(texts) >= 3 and texts[-1].startswith("2026年12月"), texts
    for box in boxes:
        assert box["left"] >= 0 and box["right"] <= drawn["width"], (box, drawn["width"])
    for before, after in zip(boxes, boxes[1:], strict=False):
        assert before["right"] <= after["left"], (before, after)  # none written over the next
    if viewport == "desk":
        assert len(texts) >= 8, texts  # every other month at least: a desk has the room
    assert page.js_errors == []


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1366, "height": 768}])
def test_the_row_of_records_filed_at_the_street_itself_reads_whole(desktop_page, live_cast, viewport):
    """A street whose value counts 30 "safe" of 40 answers taken at the street itself, in neither of
    its communities (900 + 940 of 1000 + 1000): its league table ends with that row, unranked, its
    numbers written out (no hover on a phone), its label and note whole within the card, and the
    page does not scroll sideways at 390 px. On a desk the row's sentences wrap: on one line they
    made the table wider than its share, and the map went below it."""
    _values(live_cast)
    IndicatorValue.objects.filter(indicator=SAFE, area=live_cast.street_a1, period="2026-11").update(
        numerator=1870, denominator=2040
    )
    page = desktop_page
    page.set_viewport_size(viewport)
    _league(page, "340102001000")
    row = page.locator("#league-own")
    row.scroll_into_view_if_needed()
    screenshot(page, f"league-own-records-{viewport['width']}")
    text = row.inner_text()
    assert "计在甲一街道本级（不属于上列任何区域）" in text.replace("\n", "") and "不参与排名" in text
    assert "75.00%" in text and "分子 30 / 分母 40" in text, text
    assert "计入甲一街道的数值，不在上面任何一行中。" in text
    width = viewport["width"]
    cells = page.evaluate(
        """() => [...document.querySelectorAll('#league-own td')].map(td => {
          const b = td.getBoundingClientRect();
          return {left: b.left, right: b.right, width: b.width, scroll: td.scrollWidth, client: td.clientWidth}; })"""
    )
    assert len(cells) == 4 and all(
        c["width"] > 0 and c["left"] >= 0 and c["right"] <= width for c in cells
    ), cells
    assert all(c["scroll"] <= c["client"] + 1 for c in cells), cells
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    if width > 1100:
        table, chart = page.locator("#league").bounding_box(), page.locator("#dash-map").bounding_box()
        assert table["x"] + table["width"] <= chart["x"] and chart["width"] >= 320, (table, chart)
    # After both communities, which the map draws; the row has no shape of its own.
    order = page.evaluate(
        "() => [...document.querySelectorAll('#league tbody tr')].map(r => r.id || r.dataset.area)"
    )
    assert order == ["340102001002", "340102001001", "league-own"], order
    assert page.js_errors == []


@pytest.mark.parametrize("viewport", ["phone", "desk"])
def test_the_trend_table_opens_on_the_newest_periods_and_says_it_scrolls(
    phone_page, desktop_page, live_cast, viewport
):
    """At desk width sixteen months are wider than the page: the table opened on the oldest, the
    newest (the ones a monthly report needs) hidden past the right edge with nothing saying so. It
    opens scrolled to its end, and a line under it says it scrolls; a phone's cards do not scroll
    and show no such line."""
    page = _sixteen_month_trend(phone_page if viewport == "phone" else desktop_page, live_cast)
    page.wait_for_load_state("load")
    hint = page.locator(".scroll-hint")
    with translation.override("zh-hans"):
        words = gettext(
            "The table scrolls sideways: it opens on the newest periods, the earlier ones are to the left."
        )
    if viewport == "phone":
        assert not hint.is_visible()
    else:
        assert hint.is_visible() and hint.inner_text() == words
        newest = page.locator(".dash-trend-table th").last
        wrap = page.locator(".dash-trend-table").locator("xpath=..").bounding_box()
        box = newest.bounding_box()
        # Read today, 2026-12 is the month not over yet, and says so (docs/assessment.md).
        december = Period.parse("2026-12")
        with translation.override("zh-hans"):
            so_far = gettext("%(period)s (so far)") % {"period": december.label}
        assert newest.inner_text() == (so_far if running(december) else "2026年12月")
        assert box["x"] + box["width"] <= wrap["x"] + wrap["width"] + 1, (box, wrap)
        assert page.evaluate("document.querySelector('.table-wrap').scrollLeft") > 0
    assert page.js_errors == []


def test_the_overviews_period_lists_submit_at_a_choice_as_the_other_ranking_pages_do(desktop_page, live_cast):
    """The overview's form is the league table's and the trends page's picker, but without its script:
    a new period type or period chosen there did nothing until "Show" was pressed, where the other
    two pages reload at once."""
    _values(live_cast)
    page = desktop_page
    login(page, "district_officer")
    page.goto("/dashboards/?period=2026-11&parent=340102001000")
    page.select_option("#pick-period-type", "quarter")
    page.wait_for_url(lambda u: "period_type=quarter" in u)
    page.wait_for_load_state("load")
    assert page.locator("#pick-period").input_value().endswith(("Q1", "Q2", "Q3", "Q4"))
    page.select_option("#pick-period", "2026Q4")
    page.wait_for_url(lambda u: "period=2026Q4" in u)
    assert page.js_errors == []


def test_a_long_unbroken_entry_never_widens_the_entries_page(phone_page, desktop_page, live_cast):
    """A veto's event or a reason typed as one long run of letters and digits (a file number, a web
    address) stretched its grid column to its length: the whole entries page, forms and all, was
    3,000 px wide on a phone. The text wraps inside its card instead."""
    scheme = _scheme(live_cast)
    long_run = "https://example.invalid/" + "0123456789" * 30
    assessment.veto_record(
        scheme=scheme, area=live_cast.street_a1, event=long_run, actor=live_cast.district_officer
    )
    for page, width in ((phone_page, PHONE["width"]), (desktop_page, 1366)):
        login(page, "district_officer")
        page.goto(f"/dashboards/assessments/{scheme.pk}/entries/")
        assert page.locator(f"text={long_run[:30]}").count()
        assert page.evaluate("document.documentElement.scrollWidth") <= width


def _pixel(page, selector: str) -> tuple[int, int, int]:
    """The colour painted at the centre of the element, as the reader sees it."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(page.locator(selector).screenshot())).convert("RGB")
    return image.getpixel((image.width // 2, image.height // 2))


def test_each_map_area_has_the_colour_of_its_legend_swatch(desktop_page, live_cast):
    """The areas are painted three quarters opaque over the map's background, the legend's swatches
    in their full colour: the best area (the darkest class) looked like the swatch of the class
    below it, and "darker is better" was read off the wrong swatch. Each area now matches its own
    swatch, and lies nearer it than any other."""
    _values(live_cast)
    page = desktop_page
    _league(page, "340102001000")
    page.mouse.move(0, 0)  # no hover, no tooltip over an area
    swatches = [_pixel(page, f"#dash-legend > span:nth-child({i + 1}) i") for i in range(2)]

    def distance(a, b) -> int:
        return max(abs(x - y) for x, y in zip(a, b, strict=True))

    for code, swatch in (("340102001001", 0), ("340102001002", 1)):  # 90.00% and 94.00%
        painted = _pixel(page, f"#dash-map path[data-area='{code}']")
        nearest = min(range(len(swatches)), key=lambda i: distance(painted, swatches[i]))
        assert nearest == swatch and distance(painted, swatches[swatch]) <= 6, (code, painted, swatches)
    assert page.js_errors == []
