"""Every role's pages work under the Content Security Policy (no inline script or style, no eval).

The other browser tests fail on a console error, which is how Chromium reports a refused script; but
each looks at the pages of its own story. This one walks what each role can reach from the menu, its
account page, the API docs and the admin, and collects the browser's own ``securitypolicyviolation``
events (a refused style attribute is an event, and not always a console error)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import login

pytestmark = pytest.mark.browser

# Installed before any script of the page runs, so a violation during parsing is caught too.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(
  [e.violatedDirective, e.blockedURI, e.sourceFile, e.lineNumber].join(' ')));
"""

ROLES = [
    "worker_a",
    "community_handler",
    "street_handler",
    "district_officer",
    "department_user",
    "mediator",
    "petition_officer",
    "analyst",
    "admin",
]


def _violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


def _menu_and_more(page) -> list[str]:
    """The paths of the signed-in menu, then the account page, the API docs and (for staff) the admin."""
    links = page.eval_on_selector_all("#nav-main a[href]", "els => els.map(e => e.getAttribute('href'))")
    paths = [urlsplit(href).path for href in links if href.startswith("/")]
    return list(dict.fromkeys([*paths, "/accounts/", "/api/docs/"]))


@pytest.fixture
def watched_page(desktop_page):
    desktop_page.context.add_init_script(COLLECT_VIOLATIONS)
    return desktop_page


def test_the_collector_sees_a_refused_inline_script_and_style(watched_page, live_cast):
    # The test below asserts an empty list: this shows the list would not be empty after a violation.
    page = watched_page
    page.goto("/accounts/login/")
    page.evaluate(
        """() => {
        const s = document.createElement('script'); s.textContent = 'window.ran = 1';
        document.body.appendChild(s);
        const d = document.createElement('div'); d.setAttribute('style', 'color: red');
        document.body.appendChild(d);
    }"""
    )
    page.wait_for_function("window.__cspViolations.length >= 2")
    directives = {v.split(" ")[0] for v in _violations(page)}
    assert {"script-src-elem", "style-src-attr"} <= directives
    assert page.evaluate("window.ran") is None


@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_the_menu_works_under_the_content_security_policy(watched_page, live_cast, username):
    if username == "admin":
        # As the demo's administrator: the admin role at the city (the report page of a superuser
        # with no area at all asks the map for the areas "-", a 400 of its own, not the policy's).
        from governance.models import Membership, Role

        Membership.objects.create(user=live_cast.admin, role=Role.ADMIN, area=live_cast.city)
    page = watched_page
    page.goto("/accounts/login/")
    assert _violations(page) == []
    login(page, username)
    paths = _menu_and_more(page)
    assert len(paths) >= 4, paths  # home, notifications, account, API docs at the least
    problems = {}
    for path in paths:
        page.js_errors.clear()
        response = page.goto(path, wait_until="networkidle")
        policy = response.headers.get("content-security-policy", "")
        found = _violations(page) + page.js_errors
        if response.status != 200 or "unsafe-" in policy or "script-src 'self'" not in policy or found:
            problems[path] = (response.status, policy if "unsafe-" in policy else "", found)
    assert problems == {}, problems
