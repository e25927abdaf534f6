"""Target size: every control and link a reader can press on the main pages of every role is at
least 24x24 CSS px at a 1366x768 desk with a mouse, with no two targets overlapping (WCAG 2.5.8),
and at least 44x44 on a 390x844 phone and on a touch screen at desk width (2.5.5). Measured from
the bounding boxes Chromium lays out, with the phone menu and every <details> open."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, _new_page, signed_in_for_each
from tests.browser.test_accessibility import DRAWN, OPEN_ALL, _data, _pages

pytestmark = pytest.mark.browser

# What a pointer can activate, with its box. A checkbox or radio button is pressed through its
# label too, so its target is the label's box when it has one. A link inside a sentence (a p with
# text of its own) is bound to the line's height: 2.5.8's "inline" exception. Nothing out of sight
# is a target. A map's pin is one: what it opens (a link, a tooltip) is pressed anywhere in its box.
TARGETS_JS = """() => {
  const SEL = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button], label[for], '
    + '.leaflet-marker-icon.leaflet-interactive';
  const out = [];
  for (const el of document.querySelectorAll(SEL)) {
    if (el.matches('label[for]')) {
      const control = document.getElementById(el.htmlFor);
      if (!control || getComputedStyle(control).opacity !== '0') continue;  // its control is the target
    }
    const cs = getComputedStyle(el);
    let box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || cs.visibility === 'hidden' || cs.opacity === '0') continue;
    if (el.closest('.visually-hidden')) continue;
    const p = el.closest('p');
    if (el.matches('a') && p && p.textContent.trim() !== el.textContent.trim()) continue;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) box = label.getBoundingClientRect();
    }
    const field = el.matches('select, input, textarea');
    const name = ((field ? '' : el.innerText) || el.getAttribute('aria-label') || el.getAttribute('name') || el.type || '').trim();
    out.push({el, x: box.left + scrollX, y: box.top + scrollY, w: box.width, h: box.height,
              what: `${el.tagName.toLowerCase()} "${name.slice(0, 30)}"`});
  }
  return out;
}"""
CHECK_JS = (
    """tap => {
  const targets = ("""
    + TARGETS_JS
    + """)();
  const bad = targets.filter(t => t.w < tap - 0.5 || t.h < tap - 0.5)
    .map(t => `${t.what} is ${Math.round(t.w)}x${Math.round(t.h)}`);
  // 2.5.8's spacing: targets must not overlap (one nested in the other is one target, as is a
  // control inside the label that is its target).
  for (let i = 0; i < targets.length; i++) for (let j = i + 1; j < targets.length; j++) {
    const a = targets[i], b = targets[j];
    if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
    const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
    const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
    if (w > 1 && h > 1) bad.push(`${a.what} overlaps ${b.what} by ${Math.round(w)}x${Math.round(h)}`);
  }
  return {count: targets.length, bad, pins: targets.filter(t => t.el.matches('.leaflet-marker-icon')).length};
}"""
)

VIEWS = {
    "phone": (PHONE, {}, 44),
    "desk": (DESKTOP, {}, 24),
    "desk-touch": (DESKTOP, {"has_touch": True}, 44),
}


# A map with incident pins (my grid, an incident) says when it has drawn them.
PINS_DRAWN_JS = """() => [...document.querySelectorAll('[data-markers],[data-marker]')]
  .every(el => el.hasAttribute('data-markers-drawn'))"""


def targets_below(page, url: str, tap: int) -> tuple[int, list[str], int]:
    """Open ``url`` with its maps and pins drawn, its menu and forms open: how many targets it has,
    which are smaller than ``tap`` px or overlap another, and how many of them are map pins."""
    page.goto(url)
    drawn = DRAWN.get(url.split("?")[0])
    if drawn:
        page.wait_for_selector(drawn)
    page.wait_for_function(PINS_DRAWN_JS)
    if url == "/grids/report/":  # its pin appears where a point is chosen: tap the map's centre
        box = page.locator("#report-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_selector("#report-map[data-pin='1']")
    page.evaluate(OPEN_ALL)
    found = page.evaluate(CHECK_JS, tap)
    return found["count"], found["bad"], found["pins"]


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_target_on_the_main_pages_is_big_enough_to_press(browser, live_server, live_cast, view):
    """Links in the desk lists were the 19 px of their text (a row's number, a list item's record,
    the breadcrumbs, the brand); the phone menu's label was 34 px, the language switch 24 px and
    the map's zoom buttons 30 px on a phone; the incident pins on the maps of my grid and of an
    incident were 18 px circles that no selector here found; the report form's draggable pin was
    Leaflet's 25x41 image, and the test never chose a point, so it was never there to measure."""
    viewport, options, tap = VIEWS[view]
    data = _data(live_cast)
    pages = _pages(data)
    context, page = _new_page(browser, live_server, viewport, **options)
    found: list[str] = []
    measured = 0
    pins: list[str] = []
    try:
        for username, url in signed_in_for_each(page, pages):
            count, bad, pin_count = targets_below(page, url, tap)
            assert count >= 2, f"{url} ({username}): {count} targets found"  # the brand and a language
            measured += count
            pins += [url] * pin_count
            found += [f"{url} ({username}): {b}" for b in bad]
    finally:
        context.close()
    assert not found, f"{len(found)} targets below {tap} px or overlapping at {view}:\n" + "\n".join(found)
    assert measured > 10 * len(pages)
    # the incident's pin on my grid (an open item of worker_a), the chosen point on the report form,
    # and the incident's pin on its page for worker_a and for the handler
    incident = f"/grids/incidents/{data['incident']}/"
    assert pins == ["/grids/my/", "/grids/report/", incident, incident], pins
