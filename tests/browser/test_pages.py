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
