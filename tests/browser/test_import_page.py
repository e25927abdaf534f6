"""A statistics clerk imports survey answers on a phone (390x844): the template to start from, a file
with bad lines (each line's number and reason, nothing written, the form still at hand) and then the
corrected file (the rows written), in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboards.models import ImportBatch, SurveyResponse
from tests.browser.conftest import login, screenshot
from tests.browser.test_accessibility import AXE, RUN_AXE, WCAG_21_AA

pytestmark = pytest.mark.browser

GOOD = (
    "区域代码,日期,年龄段,安全感,满意度\r\n"
    "340102001001001,2026/11/2,35-44岁,很安全,满意\r\n"
    " 340102001001002 , 2026-11-03 ,65岁及以上,不清楚,比较满意\r\n"
)
# Sixty lines with an unknown area and a bad date each: 120 errors, of which the page lists 100.
BAD = "Area,Date,Age_Group,Safety,Satisfaction\r\n" + "".join(
    f"99999999{n:04d},2026-13-02,35-44,很安全,满意\r\n" for n in range(60)
)


def _upload(page, name: str, text: str) -> None:
    page.check("input[value=surveys]")
    page.set_input_files("#id_file", files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}])
    with page.expect_navigation():
        page.click("#form-import button[type=submit]")


def _fits_the_width(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_a_clerk_imports_a_file_with_bad_lines_then_the_corrected_one_on_a_phone(phone_page, live_cast):
    page = phone_page
    login(page, "analyst")
    page.goto("/dashboards/import/")
    screenshot(page, "import-phone")
    _fits_the_width(page)
    template = page.locator("a[data-template=surveys]")
    with page.expect_download() as download:
        template.click()
    assert download.value.suggested_filename == "调查问卷导入模板.csv"
    header = Path(download.value.path()).read_bytes()
    assert header == "\ufeff区域代码,日期,年龄段,安全感,满意度,权重\r\n".encode()

    _upload(page, "问卷.csv", BAD)
    errors = page.locator("#import-errors")
    assert "120 个错误；未导入任何数据。仅列出前 100 个。" in errors.inner_text()
    rows = errors.locator("tbody tr")
    assert rows.count() == 100
    # Each bad line by its number, its column and the reason.
    first = rows.nth(0).locator("td").all_inner_texts()
    assert first[0] == "2" and "area" in first[1]
    assert "999999990000" in first[2] and "没有代码为" in first[2]
    second = rows.nth(1).locator("td").all_inner_texts()
    assert second[0] == "2" and "date" in second[1] and second[2] == "没有 2026-13-02 这个日期。"
    assert rows.nth(99).get_attribute("data-line") == "51"
    # A hundred errors do not push the form off: it starts within the second screen, and a link at
    # the top of the list leads to it.
    viewport = page.viewport_size["height"]
    assert page.locator("#form-import").bounding_box()["y"] < 2 * viewport
    page.click("#import-errors a[href='#form-import']")
    assert page.locator("#id_file").is_visible()
    _fits_the_width(page)
    # The list that scrolls inside the page is reached from the keyboard and named (axe).
    # (Evaluated through the DevTools protocol, which the page's CSP leaves alone: the test's page
    # keeps the CSP, so a blocked inline script or style would still be reported.)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    assert page.evaluate(RUN_AXE, WCAG_21_AA) == []
    screenshot(page, "import-phone-errors")
    assert SurveyResponse.objects.count() == 0 and ImportBatch.objects.count() == 0

    _upload(page, "问卷.csv", GOOD)
    assert page.url.endswith("/dashboards/import/")  # the form's answer redirected to the page
    assert "问卷.csv：已导入 2 行" in page.locator(".messages").inner_text()
    assert page.locator("#import-errors").count() == 0
    assert "问卷.csv" in page.locator("#import-batches").inner_text()
    assert sorted(SurveyResponse.objects.values_list("area__code", "age_group")) == [
        ("340102001001001", "35-44"),
        ("340102001001002", "65+"),
    ]
    _fits_the_width(page)
    screenshot(page, "import-phone-done")
    # The refused file's page is a 400, which the console notes; nothing else may fail.
    assert [e for e in page.js_errors if "status of 400" not in e] == []


def test_the_bad_lines_fit_a_phone_without_scrolling_sideways(phone_page, live_cast):
    """A message naming a setting or a code (ROLLUP_FIRST_MONTH, not_very_satisfied) is one word
    wider than a phone's third column: the list of bad lines was 411 px in its 340 px box, each
    reason cut off at the right edge unless scrolled sideways row by row. The reason wraps inside
    its cell instead, and the list scrolls down only."""
    page = phone_page
    login(page, "analyst")
    page.goto("/dashboards/import/")
    bad = (
        "area,date,age_group,safety,satisfaction\r\n"
        "340102001001001,1999-12-31,35-44,safe,satisfied\r\n"  # before ROLLUP_FIRST_MONTH
        "340102001001001,2026-11-02,35-44,safe,happy\r\n"  # the codes listed, not_very_satisfied
    )
    _upload(page, "bad.csv", bad)
    region = page.locator(".dash-import-errors")
    assert region.locator("tbody tr").count() == 2
    assert "ROLLUP_FIRST_MONTH" in region.inner_text()
    widths = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1], widths
    _fits_the_width(page)
