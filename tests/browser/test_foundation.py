"""A person logs in on a phone, sees their areas on the map, and switches the language."""

import pytest

from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.browser


def test_a_handler_logs_in_sees_the_map_and_switches_language(phone_page, live_cast, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the product default (the test suite defaults to English)
    page = phone_page
    login(page, "street_handler")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.locator("h1").inner_text().startswith("欢迎")
    # The map draws the street's boundary from the areas API with no tiles configured.
    page.wait_for_selector("#home-map[data-loaded]")
    assert page.locator("#home-map").get_attribute("data-loaded") == "1"
    assert page.locator("#home-map path.leaflet-interactive").count() == 1
    # Leaflet's own prefix carries a national flag and a link out of the intranet: the credit stays, plain.
    attribution = page.locator("#home-map .leaflet-control-attribution")
    assert attribution.inner_text().strip() == "Leaflet" and attribution.locator("svg, a").count() == 0
    screenshot(page, "home-phone-zh")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert "Welcome" in page.locator("h1").inner_text()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_selector("#home-map[data-loaded='1']")
    screenshot(page, "home-desktop-en")
    assert page.js_errors == []


def _toggle_as_read_out(page) -> tuple[str, str, bool | None]:
    """The phone menu's toggle as Chromium's accessibility tree gives it to a screen reader: its
    role, its name and whether it says expanded (None when it says nothing of the kind)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#nav-toggle"})["nodeId"]
        ax = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})["nodes"][0]
    finally:
        cdp.detach()
    states = {p["name"]: p["value"].get("value") for p in ax.get("properties", [])}
    return ax["role"]["value"], ax["name"]["value"], states.get("expanded")


def test_the_phone_menu_opens_from_the_keyboard(phone_page, live_cast):
    # The menu's checkbox was display:none: below 800 px (a phone, or a desktop zoomed to 200%) the
    # menu could not be opened without a pointer.
    page = phone_page
    login(page, "street_handler")
    assert not page.locator("nav.nav").is_visible()
    # A screen reader said "checkbox, not checked" of it: it is a disclosure, collapsed, named 菜单.
    assert _toggle_as_read_out(page) == ("DisclosureTriangle", "菜单", False)
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "nav-toggle":
            break
    assert page.evaluate("document.activeElement.id") == "nav-toggle"
    page.keyboard.press("Space")
    assert page.locator("nav.nav").is_visible()
    assert _toggle_as_read_out(page)[2] is True
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # Escape closes it from an entry, the focus back on the toggle (it was left open, the focus
    # on an entry no longer drawn once the menu was closed by a press on its label).
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('nav.nav')")
    page.keyboard.press("Escape")
    assert not page.locator("nav.nav").is_visible()
    assert page.evaluate("document.activeElement.id") == "nav-toggle"
    assert _toggle_as_read_out(page)[2] is False
    page.keyboard.press("Space")  # and opens again from there
    assert page.locator("nav.nav").is_visible()
    assert page.js_errors == []


def test_the_phone_menu_opens_and_closes_without_javascript(browser, live_server, live_cast):
    """The toggle needs no script: with JavaScript off a press opens the menu and another closes
    it, its entries reachable, and a desk shows the menu with no toggle at all."""
    from tests.browser.conftest import DESKTOP, PHONE, _new_page

    context, page = _new_page(browser, live_server, PHONE, java_script_enabled=False)
    try:
        login(page, "street_handler")
        nav = page.locator("nav.nav")
        assert not nav.is_visible()
        page.click("#nav-toggle")
        assert nav.is_visible() and nav.locator("a[href='/notifications/']").is_visible()
        assert _toggle_as_read_out(page)[2] is True
        page.click("#nav-toggle")
        assert not nav.is_visible()
        page.set_viewport_size(DESKTOP)
        assert nav.is_visible() and not page.locator("#nav-toggle").is_visible()
    finally:
        context.close()


def test_the_first_tab_offers_a_way_past_the_header_to_the_page(phone_page, live_cast, settings):
    """WCAG 2.4.1: on a phone the header's menu and language switch come before every page; the
    first Tab shows a link that takes the focus to the page's own content."""
    settings.LANGUAGE_CODE = "zh-hans"
    page = phone_page
    login(page, "street_handler")
    skip = page.locator("a.skip-link")
    assert skip.bounding_box()["y"] + skip.bounding_box()["height"] <= 0  # out of sight until used
    page.keyboard.press("Tab")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] >= 44 and skip.inner_text() == "跳到正文"
    screenshot(page, "skip-link-phone-zh")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is inside the page, not back in the header
    assert page.evaluate("() => !!document.activeElement.closest('main')")
    assert page.js_errors == []


def test_a_wrong_password_is_refused_in_words(phone_page, live_cast, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    page = phone_page
    page.goto("/accounts/login/")
    page.fill("#id_username", "worker_a")
    page.fill("#id_password", "wrong-password")
    page.click("button[type=submit].primary")
    assert "用户名或密码错误" in page.locator(".error").inner_text()


def test_the_api_docs_render_within_the_content_security_policy(desktop_page, live_cast):
    page = desktop_page
    login(page, "analyst")
    page.goto("/api/docs/")
    page.wait_for_selector("#swagger-ui .opblock")
    page.locator("#swagger-ui .opblock-summary").first.click()
    page.wait_for_selector("#swagger-ui .opblock-body")
    screenshot(page, "api-docs-desktop")
    assert page.js_errors == []


def test_tiles_from_the_configured_tile_server_load_within_the_policy(phone_page, live_cast, settings):
    """MAP_TILE_URL is the one external source (an intranet tile server): its tiles load under the
    content security policy the settings derive from it (without its origin there Chromium blocks
    them and none loads), with the server's credit."""
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from governance.env import tile_origins

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    requested: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            requested.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
        settings.MAP_TILE_URL = url
        settings.MAP_TILE_ATTRIBUTION = "区测绘院"
        directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
        directives["img-src"] = ["'self'", "data:", "blob:", *tile_origins(url)]
        settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
        page = phone_page
        login(page, "street_handler")
        page.wait_for_selector("#home-map[data-loaded='1']")
        page.wait_for_selector("#home-map img.leaflet-tile-loaded")
        assert page.locator("#home-map img.leaflet-tile-loaded").count() >= 1
        assert requested and all(p.endswith(".png") and p.count("/") == 3 for p in requested)
        assert "区测绘院" in page.locator("#home-map .leaflet-control-attribution").inner_text()
        assert page.js_errors == []
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("width", [390, 1366])
def test_the_unread_count_in_the_menu_stands_apart_from_its_label(browser, live_server, live_cast, width):
    """The link is a flex box (its target size), which drops the space before the badge: 通知 and
    its count touched at every width."""
    from governance.models import Notification
    from tests.browser.conftest import DESKTOP, PHONE, _new_page

    for i in range(3):
        Notification.objects.create(user=live_cast.district_officer, key=f"k{i}", message="新事件")
    viewport = PHONE if width == 390 else DESKTOP
    context, page = _new_page(browser, live_server, viewport)
    try:
        login(page, "district_officer")
        if width == 390:
            page.click("#nav-toggle")  # the menu is folded on a phone
        link = page.locator("nav.nav a[href='/notifications/']")
        badge = link.locator(".badge")
        assert badge.inner_text() == "3"
        gap = link.evaluate(
            """a => { const range = document.createRange(); range.selectNodeContents(a.firstChild);
                      return a.querySelector('.badge').getBoundingClientRect().left
                             - range.getBoundingClientRect().right; }"""
        )
        assert gap >= 4, gap  # a space's width at least
        box, nav = badge.bounding_box(), page.locator("nav.nav").bounding_box()
        assert box["x"] + box["width"] <= nav["x"] + nav["width"] and box["height"] > 0
        screenshot(page, f"nav-badge-{width}")
        assert page.js_errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width", [800, 1024, 1366])
def test_the_desktop_menu_wraps_between_entries_and_never_runs_off_the_page(desktop_page, live_cast, width):
    """An administrator's menu in English ran past the right edge from 800 to 1100 px (Notifications,
    Administration and Log out out of sight, the page scrolling sideways) and split its labels
    ("My / grid") at 1366."""
    page = desktop_page
    page.set_viewport_size({"width": width, "height": 768})
    login(page, "admin")
    page.click("button[name=language][value=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    entries = page.locator("nav.nav a, nav.nav button")
    assert entries.count() >= 8
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('nav.nav a')).lineHeight) || 24")
    for box in (entries.nth(i).bounding_box() for i in range(entries.count())):
        assert box["x"] + box["width"] <= width and box["height"] <= max(line * 1.6, 30), box
    assert page.js_errors == []


def test_a_new_api_token_fits_a_phone_screen_to_be_read_and_copied(phone_page, live_cast):
    """The new key (40 characters, shown once) was kept on one line: on a phone it ran past the card
    and the screen's edge, and its end could be neither read nor checked after copying."""
    from tests.base import PASSWORD

    page = phone_page
    login(page, "analyst")
    page.goto("/accounts/")
    page.fill("form[action$='/accounts/token/'] input[name=password]", PASSWORD)
    page.click("form[action$='/accounts/token/'] button[type=submit]")
    key = page.locator("#new-token")
    card = page.locator("section", has=key).first.bounding_box()
    box = key.bounding_box()
    screenshot(page, "account-new-token-phone")
    assert len(key.inner_text()) == 40
    assert box["x"] + box["width"] <= card["x"] + card["width"], (box, card)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_try_it_out_writes_with_the_session(desktop_page, live_cast):
    """The schema page's "Try it out" sends a write with the session: its script adds the page's
    CSRF token in X-CSRFToken, so the write is accepted rather than refused as a forged request."""
    import importlib
    import json

    from django.apps import apps

    from grids.models import Incident

    importlib.import_module("grids.migrations.0002_default_categories").seed(apps, None)
    page = desktop_page
    login(page, "worker_a")
    page.goto("/api/docs/")
    block = page.locator("#operations-v1-v1_incidents_create")
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    body = {"category": "sanitation", "description": "试用接口上报", "lat": 31.805, "lng": 117.005}
    block.locator("textarea.body-param__text").fill(json.dumps(body, ensure_ascii=False))
    block.locator("button.execute").click()
    block.locator(".live-responses-table tr.response .response-col_status").first.wait_for()
    assert (
        block.locator(".live-responses-table tr.response .response-col_status").first.inner_text().strip()
        == "201"
    )
    assert Incident.objects.get().description == "试用接口上报"
    assert page.js_errors == []


def test_what_a_step_did_is_a_status_that_takes_the_focus_after_the_redirect(phone_page, live_cast):
    """A message after a redirect ("Your API token was revoked") was a bare list at the top of the
    page: a status already there when a page loads is not read out, and the focus was back at the
    page's top. It is now a status that takes the focus, unless the page focuses a field itself."""
    from governance.services import user_token_issue

    user_token_issue(user=live_cast.analyst, via="test")
    page = phone_page
    login(page, "analyst")
    page.goto("/accounts/")
    assert page.locator("#messages").count() == 0
    assert page.evaluate("document.activeElement === document.body")
    with page.expect_navigation():
        page.locator("form[action$='/token/revoke/'] button").click()
    done = page.locator("#messages")
    assert done.get_attribute("role") == "status"
    assert "令牌已作废" in done.locator("ul.messages li").inner_text()
    assert page.evaluate("document.activeElement.id") == "messages"
    page.keyboard.press("Tab")  # the next stop comes after the message, inside the page
    assert page.evaluate("() => !!document.activeElement.closest('main')")
    # Signing out shows "You have logged out." on the sign-in page, whose username keeps the focus.
    page.locator("nav form[action$='/logout/'] button").evaluate("b => b.form.submit()")
    page.wait_for_url("**/accounts/login/**")
    assert page.locator("#messages[role=status]").count() == 1
    assert page.evaluate("document.activeElement.id") == "id_username"
    assert page.js_errors == []
