"""Browser tests drive Debian's Chromium (/usr/bin/chromium) through Playwright, headless.

Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run inside one
unless told it is safe, which it is here (one thread, the test's own).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.base import PASSWORD

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "screenshots"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def _new_page(browser, live_server, viewport, locale="zh-CN", **options):
    context = browser.new_context(viewport=viewport, locale=locale, base_url=live_server.url, **options)
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.js_errors = errors
    return context, page


@pytest.fixture
def phone_page(browser, live_server):
    context, page = _new_page(browser, live_server, PHONE)
    yield page
    context.close()


@pytest.fixture
def desktop_page(browser, live_server):
    context, page = _new_page(browser, live_server, DESKTOP)
    yield page
    context.close()


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def signed_in_for_each(page, pages):
    """For each (user, url) of ``pages``, in order: ``page`` signed in as that user (None: nobody),
    signing in again only when the user changes. Yields (user, url)."""
    user = None
    for username, url in pages:
        if username != user:
            # Leave the page first: a request still in flight (a map's GeoJSON) would come back
            # with the session cookie (saved on every request) after it was cleared.
            page.goto("about:blank")
            page.context.clear_cookies()
            if username:
                login(page, username)
            user = username
        yield username, url


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def live_cast(transactional_db):
    """The cast, committed, for tests that drive a browser against ``live_server``."""
    from tests.base import build_cast

    return build_cast()


def areas_clear_of_map_controls(page, map_selector: str) -> list:
    """The shapes of a Leaflet map, asserted clear of its zoom buttons and credit (a map fitted with a
    few pixels of padding put its leftmost area under the buttons). Returns their boxes."""
    controls = [
        page.locator(f"{map_selector} .leaflet-control-zoom").bounding_box(),
        page.locator(f"{map_selector} .leaflet-control-attribution").bounding_box(),
    ]
    areas = [p.bounding_box() for p in page.locator(f"{map_selector} path.leaflet-interactive").all()]

    def overlap(a, b) -> bool:
        return (
            a["x"] < b["x"] + b["width"]
            and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"]
            and b["y"] < a["y"] + a["height"]
        )

    assert areas and not any(overlap(c, a) for c in controls if c for a in areas), (controls, areas)
    return areas


def facts_keep_their_width(page, selector: str, label: str, area_code: str) -> None:
    """A record page's facts (``dl``) on a phone: the labels (``label`` the longest) take at most 40%
    of the list, the area's code is on one line, whole, and nothing goes past the right edge."""
    facts = page.locator(selector)
    assert label in facts.inner_text()
    width = facts.bounding_box()["width"]
    labels = facts.locator("dt").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert max(labels) <= width * 0.4 + 1, (labels, width)
    code = facts.locator(".area-code")
    assert code.inner_text() == area_code
    assert code.evaluate("el => el.getClientRects().length") == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
